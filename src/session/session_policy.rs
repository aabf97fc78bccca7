//! What a session needs from the policy in force, as a narrow trait.
//!
//! The session never looks inside the policy: it asks for the timers, the SET_CONFIG values, the
//! requests that read our flows and the meters, and change plans for what the switch reported.
//! Everything is derived from the policy plus what the switch itself reports (dpid, ports, flows),
//! so another controller instance could take a switch over with no hidden state.

use super::read_cap::ReadCaps;
use crate::flows::SwitchView;
use std::fmt::Debug;
use std::time::Duration;

/// Per-connection timers, read from the policy in force at every tick (a reload changes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimers {
    pub echo_interval: Duration,
    pub echo_timeout: Duration,
    pub handshake_timeout: Duration,
    pub audit_interval: Duration,
    /// Read our flows' counters (blocked packets and bytes) this often, outside the syncs.
    pub counters_interval: Duration,
    /// First retry delay after a failed sync; doubled per failure up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
}

/// A change plan: batches to send in order, each followed by a BARRIER; the next batch is sent
/// only after the previous barrier's reply arrived with no error.
#[derive(Debug, Clone)]
pub struct SyncPlan<M, D> {
    pub batches: Vec<Vec<M>>,
    /// The flows the policy wants on this switch, as the plan computed them (handed to the
    /// connection once per sync for observation, so nothing computes them a second time).
    pub desired_flows: D,
    /// Flows added, removed and modified (for the log line and the audit counter).
    pub added: usize,
    pub removed: usize,
    pub modified: usize,
    /// Flows the policy wants on this switch.
    pub desired: usize,
}

/// The policy in force, as a session sees it.
pub trait SessionPolicy: Send + Sync + Debug {
    /// A message the session sends verbatim (FLOW_MOD, METER_MOD, the FLOW stats request).
    type Msg: Clone + Debug + Send + Sync + 'static;
    /// One entry of a FLOW stats reply.
    type FlowEntry: Clone + Debug + Send + 'static;
    /// The flows the policy wants on one switch (what [`SessionPolicy::plan`] diffed against).
    type Desired: Debug + Send + 'static;

    /// One line naming `msg` for logs (op25b's: ovs-ofctl syntax, e.g.
    /// `FLOW_MOD ADD table:0 priority=20000 ...`).
    fn describe(&self, msg: &Self::Msg) -> String {
        format!("{msg:?}")
    }
    /// Increases with every accepted reload.
    fn generation(&self) -> u64;
    fn timers(&self) -> SessionTimers;
    /// SET_CONFIG `flags` (fragment handling) and `miss_send_len`.
    fn switch_config(&self) -> (u16, u16);
    /// The operator's name for this switch, if the policy lists it.
    fn switch_name(&self, dpid: u64) -> Option<String>;
    /// The cookie marking our flows (packet-ins from other cookies are not ours).
    fn cookie(&self) -> u64;
    /// The FLOW multipart request reading only our flows (cookie mask).
    fn flows_request(&self) -> Self::Msg;
    /// How much of a switch's replies a session reads under this policy (sized by its flows).
    fn read_caps(&self) -> ReadCaps;
    /// METER_MOD ADDs to install before the flows; empty when reporting is off. The session asks
    /// with `view.meters_supported` true: what the switch should hold if it takes meters.
    fn meter_adds(&self, view: &SwitchView) -> Vec<Self::Msg>;
    /// The MODIFY form of a meter ADD (sent when the switch says the meter exists).
    fn meter_modify(&self, add: &Self::Msg) -> Option<Self::Msg>;
    /// The METER_CONFIG multipart request reading the switch's meters (all of them).
    fn meters_request(&self) -> Self::Msg;
    /// What makes the switch hold our meters, given the meters it reported: an ADD for each
    /// missing meter, a MODIFY for each one configured differently, nothing for an identical one.
    fn meter_plan(&self, view: &SwitchView, actual: &[op25b_proto::MeterConfig]) -> Vec<Self::Msg>;
    /// Desired flows minus what the switch has (our cookie only), as an ordered hitless plan.
    /// `view.meters_supported` is false when reporting is off or the switch rejected the meters.
    fn plan(
        &self,
        view: &SwitchView,
        actual: &[Self::FlowEntry],
    ) -> SyncPlan<Self::Msg, Self::Desired>;
}
