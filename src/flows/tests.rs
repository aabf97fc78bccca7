//! Desired flows for several policies: counts, priorities, actions, and the ovs-ofctl rendering.
use super::layout::*;
use super::*;
use crate::policy::{Config, Dpid, Forwarding, Policy, PortNo};

fn policy(text: &str) -> Policy {
    match Config::parse(text, "test.toml") {
        Ok(l) => l.config.policy().clone(),
        Err(e) => panic!("{e}"),
    }
}

const BASE: &str = r#"
[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29"]
[defaults]
subscriber_ports = "all"
uplink_ports = [4]
[[switch]]
dpid = 7
subscriber_ports = [1, 2, 3]
uplink_ports = [4]
"#;

fn lines(p: &Policy, view: &SwitchView) -> Vec<String> {
    let d = desired_flows(p, view);
    d.flows.iter().map(|f| ofctl_line(d.cookie, f)).collect()
}

#[test]
fn all_mode_layout_is_exactly_this() {
    let p = policy(BASE);
    let got = lines(&p, &SwitchView::new(Dpid(1), (1..=4).map(PortNo)));
    let c = "cookie=0x4f50323542000000,table=0";
    let want: Vec<String> = [
        "priority=40000,in_port=4,actions=NORMAL",
        "priority=30000,tcp,nw_dst=192.0.2.25,actions=NORMAL",
        "priority=30000,tcp6,ipv6_dst=2001:db8::25,actions=NORMAL",
        "priority=30000,ipv6,ipv6_dst=2001:db8::25,nw_proto=44,actions=NORMAL",
        "priority=29000,tcp,nw_src=203.0.113.0/29,actions=NORMAL",
        "priority=20000,tcp,tp_dst=0,actions=drop",
        "priority=20000,tcp,tp_dst=25,actions=meter:1,controller:128",
        "priority=20000,tcp6,tp_dst=0,actions=drop",
        "priority=20000,tcp6,tp_dst=25,actions=meter:1,controller:128",
        "priority=20000,ipv6,nw_proto=44,actions=drop",
        "priority=10000,ip,actions=NORMAL",
        "priority=10000,arp,actions=NORMAL",
        "priority=10000,ipv6,actions=NORMAL",
        "priority=5000,actions=drop",
    ]
    .iter()
    .map(|l| format!("{c},{l}"))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn list_mode_layout_with_bound_exemptions_and_an_extra_ethertype_is_exactly_this() {
    let p = policy(&format!(
        "{}{}",
        BASE.replace(
            "[defaults]",
            "subscriber_ethertypes = [\"lldp\"]\n[defaults]"
        ),
        "[[switch.exempt]]\nport = 2\nsources = [\"198.51.100.0/28\", \"2001:db8:b::/64\"]\n"
    ));
    let got = lines(&p, &SwitchView::new(Dpid(7), (1..=4).map(PortNo)));
    let c = "cookie=0x4f50323542000000,table=0";
    let mut want: Vec<String> = [
        "priority=40000,in_port=4,actions=NORMAL",
        "priority=30000,tcp,nw_dst=192.0.2.25,actions=NORMAL",
        "priority=30000,tcp6,ipv6_dst=2001:db8::25,actions=NORMAL",
        "priority=30000,ipv6,ipv6_dst=2001:db8::25,nw_proto=44,actions=NORMAL",
        "priority=29000,tcp,nw_src=203.0.113.0/29,actions=NORMAL",
        "priority=29000,in_port=2,tcp,nw_src=198.51.100.0/28,actions=NORMAL",
        "priority=29000,in_port=2,tcp6,ipv6_src=2001:db8:b::/64,actions=NORMAL",
        "priority=29000,in_port=2,ipv6,ipv6_src=2001:db8:b::/64,nw_proto=44,actions=NORMAL",
    ]
    .map(String::from)
    .to_vec();
    for port in 1..=3 {
        want.extend(
            [
                "tcp,tp_dst=0,actions=drop",
                "tcp,tp_dst=25,actions=meter:1,controller:128",
                "tcp6,tp_dst=0,actions=drop",
                "tcp6,tp_dst=25,actions=meter:1,controller:128",
                "ipv6,nw_proto=44,actions=drop",
            ]
            .map(|m| format!("priority=20000,in_port={port},{m}")),
        );
    }
    want.extend(
        [
            "priority=10000,ip,actions=NORMAL",
            "priority=10000,arp,actions=NORMAL",
            "priority=10000,ipv6,actions=NORMAL",
            "priority=10000,dl_type=0x88cc,actions=NORMAL",
            "priority=5000,in_port=1,actions=drop",
            "priority=5000,in_port=2,actions=drop",
            "priority=5000,in_port=3,actions=drop",
            "priority=0,actions=NORMAL",
        ]
        .map(String::from),
    );
    let want: Vec<String> = want.iter().map(|l| format!("{c},{l}")).collect();
    assert_eq!(got, want);
}

#[test]
fn the_flow_count_cost_of_ethertype_filtering() {
    // [defaults] ("all", one uplink) and switch 7 (three listed ports), with and without
    // EtherType filtering (nothing blocked: no drops, no filtering).
    let p = policy(BASE);
    let count = |p: &Policy, dpid| {
        desired_flows(p, &SwitchView::new(Dpid(dpid), []))
            .flows
            .len()
    };
    let open = policy(&BASE.replace("blocked_ports = [25]", "blocked_ports = []"));
    // uplink + relays (+ later fragments) + exempt + 5 drops (per port in list mode)
    // + 3 EtherTypes + 1 other-EtherType drop per policed port (+ catch-all in list mode)
    assert_eq!(count(&p, 1), 1 + 3 + 1 + 5 + 3 + 1);
    assert_eq!(count(&p, 7), 1 + 3 + 1 + 3 * 5 + 3 + 3 + 1);
    // Before EtherType filtering the same policy had 11 and 21 flows.
    assert_eq!(count(&p, 1) - 11, 3);
    assert_eq!(count(&p, 7) - 21, 6);
    // Each extra EtherType costs one flow.
    let lldp = policy(&BASE.replace(
        "[defaults]",
        "subscriber_ethertypes = [\"lldp\"]\n[defaults]",
    ));
    assert_eq!(count(&lldp, 1), count(&p, 1) + 1);
    assert_eq!(count(&lldp, 7), count(&p, 7) + 1);
    assert!(desired_flows(&open, &SwitchView::new(Dpid(1), []))
        .flows
        .iter()
        .all(|f| f.key.match_.eth_type.is_none() && f.action.forwards()));
}

#[test]
fn all_mode_flow_count_does_not_grow_with_subscriber_ports() {
    let p = policy(BASE);
    let small = desired_flows(&p, &SwitchView::new(Dpid(1), (1..=4).map(PortNo)));
    let big = desired_flows(&p, &SwitchView::new(Dpid(1), (1..=4000).map(PortNo)));
    assert_eq!(small.flows, big.flows);
    // uplinks + relays (+ the IPv6 relay's later fragments) + exempt
    // + 2 families x (1 blocked + 1 first fragment) + IPv6 later fragments
    // + IPv4, ARP, IPv6 allowed + every other EtherType dropped (no catch-all)
    assert_eq!(small.flows.len(), 1 + (2 + 1) + 1 + 4 + 1 + 3 + 1);
}

#[test]
fn list_mode_polices_only_the_listed_ports() {
    let p = policy(BASE);
    let d = desired_flows(&p, &SwitchView::new(Dpid(7), (1..=4).map(PortNo)));
    let drops: Vec<&FlowSpec> = d
        .flows
        .iter()
        .filter(|f| f.key.priority == PRIO_DROP)
        .collect();
    // per port: 2 families x (port 25 + port 0) + IPv6 later fragments
    assert_eq!(drops.len(), 3 * (2 * 2 + 1));
    for f in &drops {
        let port = f.key.match_.in_port.map(|p| p.0);
        assert!(matches!(port, Some(1..=3)), "{f:?}");
        assert!(!f.action.forwards());
    }
}

#[test]
fn every_priority_level_holds_one_kind_of_action() {
    let p = policy(BASE);
    let d = desired_flows(&p, &SwitchView::new(Dpid(7), []));
    for f in &d.flows {
        let forwards = ![PRIO_DROP, PRIO_OTHER_ETHERTYPES].contains(&f.key.priority);
        assert_eq!(f.action.forwards(), forwards, "{f:?}");
    }
    // Sorted from the top, keys unique.
    assert!(d
        .flows
        .windows(2)
        .all(|w| w[0].key.priority >= w[1].key.priority && w[0].key != w[1].key));
}

#[test]
fn no_meters_or_no_reporting_means_plain_drops() {
    let p = policy(BASE);
    let d = desired_flows(&p, &SwitchView::new(Dpid(1), []).without_meters());
    assert!(d
        .flows
        .iter()
        .all(|f| !matches!(f.action, FlowAction::Sample { .. })));
    assert!(desired_meters(&p, &SwitchView::new(Dpid(1), []).without_meters()).is_empty());
    let m = desired_meters(&p, &SwitchView::new(Dpid(1), []));
    assert_eq!(
        m,
        vec![MeterSpec {
            meter_id: SAMPLE_METER_ID,
            rate_pps: 20,
            burst_packets: 20
        }]
    );
    let off = policy(&format!("{BASE}\n[reporting]\nenabled = false\n"));
    let d = desired_flows(&off, &SwitchView::new(Dpid(1), []));
    assert!(d
        .flows
        .iter()
        .any(|f| f.action == FlowAction::Drop
            && f.key.match_.tcp.and_then(|t| t.dst_port) == Some(25)));
    assert!(desired_meters(&off, &SwitchView::new(Dpid(1), [])).is_empty());
}

#[test]
fn fragment_modes_change_flows_and_switch_config() {
    let tcp = policy(BASE);
    assert_eq!(switch_config(&tcp), (0, MISS_SEND_LEN));
    let all = policy(&BASE.replace("[policy]", "[policy]\nfragments = \"drop-all\""));
    assert_eq!(switch_config(&all), (1, MISS_SEND_LEN));
    let pass = policy(&BASE.replace("[policy]", "[policy]\nfragments = \"pass\""));
    assert_eq!(switch_config(&pass), (0, MISS_SEND_LEN));
    let view = SwitchView::new(Dpid(1), []);
    let port0 = |p: &Policy| {
        desired_flows(p, &view)
            .flows
            .iter()
            .filter(|f| f.key.match_.tcp.and_then(|t| t.dst_port) == Some(0))
            .count()
    };
    assert_eq!(port0(&tcp), 2);
    assert_eq!(port0(&all), 0);
    assert_eq!(port0(&pass), 0);
    let later = |p: &Policy| later_fragment_flows(&desired_flows(p, &view)).len();
    // The drop, and the IPv6 relay's allow.
    assert_eq!(later(&tcp), 2);
    // OFPC_FRAG_DROP drops IPv6 later fragments in the switch; "pass" lets them through.
    assert_eq!(later(&all), 0);
    assert_eq!(later(&pass), 0);
}

/// The flows matching IPv6 later fragments (`ipv6,nw_proto=44`).
fn later_fragment_flows(d: &DesiredFlows) -> Vec<&FlowSpec> {
    d.flows
        .iter()
        .filter(|f| f.key.match_.tcp.map(|t| t.family) == Some(IpFamily::V6LaterFragment))
        .collect()
}

#[test]
fn ipv6_later_fragments_are_dropped_except_to_ipv6_relays_and_from_ipv6_exempt_sources() {
    let p = policy(
        r#"
[policy]
relays = ["192.0.2.25", "2001:db8::25", "2001:db8:25::/64"]
exempt_sources = ["203.0.113.0/29", "2001:db8:e::/48"]
[defaults]
uplink_ports = [4]
[[switch]]
dpid = 7
subscriber_ports = [1, 2]
uplink_ports = [4]
"#,
    );
    let d = desired_flows(&p, &SwitchView::new(Dpid(1), []));
    let got: Vec<String> = later_fragment_flows(&d)
        .iter()
        .map(|f| ofctl_line(d.cookie, f))
        .collect();
    let c = "cookie=0x4f50323542000000,table=0";
    assert_eq!(
        got,
        [
            "priority=30000,ipv6,ipv6_dst=2001:db8::25,nw_proto=44,actions=NORMAL",
            "priority=30000,ipv6,ipv6_dst=2001:db8:25::/64,nw_proto=44,actions=NORMAL",
            "priority=29000,ipv6,ipv6_src=2001:db8:e::/48,nw_proto=44,actions=NORMAL",
            "priority=20000,ipv6,nw_proto=44,actions=drop",
        ]
        .map(|l| format!("{c},{l}"))
    );
    // No port can be matched on a later fragment, and it is never sampled (it holds no TCP
    // header for the offender table).
    for f in later_fragment_flows(&d) {
        let t = f.key.match_.tcp.unwrap_or_else(|| panic!("{f:?}"));
        assert_eq!(t.dst_port, None, "{f:?}");
        assert!(matches!(
            f.action,
            FlowAction::Drop | FlowAction::Forward(Forwarding::Normal)
        ));
    }
    // The OXM fields: eth_type IPv6, ip_proto 44, no tcp_dst.
    let drop = later_fragment_flows(&d)
        .into_iter()
        .find(|f| f.key.priority == PRIO_DROP)
        .map(|f| to_match(&f.key.match_));
    assert_eq!(
        drop.map(|m| m.fields),
        Some(vec![
            op25b_proto::oxm::Oxm::EthType(0x86dd),
            op25b_proto::oxm::Oxm::IpProto(44)
        ])
    );
    // List mode: one drop per listed port, the allows once.
    let listed = desired_flows(&p, &SwitchView::new(Dpid(7), []));
    let drops: Vec<Option<PortNo>> = later_fragment_flows(&listed)
        .iter()
        .filter(|f| f.key.priority == PRIO_DROP)
        .map(|f| f.key.match_.in_port)
        .collect();
    assert_eq!(drops, vec![Some(PortNo(1)), Some(PortNo(2))]);
    assert_eq!(later_fragment_flows(&listed).len(), 3 + 2);
    // Nothing blocked: no fragment drop, so no fragment allows either.
    let open = policy(
        "[policy]\nblocked_ports = []\nrelays = [\"2001:db8::25\"]\nexempt_sources = [\"2001:db8:e::/48\"]\n",
    );
    assert!(later_fragment_flows(&desired_flows(&open, &SwitchView::new(Dpid(1), []))).is_empty());
}

#[test]
fn goto_table_forwarding_and_several_blocked_ports() {
    let p = policy(
        "[policy]\nblocked_ports = [25, 2525]\nrelays = []\nforwarding = { goto_table = 2 }\ncookie = 7\n",
    );
    let d = desired_flows(&p, &SwitchView::new(Dpid(3), []));
    // no uplinks, no relays, no exempt: 2 families x (2 blocked + fragment)
    // + IPv6 later fragments + 3 EtherTypes + every other EtherType dropped
    assert_eq!(d.flows.len(), 2 * 3 + 1 + 3 + 1);
    let allowed = d.flows.iter().rev().nth(1).map(|f| ofctl_line(d.cookie, f));
    assert_eq!(
        allowed.as_deref(),
        Some("cookie=0x0000000000000007,table=0,priority=10000,ipv6,actions=goto_table:2")
    );
    assert!(d.flows.iter().all(
        |f| f.action.forwards() == (f.action == FlowAction::Forward(Forwarding::GotoTable(2)))
    ));
}

#[test]
fn nothing_blocked_means_no_drops_at_all() {
    let p = policy("[policy]\nblocked_ports = []\nrelays = [\"192.0.2.25\"]\n");
    let d = desired_flows(&p, &SwitchView::new(Dpid(3), []));
    assert!(d.flows.iter().all(|f| f.action.forwards()));
}

#[test]
fn missing_configured_ports_are_noted() {
    let p = policy(BASE);
    let d = desired_flows(&p, &SwitchView::new(Dpid(7), [PortNo(1), PortNo(4)]));
    assert_eq!(d.notes.len(), 2, "{:?}", d.notes);
    assert!(d.notes[0].contains("has no port 2") || d.notes[1].contains("has no port 2"));
}

#[test]
fn every_flow_mod_meets_openflow_prerequisites() {
    use op25b_proto::prereq::check_prerequisites;
    for text in [BASE, &BASE.replace("\"all\"", "[1, 9]")] {
        let p = policy(text);
        for dpid in [Dpid(1), Dpid(7)] {
            let d = desired_flows(&p, &SwitchView::new(dpid, []));
            for fm in flow_mods_for(&d) {
                assert!(check_prerequisites(&fm.match_).is_ok(), "{fm:?}");
                assert_eq!(fm.cookie, p.cookie().0);
            }
        }
    }
}

#[test]
fn meter_mods_carry_the_rate() {
    let p = policy(BASE);
    let m = desired_meters(&p, &SwitchView::new(Dpid(1), []));
    let add = meter_add(&m[0]);
    assert_eq!(add.command, op25b_proto::consts::OFPMC_ADD);
    assert_eq!(add.meter_id, SAMPLE_METER_ID);
    assert_eq!(
        add.bands,
        vec![op25b_proto::meter::MeterBand::Drop {
            rate: 20,
            burst_size: 20
        }]
    );
    assert_eq!(
        meter_modify(&m[0]).command,
        op25b_proto::consts::OFPMC_MODIFY
    );
}

mod properties {
    use super::super::*;
    use super::policy;
    use crate::policy::{Dpid, PortNo};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn in_all_mode_the_flows_do_not_depend_on_the_switch_ports(
            ports in proptest::collection::btree_set(1u32..5000, 0..300),
            relays in 0usize..4,
            exempt in 0usize..4,
            blocked in proptest::collection::btree_set(1u16..=65535, 0..4),
        ) {
            let r: Vec<String> = (0..relays).map(|i| format!("\"192.0.2.{}\"", i + 1)).collect();
            let e: Vec<String> = (0..exempt).map(|i| format!("\"2001:db8:{i:x}::/48\"")).collect();
            let b: Vec<String> = blocked.iter().map(ToString::to_string).collect();
            let p = policy(&format!(
                "[policy]\nblocked_ports = [{}]\nrelays = [{}]\nexempt_sources = [{}]\n[defaults]\nuplink_ports = [7000]\n",
                b.join(","), r.join(","), e.join(",")
            ));
            let many = desired_flows(&p, &SwitchView::new(Dpid(9), ports.iter().copied().map(PortNo)));
            let none = desired_flows(&p, &SwitchView::new(Dpid(9), []));
            prop_assert_eq!(&many.flows, &none.flows);
            // The exempt prefixes are IPv6: each gets a later-fragment allow next to the drops.
            // Something blocked: 3 EtherTypes allowed, every other one dropped, no catch-all;
            // nothing blocked: the catch-all only.
            let (frag, ethertypes) = if blocked.is_empty() { (0, 1) } else { (3 + exempt, 3 + 1) };
            prop_assert_eq!(
                many.flows.len(),
                1 + relays + exempt + 2 * blocked.len() + frag + ethertypes
            );
        }
    }
}

#[test]
fn every_add_asks_for_flow_removed_and_deletes_carry_no_flags() {
    use op25b_proto::consts::OFPFF_SEND_FLOW_REM;
    let p = policy(BASE);
    let d = desired_flows(&p, &SwitchView::new(Dpid(1), (1..=4).map(PortNo)));
    let mods = flow_mods_for(&d);
    assert_eq!(mods.len(), d.flows.len());
    for fm in &mods {
        assert_eq!(fm.flags, OFPFF_SEND_FLOW_REM, "{fm:?}");
    }
    assert_eq!(openflow::OUR_FLOW_FLAGS, OFPFF_SEND_FLOW_REM);
    let del = flow_mod_delete_strict(d.cookie, 0, 1, to_match(&d.flows[0].key.match_));
    assert_eq!(del.flags, 0);
    assert!(openflow::has_our_flags(OFPFF_SEND_FLOW_REM));
    assert!(openflow::has_our_flags(OFPFF_SEND_FLOW_REM | 0x4));
    assert!(!openflow::has_our_flags(0));
    assert!(!openflow::has_our_flags(0x4));
}
