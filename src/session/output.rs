//! What a session hands its connection: messages to send, events for the registry, observations,
//! and why it closed.

use super::phase::Phase;
use super::session_policy::SessionPolicy;
use super::sync_reason::SyncReason;
use super::wire::Outbound;
use std::time::Duration;

/// Why the session closed its connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseReason {
    #[error(
        "switch cannot speak OpenFlow 1.3 (its HELLO had version 0x{version:02x}); sent HELLO_FAILED/INCOMPATIBLE"
    )]
    Incompatible { version: u8 },
    #[error("handshake not finished after {waited:?} (stuck in {phase})")]
    HandshakeTimeout {
        waited: Duration,
        phase: &'static str,
    },
    #[error("switch silent for {silent:?} (echo timeout)")]
    Silent { silent: Duration },
    #[error("switch rejected handshake request {request}: {names}")]
    HandshakeRejected { names: String, request: String },
    #[error("switch sent HELLO_FAILED: {names}")]
    HelloFailed { names: String },
    #[error("protocol violation: {0}")]
    ProtocolViolation(String),
}

/// Something the connection task must apply to the status registry (or act on).
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// FEATURES_REPLY told us the dpid: claim it (may close an older connection).
    DpidLearned {
        dpid: u64,
    },
    PhaseChanged {
        to: Phase,
    },
    SyncSucceeded {
        generation: u64,
        reason: SyncReason,
        added: usize,
        removed: usize,
        modified: usize,
        desired: usize,
        /// Our flows on the switch after the sync.
        flows_on_switch: usize,
    },
    SyncFailed {
        error: String,
        retry_in: Duration,
    },
    /// A sync ended, successfully or not, `duration` after it started.
    SyncFinished {
        reason: SyncReason,
        ok: bool,
        duration: Duration,
    },
    /// An ERROR from the switch, "TYPE/CODE" by name.
    SwitchError {
        names: String,
    },
    /// Policy messages sent in this step: flow mods and meter mods.
    Sent {
        flow_mods: usize,
        meter_mods: usize,
    },
    MetersInUse(bool),
}

/// What the session asks its connection to do (`M` message, `F` flow stats entry, `D` the
/// desired flows of a plan, `P` packet-in).
#[derive(Debug)]
pub enum Output<M, F, D, P> {
    /// Queue behind earlier messages (the outbox's bulk lane).
    Send {
        xid: u32,
        msg: Outbound<M>,
    },
    /// Write ahead of queued flow mods (echo traffic, the HELLO_FAILED error).
    SendUrgent {
        xid: u32,
        msg: Outbound<M>,
    },
    Event(SessionEvent),
    /// A packet-in carrying our cookie: a sampled blocked attempt for the offender table.
    PacketIn(P),
    /// The complete cookie-filtered FLOW stats reply of a sync or of a counter poll (for
    /// observation: actual flows, blocked packet counters).
    FlowsRead(Vec<F>),
    /// A sync computed its plan: the flows the policy wants on this switch (for observation).
    Planned(D),
    /// Close the connection (after flushing what was queued).
    Close(CloseReason),
}

/// What a session of policy `P` (packet-ins of type `PI`) hands its connection.
pub type SessionOutput<P, PI> = Output<
    <P as SessionPolicy>::Msg,
    <P as SessionPolicy>::FlowEntry,
    <P as SessionPolicy>::Desired,
    PI,
>;

impl<M, F, D, P> Output<M, F, D, P> {
    /// A message for the switch.
    pub fn is_send(&self) -> bool {
        matches!(self, Output::Send { .. } | Output::SendUrgent { .. })
    }
}
