//! Desired vs actual -> an ordered, hitless change plan. Pure; hashing, never pairwise.
//!
//! Ordering (the property test in `tests.rs` checks it message by message): at every moment
//! every packet meets either its old fate or its new one, never a third. So a packet both
//! policies drop (TCP to a blocked port) is never forwarded, and a packet both forward (IPv4,
//! ARP, IPv6 when a drop of other EtherTypes goes in under their allows) is never dropped.
//! 1. Install from the top priority down. Flows to install or replace are cut into batches
//!    where their action kind (forward or drop) changes, going down: while a batch is applied,
//!    every new flow above it is in place, so a packet matches either an old flow (old fate), its
//!    new decisive flow, or a new flow of the same batch, which acts like it (same kind).
//! 2. Remove stale flows from the bottom up, cut the same way: a packet whose old flow is gone
//!    falls to the next flow below it, which is another stale flow of the same batch (same kind)
//!    or a new flow (new fate), never a stale flow of another kind.
//!
//! Batches are separated by a BARRIER; inside a batch the switch may apply messages in any order.
//! This relies on every priority level of the layout holding one kind of action.
use crate::flows::openflow::{flow_mod_add, flow_mod_delete_strict, has_our_flags};
use crate::flows::{DesiredFlows, FlowAction, FlowKey, FlowSpec, ReportedFlow};
use crate::policy::Cookie;
use op25b_proto::flow_mod::FlowMod;
use op25b_proto::match_::Match;
// foldhash, not std's SipHash: SipHash was 60% of a 5,000-flow diff's instructions. Its
// per-process random seed keeps keys a switch reports from being chosen to collide.
use foldhash::HashMap;

/// Why a batch exists. Installs come first, from the top priority down, then removals, from the
/// bottom up; a purpose may come back (e.g. forward, drop, forward, drop for a layout with two
/// drop levels), never twice in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BatchPurpose {
    /// New drop/sample flows, and existing flows whose action becomes drop/sample.
    InstallDrops,
    /// New forward flows (allows, catch-all), and existing flows whose action becomes forward.
    InstallForwards,
    /// Flows of ours the policy no longer wants that forward (or might).
    RemoveStaleForwards,
    /// Flows of ours the policy no longer wants that drop.
    RemoveStaleDrops,
}

/// One change to one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A flow the switch lacks.
    Add(FlowSpec),
    /// A flow whose table, priority and match exist with other instructions, or without
    /// OFPFF_SEND_FLOW_REM (an older op25b's flow): an ADD replaces instructions and flags
    /// atomically (its counters restart). The packet's fate never changes in between.
    Replace(FlowSpec),
    /// A stale flow, removed by a strict, cookie-masked delete of exactly what the switch reported.
    Delete {
        /// Its table.
        table_id: u8,
        /// Its priority.
        priority: u16,
        /// Its match as reported.
        match_: Match,
    },
}

/// A set of changes the switch may apply in any order; a BARRIER must follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Why.
    pub purpose: BatchPurpose,
    /// What.
    pub changes: Vec<Change>,
}

/// The ordered batches that turn the switch's flows into the desired ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePlan {
    /// The cookie every message carries.
    pub cookie: Cookie,
    /// Non-empty batches in order.
    pub batches: Vec<Batch>,
    /// How many flows the policy wants.
    pub desired: usize,
}

impl ChangePlan {
    /// True when the switch already holds exactly the desired flows.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    fn count(&self, f: impl Fn(&Change) -> bool) -> usize {
        self.batches
            .iter()
            .flat_map(|p| p.changes.iter())
            .filter(|c| f(c))
            .count()
    }

    /// Flows added.
    pub fn added(&self) -> usize {
        self.count(|c| matches!(c, Change::Add(_)))
    }

    /// Flows whose instructions or flags change.
    pub fn modified(&self) -> usize {
        self.count(|c| matches!(c, Change::Replace(_)))
    }

    /// Flows removed.
    pub fn removed(&self) -> usize {
        self.count(|c| matches!(c, Change::Delete { .. }))
    }

    /// The FLOW_MODs, one batch per batch; send a BARRIER after each batch and wait for its
    /// reply before the next.
    pub fn flow_mods(&self) -> Vec<Vec<FlowMod>> {
        self.batches
            .iter()
            .map(|p| {
                p.changes
                    .iter()
                    .map(|c| match c {
                        Change::Add(f) | Change::Replace(f) => flow_mod_add(self.cookie, f),
                        Change::Delete {
                            table_id,
                            priority,
                            match_,
                        } => flow_mod_delete_strict(
                            self.cookie,
                            *table_id,
                            *priority,
                            match_.clone(),
                        ),
                    })
                    .collect()
            })
            .collect()
    }
}

/// The plan that turns `actual` (the switch's flows as [`ReportedFlow`]s; entries with another
/// cookie are ignored) into `desired`. Empty when they already agree. O(n) hashing plus sorting
/// for a stable order.
pub fn reconcile(desired: &DesiredFlows, actual: &[ReportedFlow], cookie: Cookie) -> ChangePlan {
    // What the switch has, by key. Entries whose match is not op25b's shape are stale as a
    // whole; entries whose instructions are not op25b's shape, or that lack our flags, get
    // replaced if the key is wanted (`None` = replace whatever is wanted).
    let mut have: HashMap<FlowKey, Option<FlowAction>> =
        HashMap::with_capacity_and_hasher(actual.len(), Default::default());
    let mut stale: Vec<(bool, &ReportedFlow)> = Vec::new();
    let want: HashMap<FlowKey, FlowAction> =
        desired.flows.iter().map(|f| (f.key, f.action)).collect();
    for s in actual.iter().filter(|s| s.cookie == cookie.0) {
        let action = s.action;
        match s.key() {
            Some(k) if want.contains_key(&k) => {
                // A second report of the same key would be the same switch entry: keep one.
                // Without our flags it is replaced even if the action is right.
                have.entry(k)
                    .or_insert(action.filter(|_| has_our_flags(s.flags)));
            }
            Some(k) if have.contains_key(&k) => {}
            Some(k) => {
                have.insert(k, action);
                stale.push((action.map_or(s.may_forward, |a| a.forwards()), s));
            }
            None => stale.push((s.may_forward, s)),
        }
    }

    // The desired flows are sorted from the top priority down.
    let mut installs = Vec::new();
    for f in &desired.flows {
        let change = match have.get(&f.key) {
            None => Change::Add(*f),
            Some(Some(a)) if *a == f.action => continue,
            Some(_) => Change::Replace(*f),
        };
        installs.push((f.action.forwards(), change));
    }
    // Highest priority first, then table, then match text: the match is formatted once per
    // entry, not twice per comparison.
    stale.sort_by_cached_key(|(_, s)| {
        (
            std::cmp::Reverse(s.priority),
            s.table_id,
            format!("{:?}", s.match_as_reported()),
        )
    });
    let removals = stale.into_iter().map(|(fwd, s)| {
        let d = Change::Delete {
            table_id: s.table_id,
            priority: s.priority,
            match_: s.match_as_reported().into_owned(),
        };
        (fwd, d)
    });
    let mut batches = cut(
        installs,
        BatchPurpose::InstallForwards,
        BatchPurpose::InstallDrops,
    );
    // Cut from the top like the installs, sent from the bottom up; each batch keeps its
    // highest-first order.
    let mut removal_batches = cut(
        removals,
        BatchPurpose::RemoveStaleForwards,
        BatchPurpose::RemoveStaleDrops,
    );
    removal_batches.reverse();
    batches.extend(removal_batches);
    ChangePlan {
        cookie,
        batches,
        desired: desired.flows.len(),
    }
}

/// `changes` (sorted by priority, each marked whether it forwards) cut into batches wherever the
/// kind changes: `forward` or `drop` is each batch's purpose.
fn cut(
    changes: impl IntoIterator<Item = (bool, Change)>,
    forward: BatchPurpose,
    drop: BatchPurpose,
) -> Vec<Batch> {
    let mut batches: Vec<Batch> = Vec::new();
    for (forwards, change) in changes {
        let purpose = if forwards { forward } else { drop };
        match batches.last_mut() {
            Some(p) if p.purpose == purpose => p.changes.push(change),
            _ => batches.push(Batch {
                purpose,
                changes: vec![change],
            }),
        }
    }
    batches
}
