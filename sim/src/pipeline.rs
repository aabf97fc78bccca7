//! The lookup pipeline of a [`FlowTable`] (OpenFlow 1.3.5 section 5.1): a packet enters table
//! 0, the first highest-priority matching flow's instructions run in the spec's order (meter,
//! apply, clear, write, metadata, goto), Goto-Table moves on, and at the end the action set
//! executes; a miss ends the pipeline as Open vSwitch does.

use op25b_proto::Action;

use crate::flow_table::FlowTable;
use crate::instructions::InstructionSummary;
use crate::packet::PacketHeaders;
use crate::verdict::{Hit, Verdict};

impl FlowTable {
    pub(crate) fn run_pipeline(&self, pkt: &PacketHeaders) -> (Verdict, Vec<(u8, usize)>) {
        let mut verdict = Verdict::default();
        let mut positions = Vec::new();
        let mut metadata = 0u64;
        let mut action_set = ActionSet::default();
        let mut table_id = 0u8;
        loop {
            let table = self.table(table_id);
            let Some((index, entry)) = table
                .iter()
                .enumerate()
                .find(|(_, e)| e.normal.matches_packet(pkt, metadata))
            else {
                // No flow (and no table-miss flow) matched. The spec says the packet is
                // dropped; Open vSwitch ends the pipeline as if an empty flow had matched, so
                // the action set written by earlier tables still executes (seen against OVS
                // 3.1 by tests/ovs_differential.rs). The simulator follows OVS.
                verdict.miss = Some(table_id);
                break;
            };
            positions.push((table_id, index));
            verdict.hits.push(Hit {
                table_id,
                priority: entry.priority,
                cookie: entry.cookie,
            });
            let summary = InstructionSummary::of(&entry.instructions);
            // The spec's instruction order: Meter, Apply-Actions, Clear-Actions,
            // Write-Actions, Write-Metadata, Goto-Table.
            verdict.meters.extend(summary.meter);
            for a in summary.apply {
                if let Action::Output { port, .. } = a {
                    verdict.outputs.push(*port);
                }
            }
            if summary.clear {
                action_set = ActionSet::default();
            }
            for a in summary.write {
                action_set.write(a);
            }
            if let Some((value, mask)) = summary.write_metadata {
                metadata = (metadata & !mask) | (value & mask);
            }
            match summary.goto {
                // Validation only installs forward gotos, so the pipeline always ends.
                Some(next) if next > table_id => table_id = next,
                _ => break,
            }
        }
        if let Some(port) = action_set.output {
            verdict.outputs.push(port);
        }
        (verdict, positions)
    }
}

/// The parts of the action set this model executes: the output port (set-field and other
/// actions do not change the modelled packet).
#[derive(Debug, Default)]
struct ActionSet {
    output: Option<u32>,
}

impl ActionSet {
    /// "An action set contains a maximum of one action of each type": a written output
    /// replaces the previous one.
    fn write(&mut self, a: &Action) {
        if let Action::Output { port, .. } = a {
            self.output = Some(*port);
        }
    }
}
