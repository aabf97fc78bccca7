//! [`FlowTable`]: the switch's flow tables, pure, and how a FLOW_MOD changes them (OpenFlow
//! 1.3.5 section 6.4): the checks and their order (matched against Open vSwitch 3.1), ADD with
//! replacement, overlap and capacity, MODIFY and DELETE with their selection rules. Each table
//! keeps its entries sorted by descending priority; among equal priorities the older entry
//! wins a lookup (the spec leaves that case undefined). Stats are in `flow_stats`, the lookup
//! pipeline in `pipeline`, the entry and its canonical form in `flow_entry` and
//! `canonical_flow`.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Instant;

use op25b_proto::consts::{
    OFPFF_CHECK_OVERLAP, OFPFF_NO_BYT_COUNTS, OFPFF_NO_PKT_COUNTS, OFPFF_RESET_COUNTS,
    OFPFF_SEND_FLOW_REM, OFPTT_ALL, OFPTT_MAX, OFP_NO_BUFFER,
};
use op25b_proto::{FlowMod, FlowModCommand};

use crate::flow_match::FlowMatch;
use crate::instructions::{check_consistency, check_references, validate_instructions};
use crate::packet::PacketHeaders;
use crate::table_error::TableError;
use crate::verdict::Verdict;

pub use crate::canonical_flow::{sort_canonical, CanonicalFlow};
pub use crate::flow_entry::FlowEntry;

/// Every flag bit OpenFlow 1.3 defines for FLOW_MOD.
const KNOWN_FLAGS: u16 = OFPFF_SEND_FLOW_REM
    | OFPFF_CHECK_OVERLAP
    | OFPFF_RESET_COUNTS
    | OFPFF_NO_PKT_COUNTS
    | OFPFF_NO_BYT_COUNTS;

/// Size and shape of a switch's flow tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableConfig {
    /// Number of tables (ids 0..n_tables). At least 1; at most 254.
    pub n_tables: u8,
    /// Flows each table can hold before OFPFMFC_TABLE_FULL.
    pub capacity: usize,
}

impl Default for TableConfig {
    /// Like OVS: 254 tables; a capacity far above what op25b installs.
    fn default() -> Self {
        Self {
            n_tables: 254,
            capacity: 1_000_000,
        }
    }
}

/// What a successful FLOW_MOD did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowModOutcome {
    /// Flows added (ADD of a new match).
    pub added: usize,
    /// Flows replaced by an ADD with identical match and priority.
    pub replaced: usize,
    /// Flows whose instructions a MODIFY changed.
    pub modified: usize,
    /// Flows a DELETE removed, as they were.
    pub removed: Vec<FlowEntry>,
}

/// The flow tables of one switch.
#[derive(Debug, Clone)]
pub struct FlowTable {
    config: TableConfig,
    /// One Vec per table up to the highest table used (grown on demand, so a switch with 254
    /// tables that uses one costs one Vec), each sorted by descending priority, stable within
    /// a priority.
    tables: Vec<Vec<FlowEntry>>,
    /// How many flows have each [`key_hash`] of (table, priority, match): an ADD looks for the
    /// flow it replaces only when its hash is here, so adding n distinct flows is not O(n^2).
    keys: HashMap<u64, u32>,
}

/// A hash of what makes two flows the same flow (`DefaultHasher::new()` has fixed keys, so
/// clones of a table agree).
fn key_hash(table_id: u8, priority: u16, normal: &FlowMatch) -> u64 {
    let mut h = DefaultHasher::new();
    (table_id, priority, normal).hash(&mut h);
    h.finish()
}

impl FlowTable {
    /// Empty tables.
    pub fn new(config: TableConfig) -> Self {
        Self {
            config: TableConfig {
                n_tables: config.n_tables.clamp(1, 254),
                ..config
            },
            tables: Vec::new(),
            keys: HashMap::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> TableConfig {
        self.config
    }

    /// Every flow, table by table, each table in lookup order.
    pub fn entries(&self) -> impl Iterator<Item = &FlowEntry> {
        self.tables.iter().flatten()
    }

    /// Number of flows in all tables.
    pub fn len(&self) -> usize {
        self.tables.iter().map(Vec::len).sum()
    }

    /// Number of flows in table `table_id` (each table's flows are kept apart, so no scan).
    pub fn table_len(&self, table_id: u8) -> usize {
        self.tables.get(usize::from(table_id)).map_or(0, Vec::len)
    }

    /// The flows of table `table_id` in lookup order (empty for a table never used).
    pub(crate) fn table(&self, table_id: u8) -> &[FlowEntry] {
        self.tables
            .get(usize::from(table_id))
            .map_or(&[][..], Vec::as_slice)
    }

    /// Whether every table is empty.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(Vec::is_empty)
    }

    /// Removes every flow (a switch restarted without persistent flows).
    pub fn clear(&mut self) {
        self.tables.iter_mut().for_each(Vec::clear);
        self.keys.clear();
    }

    /// Every flow in canonical form, sorted by table, descending priority, then match (a
    /// table holds at most one flow per (priority, match), so the order is total). Two tables
    /// with the same flows have equal canonical forms, whatever the order they were added in.
    pub fn canonical(&self) -> Vec<CanonicalFlow> {
        let mut v: Vec<CanonicalFlow> = self
            .entries()
            .map(|e| CanonicalFlow {
                table_id: e.table_id,
                priority: e.priority,
                normal: e.normal.clone(),
                cookie: e.cookie,
                instructions: e.instructions.clone(),
            })
            .collect();
        sort_canonical(&mut v);
        v
    }

    /// Removes every flow `doomed` selects and returns them (for meter deletion and tests).
    pub fn remove_where(&mut self, mut doomed: impl FnMut(&FlowEntry) -> bool) -> Vec<FlowEntry> {
        let removed: Vec<FlowEntry> = self
            .tables
            .iter_mut()
            .flat_map(|table| table.extract_if(.., |e| doomed(e)).collect::<Vec<_>>())
            .collect();
        for e in &removed {
            let key = key_hash(e.table_id, e.priority, &e.normal);
            if let Some(n) = self.keys.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.keys.remove(&key);
                }
            }
        }
        removed
    }

    /// Applies a FLOW_MOD as OpenFlow 1.3.5 section 6.4 says, with checks and their order
    /// matched against Open vSwitch 3.1. Meter instructions are not checked here (see
    /// [`FlowTable::apply_with_meters`]).
    pub fn apply(&mut self, fm: &FlowMod, now: Instant) -> Result<FlowModOutcome, TableError> {
        self.apply_with_meters(fm, now, |_| true)
    }

    /// [`FlowTable::apply`] for a switch whose meters are `meter_exists`: a flow using a
    /// missing meter (or any group: there are none) is refused after the match and
    /// instruction checks, and only when the FLOW_MOD adds or changes a flow, as in OVS.
    pub fn apply_with_meters(
        &mut self,
        fm: &FlowMod,
        now: Instant,
        meter_exists: impl Fn(u32) -> bool,
    ) -> Result<FlowModOutcome, TableError> {
        let command = match fm.command {
            FlowModCommand::Other(c) => return Err(TableError::BadCommand(c)),
            c => c,
        };
        if fm.flags & !KNOWN_FLAGS != 0 {
            return Err(TableError::BadFlags(fm.flags));
        }
        let deleting = matches!(
            command,
            FlowModCommand::Delete | FlowModCommand::DeleteStrict
        );
        // Match and instructions first (OVS checks them while decoding), then what depends on
        // the switch: the table, the buffer, referenced tables, meters and groups.
        let normal = crate::match_check::normalise(&fm.match_)?;
        // OVS checks the instructions of every FLOW_MOD, DELETEs included.
        validate_instructions(&fm.instructions, fm.table_id, self.config.n_tables)?;
        // "The use of OFPTT_ALL is only valid for delete requests." OVS, with 254 visible
        // tables, also knows its hidden table 254: DELETEs there select nothing here; ADDs and
        // MODIFYs are refused with OFPBRC_EPERM, after the port and table checks (the order
        // of all these checks is OVS 3.1's, seen by tests/ovs_differential.rs).
        let hidden = self.config.n_tables == OFPTT_MAX && fm.table_id == OFPTT_MAX;
        if fm.table_id >= self.config.n_tables && !hidden && !(deleting && fm.table_id == OFPTT_ALL)
        {
            return Err(self.bad_table(fm.table_id));
        }
        check_consistency(&fm.instructions)?;
        if hidden && !deleting {
            return Err(TableError::ReadOnlyTable(fm.table_id));
        }
        // OVS buffers nothing, neither does this switch.
        if !deleting && fm.buffer_id != OFP_NO_BUFFER {
            return Err(TableError::BufferUnknown(fm.buffer_id));
        }
        let references = || check_references(&fm.instructions, self.config.n_tables, &meter_exists);
        match command {
            FlowModCommand::Add => {
                references()?;
                self.add(fm, normal, now)
            }
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let strict = command == FlowModCommand::ModifyStrict;
                let table = self.tables.get(usize::from(fm.table_id));
                if table
                    .into_iter()
                    .flatten()
                    .any(|e| selected(e, fm, &normal, strict, false))
                {
                    references()?;
                }
                Ok(self.modify(fm, &normal, strict))
            }
            FlowModCommand::Delete => Ok(self.delete(fm, &normal, false)),
            FlowModCommand::DeleteStrict => Ok(self.delete(fm, &normal, true)),
            FlowModCommand::Other(c) => Err(TableError::BadCommand(c)),
        }
    }

    fn bad_table(&self, table_id: u8) -> TableError {
        TableError::BadTableId {
            table_id,
            n_tables: self.config.n_tables,
        }
    }

    fn add(
        &mut self,
        fm: &FlowMod,
        normal: FlowMatch,
        now: Instant,
    ) -> Result<FlowModOutcome, TableError> {
        let capacity = self.config.capacity;
        let id = usize::from(fm.table_id);
        if self.tables.len() <= id {
            self.tables.resize_with(id + 1, Vec::new);
        }
        let table = &mut self.tables[id];
        let mut entry = FlowEntry {
            table_id: fm.table_id,
            priority: fm.priority,
            match_: fm.match_.clone(),
            normal,
            cookie: fm.cookie,
            flags: fm.flags,
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            instructions: fm.instructions.clone(),
            packet_count: 0,
            byte_count: 0,
            installed_at: now,
        };
        // "If a flow entry with identical match fields and priority already resides in the
        // requested table, then that entry, including its duration, must be cleared from the
        // table, and the new flow entry added"; its counters are kept unless
        // OFPFF_RESET_COUNTS (OF1.2+; OVS does the same). Like OVS 3.1, a replacement skips
        // the overlap and capacity checks (seen by tests/ovs_differential.rs).
        let key = key_hash(fm.table_id, fm.priority, &entry.normal);
        let existing = if self.keys.contains_key(&key) {
            table
                .iter_mut()
                .find(|e| e.priority == fm.priority && e.normal == entry.normal)
        } else {
            None
        };
        if let Some(old) = existing {
            if fm.flags & OFPFF_RESET_COUNTS == 0 {
                entry.packet_count = old.packet_count;
                entry.byte_count = old.byte_count;
            }
            *old = entry;
            return Ok(FlowModOutcome {
                replaced: 1,
                ..Default::default()
            });
        }
        // "Two flow entries overlap if a single packet may match both, and both flow entries
        // have the same priority."
        if fm.flags & OFPFF_CHECK_OVERLAP != 0
            && table
                .iter()
                .any(|e| e.priority == fm.priority && e.normal.overlaps(&entry.normal))
        {
            return Err(TableError::Overlap {
                table_id: fm.table_id,
                priority: fm.priority,
            });
        }
        if table.len() >= capacity {
            return Err(TableError::TableFull {
                table_id: fm.table_id,
                capacity,
            });
        }
        let at = table.partition_point(|e| e.priority >= fm.priority);
        table.insert(at, entry);
        *self.keys.entry(key).or_insert(0) += 1;
        Ok(FlowModOutcome {
            added: 1,
            ..Default::default()
        })
    }

    /// "If a matching entry exists in the table, the instructions field of this entry is
    /// updated with the value from the request, whereas its cookie, idle_timeout, hard_timeout,
    /// flags, counters and duration fields are left unchanged. If the OFPFF_RESET_COUNTS flag
    /// is set, the flow entry counters must be cleared." No match: no error, no change.
    fn modify(&mut self, fm: &FlowMod, normal: &FlowMatch, strict: bool) -> FlowModOutcome {
        let mut modified = 0;
        let table = self.tables.get_mut(usize::from(fm.table_id));
        for e in table.into_iter().flatten() {
            if selected(e, fm, normal, strict, false) {
                e.instructions = fm.instructions.clone();
                if fm.flags & OFPFF_RESET_COUNTS != 0 {
                    e.packet_count = 0;
                    e.byte_count = 0;
                }
                modified += 1;
            }
        }
        FlowModOutcome {
            modified,
            ..Default::default()
        }
    }

    fn delete(&mut self, fm: &FlowMod, normal: &FlowMatch, strict: bool) -> FlowModOutcome {
        let removed = self.remove_where(|e| {
            (fm.table_id == OFPTT_ALL || e.table_id == fm.table_id)
                && selected(e, fm, normal, strict, true)
        });
        FlowModOutcome {
            removed,
            ..Default::default()
        }
    }

    /// What the switch would do with `pkt`: run table 0, follow Goto-Table, execute the action
    /// set. Counters are not touched ([`FlowTable::record_packet`] counts).
    pub fn classify(&self, pkt: &PacketHeaders) -> Verdict {
        self.run_pipeline(pkt).0
    }

    /// [`FlowTable::classify`], and count the packet (`bytes` long) on every flow it hit.
    pub fn record_packet(&mut self, pkt: &PacketHeaders, bytes: u64) -> Verdict {
        let (verdict, positions) = self.run_pipeline(pkt);
        for (table, index) in positions {
            if let Some(e) = self
                .tables
                .get_mut(usize::from(table))
                .and_then(|t| t.get_mut(index))
            {
                e.packet_count = e.packet_count.saturating_add(1);
                e.byte_count = e.byte_count.saturating_add(bytes);
            }
        }
        verdict
    }
}

/// Whether MODIFY/DELETE (`deleting` adds the out_port/out_group filters) selects `e`.
fn selected(e: &FlowEntry, fm: &FlowMod, normal: &FlowMatch, strict: bool, deleting: bool) -> bool {
    let by_match = if strict {
        e.priority == fm.priority && e.normal == *normal
    } else {
        normal.covers(&e.normal)
    };
    // "Modify and delete commands can also be filtered by cookie value, if the cookie_mask
    // field contains a value other than 0."
    by_match
        && e.cookie_matches(fm.cookie, fm.cookie_mask)
        // "These fields are ignored by OFPFC_ADD, OFPFC_MODIFY or OFPFC_MODIFY_STRICT."
        && (!deleting || (e.outputs_to(fm.out_port) && e.uses_group(fm.out_group)))
}

#[cfg(test)]
#[path = "flow_table_tests.rs"]
mod tests;
