//! [`FlowEntry`]: one installed flow as the switch keeps it (the match as sent and in normal
//! form, cookie, flags, timeouts, instructions, counters, install time), with the per-flow
//! filters that FLOW_MOD and stats requests apply (out_port, out_group, cookie mask) and its
//! FLOW stats entry.

use std::time::Instant;

use op25b_proto::consts::{OFPG_ANY, OFPP_ANY};
use op25b_proto::{Action, FlowStats, Instruction, Match};

use crate::flow_match::FlowMatch;

/// One installed flow.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowEntry {
    /// Table holding it.
    pub table_id: u8,
    /// Priority.
    pub priority: u16,
    /// The match as the controller sent it (reported back in FLOW stats).
    pub match_: Match,
    /// The match in normal form (what comparisons use).
    pub normal: FlowMatch,
    /// Cookie.
    pub cookie: u64,
    /// OFPFF_* flags.
    pub flags: u16,
    /// Idle timeout, seconds (recorded, not enforced).
    pub idle_timeout: u16,
    /// Hard timeout, seconds (recorded, not enforced).
    pub hard_timeout: u16,
    /// Instructions.
    pub instructions: Vec<Instruction>,
    /// Packets counted by [`FlowTable::record_packet`](crate::FlowTable::record_packet).
    pub packet_count: u64,
    /// Bytes counted by [`FlowTable::record_packet`](crate::FlowTable::record_packet).
    pub byte_count: u64,
    /// When it was added (its duration counts from here).
    pub installed_at: Instant,
}

impl FlowEntry {
    /// Whether its instruction set outputs to `port` (Apply-Actions or Write-Actions), the
    /// spec's `out_port` filter. OFPP_ANY matches every flow.
    pub fn outputs_to(&self, port: u32) -> bool {
        port == OFPP_ANY
            || self
                .actions()
                .any(|a| matches!(a, Action::Output { port: p, .. } if *p == port))
    }

    /// Whether its instruction set has a group action for `group`; OFPG_ANY matches every flow.
    pub fn uses_group(&self, group: u32) -> bool {
        group == OFPG_ANY
            || self
                .actions()
                .any(|a| matches!(a, Action::Group(g) if *g == group))
    }

    /// Whether `(self.cookie & mask) == (cookie & mask)`.
    pub fn cookie_matches(&self, cookie: u64, mask: u64) -> bool {
        self.cookie & mask == cookie & mask
    }

    /// The FLOW stats entry describing it at `now`.
    pub fn to_stats(&self, now: Instant) -> FlowStats {
        let age = now.saturating_duration_since(self.installed_at);
        FlowStats {
            table_id: self.table_id,
            duration_sec: u32::try_from(age.as_secs()).unwrap_or(u32::MAX),
            duration_nsec: age.subsec_nanos(),
            priority: self.priority,
            idle_timeout: self.idle_timeout,
            hard_timeout: self.hard_timeout,
            flags: self.flags,
            cookie: self.cookie,
            packet_count: self.packet_count,
            byte_count: self.byte_count,
            match_: self.match_.clone(),
            instructions: self.instructions.clone(),
        }
    }

    fn actions(&self) -> impl Iterator<Item = &Action> {
        self.instructions.iter().flat_map(|i| match i {
            Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.as_slice(),
            _ => &[],
        })
    }
}
