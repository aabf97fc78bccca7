//! Faults a test can inject into a simulated switch.

use std::fmt;
use std::sync::Arc;

use op25b_proto::FlowMod;

/// Which FLOW_MOD a [`FlowModFault`] answers with an error instead of applying it.
#[derive(Clone)]
pub enum FlowModTrigger {
    /// The n-th FLOW_MOD this switch receives, counting from 1 over its whole life
    /// (reconnects included): compare with [`crate::Counters::flow_mods`].
    Nth(u64),
    /// The first FLOW_MOD for which the predicate holds.
    When(Arc<dyn Fn(&FlowMod) -> bool + Send + Sync>),
}

impl fmt::Debug for FlowModTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowModTrigger::Nth(n) => write!(f, "Nth({n})"),
            FlowModTrigger::When(_) => f.write_str("When(<predicate>)"),
        }
    }
}

/// A one-shot fault: the first FLOW_MOD the trigger selects is answered with
/// OFPT_ERROR (`err_type`, `code`) and not applied.
#[derive(Debug, Clone)]
pub struct FlowModFault {
    /// Which FLOW_MOD.
    pub trigger: FlowModTrigger,
    /// OFPET_* type of the error sent.
    pub err_type: u16,
    /// Code of the error sent.
    pub code: u16,
}

impl FlowModFault {
    /// Whether this fault fires for `fm`, the `nth` FLOW_MOD received.
    pub fn fires(&self, nth: u64, fm: &FlowMod) -> bool {
        match &self.trigger {
            FlowModTrigger::Nth(n) => *n == nth,
            FlowModTrigger::When(p) => p(fm),
        }
    }
}

/// How a switch behaves during the OpenFlow handshake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HandshakeBehaviour {
    /// HELLO, then answer everything.
    #[default]
    Normal,
    /// Never send HELLO (and so never answer anything).
    NoHello,
    /// Exchange HELLOs but never answer FEATURES_REQUEST.
    NoFeaturesReply,
}
