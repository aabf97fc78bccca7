//! What a FLOW stats reply says about one switch's flows, as the API shows it and as the
//! blocked-traffic counters need it. Pure.
//!
//! Each entry becomes a [`FlowReading`]: the flow as an [`OfctlFlow`] when op25b recognises it
//! (the same normalisation the reconciler uses, so field order or redundant masks do not
//! matter), its packet and byte counters, and whether it blocks (action drop, or drop plus a
//! metered sample to the controller). An [`OfctlFlow`] is the compact parsed flow (a `Copy`
//! value, no heap); its `ovs-ofctl` text is rendered only when shown (JSON, `Display`), since
//! the controller keeps one reading per flow per switch.
//!
//! A switch's counters belong to flow entries, and an entry's counters start again at zero
//! when the entry is replaced (a policy change that turns sampling on or off re-adds the drop
//! flows). [`BlockedCounters`] therefore adds per-flow *increases* between reads, and treats a
//! counter lower than the last read as a new entry counted from zero: its total only grows,
//! as a Prometheus counter must.

use std::collections::HashMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::flows::{ofctl_line, FlowAction, FlowSpec, ReportedFlow};
use crate::policy::Cookie;

/// A flow op25b understands with its cookie: shown (JSON, `Display`) in `ovs-ofctl` syntax,
/// rendered on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfctlFlow {
    pub cookie: Cookie,
    pub spec: FlowSpec,
}

impl fmt::Display for OfctlFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&ofctl_line(self.cookie, &self.spec))
    }
}

impl Serialize for OfctlFlow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&ofctl_line(self.cookie, &self.spec))
    }
}

/// One flow entry as the switch reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowReading {
    pub table_id: u8,
    pub priority: u16,
    pub cookie: u64,
    /// The flow (`ovs-ofctl` syntax in JSON), or `None` when it uses matches or actions op25b
    /// never installs (it will be removed by the next sync).
    pub flow: Option<OfctlFlow>,
    /// Drops the packet (a `drop` or a sampling `meter:N,controller:LEN` flow).
    pub blocks: bool,
    pub packets: u64,
    pub bytes: u64,
    /// Seconds since the entry was added.
    pub duration_secs: u32,
}

impl FlowReading {
    /// Reads one FLOW stats entry (normalised as its reply part arrived).
    pub fn from_reported(stats: &ReportedFlow) -> Self {
        let spec = stats
            .key()
            .and_then(|key| stats.action.map(|action| FlowSpec { key, action }));
        Self {
            table_id: stats.table_id,
            priority: stats.priority,
            cookie: stats.cookie,
            flow: spec.map(|spec| OfctlFlow {
                cookie: Cookie(stats.cookie),
                spec,
            }),
            blocks: spec
                .is_some_and(|s| matches!(s.action, FlowAction::Drop | FlowAction::Sample { .. })),
            packets: stats.packet_count,
            bytes: stats.byte_count,
            duration_secs: stats.duration_sec,
        }
    }

    /// Identity of the entry across reads: table, priority and the flow.
    fn identity(&self) -> (u8, u16, Option<OfctlFlow>) {
        (self.table_id, self.priority, self.flow)
    }
}

/// Packets and bytes dropped by one switch's blocking flows, accumulated across reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockedCounters {
    /// Total packets dropped by blocking flows since the controller first read this switch.
    pub packets: u64,
    /// Total bytes.
    pub bytes: u64,
    /// Last read counters per blocking flow.
    last: HashMap<(u8, u16, Option<OfctlFlow>), (u64, u64)>,
    /// False until the first read: that read sets the baseline (counts from before the
    /// controller started are included, so a restart does not hide earlier drops).
    seeded: bool,
}

impl BlockedCounters {
    /// Adds what happened since the last read. The first read counts each flow's whole
    /// counters; later reads count increases, and a counter that went down (entry replaced)
    /// counts from zero.
    pub fn update(&mut self, readings: &[FlowReading]) {
        let mut next = HashMap::with_capacity(readings.len());
        for r in readings.iter().filter(|r| r.blocks) {
            let id = r.identity();
            let (last_packets, last_bytes) = self.last.get(&id).copied().unwrap_or((0, 0));
            let grew = |now: u64, last: u64| if now >= last { now - last } else { now };
            self.packets = self.packets.saturating_add(grew(r.packets, last_packets));
            self.bytes = self.bytes.saturating_add(grew(r.bytes, last_bytes));
            next.insert(id, (r.packets, r.bytes));
        }
        self.last = next;
        self.seeded = true;
    }

    /// True once at least one read was counted.
    pub fn has_read(&self) -> bool {
        self.seeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::openflow::{to_instructions, to_match};
    use crate::flows::{FlowMatch, IpFamily, TcpMatch};
    use op25b_proto::multipart::stats::FlowStats;

    /// The reading of a decoded entry, normalised first as the session does.
    fn reading(s: &FlowStats) -> FlowReading {
        FlowReading::from_reported(&ReportedFlow::from_stats(s))
    }

    fn stats(action: FlowAction, dst_port: u16, packets: u64, bytes: u64) -> FlowStats {
        let m = FlowMatch {
            in_port: None,
            eth_type: None,
            tcp: Some(TcpMatch {
                family: IpFamily::V4,
                src: None,
                dst: None,
                dst_port: Some(dst_port),
            }),
        };
        FlowStats {
            table_id: 0,
            duration_sec: 12,
            duration_nsec: 0,
            priority: 20_000,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie: 0x4f50,
            packet_count: packets,
            byte_count: bytes,
            match_: to_match(&m),
            instructions: to_instructions(&action),
        }
    }

    #[test]
    fn drop_and_sample_flows_block_forward_flows_do_not() {
        let drop = reading(&stats(FlowAction::Drop, 25, 3, 222));
        assert!(drop.blocks);
        assert_eq!(
            drop.flow.map(|f| f.to_string()).as_deref(),
            Some("cookie=0x0000000000004f50,table=0,priority=20000,tcp,tp_dst=25,actions=drop")
        );
        let sample = reading(&stats(
            FlowAction::Sample {
                meter_id: 1,
                max_len: 128,
            },
            25,
            0,
            0,
        ));
        assert!(sample.blocks);
        let forward = reading(&stats(
            FlowAction::Forward(crate::policy::Forwarding::Normal),
            25,
            9,
            9,
        ));
        assert!(!forward.blocks);
        let json = serde_json::to_value(&drop).expect("serializes");
        assert_eq!(
            json["flow"],
            "cookie=0x0000000000004f50,table=0,priority=20000,tcp,tp_dst=25,actions=drop",
            "the API shows the flow as ovs-ofctl text"
        );
        assert_eq!((drop.packets, drop.bytes, drop.duration_secs), (3, 222, 12));
    }

    #[test]
    fn an_unknown_instruction_is_shown_as_unrecognised_and_not_counted() {
        let mut s = stats(FlowAction::Drop, 25, 5, 5);
        s.instructions = vec![op25b_proto::instruction::Instruction::GotoTable(1); 2];
        let r = reading(&s);
        assert_eq!(r.flow, None);
        assert!(!r.blocks);
        let mut c = BlockedCounters::default();
        c.update(&[r]);
        assert_eq!((c.packets, c.bytes), (0, 0));
    }

    #[test]
    fn blocked_totals_only_grow_across_reads_and_entry_replacement() {
        let mut c = BlockedCounters::default();
        assert!(!c.has_read());
        c.update(&[
            reading(&stats(FlowAction::Drop, 25, 10, 1000)),
            reading(&stats(FlowAction::Drop, 0, 1, 100)),
        ]);
        assert_eq!((c.packets, c.bytes), (11, 1100));
        c.update(&[
            reading(&stats(FlowAction::Drop, 25, 15, 1500)),
            reading(&stats(FlowAction::Drop, 0, 1, 100)),
        ]);
        assert_eq!((c.packets, c.bytes), (16, 1600));
        // The port-25 entry was replaced: its counters restarted at 2.
        c.update(&[
            reading(&stats(FlowAction::Drop, 25, 2, 200)),
            reading(&stats(FlowAction::Drop, 0, 1, 100)),
        ]);
        assert_eq!((c.packets, c.bytes), (18, 1800));
        // Sampling turned on: a different flow text, counted from zero.
        c.update(&[reading(&stats(
            FlowAction::Sample {
                meter_id: 1,
                max_len: 128,
            },
            25,
            4,
            400,
        ))]);
        assert_eq!((c.packets, c.bytes), (22, 2200));
        assert!(c.has_read());
    }
}
