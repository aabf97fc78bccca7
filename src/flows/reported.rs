//! One FLOW stats entry as the switch reported it, normalised into op25b's flow model the
//! moment it is decoded: [`ReportedFlow`] holds what reconcile and the flow observations need
//! and nothing else (no OXM list, no instruction list), so a switch's table is held compact
//! while its FLOW reply is still arriving, part by part.
//!
//! [`ReportedFlow::from_stats`] is pure and total: a flow whose match op25b does not install
//! keeps its match as reported (a stale flow is deleted by exactly that match); so does a flow
//! whose match is op25b's but written differently from how op25b writes it (another field
//! order, a redundant all-ones mask), so that the delete of a stale one repeats the switch's
//! own match, as when reconcile read the decoded entries. Op25b's own flows, written back as
//! sent, keep no copy: [`ReportedFlow::match_as_reported`] rebuilds it.
//!
//! Folding a reply part by part ([`fold_part`]) gives exactly what converting the whole
//! reply's entries at once gives: the conversion sees one entry at a time.

use super::normalize::{may_forward, parse_instructions, parse_match};
use super::openflow::to_match;
use super::{FlowAction, FlowKey, FlowMatch};
use op25b_proto::match_::Match;
use op25b_proto::multipart::stats::FlowStats;
use op25b_proto::oxm::Oxm;
use std::borrow::Cow;
use std::mem::size_of;

/// One reported flow entry, compact (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedFlow {
    pub table_id: u8,
    pub priority: u16,
    /// The entry's flags (`OFPFF_*`).
    pub flags: u16,
    pub cookie: u64,
    /// The match in op25b's model, `None` when it uses anything op25b never installs.
    pub match_: Option<FlowMatch>,
    /// The action in op25b's model, `None` when the instructions are not op25b's.
    pub action: Option<FlowAction>,
    /// Whether the instructions may forward a packet ([`may_forward`]; for flows whose
    /// action is not op25b's, to order their deletion).
    pub may_forward: bool,
    pub packet_count: u64,
    pub byte_count: u64,
    /// Seconds since the entry was added.
    pub duration_sec: u32,
    /// The match as reported, kept only when [`to_match`] of `match_` would not give it back.
    reported: Option<Box<Match>>,
}

impl ReportedFlow {
    /// Normalises one decoded entry.
    pub fn from_stats(stats: &FlowStats) -> Self {
        let match_ = parse_match(&stats.match_);
        let written_as_ours = match_.is_some_and(|m| to_match(&m) == stats.match_);
        Self {
            table_id: stats.table_id,
            priority: stats.priority,
            flags: stats.flags,
            cookie: stats.cookie,
            match_,
            action: parse_instructions(&stats.instructions),
            may_forward: may_forward(&stats.instructions),
            packet_count: stats.packet_count,
            byte_count: stats.byte_count,
            duration_sec: stats.duration_sec,
            reported: (!written_as_ours).then(|| Box::new(stats.match_.clone())),
        }
    }

    /// The entry's identity in op25b's model (table, priority, match), when its match is
    /// op25b's.
    pub fn key(&self) -> Option<FlowKey> {
        self.match_.map(|match_| FlowKey {
            table_id: self.table_id,
            priority: self.priority,
            match_,
        })
    }

    /// The match exactly as the switch reported it (field order, masks).
    pub fn match_as_reported(&self) -> Cow<'_, Match> {
        match (&self.reported, &self.match_) {
            (Some(m), _) => Cow::Borrowed(m),
            (None, Some(m)) => Cow::Owned(to_match(m)),
            // Not built by `from_stats`: a match op25b does not know always keeps its copy.
            (None, None) => Cow::Owned(Match::new(Vec::new())),
        }
    }

    /// What this entry costs held in memory (an estimate that errs high): its size, plus for a
    /// match kept as reported a heap block for the box and one for the list, and each field's
    /// size and a heap block for each (a raw field owns one).
    pub fn weight(&self) -> usize {
        size_of::<Self>()
            + self.reported.as_ref().map_or(0, |m| {
                2 * HEAP_BLOCK + m.fields.len() * (size_of::<Oxm>() + HEAP_BLOCK)
            })
    }
}

/// What one heap block is taken to cost (the allocator's smallest chunk).
const HEAP_BLOCK: usize = 32;

/// Appends the entries of one FLOW stats reply part to `table`, normalised; returns the
/// weight they add ([`ReportedFlow::weight`]). The decoded part can be dropped right after.
pub fn fold_part(table: &mut Vec<ReportedFlow>, part: &[FlowStats]) -> usize {
    table.reserve(part.len());
    part.iter()
        .map(|s| {
            let r = ReportedFlow::from_stats(s);
            let w = r.weight();
            table.push(r);
            w
        })
        .sum()
}
