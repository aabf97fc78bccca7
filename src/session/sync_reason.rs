//! Why a sync runs.

/// Why a sync runs (kept for logs; the sync itself does not depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncReason {
    Connect,
    PolicyChange,
    Audit,
    Retry,
    FlowRemoved,
    PortStatus,
    /// The switch confirmed this instance as its master (cluster).
    Mastership,
}

impl SyncReason {
    /// True for the syncs that run because the switch may have drifted from what an earlier
    /// sync left (an audit, one of our flows removed): changes found by one are drift.
    pub fn finds_drift(self) -> bool {
        matches!(self, SyncReason::Audit | SyncReason::FlowRemoved)
    }

    pub fn name(self) -> &'static str {
        match self {
            SyncReason::Connect => "connect",
            SyncReason::PolicyChange => "policy_change",
            SyncReason::Audit => "audit",
            SyncReason::Retry => "retry",
            SyncReason::FlowRemoved => "flow_removed",
            SyncReason::PortStatus => "port_status",
            SyncReason::Mastership => "mastership",
        }
    }
}
