//! What a session hands its connection: messages to send, events for the registry, observations,
//! and why it closed; and [`Outputs`], the buffer one call into the session fills, which also
//! gives each message sent its xid.

use super::phase::Phase;
use super::sent_log::{SentLog, SENT_LOG_CAPACITY};
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
    #[error(
        "multipart replies held for this connection passed its cap of {} MiB ([controller] max_multipart_bytes): {error}",
        cap / (1024 * 1024)
    )]
    ReplyBytesOverCap {
        cap: usize,
        error: op25b_proto::AssemblyError,
    },
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
    /// A sync for drift (audit, flow removed) found the switch's flows differing from the
    /// policy's: the switch is drifting until the sync succeeds.
    DriftFound {
        reason: SyncReason,
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
    /// An ERROR from the switch, the key it is counted under: "TYPE/CODE" by the spec's names,
    /// or `other` when the spec does not name both (see `error_routing::counted_as`).
    SwitchError {
        names: String,
    },
    /// Policy messages sent in this step: flow mods and meter mods.
    Sent {
        flow_mods: usize,
        meter_mods: usize,
    },
    MetersInUse(bool),
    /// The switch sent a fail-open probe: it is failed open now.
    FailOpenProbe,
    /// The switch confirmed a role asked by the cluster (`role::Role::name`: master, slave).
    RoleConfirmed {
        role: &'static str,
        generation: u64,
    },
    /// The switch fenced this connection off (`role::Fence`): it stepped down and writes
    /// nothing until the cluster hands it a newer generation.
    SteppedDown {
        fence: super::role::Fence,
    },
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

/// The outputs of one call into the session, in order, and the xids of one connection: each
/// message sent gets the next xid, and what is sent on the bulk lane (and the HELLO) is
/// remembered (bounded) so an ERROR from the switch can name the request it answers.
#[derive(Debug)]
pub struct Outputs<M, F, D, P> {
    sent: SentLog<Outbound<M>>,
    out: Vec<Output<M, F, D, P>>,
}

/// The outputs of a session of policy `P` (packet-ins of type `PI`).
pub type SessionOutputs<P, PI> = Outputs<
    <P as SessionPolicy>::Msg,
    <P as SessionPolicy>::FlowEntry,
    <P as SessionPolicy>::Desired,
    PI,
>;

impl<M: Clone, F, D, P> Outputs<M, F, D, P> {
    /// Xids start at `first_xid`.
    pub fn new(first_xid: u32) -> Self {
        Self {
            sent: SentLog::new(first_xid, SENT_LOG_CAPACITY),
            out: Vec::new(),
        }
    }

    /// Queues `msg` behind earlier messages and remembers it; returns its xid.
    pub fn send(&mut self, msg: Outbound<M>) -> u32 {
        let xid = self.sent.next_xid();
        self.sent.record(xid, msg.clone());
        self.out.push(Output::Send { xid, msg });
        xid
    }

    /// Writes `msg` ahead of queued messages with a fresh xid, remembering it only when
    /// `remember` (echo traffic is not, to keep the log for the requests an ERROR can answer).
    pub fn send_urgent(&mut self, msg: Outbound<M>, remember: bool) -> u32 {
        let xid = self.sent.next_xid();
        if remember {
            self.sent.record(xid, msg.clone());
        }
        self.out.push(Output::SendUrgent { xid, msg });
        xid
    }

    /// Answers the switch's request `xid` with `msg`, ahead of queued messages.
    pub fn answer_urgent(&mut self, xid: u32, msg: Outbound<M>) {
        self.out.push(Output::SendUrgent { xid, msg });
    }

    pub fn event(&mut self, event: SessionEvent) {
        self.out.push(Output::Event(event));
    }

    /// Any other output (packet-ins, observations, the close).
    pub fn push(&mut self, output: Output<M, F, D, P>) {
        self.out.push(output);
    }

    /// What was sent with `xid`, if still remembered.
    pub fn sent(&self, xid: u32) -> Option<&Outbound<M>> {
        self.sent.find(xid)
    }

    /// Forgets what was sent (a barrier reply confirmed all of it: no ERROR can follow).
    pub fn forget_sent(&mut self) {
        self.sent.forget_all();
    }

    /// The outputs so far, handed to the connection.
    pub fn take(&mut self) -> Vec<Output<M, F, D, P>> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xids_follow_each_other_and_only_remembered_messages_can_be_named() {
        let mut out: Outputs<String, String, (), u32> = Outputs::new(7);
        let hello = out.send_urgent(Outbound::Hello, true);
        let echo = out.send_urgent(Outbound::EchoRequest, false);
        let read = out.send(Outbound::Policy("flows?".into()));
        out.answer_urgent(99, Outbound::EchoReply { data: vec![] });
        out.event(SessionEvent::MetersInUse(true));
        assert_eq!((hello, echo, read), (7, 8, 9));
        assert_eq!(out.sent(hello), Some(&Outbound::Hello));
        assert_eq!(out.sent(echo), None, "echo traffic is not remembered");
        assert_eq!(out.sent(read), Some(&Outbound::Policy("flows?".into())));
        let all = out.take();
        assert_eq!(all.len(), 5);
        assert!(matches!(
            &all[3],
            Output::SendUrgent {
                xid: 99,
                msg: Outbound::EchoReply { .. }
            }
        ));
        assert!(out.take().is_empty());
        out.forget_sent();
        assert_eq!(out.sent(read), None);
        assert_eq!(out.send(Outbound::BarrierRequest), 10, "the xids go on");
    }
}
