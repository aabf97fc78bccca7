//! Tests for the offender table: bounds, threshold, retransmissions, expiry, counts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::offenders::sample::TcpSummary;

const DPID: u64 = 0x0000_0000_0000_0001;
const PORT: u32 = 3;
const T0: UnixMillis = UnixMillis(1_795_814_176_000);
const SECOND: u64 = 1_000;

fn subscriber(n: u8) -> (MacAddr, IpAddr) {
    (
        MacAddr([0x02, 0, 0, 0, 0, n]),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
    )
}

fn outside(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, n))
}

fn syn(who: u8, destination: IpAddr, source_port: u16) -> Sample {
    let (source_mac, source_ip) = subscriber(who);
    Sample {
        source_mac,
        vlan_ids: [None, None],
        source_ip,
        destination_ip: destination,
        transport: Transport::Tcp(TcpSummary {
            source_port,
            destination_port: 25,
            syn: true,
            ack: false,
            rst: false,
            first_fragment: false,
        }),
    }
}

fn at(ms_after_t0: u64) -> SampleContext {
    SampleContext {
        dpid: DPID,
        in_port: PORT,
        now: UnixMillis(T0.0 + ms_after_t0),
    }
}

fn table(config: OffenderConfig) -> OffenderTable {
    OffenderTable::new(config).expect("valid config")
}

fn key(who: u8) -> SubscriberKey {
    let (source_mac, source_ip) = subscriber(who);
    SubscriberKey {
        dpid: DPID,
        in_port: PORT,
        source_mac,
        source: SubscriberKey::source_of(source_ip, 64),
    }
}

/// Sends `count` distinct connection attempts, one per second, spread over `hosts` hosts.
/// Returns the events seen, with the index of the attempt that produced each.
fn spray(
    table: &mut OffenderTable,
    who: u8,
    count: u16,
    hosts: u8,
    start_ms: u64,
) -> Vec<(u16, InfectionEvent)> {
    let mut events = Vec::new();
    for i in 0..count {
        let host = outside(1 + u8::try_from(i % u16::from(hosts)).expect("below hosts"));
        let sample = syn(who, host, 30_000 + i);
        if let Some(event) = table.record(&sample, at(start_ms + u64::from(i) * SECOND)) {
            events.push((i, event));
        }
    }
    events
}

#[test]
fn crossing_the_threshold_emits_exactly_one_event() {
    let mut table = table(OffenderConfig::default());
    let events = spray(&mut table, 1, 100, 5, 0);
    assert_eq!(events.len(), 1, "one event however long it goes on");
    let (index, event) = &events[0];
    assert_eq!(*index, 29, "the 30th attempt crosses 30 attempts");
    assert_eq!(event.attempts_in_window, 30);
    assert_eq!(event.distinct_destinations_in_window, 5);
    assert_eq!(event.total_attempts, 30);
    assert_eq!(event.source_ip, subscriber(1).1);
    assert_eq!(event.source_mac, subscriber(1).0);
    assert_eq!((event.dpid, event.in_port), (DPID, PORT));
    assert_eq!(event.destination_port, 25);
    assert_eq!(event.window_start, T0);
    assert_eq!(event.first_seen, T0);
    assert_eq!(event.flagged_at, UnixMillis(T0.0 + 29 * SECOND));
    assert_eq!(table.flagged_count(), 1);
    assert_eq!(table.stats().flagged_events, 1);
    let view = table.get(&key(1)).expect("tracked");
    assert!(view.flagged);
    assert_eq!(view.attempts, 100);
}

#[test]
fn twenty_nine_attempts_do_not_flag() {
    let mut table = table(OffenderConfig::default());
    assert!(spray(&mut table, 1, 29, 10, 0).is_empty());
    assert_eq!(table.flagged_count(), 0);
}

#[test]
fn four_hosts_do_not_flag_five_do() {
    let mut table = table(OffenderConfig::default());
    assert!(spray(&mut table, 1, 200, 4, 0).is_empty());
    assert_eq!(spray(&mut table, 2, 30, 5, 0).len(), 1);
}

#[test]
fn a_client_hammering_one_server_is_not_flagged() {
    let mut table = table(OffenderConfig::default());
    // A misconfigured mail client: a new connect() (new source port) every second, one host.
    assert!(spray(&mut table, 1, 500, 1, 0).is_empty());
    let view = table.get(&key(1)).expect("tracked");
    assert_eq!(view.attempts, 500);
    assert_eq!(view.distinct_destinations, 1);
    assert!(!view.flagged);
}

#[test]
fn attempts_spread_over_more_than_the_window_do_not_flag() {
    let mut table = table(OffenderConfig::default());
    // 30 attempts 30 s apart span 14.5 minutes: never 30 within 10 minutes.
    for i in 0..60u16 {
        let sample = syn(1, outside(1 + (i % 10) as u8), 40_000 + i);
        assert_eq!(table.record(&sample, at(u64::from(i) * 30 * SECOND)), None);
    }
    assert_eq!(table.get(&key(1)).expect("tracked").attempts, 60);
}

#[test]
fn retransmitted_syns_of_one_connect_count_once() {
    let mut table = table(OffenderConfig::default());
    // Linux retransmits after 1, 3, 7, 15, 31 and 63 s.
    for offset_s in [0, 1, 3, 7, 15, 31, 63] {
        assert_eq!(
            table.record(&syn(1, outside(9), 41_000), at(offset_s * SECOND)),
            None
        );
    }
    let view = table.get(&key(1)).expect("tracked");
    assert_eq!(view.attempts, 1);
    assert_eq!(view.retransmissions, 6);

    // The same 4-tuple long after the retransmit window is a new connection.
    table.record(&syn(1, outside(9), 41_000), at(200 * SECOND));
    assert_eq!(table.get(&key(1)).expect("tracked").attempts, 2);
}

#[test]
fn retransmissions_alone_never_flag() {
    let mut table = table(OffenderConfig::default());
    for round in 0..40u64 {
        for host in 1..=6u8 {
            let sample = syn(1, outside(host), 50_000 + u16::from(host));
            assert_eq!(table.record(&sample, at(round * SECOND)), None);
        }
    }
    let view = table.get(&key(1)).expect("tracked");
    assert_eq!(view.attempts, 6);
    assert_eq!(view.retransmissions, 6 * 39);
}

#[test]
fn non_syn_packets_and_later_fragments_are_counted_apart() {
    let mut table = table(OffenderConfig::default());
    let mut ack = syn(1, outside(1), 40_000);
    if let Transport::Tcp(tcp) = &mut ack.transport {
        tcp.syn = false;
        tcp.ack = true;
    }
    let mut fragment = syn(1, outside(2), 0);
    fragment.transport = Transport::LaterFragment { identification: 7 };
    for i in 0..100 {
        assert_eq!(table.record(&ack, at(i * SECOND)), None);
        assert_eq!(table.record(&fragment, at(i * SECOND)), None);
    }
    let view = table.get(&key(1)).expect("tracked");
    assert_eq!(
        (view.attempts, view.other_packets, view.fragments),
        (0, 100, 100)
    );
    assert_eq!(view.last_seen, UnixMillis(T0.0 + 99 * SECOND));
}

#[test]
fn inserting_one_more_than_max_evicts_the_least_recently_active() {
    let mut table = table(OffenderConfig {
        max_offenders: 3,
        ..OffenderConfig::default()
    });
    for who in 1..=3u8 {
        table.record(&syn(who, outside(1), 1000), at(u64::from(who) * SECOND));
    }
    // Subscriber 1 becomes active again, so 2 is now the least recently active.
    table.record(&syn(1, outside(2), 1001), at(10 * SECOND));
    table.record(&syn(4, outside(1), 1000), at(11 * SECOND));
    assert_eq!(table.len(), 3);
    assert!(table.get(&key(2)).is_none(), "LRU entry evicted");
    for who in [1, 3, 4] {
        assert!(table.get(&key(who)).is_some(), "subscriber {who} kept");
    }
    assert_eq!(table.stats().evicted, 1);
}

#[test]
fn evicting_a_flagged_entry_lowers_the_flagged_count() {
    let mut table = table(OffenderConfig {
        max_offenders: 1,
        ..OffenderConfig::default()
    });
    assert_eq!(spray(&mut table, 1, 30, 5, 0).len(), 1);
    assert_eq!(table.flagged_count(), 1);
    table.record(&syn(2, outside(1), 1000), at(40 * SECOND));
    assert_eq!((table.len(), table.flagged_count()), (1, 0));
}

#[test]
fn expire_removes_idle_entries_only() {
    let mut table = table(OffenderConfig::default());
    assert_eq!(spray(&mut table, 1, 30, 5, 0).len(), 1); // active until 29 s
    table.record(&syn(2, outside(1), 1000), at(300 * SECOND));
    assert_eq!(table.expire(UnixMillis(T0.0 + 400 * SECOND)), 0);
    // 10 minutes after subscriber 1's last sample it is idle; 2 is not.
    assert_eq!(table.expire(UnixMillis(T0.0 + (29 + 600) * SECOND)), 1);
    assert!(table.get(&key(1)).is_none());
    assert!(table.get(&key(2)).is_some());
    assert_eq!(table.flagged_count(), 0);
    assert_eq!(table.expire(UnixMillis(T0.0 + 900 * SECOND)), 1);
    assert!(table.is_empty());
    assert_eq!(table.stats().expired, 2);
}

#[test]
fn a_flagged_subscriber_that_comes_back_after_going_idle_is_flagged_afresh() {
    let mut table = table(OffenderConfig::default());
    assert_eq!(spray(&mut table, 1, 40, 5, 0).len(), 1);
    // Idle for more than the window, without any expire() call in between.
    let later = 40 * SECOND + 11 * 60 * SECOND;
    table.record(&syn(1, outside(1), 2000), at(later));
    let view = table.get(&key(1)).expect("tracked");
    assert!(!view.flagged);
    assert_eq!(view.attempts, 1);
    assert_eq!(table.flagged_count(), 0);
    assert_eq!(spray(&mut table, 1, 40, 5, later + SECOND).len(), 1);
    assert_eq!(table.flagged_count(), 1);
}

#[test]
fn subscribers_are_keyed_by_switch_port_mac_and_ip() {
    let mut table = table(OffenderConfig::default());
    let sample = syn(1, outside(1), 1000);
    table.record(&sample, at(0));
    table.record(
        &sample,
        SampleContext {
            in_port: PORT + 1,
            ..at(0)
        },
    );
    table.record(
        &sample,
        SampleContext {
            dpid: DPID + 1,
            ..at(0)
        },
    );
    let mut other_mac = sample;
    other_mac.source_mac = MacAddr([0x02, 0, 0, 0, 0, 0x77]);
    table.record(&other_mac, at(0));
    let mut v6 = sample;
    v6.source_ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    table.record(&v6, at(0));
    assert_eq!(table.len(), 5);
}

#[test]
fn distinct_destinations_saturate_at_the_cap() {
    let mut table = table(OffenderConfig {
        max_tracked_destinations: 8,
        ..OffenderConfig::default()
    });
    spray(&mut table, 1, 20, 20, 0);
    let view = table.get(&key(1)).expect("tracked");
    assert_eq!(view.distinct_destinations, 8);
    assert!(view.distinct_destinations_saturated);
    assert_eq!(view.attempts, 20);
    assert_eq!(view.last_destination, Some(outside(20)));
    assert_eq!(view.last_destination_port, Some(25));
}

#[test]
fn top_puts_flagged_first_then_most_attempts() {
    let mut table = table(OffenderConfig::default());
    spray(&mut table, 1, 20, 1, 0); // 20 attempts, one host
    spray(&mut table, 2, 30, 5, 0); // flagged with 30
    spray(&mut table, 3, 25, 2, 0); // 25 attempts
    let top = table.top(10);
    let order: Vec<IpAddr> = top.iter().map(|v| v.source_ip).collect();
    assert_eq!(
        order,
        vec![subscriber(2).1, subscriber(3).1, subscriber(1).1]
    );
    assert!(top[0].flagged && !top[1].flagged);
    assert_eq!(top[0].switch, "00:00:00:00:00:00:00:01");
    let two = table.top(2);
    assert_eq!(two.len(), 2);
    assert_eq!(two[1].source_ip, subscriber(3).1);
    assert!(table.top(0).is_empty());
}

#[test]
fn view_serializes_with_readable_fields() {
    let mut table = table(OffenderConfig::default());
    spray(&mut table, 1, 3, 3, 0);
    let json = serde_json::to_value(table.top(1)).expect("serialize");
    let first = &json[0];
    assert_eq!(first["switch"], "00:00:00:00:00:00:00:01");
    assert_eq!(first["source_mac"], "02:00:00:00:00:01");
    assert_eq!(first["source_ip"], "10.0.0.1");
    assert_eq!(first["attempts"], 3);
    assert_eq!(first["first_seen"], "2026-11-27T21:16:16.000Z");
    assert_eq!(first["flagged"], false);
    assert!(first["flagged_at"].is_null());
}

#[test]
fn a_clock_stepping_back_does_not_panic_or_shrink_last_seen() {
    let mut table = table(OffenderConfig::default());
    table.record(&syn(1, outside(1), 1000), at(100 * SECOND));
    table.record(&syn(1, outside(2), 1001), at(0));
    let view = table.get(&key(1)).expect("tracked");
    assert_eq!(view.attempts, 2);
    assert_eq!(view.last_seen, UnixMillis(T0.0 + 100 * SECOND));
    assert_eq!(table.expire(T0), 0);
}

#[test]
fn invalid_configs_are_rejected() {
    let zero = OffenderConfig {
        max_offenders: 0,
        ..OffenderConfig::default()
    };
    assert_eq!(
        OffenderTable::new(zero).err(),
        Some(OffenderConfigError::Zero {
            field: "max_offenders"
        })
    );
    let impossible = OffenderConfig {
        flag_attempts: 3,
        flag_distinct_destinations: 5,
        ..OffenderConfig::default()
    };
    assert!(matches!(
        OffenderTable::new(impossible).err(),
        Some(OffenderConfigError::DistinctAboveAttempts { .. })
    ));
    let no_window = OffenderConfig {
        window: Duration::ZERO,
        ..OffenderConfig::default()
    };
    assert_eq!(
        OffenderTable::new(no_window).err(),
        Some(OffenderConfigError::ZeroWindow)
    );
}

#[test]
fn entry_memory_is_small() {
    // Measured, not guessed: print for the record and keep an upper bound.
    let attempt = size_of::<Attempt>();
    let fixed = ENTRY_FIXED_BYTES;
    let config = OffenderConfig::default();
    let worst = fixed
        + config.flag_attempts.next_power_of_two() * attempt
        + config.max_tracked_destinations * size_of::<IpAddr>()
        + MAX_SOURCE_ADDRESSES * size_of::<IpAddr>();
    println!("entry fixed {fixed} B, attempt {attempt} B, worst case with defaults {worst} B");
    assert_eq!(attempt, 32);
    assert!(fixed <= 208, "fixed part grew to {fixed} bytes");
    assert!(worst <= 2048, "worst case grew to {worst} bytes");
}

/// One step of a random workload.
#[derive(Clone, Debug)]
enum Step {
    Syn {
        who: u8,
        host: u8,
        port: u16,
        dt: u64,
    },
    Fragment {
        who: u8,
        dt: u64,
    },
    Expire {
        dt: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0u8..12, 0u8..8, 0u16..40, 0u64..20_000)
            .prop_map(|(who, host, port, dt)| Step::Syn { who, host, port, dt }),
        1 => (0u8..12, 0u64..20_000).prop_map(|(who, dt)| Step::Fragment { who, dt }),
        1 => (0u64..400_000).prop_map(|dt| Step::Expire { dt }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_under_any_workload(steps in proptest::collection::vec(step(), 0..400)) {
        let config = OffenderConfig {
            max_offenders: 6,
            flag_attempts: 6,
            flag_distinct_destinations: 3,
            ..OffenderConfig::default()
        };
        let mut table = table(config);
        let mut now = 0u64;
        let mut events = 0u64;
        for step in steps {
            match step {
                Step::Syn { who, host, port, dt } => {
                    now += dt;
                    if let Some(event) = table.record(&syn(who, outside(host), port), at(now)) {
                        events += 1;
                        prop_assert!(event.distinct_destinations_in_window >= 3);
                        prop_assert_eq!(event.attempts_in_window, 6);
                        prop_assert!(event.flagged_at.since(event.window_start) <= Duration::from_secs(600));
                    }
                }
                Step::Fragment { who, dt } => {
                    now += dt;
                    let mut sample = syn(who, outside(1), 0);
                    sample.transport = Transport::LaterFragment { identification: 1 };
                    prop_assert_eq!(table.record(&sample, at(now)), None);
                }
                Step::Expire { dt } => {
                    now += dt;
                    table.expire(UnixMillis(T0.0 + now));
                }
            }
            prop_assert!(table.len() <= 6);
            let views = table.top(usize::MAX);
            prop_assert_eq!(views.len(), table.len());
            let flagged = views.iter().filter(|v| v.flagged).count();
            prop_assert_eq!(flagged, table.flagged_count());
        }
        prop_assert_eq!(events, table.stats().flagged_events);
    }
}

/// A SYN from one IPv6 host that takes a new privacy address every 2 attempts: attempt `i`
/// comes from `2001:db8:0:SUBNET::ADDR` where SUBNET and ADDR come from `address(i)`.
fn rotating_v6(i: u16, address: impl Fn(u16) -> (u16, u16)) -> Sample {
    let (subnet, host) = address(i);
    Sample {
        source_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, subnet, 0x1000, 0, 0, host)),
        destination_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1 + i % 7)),
        ..syn(1, outside(1), 30_000 + i)
    }
}

/// Feeds 40 rotating attempts, one a second; the events seen.
fn rotate(table: &mut OffenderTable, address: impl Fn(u16) -> (u16, u16)) -> Vec<InfectionEvent> {
    (0..40)
        .filter_map(|i| table.record(&rotating_v6(i, &address), at(u64::from(i) * SECOND)))
        .collect()
}

#[test]
fn an_ipv6_host_rotating_addresses_in_its_64_is_one_subscriber_reported_with_prefix_and_addresses()
{
    let mut table = table(OffenderConfig::default());
    let events = rotate(&mut table, |i| (0, i / 2));
    assert_eq!(events.len(), 1, "flagged once, per /64");
    let event = &events[0];
    assert_eq!(
        event.source_prefix,
        Some("2001:db8:0:0::/64".parse().expect("net"))
    );
    assert_eq!(event.source_ip, rotating_v6(29, |i| (0, i / 2)).source_ip);
    assert_eq!(event.source_addresses.len(), MAX_SOURCE_ADDRESSES);
    assert_eq!(
        event.source_addresses[0],
        rotating_v6(0, |i| (0, i / 2)).source_ip
    );
    assert_eq!(table.len(), 1);
    let view = &table.top(1)[0];
    assert_eq!(view.source_prefix, event.source_prefix);
    assert_eq!(view.source_ip, rotating_v6(39, |i| (0, i / 2)).source_ip);
    assert_eq!(view.attempts, 40);
    // Per /128 the same host never reaches the threshold.
    let mut per_address = table_with_prefix(128);
    assert!(rotate(&mut per_address, |i| (0, i / 2)).is_empty());
    assert_eq!(per_address.len(), 20);
}

fn table_with_prefix(ipv6_prefix_len: u8) -> OffenderTable {
    table(OffenderConfig {
        ipv6_prefix_len,
        ..OffenderConfig::default()
    })
}

#[test]
fn with_a_56_a_host_rotating_across_its_delegated_subnets_is_one_subscriber() {
    let across = |i: u16| (i % 4, i);
    assert!(rotate(&mut table_with_prefix(64), across).is_empty());
    let mut table = table_with_prefix(56);
    let events = rotate(&mut table, across);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].source_prefix,
        Some("2001:db8::/56".parse().expect("net"))
    );
    // IPv4 subscribers are still counted per address, and show no prefix.
    let v4 = spray(&mut table, 2, 30, 5, 0);
    assert_eq!(v4.len(), 1);
    assert_eq!(v4[0].1.source_prefix, None);
    assert_eq!(v4[0].1.source_addresses, vec![subscriber(2).1]);
}

#[test]
fn an_ipv6_prefix_length_outside_1_to_128_is_refused() {
    for bad in [0_u8, 129, 255] {
        assert_eq!(
            OffenderTable::new(OffenderConfig {
                ipv6_prefix_len: bad,
                ..OffenderConfig::default()
            })
            .err(),
            Some(OffenderConfigError::Ipv6PrefixLen(bad))
        );
    }
}
