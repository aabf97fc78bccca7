//! The flow steps of a sync: read our flows (FLOW stats with the cookie mask; read ahead, right
//! behind the METER_CONFIG request, when the meters are read first: meter mods never change
//! flows, so the two reads cost one round trip), ask the policy for a plan, and send its
//! batches, each followed by a BARRIER; the next batch leaves only after the previous barrier's
//! reply. The steps here keep the state and decide; the sync run sends.

use super::session_policy::SyncPlan;
use std::collections::VecDeque;
use tracing::debug;

/// Our flows as a whole FLOW stats reply listed them, or why the sync fails on them: more
/// than `cap` (the policy's [`ReadCaps::flows`](super::read_cap::ReadCaps)) is a broken or
/// hostile switch.
pub fn our_flows<F>(entries: Vec<F>, cap: usize) -> Result<Vec<F>, String> {
    if entries.len() > cap {
        return Err(format!(
            "switch reported {} flows with our cookie, more than {cap} (twice the most the policy wants on a switch, at least 100000)",
            entries.len()
        ));
    }
    Ok(entries)
}

/// What a plan changes, for the log line and the events of a successful sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSummary {
    pub added: usize,
    pub removed: usize,
    pub modified: usize,
    /// Flows the policy wants on this switch.
    pub desired: usize,
    /// Our flows on the switch before the sync.
    pub before: usize,
}

impl PlanSummary {
    /// Our flows on the switch once the plan is applied.
    pub fn flows_on_switch(&self) -> usize {
        (self.before + self.added).saturating_sub(self.removed)
    }

    /// The plan changes anything.
    pub fn changed(&self) -> bool {
        self.added + self.removed + self.modified > 0
    }
}

/// A plan for a switch that held `before` of our flows: its desired flows, the batches to send
/// (empty ones dropped: nothing to send completes the sync at once), and its summary.
pub fn batches<M, D>(plan: SyncPlan<M, D>, before: usize) -> (D, VecDeque<Vec<M>>, PlanSummary) {
    let SyncPlan {
        batches,
        desired_flows,
        added,
        removed,
        modified,
        desired,
    } = plan;
    let summary = PlanSummary {
        added,
        removed,
        modified,
        desired,
        before,
    };
    let rest = batches.into_iter().filter(|b| !b.is_empty()).collect();
    (desired_flows, rest, summary)
}

/// Where the flow part of a sync stands.
#[derive(Debug)]
pub enum FlowStep<M> {
    /// The FLOW stats request `xid` waits for its reply.
    Read { xid: u32 },
    /// A batch went out, then the BARRIER `barrier`; `rest` waits behind it.
    Apply {
        barrier: u32,
        rest: VecDeque<Vec<M>>,
        summary: PlanSummary,
    },
}

impl<M> FlowStep<M> {
    /// What the step calls the reply it waits for (for the log of a step that timed out).
    pub fn awaits(&self) -> &'static str {
        match self {
            FlowStep::Read { .. } => "the FLOW stats request",
            FlowStep::Apply { .. } => "a batch barrier",
        }
    }

    /// Whether the FLOW stats reply `xid` is the one this step reads (logged when not).
    pub fn reads(&self, xid: u32) -> bool {
        match self {
            FlowStep::Read { xid: want } if *want == xid => true,
            FlowStep::Read { .. } => {
                debug!(xid, "FLOW stats reply for another request ignored");
                false
            }
            FlowStep::Apply { .. } => {
                debug!(xid, "FLOW stats reply out of step ignored");
                false
            }
        }
    }

    /// The barrier reply `xid`: the batches left and the plan's summary when it is this step's
    /// barrier.
    pub fn on_barrier(&mut self, xid: u32) -> Option<(VecDeque<Vec<M>>, PlanSummary)> {
        match self {
            FlowStep::Apply {
                barrier,
                rest,
                summary,
            } if *barrier == xid => Some((std::mem::take(rest), *summary)),
            _ => None,
        }
    }
}

/// The FLOW stats request sent right behind the METER_CONFIG request, and its reply once in.
#[derive(Debug)]
pub struct FlowPrefetch<F> {
    pub xid: u32,
    pub entries: Option<Vec<F>>,
}

impl<F> FlowPrefetch<F> {
    pub fn new(xid: u32) -> Self {
        Self { xid, entries: None }
    }

    /// `xid` is this read, still unanswered.
    pub fn awaits(&self, xid: u32) -> bool {
        self.xid == xid && self.entries.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_keeps_its_order_drops_empty_batches_and_sums_up() {
        let plan = SyncPlan {
            batches: vec![vec!["add b"], vec![], vec!["del x", "del y"]],
            desired_flows: vec!["a", "b"],
            added: 1,
            removed: 2,
            modified: 0,
            desired: 2,
        };
        let (desired, rest, summary) = batches(plan, 3);
        assert_eq!(desired, vec!["a", "b"]);
        assert_eq!(
            rest,
            VecDeque::from(vec![vec!["add b"], vec!["del x", "del y"]])
        );
        assert_eq!(summary.flows_on_switch(), 2);
        assert!(summary.changed());
        let nothing = SyncPlan::<&str, ()> {
            batches: vec![vec![], vec![]],
            desired_flows: (),
            added: 0,
            removed: 0,
            modified: 0,
            desired: 2,
        };
        let ((), rest, summary) = batches(nothing, 2);
        assert!(rest.is_empty() && !summary.changed());
        assert_eq!(summary.flows_on_switch(), 2);
    }

    #[test]
    fn only_the_awaited_reply_and_barrier_count() {
        let read = FlowStep::<&str>::Read { xid: 3 };
        assert!(read.reads(3) && !read.reads(4));
        assert_eq!(read.awaits(), "the FLOW stats request");
        let summary = PlanSummary {
            added: 1,
            removed: 0,
            modified: 0,
            desired: 1,
            before: 0,
        };
        let mut apply = FlowStep::Apply {
            barrier: 9,
            rest: VecDeque::from(vec![vec!["del x"]]),
            summary,
        };
        assert!(!apply.reads(3), "out of step");
        assert_eq!(apply.on_barrier(8), None);
        assert_eq!(
            apply.on_barrier(9),
            Some((VecDeque::from(vec![vec!["del x"]]), summary))
        );
        let mut prefetch = FlowPrefetch::<&str>::new(5);
        assert!(prefetch.awaits(5) && !prefetch.awaits(6));
        prefetch.entries = Some(vec![]);
        assert!(!prefetch.awaits(5), "answered");
    }

    #[test]
    fn more_flows_than_the_bound_fail_the_sync() {
        assert_eq!(our_flows(vec![1, 2], 2), Ok(vec![1, 2]));
        let err = our_flows(vec![0u8; 3], 2).unwrap_err();
        assert!(
            err.contains("3 flows with our cookie, more than 2"),
            "{err}"
        );
    }
}
