//! What the sessions observe about each switch beyond the status registry: its desired and
//! actual flows as of the last read, the packets and bytes its blocking flows dropped, and how
//! long its syncs took and why they ran.
//!
//! Written by each switch's own session (see the calls documented on each method), read by the
//! API and the metrics collector. Bounded like the status registry: what is kept for a switch
//! is forgotten when the registry forgets it (see `Registry::forget_with`). One `RwLock` over the map, taken for writing once per flow
//! read or sync of a switch (at most a few per minute per switch), never across an `await`.

use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use crate::fleet::registry::ForgetDpids;
#[cfg(doc)]
use crate::fleet::registry::Registry;
use crate::flows::{DesiredFlows, ReportedFlow};
use crate::offenders::UnixMillis;
use crate::policy::Dpid;

use super::actual_flows::ActualFlows;
use super::flow_readings::{BlockedCounters, FlowReading, OfctlFlow};

/// Upper bounds of the sync duration histogram, seconds: 1 ms to about 65 s.
pub const SYNC_DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 65.0,
];

/// Labels of the sync duration histogram: `dpid` (colon hex) and `result` (`ok`/`failed`).
pub type SyncLabels = Vec<(String, String)>;

fn sync_labels(dpid: u64, result: &str) -> SyncLabels {
    vec![
        ("dpid".to_owned(), Dpid(dpid).to_string()),
        ("result".to_owned(), result.to_owned()),
    ]
}

fn sync_histogram() -> Histogram {
    Histogram::new(SYNC_DURATION_BUCKETS)
}

/// The sync duration histograms, one per `(dpid, result)`.
pub type SyncDurations = Family<SyncLabels, Histogram, fn() -> Histogram>;

/// One switch as last observed.
#[derive(Clone, Debug, Default)]
pub struct SwitchObservation {
    /// When the flows were last read.
    pub flows_read_at: Option<UnixMillis>,
    /// Our flows on the switch as of that read (compact: see [`ActualFlows`]).
    pub actual_flows: ActualFlows,
    /// When the desired flows were last computed.
    pub desired_at: Option<UnixMillis>,
    /// The flows the policy wants on the switch; switches that want the same flows share one
    /// list (see [`SwitchObservations::record_desired`]).
    pub desired_flows: Arc<[OfctlFlow]>,
    /// Finished syncs by `(reason, result)`; reason is `SyncReason::name()` (`connect`,
    /// `policy_change`, `audit`, `retry`, `flow_removed`, `port_status`).
    pub syncs: BTreeMap<(String, bool), u64>,
    /// Packets and bytes dropped by the blocking flows, accumulated across reads.
    blocked: BlockedCounters,
}

impl SwitchObservation {
    /// Packets dropped by the blocking flows, accumulated across reads.
    pub fn blocked_packets(&self) -> u64 {
        self.blocked.packets
    }

    /// Bytes dropped by the blocking flows, accumulated across reads.
    pub fn blocked_bytes(&self) -> u64 {
        self.blocked.bytes
    }
}

/// The counters of one switch's observation, without its flows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedCounts {
    pub blocked_packets: u64,
    pub blocked_bytes: u64,
    /// Finished syncs by `(reason, result)`, as in [`SwitchObservation::syncs`].
    pub syncs: BTreeMap<(String, bool), u64>,
}

/// Shared as `Arc<SwitchObservations>` by the sessions (writers) and the API (readers).
#[derive(Debug)]
pub struct SwitchObservations {
    switches: RwLock<HashMap<u64, SwitchObservation>>,
    /// The desired flows recorded last: the next switch that wants the same shares them.
    last_desired: Mutex<Option<Arc<[OfctlFlow]>>>,
    sync_durations: SyncDurations,
}

impl Default for SwitchObservations {
    fn default() -> Self {
        Self::new()
    }
}

impl SwitchObservations {
    pub fn new() -> Self {
        Self {
            switches: RwLock::new(HashMap::new()),
            last_desired: Mutex::new(None),
            sync_durations: Family::new_with_constructor(sync_histogram),
        }
    }

    fn update(&self, dpid: u64, f: impl FnOnce(&mut SwitchObservation)) {
        let mut map = self.switches.write();
        f(map.entry(dpid).or_default());
    }

    /// A session read `dpid`'s flows (the cookie-filtered FLOW stats reply of a sync, an audit
    /// or a counter poll). Replaces the actual flows and adds the blocking flows' new drops.
    pub fn record_flow_read(&self, dpid: u64, entries: &[ReportedFlow], at: SystemTime) {
        let readings: Vec<FlowReading> = entries.iter().map(FlowReading::from_reported).collect();
        self.update(dpid, |o| {
            o.blocked.update(&readings);
            o.actual_flows = ActualFlows::new(Arc::clone(&o.desired_flows), readings);
            o.flows_read_at = Some(UnixMillis::from_system_time(at));
        });
    }

    /// The flows the policy wants on `dpid` (computed by the sync's plan). Switches that want
    /// the same flows (same ports, same policy) share one list: with 1,000 switches of 5,000
    /// flows each, one list instead of 1,000 copies of 400 KB.
    pub fn record_desired(&self, dpid: u64, desired: &DesiredFlows, at: SystemTime) {
        let lines: Vec<OfctlFlow> = desired
            .flows
            .iter()
            .map(|&spec| OfctlFlow {
                cookie: desired.cookie,
                spec,
            })
            .collect();
        let lines = {
            let mut last = self.last_desired.lock();
            match &*last {
                Some(shared) if **shared == *lines => Arc::clone(shared),
                _ => {
                    let fresh: Arc<[OfctlFlow]> = lines.into();
                    *last = Some(Arc::clone(&fresh));
                    fresh
                }
            }
        };
        self.update(dpid, |o| {
            o.desired_flows = lines;
            o.desired_at = Some(UnixMillis::from_system_time(at));
        });
    }

    /// A sync of `dpid` finished (successfully or not) after `duration`; `reason` names what
    /// triggered it.
    pub fn record_sync(&self, dpid: u64, reason: &str, ok: bool, duration: Duration) {
        let result = if ok { "ok" } else { "failed" };
        self.sync_durations
            .get_or_create(&sync_labels(dpid, result))
            .observe(duration.as_secs_f64());
        self.update(dpid, |o| {
            *o.syncs.entry((reason.to_owned(), ok)).or_default() += 1;
        });
    }

    /// One switch, if anything was recorded for it.
    pub fn get(&self, dpid: u64) -> Option<SwitchObservation> {
        let map = self.switches.read();
        map.get(&dpid).cloned()
    }

    /// `dpid`'s blocked packets and bytes (cheap: copies no flows).
    pub fn blocked(&self, dpid: u64) -> Option<(u64, u64)> {
        let map = self.switches.read();
        map.get(&dpid)
            .map(|o| (o.blocked_packets(), o.blocked_bytes()))
    }

    /// Every switch's counters, sorted by dpid (for the collector; copies no flows).
    pub fn all_counts(&self) -> Vec<(u64, ObservedCounts)> {
        let map = self.switches.read();
        let mut all: Vec<_> = map
            .iter()
            .map(|(d, o)| {
                (
                    *d,
                    ObservedCounts {
                        blocked_packets: o.blocked_packets(),
                        blocked_bytes: o.blocked_bytes(),
                        syncs: o.syncs.clone(),
                    },
                )
            })
            .collect();
        drop(map);
        all.sort_by_key(|(d, _)| *d);
        all
    }

    /// Forgets everything recorded for `dpids`, their sync duration series included (the
    /// registry forgot the switches: see [`Registry::forget_with`]).
    pub fn forget(&self, dpids: &[u64]) {
        {
            let mut map = self.switches.write();
            for dpid in dpids {
                map.remove(dpid);
            }
        }
        for dpid in dpids {
            for result in ["ok", "failed"] {
                self.sync_durations.remove(&sync_labels(*dpid, result));
            }
        }
    }

    /// Switches with anything recorded.
    pub fn len(&self) -> usize {
        self.switches.read().len()
    }

    /// Nothing recorded for any switch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sync duration histograms (registered with the metrics registry).
    pub fn sync_durations(&self) -> SyncDurations {
        self.sync_durations.clone()
    }
}

impl ForgetDpids for SwitchObservations {
    fn forget_dpids(&self, dpids: &[u64]) {
        self.forget(dpids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::openflow::flow_mods_for;
    use crate::flows::{desired_flows, SwitchView};
    use crate::policy::{Config, Dpid, PortNo};
    use op25b_proto::multipart::stats::FlowStats;

    fn exposition(obs: &SwitchObservations) -> String {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("sync_duration_seconds", "test", obs.sync_durations());
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("encodes");
        out
    }

    #[test]
    fn switches_that_want_the_same_flows_share_one_list() {
        let loaded =
            Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").expect("valid policy");
        let two_relays = Config::parse(
            "[policy]\nrelays = [\"192.0.2.25\", \"192.0.2.26\"]\n",
            "p.toml",
        )
        .expect("valid policy");
        let view = SwitchView::new(Dpid(1), (1..=3).map(PortNo));
        let same = desired_flows(loaded.config.policy(), &view);
        let other = desired_flows(two_relays.config.policy(), &view);
        assert_ne!(same.flows, other.flows);
        let obs = SwitchObservations::new();
        let now = SystemTime::now();
        obs.record_desired(1, &same, now);
        obs.record_desired(2, &same, now);
        obs.record_desired(3, &other, now);
        let flows = |dpid| obs.get(dpid).expect("recorded").desired_flows;
        assert!(Arc::ptr_eq(&flows(1), &flows(2)), "one list for both");
        assert!(!Arc::ptr_eq(&flows(1), &flows(3)));
        assert_eq!(flows(3).len(), other.flows.len());
        assert_eq!(flows(2).len(), same.flows.len());
        // Each keeps its own: a later change of switch 1 leaves switch 2's list as it was.
        obs.record_desired(1, &other, now);
        assert_eq!(flows(2).len(), same.flows.len());
        assert!(Arc::ptr_eq(&flows(1), &flows(3)));
    }

    #[test]
    fn forgetting_a_switch_drops_its_observations_and_metric_series() {
        let obs = SwitchObservations::new();
        obs.record_sync(1, "connect", true, Duration::from_millis(5));
        obs.record_sync(1, "audit", false, Duration::from_millis(5));
        obs.record_sync(2, "connect", true, Duration::from_millis(5));
        obs.record_flow_read(1, &[], SystemTime::now());
        let one = "dpid=\"00:00:00:00:00:00:00:01\"";
        let two = "dpid=\"00:00:00:00:00:00:00:02\"";
        let before = exposition(&obs);
        assert!(before.contains(one) && before.contains(two), "{before}");
        obs.forget(&[1, 99]);
        assert!(obs.get(1).is_none());
        assert!(obs.get(2).is_some());
        assert_eq!(obs.len(), 1);
        let after = exposition(&obs);
        assert!(!after.contains(one), "{after}");
        assert!(after.contains(two), "{after}");
    }

    #[test]
    fn observations_are_forgotten_with_the_registry_and_only_then() {
        use crate::fleet::registry::{ForgetDpids, Registry};
        use std::sync::Arc;
        use std::time::Instant;
        let registry = Registry::with_limits(Duration::from_secs(60), 2);
        let obs = Arc::new(SwitchObservations::new());
        let sink: Arc<dyn ForgetDpids> = obs.clone();
        registry.forget_with(&sink);
        let peer = "127.0.0.1:1".parse().expect("addr");
        let t0 = Instant::now();
        let _connected = registry.connect(100, 100, peer, SystemTime::now());
        obs.record_sync(100, "connect", true, Duration::from_millis(1));
        for dpid in 1..=5u64 {
            let h = registry.connect(dpid, dpid, peer, SystemTime::now());
            obs.record_sync(dpid, "connect", true, Duration::from_millis(1));
            h.update_at(t0, |s| s.connection = None);
        }
        // Cap 2: dpids 1-3 are forgotten by the registry and the observations alike.
        let kept: Vec<u64> = (1..=5).filter(|d| obs.get(*d).is_some()).collect();
        assert_eq!(kept, vec![4, 5]);
        assert!(obs.get(100).is_some());
        registry.sweep(t0 + Duration::from_secs(61));
        assert_eq!(obs.len(), 1, "only the connected switch is left");
        assert!(obs.get(100).is_some());
        drop(sink);
        drop(obs);
        // A sink that is gone is skipped.
        let h = registry.connect(7, 7, peer, SystemTime::now());
        h.update_at(t0, |s| s.connection = None);
        assert_eq!(registry.sweep(t0 + Duration::from_secs(61)), 1);
    }

    #[test]
    fn desired_and_read_flows_and_syncs_are_kept_per_switch() {
        let loaded = Config::parse(
            "[policy]\nblocked_ports = [25]\nrelays = [\"192.0.2.25/32\"]\n",
            "test.toml",
        )
        .expect("valid policy");
        let view = SwitchView::new(Dpid(5), [PortNo(1), PortNo(2)]);
        let desired = desired_flows(loaded.config.policy(), &view);
        let obs = SwitchObservations::new();
        let now = SystemTime::now();
        obs.record_desired(5, &desired, now);
        let entries: Vec<FlowStats> = flow_mods_for(&desired)
            .into_iter()
            .map(|fm| FlowStats {
                table_id: fm.table_id,
                duration_sec: 1,
                duration_nsec: 0,
                priority: fm.priority,
                idle_timeout: 0,
                hard_timeout: 0,
                flags: 0,
                cookie: fm.cookie,
                packet_count: 7,
                byte_count: 70,
                match_: fm.match_,
                instructions: fm.instructions,
            })
            .collect();
        let entries: Vec<ReportedFlow> = entries.iter().map(ReportedFlow::from_stats).collect();
        obs.record_flow_read(5, &entries, now);
        obs.record_sync(5, "connect", true, Duration::from_millis(12));
        obs.record_sync(5, "audit", true, Duration::from_millis(3));

        let o = obs.get(5).expect("recorded");
        assert_eq!(o.desired_flows.len(), desired.flows.len());
        assert_eq!(o.actual_flows.len(), desired.flows.len());
        let read_back: Vec<OfctlFlow> = o.actual_flows.iter().flat_map(|r| r.flow).collect();
        assert_eq!(
            read_back, *o.desired_flows,
            "the read flows render as the desired ones"
        );
        let blocking = o.actual_flows.iter().filter(|r| r.blocks).count() as u64;
        assert!(blocking >= 2, "port 25 drop flows for IPv4 and IPv6");
        assert_eq!(o.blocked_packets(), 7 * blocking);
        assert_eq!(o.blocked_bytes(), 70 * blocking);
        assert_eq!(o.syncs.get(&("connect".to_owned(), true)), Some(&1));
        assert!(obs.get(6).is_none());
        assert_eq!(obs.blocked(5), Some((7 * blocking, 70 * blocking)));
        assert_eq!(obs.blocked(6), None);
        let counts = obs.all_counts();
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].1.blocked_packets, 7 * blocking);
        assert_eq!(counts[0].1.syncs, o.syncs);
        assert_eq!(
            o.desired_flows[0].to_string(),
            crate::flows::ofctl_line(desired.cookie, &desired.flows[0])
        );
    }
}
