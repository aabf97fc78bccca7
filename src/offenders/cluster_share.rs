//! Offenders across a cluster, the pure part: what one instance publishes of its table, how
//! the published tables of every instance merge into one list, and which name a report is
//! claimed under so that one subscriber gives one report whichever instances flagged it.
//!
//! Each switch's samples go to its master only (a slave session drops them:
//! `session::role::Role::takes_samples`, and Open vSwitch sends no PACKET_IN to a slave
//! connection by default), so every instance's table holds the subscribers behind the switches
//! it masters. A subscriber seen through two switches mastered by two instances is in two
//! tables (entries are per switch and port) and may be flagged by both.
//!
//! - [`PublishedOffenders`]: one instance's share of the cluster list, at most
//!   [`PUBLISH_MAX`] entries (its worst, flagged first) and the count left out. The I/O edge
//!   (`cluster::offender_share`) writes it as one etcd value per instance, every few seconds:
//!   an outbreak of 100,000 offenders is still one bounded write per instance per period.
//! - [`merge`]: this instance's own entries and the peers' published ones, each tagged with its
//!   instance, ranked like [`super::OffenderTable::top`] (flagged first, then attempts, then
//!   the most recent); the same entry (switch, port, MAC, source) from two instances -- a
//!   mastership that moved -- is shown once, the one with more attempts.
//! - [`ClaimBudget`]: at most [`CLAIMS_PER_SECOND`] claims a second per instance; past it a
//!   report is written unclaimed (and counted): an outbreak flagging thousands of subscribers a
//!   second costs etcd a bounded number of transactions, and no report waits for one.
//! - [`claim_name`]: the cluster-wide identity of a flagged subscriber, MAC and source (the
//!   IPv4 address or the IPv6 prefix) without the switch and port: the report is claimed under
//!   it (`cluster::report_claims`), so exactly one instance writes it.

use std::collections::HashMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::clock::UnixMillis;
use super::table::{InfectionEvent, OffenderView, SubscriberKey};

/// Most entries one instance publishes.
pub const PUBLISH_MAX: usize = 200;

/// One instance's offenders as the other instances read them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedOffenders {
    /// The publishing instance (`[cluster] name`).
    pub instance: String,
    /// When the snapshot was taken.
    pub at: UnixMillis,
    /// Subscribers in its table, and flagged ones.
    pub tracked: usize,
    pub flagged: usize,
    /// Its worst entries, at most [`PUBLISH_MAX`].
    pub entries: Vec<OffenderView>,
    /// Entries of its table not published (the table held more than [`PUBLISH_MAX`]).
    pub left_out: usize,
}

impl PublishedOffenders {
    /// The snapshot of a table with `tracked` entries of which `flagged` are flagged, whose
    /// worst entries are `top` (already ranked; cut to [`PUBLISH_MAX`] here).
    pub fn new(
        instance: &str,
        at: UnixMillis,
        tracked: usize,
        flagged: usize,
        mut top: Vec<OffenderView>,
    ) -> Self {
        top.truncate(PUBLISH_MAX);
        Self {
            instance: instance.to_owned(),
            at,
            tracked,
            flagged,
            left_out: tracked.saturating_sub(top.len()),
            entries: top,
        }
    }
}

/// The ranking of [`super::OffenderTable::top`]: flagged first, most attempts, most recent.
fn rank(
    v: &OffenderView,
) -> (
    std::cmp::Reverse<bool>,
    std::cmp::Reverse<u32>,
    std::cmp::Reverse<UnixMillis>,
) {
    (
        std::cmp::Reverse(v.flagged),
        std::cmp::Reverse(v.attempts),
        std::cmp::Reverse(v.last_seen),
    )
}

/// Own entries (tagged `me`) and every peer's, one per (switch, port, MAC, source), ranked, at
/// most `limit`; with `flagged_only` only flagged ones. A peer named `me` is skipped (our own
/// snapshot read back from etcd).
pub fn merge(
    me: &str,
    own: Vec<OffenderView>,
    peers: &[PublishedOffenders],
    limit: usize,
    flagged_only: bool,
) -> Vec<OffenderView> {
    let tagged = own.into_iter().map(|v| (me.to_owned(), v)).chain(
        peers
            .iter()
            .filter(|p| p.instance != me)
            .flat_map(|p| p.entries.iter().map(|v| (p.instance.clone(), v.clone()))),
    );
    let mut best: HashMap<(u64, u32, [u8; 6], IpNet), OffenderView> = HashMap::new();
    for (instance, mut v) in tagged {
        if flagged_only && !v.flagged {
            continue;
        }
        v.instance = Some(instance);
        let source = v
            .source_prefix
            .unwrap_or_else(|| SubscriberKey::source_of(v.source_ip, 128));
        let key = (v.dpid, v.port, v.source_mac.0, source);
        match best.get(&key) {
            Some(kept) if (kept.attempts, kept.last_seen) >= (v.attempts, v.last_seen) => {}
            _ => {
                best.insert(key, v);
            }
        }
    }
    let mut all: Vec<OffenderView> = best.into_values().collect();
    all.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.instance.cmp(&b.instance))
    });
    all.truncate(limit);
    all
}

/// Most report claims one instance sends etcd per second.
pub const CLAIMS_PER_SECOND: u32 = 200;

/// Claims left in the current second (a fixed one-second window).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimBudget {
    second: u64,
    used: u32,
}

impl ClaimBudget {
    /// Whether one more claim may be sent at `now` (at most `per_second` in each calendar
    /// second); counts it when so.
    pub fn take(&mut self, now: UnixMillis, per_second: u32) -> bool {
        let second = now.0 / 1000;
        if second != self.second {
            self.second = second;
            self.used = 0;
        }
        if self.used >= per_second {
            return false;
        }
        self.used += 1;
        true
    }
}

/// The name a flagged subscriber's report is claimed under in the cluster: its MAC and its
/// source (IPv4 address or IPv6 prefix), e.g. `02:00:00:00:00:66,10.0.0.66/32` with `/`
/// written `_` (a key segment): `02:00:00:00:00:66,10.0.0.66_32`.
pub fn claim_name(event: &InfectionEvent) -> String {
    let source = event
        .source_prefix
        .unwrap_or_else(|| SubscriberKey::source_of(event.source_ip, 128));
    format!("{},{}", event.source_mac, source).replace('/', "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use op25b_proto::MacAddr;
    use std::net::IpAddr;

    fn view(dpid: u64, mac: u8, ip: [u8; 4], attempts: u32, flagged: bool) -> OffenderView {
        OffenderView {
            switch: crate::policy::Dpid(dpid).to_string(),
            dpid,
            port: 1,
            source_mac: MacAddr([2, 0, 0, 0, 0, mac]),
            source_ip: IpAddr::from(ip),
            source_prefix: None,
            source_addresses: vec![IpAddr::from(ip)],
            attempts,
            distinct_destinations: 1,
            distinct_destinations_saturated: false,
            retransmissions: 0,
            fragments: 0,
            other_packets: 0,
            last_destination: None,
            last_destination_port: None,
            first_seen: UnixMillis(1_000),
            last_seen: UnixMillis(2_000 + u64::from(attempts)),
            flagged,
            flagged_at: flagged.then_some(UnixMillis(2_000)),
            instance: None,
        }
    }

    fn published(instance: &str, entries: Vec<OffenderView>) -> PublishedOffenders {
        let n = entries.len();
        PublishedOffenders::new(instance, UnixMillis(5_000), n, 0, entries)
    }

    #[test]
    fn merge_tags_ranks_and_keeps_one_entry_per_subscriber_and_switch() {
        let own = vec![
            view(1, 0x66, [10, 0, 0, 66], 31, true),
            view(1, 0x20, [10, 0, 0, 20], 3, false),
        ];
        let peers = vec![
            // The same subscriber seen through another switch: its own entry.
            published("b", vec![view(2, 0x66, [10, 0, 0, 66], 40, true)]),
            // A switch that moved from b to a: the same entry twice, the bigger one kept.
            published("c", vec![view(1, 0x20, [10, 0, 0, 20], 9, false)]),
            // Our own snapshot read back: ignored.
            published("a", vec![view(9, 0x99, [10, 0, 0, 99], 99, true)]),
        ];
        let all = merge("a", own, &peers, 10, false);
        let got: Vec<(u64, u32, Option<&str>)> = all
            .iter()
            .map(|v| (v.dpid, v.attempts, v.instance.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![(2, 40, Some("b")), (1, 31, Some("a")), (1, 9, Some("c"))]
        );
        let flagged = merge("a", Vec::new(), &peers, 10, true);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].instance.as_deref(), Some("b"));
        assert_eq!(merge("a", Vec::new(), &peers, 1, false).len(), 1);
    }

    #[test]
    fn the_claim_budget_allows_so_many_a_second_then_refills() {
        let mut b = ClaimBudget::default();
        let t = UnixMillis(10_000);
        assert_eq!((0..5).filter(|_| b.take(t, 3)).count(), 3);
        assert!(!b.take(UnixMillis(10_999), 3), "same second: still spent");
        assert!(b.take(UnixMillis(11_000), 3), "next second: refilled");
        // A clock stepping back is another second: refilled, never stuck.
        assert!(b.take(UnixMillis(5_000), 3));
    }

    #[test]
    fn published_is_bounded_and_counts_what_it_left_out() {
        let many: Vec<OffenderView> = (0..u32::try_from(PUBLISH_MAX + 50).unwrap_or(u32::MAX))
            .map(|i| view(1, 1, [10, 0, 0, 1], i, false))
            .collect();
        let p = PublishedOffenders::new("a", UnixMillis(1), 100_000, 7, many);
        assert_eq!(p.entries.len(), PUBLISH_MAX);
        assert_eq!(p.left_out, 100_000 - PUBLISH_MAX);
        let back: PublishedOffenders =
            serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("parse");
        assert_eq!(back, p);
    }

    #[test]
    fn the_claim_name_ignores_switch_and_port_and_uses_the_ipv6_prefix() {
        let event = |dpid: u64, port: u32, ip: IpAddr, prefix: Option<IpNet>| InfectionEvent {
            dpid,
            in_port: port,
            source_mac: MacAddr([2, 0, 0, 0, 0, 0x66]),
            source_ip: ip,
            source_prefix: prefix,
            source_addresses: vec![ip],
            source_port: 40_000,
            destination_ip: IpAddr::from([198, 51, 100, 1]),
            destination_port: 25,
            attempts_in_window: 30,
            distinct_destinations_in_window: 5,
            window_start: UnixMillis(1),
            total_attempts: 30,
            first_seen: UnixMillis(1),
            flagged_at: UnixMillis(2),
            sample_frame: Vec::new(),
        };
        let v4 = IpAddr::from([10, 0, 0, 66]);
        assert_eq!(
            claim_name(&event(1, 3, v4, None)),
            "02:00:00:00:00:66,10.0.0.66_32"
        );
        assert_eq!(
            claim_name(&event(1, 3, v4, None)),
            claim_name(&event(2, 7, v4, None))
        );
        let a: IpAddr = "2001:db8:1:2::10".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2::20".parse().expect("ip");
        let net: IpNet = "2001:db8:1:2::/64".parse().expect("net");
        assert_eq!(
            claim_name(&event(1, 1, a, Some(net))),
            claim_name(&event(2, 2, b, Some(net)))
        );
        assert!(!claim_name(&event(1, 1, a, Some(net))).contains('/'));
        assert_ne!(
            claim_name(&event(1, 3, v4, None)),
            claim_name(&event(1, 3, IpAddr::from([10, 0, 0, 67]), None))
        );
    }
}
