//! Reconcile: empty plans, from empty, from stale policies, normalisation, and the hitless
//! property checked message by message on a model flow table.
use super::model::{ModelTable, Packet};
use super::{BatchPurpose, Change, ChangePlan};
use crate::flows::openflow::{flow_mods_for, our_flows_request, OUR_FLOW_FLAGS};
use crate::flows::{
    desired_flows, parse_instructions, parse_match, DesiredFlows, FlowAction, FlowSpec,
    ReportedFlow, SwitchView,
};
use crate::policy::{Config, Cookie, Dpid, Policy, PortNo};
use op25b_proto::consts::{OFPG_ANY, OFPP_ANY, OFPTT_ALL, OFP_NO_BUFFER};
use op25b_proto::flow_mod::FlowModCommand;
use op25b_proto::instruction::Instruction;
use op25b_proto::multipart::request::MultipartRequestBody;
use op25b_proto::multipart::stats::FlowStats;
use op25b_proto::oxm::Oxm;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The plan for entries as decoded, each normalised first into a [`ReportedFlow`] as the
/// session's fold does while the reply arrives: every test here goes through that path.
fn reconcile(desired: &DesiredFlows, actual: &[FlowStats], cookie: Cookie) -> ChangePlan {
    let reported: Vec<ReportedFlow> = actual.iter().map(ReportedFlow::from_stats).collect();
    super::reconcile(desired, &reported, cookie)
}

fn policy(text: &str) -> Policy {
    match Config::parse(text, "t.toml") {
        Ok(l) => l.config.policy().clone(),
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn view() -> SwitchView {
    SwitchView::new(Dpid(1), (1..=5).map(PortNo))
}

fn installed(d: &DesiredFlows) -> ModelTable {
    let mut t = ModelTable::default();
    for fm in flow_mods_for(d) {
        t.apply(&fm);
    }
    t
}

fn apply_all(t: &mut ModelTable, plan: &ChangePlan) {
    for batch in plan.flow_mods() {
        for fm in &batch {
            t.apply(fm);
        }
    }
}

fn as_set(stats: &[FlowStats]) -> BTreeSet<FlowSpec> {
    stats
        .iter()
        .map(|s| FlowSpec {
            key: crate::flows::FlowKey {
                table_id: s.table_id,
                priority: s.priority,
                match_: parse_match(&s.match_).unwrap_or_else(|| panic!("foreign match {s:?}")),
            },
            action: parse_instructions(&s.instructions)
                .unwrap_or_else(|| panic!("foreign action {s:?}")),
        })
        .collect()
}

const OLD: &str = r#"
[policy]
relays = ["192.0.2.25", "2001:db8::25"]
exempt_sources = ["203.0.113.0/29"]
[defaults]
uplink_ports = [4]
"#;

const NEW: &str = r#"
[policy]
blocked_ports = [25, 2525]
relays = ["192.0.2.26"]
exempt_sources = []
[defaults]
uplink_ports = [5]
[reporting]
enabled = false
"#;

/// Exemptions bound to a port and an extra EtherType, on a listed switch.
const BOUND: &str = r#"
[policy]
relays = ["192.0.2.25"]
subscriber_ethertypes = ["lldp", "0x88b5"]
[[switch]]
dpid = 1
subscriber_ports = [1, 2, 3]
uplink_ports = [4]
[[switch.exempt]]
port = 2
sources = ["198.18.0.0/15", "2001:db8:f::/48"]
"#;

#[test]
fn equal_flows_give_an_empty_plan() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let t = installed(&d);
    let plan = reconcile(&d, &t.stats(), p.cookie());
    assert!(plan.is_empty(), "{plan:?}");
    assert!(plan.flow_mods().is_empty());
    assert_eq!(
        (plan.added(), plan.modified(), plan.removed(), plan.desired),
        (0, 0, 0, d.flows.len())
    );
}

#[test]
fn from_an_empty_switch_flows_go_in_from_the_top_one_kind_at_a_time() {
    use crate::flows::layout::{PRIO_DROP, PRIO_OTHER_ETHERTYPES};
    use BatchPurpose::{InstallDrops, InstallForwards};
    for (text, last) in [
        (OLD.to_string(), PRIO_OTHER_ETHERTYPES),
        (format!("{OLD}subscriber_ports = [1, 2]\n"), 0),
    ] {
        let p = policy(&text);
        let d = desired_flows(&p, &view());
        let plan = reconcile(&d, &[], p.cookie());
        let purposes: Vec<BatchPurpose> = plan.batches.iter().map(|p| p.purpose).collect();
        // Uplink, relay and exempt allows; blocked ports and fragments; the EtherTypes policed
        // ports may send; every other EtherType from them; (list mode) the catch-all.
        let mut want = vec![InstallForwards, InstallDrops, InstallForwards, InstallDrops];
        if last == 0 {
            want.push(InstallForwards);
        }
        assert_eq!(purposes, want, "{text}");
        assert_eq!(plan.added(), d.flows.len());
        let batches = plan.flow_mods();
        assert!(batches[0].iter().all(|fm| fm.priority > PRIO_DROP));
        assert!(batches[1].iter().all(|fm| fm.priority == PRIO_DROP));
        let bottom = batches
            .last()
            .map(|b| b.iter().map(|fm| fm.priority).collect());
        assert_eq!(bottom, Some(vec![last; batches[batches.len() - 1].len()]));
        for fm in batches.iter().flatten() {
            assert_eq!(fm.command, FlowModCommand::Add);
            assert_eq!(fm.cookie, p.cookie().0);
            assert_eq!(fm.buffer_id, OFP_NO_BUFFER);
        }
        let mut t = ModelTable::default();
        apply_all(&mut t, &plan);
        assert_eq!(as_set(&t.stats()), d.flows.iter().copied().collect());
    }
}

/// The switch as an op25b without EtherType filtering left it, upgraded: IPv4, ARP and IPv6
/// from a subscriber are forwarded at every message (their allows go in before the drop of
/// every other EtherType under them), TCP/25 never is, and MPLS is dropped once the plan is done.
#[test]
fn upgrading_from_before_ethertype_filtering_never_drops_ip_or_arp() {
    use BatchPurpose::{InstallDrops, InstallForwards, RemoveStaleForwards};
    for text in [OLD.to_string(), format!("{OLD}subscriber_ports = [1, 2]\n")] {
        let p = policy(&text);
        let d = desired_flows(&p, &view());
        let mut t = ModelTable::default();
        for f in before_ethertype_filtering(&d, FlowAction::Forward(p.forwarding())) {
            t.apply(&crate::flows::openflow::flow_mod_add(p.cookie(), &f));
        }
        let plan = reconcile(&d, &t.stats(), p.cookie());
        let sub = |a: &str| ip(a);
        let ip_and_arp = [
            Packet::ip(1, sub("10.0.0.1"), sub("198.51.100.7"), 6, 587),
            Packet::ip(1, sub("10.0.0.1"), sub("198.51.100.7"), 17, 53),
            Packet::ip(1, sub("2001:db8:1::1"), sub("2001:db8:2::7"), 6, 587),
            Packet::other(1, 0x0806),
        ];
        let port_25 = Packet::ip(1, sub("10.0.0.1"), sub("198.51.100.7"), 6, 25);
        let mpls = Packet::other(1, 0x8847);
        assert!(t.forwards(&mpls));
        for fm in plan.flow_mods().iter().flatten() {
            t.apply(fm);
            for p in &ip_and_arp {
                assert!(t.forwards(p), "after {fm:?}: {p:?} dropped");
            }
            assert!(!t.forwards(&port_25), "after {fm:?}: TCP/25 forwarded");
        }
        assert!(!t.forwards(&mpls));
        assert_eq!(as_set(&t.stats()), d.flows.iter().copied().collect());
        let purposes: Vec<BatchPurpose> = plan.batches.iter().map(|p| p.purpose).collect();
        // "all": the catch-all goes (every port is an uplink or policed); a list keeps it.
        let mut want = vec![InstallForwards, InstallDrops];
        if !text.contains("subscriber_ports") {
            want.push(RemoveStaleForwards);
        }
        assert_eq!(purposes, want, "{text}");
    }
}

#[test]
fn from_an_older_policy_stale_flows_go_last_with_strict_masked_deletes() {
    let old = policy(OLD);
    let new = policy(NEW);
    let d_old = desired_flows(&old, &view());
    let d_new = desired_flows(&new, &view());
    let mut t = installed(&d_old);
    let plan = reconcile(&d_new, &t.stats(), new.cookie());
    let purposes: Vec<BatchPurpose> = plan.batches.iter().map(|p| p.purpose).collect();
    assert_eq!(
        purposes,
        vec![
            BatchPurpose::InstallForwards,
            BatchPurpose::InstallDrops,
            BatchPurpose::RemoveStaleForwards,
        ]
    );
    // Sampled port-25 drops become plain drops (reporting off): replaced, not deleted.
    assert_eq!(plan.modified(), 2);
    // Old: uplink 4, relays x2 (+ the IPv6 relay's later fragments), exempt. New adds: uplink 5,
    // relay .26, 2525 x2.
    assert_eq!(plan.removed(), 5);
    assert_eq!(plan.added(), 4);
    for fm in plan.flow_mods().iter().flatten() {
        if fm.command == FlowModCommand::DeleteStrict {
            assert_eq!(fm.cookie, new.cookie().0);
            assert_eq!(fm.cookie_mask, u64::MAX);
            assert_eq!(fm.out_port, OFPP_ANY);
            assert_eq!(fm.out_group, OFPG_ANY);
            assert_eq!(fm.buffer_id, OFP_NO_BUFFER);
        }
    }
    apply_all(&mut t, &plan);
    assert_eq!(as_set(&t.stats()), d_new.flows.iter().copied().collect());
    assert!(reconcile(&d_new, &t.stats(), new.cookie()).is_empty());
}

#[test]
fn removing_an_exemption_deletes_the_allow_only_after_the_drops() {
    let old = policy(OLD);
    let new = policy(&OLD.replace(
        "exempt_sources = [\"203.0.113.0/29\"]",
        "exempt_sources = []",
    ));
    let d_new = desired_flows(&new, &view());
    let plan = reconcile(
        &d_new,
        &installed(&desired_flows(&old, &view())).stats(),
        new.cookie(),
    );
    assert_eq!(plan.batches.len(), 1);
    assert_eq!(plan.batches[0].purpose, BatchPurpose::RemoveStaleForwards);
    assert_eq!(plan.removed(), 1);
}

#[test]
fn reordered_fields_masks_and_instructions_compare_equal() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let mut stats = installed(&d).stats();
    for s in &mut stats {
        s.match_.fields.reverse();
        for f in &mut s.match_.fields {
            // A switch may report an exact address as an all-ones mask.
            match f {
                Oxm::Ipv4Dst { mask, .. } if mask.is_none() => {
                    *mask = Some(std::net::Ipv4Addr::BROADCAST);
                }
                Oxm::Ipv6Dst { mask, .. } if mask.is_none() => {
                    *mask = Some(std::net::Ipv6Addr::from(u128::MAX));
                }
                _ => {}
            }
        }
        s.instructions.reverse();
        s.packet_count = 99;
    }
    assert!(stats.iter().any(|s| s.instructions.len() == 2));
    let plan = reconcile(&d, &stats, p.cookie());
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn every_desired_match_reads_back_as_itself() {
    for text in [
        OLD,
        NEW,
        &OLD.replace("[defaults]", "[defaults]\nsubscriber_ports = [1, 2]"),
        BOUND,
    ] {
        let p = policy(text);
        for f in desired_flows(&p, &view()).flows {
            assert_eq!(
                parse_match(&crate::flows::to_match(&f.key.match_)),
                Some(f.key.match_),
                "{f:?}"
            );
        }
    }
}

#[test]
fn later_fragment_matches_that_op25b_never_installs_are_foreign() {
    use op25b_proto::match_::Match;
    let v6 = |a: &str| {
        a.parse::<std::net::Ipv6Addr>()
            .unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)
    };
    let frag = |extra: Vec<Oxm>| {
        let mut f = vec![Oxm::EthType(0x86dd), Oxm::IpProto(44)];
        f.extend(extra);
        parse_match(&Match::new(f))
    };
    assert!(frag(vec![]).is_some());
    assert!(frag(vec![Oxm::Ipv6Dst {
        value: v6("2001:db8::25"),
        mask: None
    }])
    .is_some());
    // No TCP header in a later fragment: a port on it, or an IPv4 address, is not ours.
    assert_eq!(frag(vec![Oxm::TcpDst(25)]), None);
    assert_eq!(
        frag(vec![Oxm::Ipv4Dst {
            value: std::net::Ipv4Addr::new(192, 0, 2, 25),
            mask: None
        }]),
        None
    );
    // ip_proto 44 on IPv4 is not a fragment header.
    assert_eq!(
        parse_match(&Match::new(vec![Oxm::EthType(0x0800), Oxm::IpProto(44)])),
        None
    );
}

#[test]
fn ipv6_later_fragments_of_a_subscriber_are_dropped_except_to_relays_and_from_exempt() {
    let p = policy(
        &format!("{OLD}subscriber_ports = \"all\"\n[reporting]\nenabled = false\n").replace(
            "exempt_sources = [\"203.0.113.0/29\"]",
            "exempt_sources = [\"2001:db8:e::/48\"]",
        ),
    );
    let t = installed(&desired_flows(&p, &view()));
    let later = |in_port, src: &str, dst: &str| {
        Packet::ip(
            in_port,
            src.parse().unwrap_or(IpAddr::from([0u16; 8])),
            dst.parse().unwrap_or(IpAddr::from([0u16; 8])),
            44,
            0,
        )
    };
    assert!(!t.forwards(&later(1, "2001:db8:1::1", "2001:db8:2::7")));
    assert!(t.forwards(&later(1, "2001:db8:1::1", "2001:db8::25")));
    assert!(t.forwards(&later(1, "2001:db8:e::9", "2001:db8:2::7")));
    assert!(t.forwards(&later(4, "2001:db8:2::7", "2001:db8:1::1")));
}

#[test]
fn same_key_with_other_actions_is_replaced_in_the_right_phase() {
    let normal = policy(OLD);
    let goto = policy(&OLD.replace("[policy]", "[policy]\nforwarding = { goto_table = 1 }"));
    let d = desired_flows(&goto, &view());
    let plan = reconcile(
        &d,
        &installed(&desired_flows(&normal, &view())).stats(),
        goto.cookie(),
    );
    assert_eq!(plan.batches.len(), 1);
    assert_eq!(plan.batches[0].purpose, BatchPurpose::InstallForwards);
    assert_eq!(
        plan.modified(),
        d.flows.iter().filter(|f| f.action.forwards()).count()
    );
    // Meters rejected: samples become drops, in the first batch.
    let d = desired_flows(&normal, &view().without_meters());
    let plan = reconcile(
        &d,
        &installed(&desired_flows(&normal, &view())).stats(),
        normal.cookie(),
    );
    assert_eq!(plan.batches.len(), 1);
    assert_eq!(plan.batches[0].purpose, BatchPurpose::InstallDrops);
    assert_eq!(plan.modified(), 2);
}

#[test]
fn foreign_flows_with_our_cookie_are_deleted_and_other_cookies_ignored() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let mut stats = installed(&d).stats();
    let mut foreign = stats[0].clone();
    foreign.match_.fields = vec![Oxm::EthType(0x0806)];
    foreign.priority = 12345;
    let mut other_cookie = stats[0].clone();
    other_cookie.cookie = 0;
    other_cookie.priority = 100;
    let mut odd_action = stats[0].clone();
    odd_action.priority = 54321;
    odd_action.instructions = vec![Instruction::ClearActions];
    stats.extend([foreign, other_cookie, odd_action]);
    let plan = reconcile(&d, &stats, p.cookie());
    assert_eq!(plan.removed(), 2, "{plan:?}");
    assert_eq!(plan.added() + plan.modified(), 0);
    let purposes: Vec<BatchPurpose> = plan.batches.iter().map(|p| p.purpose).collect();
    // The ARP NORMAL flow forwards; CLEAR_ACTIONS does not.
    assert_eq!(
        purposes,
        vec![
            BatchPurpose::RemoveStaleForwards,
            BatchPurpose::RemoveStaleDrops
        ]
    );
}

#[test]
fn a_desired_key_with_unknown_instructions_is_replaced() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let mut stats = installed(&d).stats();
    let uplink = stats
        .iter_mut()
        .find(|s| s.priority == crate::flows::layout::PRIO_UPLINK)
        .map(|s| {
            s.instructions = vec![Instruction::ClearActions];
        });
    assert!(uplink.is_some());
    let plan = reconcile(&d, &stats, p.cookie());
    assert_eq!((plan.modified(), plan.added(), plan.removed()), (1, 0, 0));
}

#[test]
fn the_flow_request_reads_only_our_cookie() {
    let req = our_flows_request(Cookie(0xabc));
    assert_eq!(req.flags, 0);
    let MultipartRequestBody::Flow(r) = req.body else {
        panic!("not a FLOW request: {req:?}");
    };
    assert_eq!(
        (r.table_id, r.out_port, r.out_group),
        (OFPTT_ALL, OFPP_ANY, OFPG_ANY)
    );
    assert_eq!((r.cookie, r.cookie_mask), (0xabc, u64::MAX));
    assert!(r.match_.fields.is_empty());
}

#[test]
fn five_thousand_exempt_prefixes_reconcile_by_hashing() {
    let prefixes: Vec<String> = (0..5000u32)
        .map(|i| format!("\"10.{}.{}.0/24\"", i / 256, i % 256))
        .collect();
    let p = policy(&format!(
        "[policy]\nrelays = [\"192.0.2.25\"]\nexempt_sources = [{}]\n",
        prefixes.join(",")
    ));
    let d = desired_flows(&p, &view());
    // exempt + relay + 2 families x (port 25 + port 0) + IPv6 later fragments + IPv4, ARP and
    // IPv6 allowed + every other EtherType dropped (no catch-all: every port is policed)
    assert_eq!(d.flows.len(), 5000 + 1 + 4 + 1 + 3 + 1);
    let stats: Vec<FlowStats> = flow_mods_for(&d)
        .into_iter()
        .map(|fm| FlowStats {
            table_id: fm.table_id,
            duration_sec: 0,
            duration_nsec: 0,
            priority: fm.priority,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: fm.flags,
            cookie: fm.cookie,
            packet_count: 0,
            byte_count: 0,
            match_: fm.match_,
            instructions: fm.instructions,
        })
        .collect();
    let start = std::time::Instant::now();
    let plan = reconcile(&d, &stats, p.cookie());
    assert!(plan.is_empty());
    let plan = reconcile(&d, &[], p.cookie());
    assert_eq!(plan.added(), d.flows.len());
    // Quadratic pairwise comparison would be ~25M match comparisons; hashing is milliseconds.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

// ---------- OFPFF_SEND_FLOW_REM ----------

/// The stats a switch reports for `d` installed by an older op25b: same flows, flags 0.
fn installed_without_flags(d: &DesiredFlows) -> ModelTable {
    let mut t = ModelTable::default();
    for mut fm in flow_mods_for(d) {
        fm.flags = 0;
        t.apply(&fm);
    }
    t
}

#[test]
fn flows_with_our_flags_get_nothing_resent() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let t = installed(&d);
    assert!(t.stats().iter().all(|s| s.flags == OUR_FLOW_FLAGS));
    assert!(reconcile(&d, &t.stats(), p.cookie()).is_empty());
}

#[test]
fn flows_without_send_flow_rem_are_replaced_in_place_and_nothing_else() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let mut t = installed_without_flags(&d);
    let plan = reconcile(&d, &t.stats(), p.cookie());
    assert_eq!(
        (plan.added(), plan.modified(), plan.removed()),
        (0, d.flows.len(), 0),
        "{plan:?}"
    );
    // Every message is an ADD (replace) with the flag; from the top, one kind at a time.
    for fm in plan.flow_mods().iter().flatten() {
        assert_eq!(fm.command, FlowModCommand::Add);
        assert_eq!(fm.flags, OUR_FLOW_FLAGS);
    }
    let purposes: Vec<BatchPurpose> = plan.batches.iter().map(|p| p.purpose).collect();
    assert_eq!(
        purposes,
        [
            BatchPurpose::InstallForwards,
            BatchPurpose::InstallDrops,
            BatchPurpose::InstallForwards,
            BatchPurpose::InstallDrops
        ]
    );
    // The packet's fate never changes, message by message.
    let before: Vec<bool> = probes().iter().map(|x| t.forwards(x)).collect();
    for fm in plan.flow_mods().iter().flatten() {
        t.apply(fm);
        let now: Vec<bool> = probes().iter().map(|x| t.forwards(x)).collect();
        assert_eq!(now, before, "after {fm:?}");
    }
    assert_eq!(t.entries.len(), d.flows.len());
    assert!(t.stats().iter().all(|s| s.flags == OUR_FLOW_FLAGS));
    assert!(reconcile(&d, &t.stats(), p.cookie()).is_empty());
}

#[test]
fn only_the_send_flow_rem_bit_is_compared() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let mut stats = installed(&d).stats();
    // Other bits a switch may report (e.g. RESET_COUNTS, 0x4) do not cause a resend.
    for s in &mut stats {
        s.flags |= 0x4;
    }
    assert!(reconcile(&d, &stats, p.cookie()).is_empty());
    // One flow without the flag: exactly that one is replaced.
    stats[0].flags = 0x4;
    let plan = reconcile(&d, &stats, p.cookie());
    assert_eq!((plan.added(), plan.modified(), plan.removed()), (0, 1, 0));
}

#[test]
fn stale_flows_are_deleted_whatever_their_flags() {
    let p_old = policy(OLD);
    let p_new = policy(NEW);
    let d_old = desired_flows(&p_old, &view());
    let d_new = desired_flows(&p_new, &view());
    let flagged = reconcile(&d_new, &installed(&d_old).stats(), p_new.cookie());
    let unflagged = reconcile(
        &d_new,
        &installed_without_flags(&d_old).stats(),
        p_new.cookie(),
    );
    assert_eq!(flagged.removed(), unflagged.removed());
    assert!(flagged.removed() > 0);
    assert_eq!(flagged.added(), unflagged.added());
}

// ---------- the hitless property ----------

#[derive(Debug, Clone)]
struct Params {
    extra_blocked: bool,
    relays: Vec<&'static str>,
    exempt: Vec<&'static str>,
    /// (port, prefix) exemptions; those whose port the switch does not police are left out.
    bound: Vec<(u32, &'static str)>,
    ethertypes: Vec<&'static str>,
    list: Option<Vec<u32>>,
    uplinks: Vec<u32>,
    reporting: bool,
    fragments: &'static str,
    goto: bool,
    meters: bool,
}

const RELAYS: [&str; 3] = ["192.0.2.25", "192.0.2.0/24", "2001:db8::25"];
const EXEMPT: [&str; 3] = ["203.0.113.0/29", "10.9.0.0/16", "2001:db8:e::/48"];
const BOUND_EXEMPT: [(u32, &str); 3] = [
    (1, "10.7.0.0/16"),
    (2, "2001:db8:f::/48"),
    (5, "10.8.0.0/16"),
];
const ETHERTYPES: [&str; 2] = ["lldp", "mpls"];

fn params() -> impl Strategy<Value = Params> {
    (
        (
            any::<bool>(),
            proptest::sample::subsequence(RELAYS.to_vec(), 0..=3),
            proptest::sample::subsequence(EXEMPT.to_vec(), 0..=3),
            proptest::sample::subsequence(BOUND_EXEMPT.to_vec(), 0..=3),
            proptest::sample::subsequence(ETHERTYPES.to_vec(), 0..=2),
        ),
        proptest::option::of(proptest::sample::subsequence(vec![2u32, 3], 0..=2)),
        proptest::sample::subsequence(vec![4u32, 5], 0..=2),
        any::<bool>(),
        proptest::sample::select(vec!["drop-tcp", "drop-all", "pass"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                (extra_blocked, relays, exempt, bound, ethertypes),
                list,
                uplinks,
                reporting,
                fragments,
                goto,
                meters,
            )| {
                // Port 1 is always policed, so at least one probe is dropped by both policies.
                let list = list.map(|mut l| {
                    l.push(1);
                    l
                });
                let policed = |port: &u32| match &list {
                    Some(l) => l.contains(port),
                    None => !uplinks.contains(port),
                };
                let bound = bound.into_iter().filter(|(p, _)| policed(p)).collect();
                Params {
                    extra_blocked,
                    relays,
                    exempt,
                    bound,
                    ethertypes,
                    list,
                    uplinks,
                    reporting,
                    fragments,
                    goto,
                    meters,
                }
            },
        )
}

fn quoted(v: &[&str]) -> String {
    v.iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn build(p: &Params) -> (Policy, SwitchView) {
    let subs = match &p.list {
        None => "\"all\"".to_string(),
        Some(l) => format!("{l:?}"),
    };
    let bound: String = p
        .bound
        .iter()
        .map(|(port, source)| {
            format!("[[switch.exempt]]\nport = {port}\nsources = [\"{source}\"]\n")
        })
        .collect();
    let text = format!(
        "[policy]\nblocked_ports = [{}]\nrelays = [{}]\nexempt_sources = [{}]\nsubscriber_ethertypes = [{}]\nfragments = \"{}\"\nforwarding = {}\n[[switch]]\ndpid = 1\nsubscriber_ports = {subs}\nuplink_ports = {:?}\n{bound}[reporting]\nenabled = {}\n",
        if p.extra_blocked { "25, 2525" } else { "25" },
        quoted(&p.relays),
        quoted(&p.exempt),
        quoted(&p.ethertypes),
        p.fragments,
        if p.goto { "{ goto_table = 1 }" } else { "\"normal\"" },
        p.uplinks,
        p.reporting,
    );
    let v = view();
    (policy(&text), if p.meters { v } else { v.without_meters() })
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// IP packets from every port, source and destination of the parameters (and others), and
/// frames of other EtherTypes: ARP, MPLS, PPPoE session, a second VLAN tag, LLDP.
fn probes() -> Vec<Packet> {
    let srcs = [
        "10.0.0.1",
        "203.0.113.3",
        "10.9.1.1",
        "10.7.0.1",
        "10.8.0.1",
        "2001:db8:1::1",
        "2001:db8:e::9",
        "2001:db8:f::1",
    ]
    .map(ip);
    let dsts = [
        "192.0.2.25",
        "192.0.2.77",
        "198.51.100.7",
        "2001:db8::25",
        "2001:db8:2::7",
    ]
    .map(ip);
    let mut out = Vec::new();
    for in_port in 1..=5 {
        for src in srcs {
            for dst in dsts.iter().filter(|d| d.is_ipv4() == src.is_ipv4()) {
                // (44, 0): an IPv6 later fragment, as Open vSwitch classifies it.
                for (ip_proto, tcp_dst) in [(6, 25), (6, 2525), (6, 587), (6, 0), (17, 0), (44, 0)]
                    .into_iter()
                    .filter(|&(proto, _)| proto != 44 || src.is_ipv6())
                {
                    out.push(Packet::ip(in_port, src, *dst, ip_proto, tcp_dst));
                }
            }
        }
        for eth_type in [0x0806, 0x8847, 0x8864, 0x8100, 0x88cc] {
            out.push(Packet::other(in_port, eth_type));
        }
    }
    out
}

/// The flows op25b installed for `d`'s policy before it filtered EtherTypes and bound
/// exemptions to ports: none of those flows, and always the catch-all forward.
fn before_ethertype_filtering(d: &DesiredFlows, forward: FlowAction) -> Vec<FlowSpec> {
    use crate::flows::layout::{PRIO_EXEMPT, PRIO_OTHER_ETHERTYPES};
    let mut flows: Vec<FlowSpec> = d
        .flows
        .iter()
        .filter(|f| {
            let m = f.key.match_;
            m.eth_type.is_none()
                && f.key.priority != PRIO_OTHER_ETHERTYPES
                && !(f.key.priority == PRIO_EXEMPT && m.in_port.is_some())
        })
        .copied()
        .collect();
    let catch_all = FlowSpec {
        key: crate::flows::FlowKey {
            table_id: 0,
            priority: 0,
            match_: Default::default(),
        },
        action: forward,
    };
    if !flows.iter().any(|f| f.key == catch_all.key) {
        flows.push(catch_all);
    }
    flows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_packet_meets_its_old_or_its_new_fate_at_every_message(
        old in proptest::option::of((params(), any::<bool>())),
        old_unflagged in any::<bool>(),
        legacy in any::<bool>(),
        new in params(),
        seed in any::<u64>(),
    ) {
        let (p_new, v_new) = build(&new);
        let d_new = desired_flows(&p_new, &v_new);
        let new_table = installed(&d_new);

        // The switch: empty (first connection), or the old policy's flows reported with its own
        // field order (installed without OFPFF_SEND_FLOW_REM by an older op25b, or with it; in
        // this layout or in the one before EtherType filtering), possibly plus flows an older
        // op25b layout left behind (same cookie).
        let mut switch = ModelTable::default();
        if let Some((old, before_filtering)) = &old {
            let (p_old, v_old) = build(old);
            let d_old = desired_flows(&p_old, &v_old);
            let flows = if *before_filtering {
                before_ethertype_filtering(&d_old, FlowAction::Forward(p_old.forwarding()))
            } else {
                d_old.flows.clone()
            };
            for f in &flows {
                let mut fm = crate::flows::openflow::flow_mod_add(d_old.cookie, f);
                fm.match_.fields.reverse();
                if old_unflagged {
                    fm.flags = 0;
                }
                switch.apply(&fm);
            }
        }
        if legacy {
            for fm in legacy_flows(p_new.cookie()) {
                switch.apply(&fm);
            }
        }
        let old_table = switch.clone();
        let fates: Vec<(Packet, bool, bool)> = probes()
            .into_iter()
            .map(|p| (p, old_table.forwards(&p), new_table.forwards(&p)))
            .collect();
        let both = |p: &Packet, forwarded: bool| {
            fates.iter().any(|(q, o, n)| q == p && *o == forwarded && *n == forwarded)
        };
        let sentinel = Packet::ip(1, ip("10.0.0.1"), ip("198.51.100.7"), 6, 25);
        prop_assert!(both(&sentinel, false));
        // An IPv6 later fragment from a subscriber to a foreign host, when both policies drop
        // fragments with flows (an empty switch drops everything).
        let later_fragment = Packet::ip(1, ip("2001:db8:1::1"), ip("2001:db8:2::7"), 44, 0);
        if new.fragments == "drop-tcp" && old.as_ref().is_none_or(|(o, _)| o.fragments == "drop-tcp") {
            prop_assert!(both(&later_fragment, false));
        }
        // MPLS from a subscriber, when neither policy allows it; IPv4 and ARP from a subscriber
        // to anything but a blocked port, when the old flows forward them.
        let mpls = Packet::other(1, 0x8847);
        let allows_mpls = |p: &Params| p.ethertypes.contains(&"mpls");
        if !allows_mpls(&new) && old.as_ref().is_none_or(|(o, before)| !before && !allows_mpls(o)) {
            prop_assert!(both(&mpls, false));
        }
        if old.is_some() && !legacy {
            prop_assert!(both(&Packet::ip(1, ip("10.0.0.1"), ip("198.51.100.7"), 6, 587), true));
            prop_assert!(both(&Packet::other(1, 0x0806), true));
        }

        let plan = reconcile(&d_new, &switch.stats(), p_new.cookie());
        let mut rng = seed;
        for (n, mut batch) in plan.flow_mods().into_iter().enumerate() {
            // Inside a batch the switch may apply messages in any order: shuffle.
            for i in (1..batch.len()).rev() {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                batch.swap(i, (rng >> 33) as usize % (i + 1));
            }
            for (i, fm) in batch.iter().enumerate() {
                switch.apply(fm);
                for (p, old_fate, new_fate) in &fates {
                    let now = switch.forwards(p);
                    prop_assert!(
                        now == *old_fate || now == *new_fate,
                        "batch {n} message {i} ({fm:?}) {} {p:?}, which the old flows {} and the new ones {}",
                        if now { "forwards" } else { "drops" },
                        if *old_fate { "forward" } else { "drop" },
                        if *new_fate { "forward" } else { "drop" },
                    );
                }
            }
        }
        let end = as_set(&switch.stats());
        let want: BTreeSet<FlowSpec> = d_new.flows.iter().copied().collect();
        prop_assert_eq!(end, want);
        // Every flow left carries OFPFF_SEND_FLOW_REM, whatever the old flows had.
        for s in switch.stats() {
            prop_assert_eq!(s.flags, OUR_FLOW_FLAGS, "{:?}", s);
        }
        prop_assert!(reconcile(&d_new, &switch.stats(), p_new.cookie()).is_empty());
        // Installs first, then removals; a barrier between batches of different purposes only.
        let purposes: Vec<BatchPurpose> = plan.batches.iter().map(|p| p.purpose).collect();
        let removing = |p: &BatchPurpose| {
            matches!(p, BatchPurpose::RemoveStaleForwards | BatchPurpose::RemoveStaleDrops)
        };
        prop_assert!(purposes.windows(2).all(|w| w[0] != w[1] && (removing(&w[1]) || !removing(&w[0]))));
    }
}

/// Flows an older layout might have left with our cookie: a drop of TCP/25 from 10/8 at 50000
/// above a forward of all TCP/25 at 45000 (the drop must outlive the forward).
fn legacy_flows(cookie: Cookie) -> Vec<op25b_proto::flow_mod::FlowMod> {
    use op25b_proto::match_::Match;
    let m = |extra: Vec<Oxm>| {
        let mut f = vec![Oxm::EthType(0x0800), Oxm::IpProto(6)];
        f.extend(extra);
        Match::new(f)
    };
    let mut drop = crate::flows::openflow::flow_mod_add(
        cookie,
        &FlowSpec {
            key: crate::flows::FlowKey {
                table_id: 0,
                priority: 50_000,
                match_: Default::default(),
            },
            action: FlowAction::Drop,
        },
    );
    drop.match_ = m(vec![
        Oxm::Ipv4Src {
            value: std::net::Ipv4Addr::new(10, 0, 0, 0),
            mask: Some(std::net::Ipv4Addr::new(255, 0, 0, 0)),
        },
        Oxm::TcpDst(25),
    ]);
    let mut fwd = drop.clone();
    fwd.priority = 45_000;
    fwd.match_ = m(vec![Oxm::TcpDst(25)]);
    fwd.instructions = crate::flows::openflow::to_instructions(&FlowAction::Forward(
        crate::policy::Forwarding::Normal,
    ));
    vec![drop, fwd]
}

#[test]
fn stale_deletes_come_highest_priority_first_then_by_table_then_match_whatever_the_report_order() {
    let p = policy(OLD);
    let d = desired_flows(&p, &view());
    let stats = installed(&d).stats();
    let foreign = |table_id: u8, priority: u16, eth_type: u16| {
        let mut f = stats[0].clone();
        f.table_id = table_id;
        f.priority = priority;
        f.match_.fields = vec![Oxm::EthType(eth_type)];
        f
    };
    let extra = [
        foreign(0, 10, 0x0806),
        foreign(1, 500, 0x0806),
        foreign(0, 500, 0x88cc),
        foreign(0, 500, 0x0806),
    ];
    let deletes = |extra: &[FlowStats]| {
        let mut all = stats.clone();
        all.extend(extra.iter().cloned());
        let plan = reconcile(&d, &all, p.cookie());
        plan.batches
            .iter()
            .flat_map(|ph| ph.changes.iter())
            .filter_map(|c| match c {
                Change::Delete {
                    table_id,
                    priority,
                    match_,
                } => Some((*table_id, *priority, match_.fields.clone())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let expected = vec![
        (0, 500, vec![Oxm::EthType(0x0806)]),
        (0, 500, vec![Oxm::EthType(0x88cc)]),
        (1, 500, vec![Oxm::EthType(0x0806)]),
        (0, 10, vec![Oxm::EthType(0x0806)]),
    ];
    assert_eq!(deletes(&extra), expected);
    let mut reversed = extra.clone();
    reversed.reverse();
    assert_eq!(deletes(&reversed), expected);
}

#[test]
fn address_masks_read_back_as_prefixes_only_when_contiguous() {
    use op25b_proto::match_::Match;
    use std::net::{Ipv4Addr, Ipv6Addr};
    let v4 = |mask: Option<Ipv4Addr>| {
        parse_match(&Match::new(vec![
            Oxm::EthType(0x0800),
            Oxm::IpProto(6),
            Oxm::Ipv4Dst {
                value: Ipv4Addr::new(192, 0, 2, 25),
                mask,
            },
        ]))
        .and_then(|m| m.tcp)
        .and_then(|t| t.dst)
        .map(|n| n.to_string())
    };
    let v6 = |mask: Option<Ipv6Addr>| {
        parse_match(&Match::new(vec![
            Oxm::EthType(0x86dd),
            Oxm::IpProto(6),
            Oxm::Ipv6Src {
                value: "2001:db8::25".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                mask,
            },
        ]))
        .and_then(|m| m.tcp)
        .and_then(|t| t.src)
        .map(|n| n.to_string())
    };
    assert_eq!(v4(None).as_deref(), Some("192.0.2.25/32"));
    assert_eq!(
        v4(Some(Ipv4Addr::BROADCAST)).as_deref(),
        Some("192.0.2.25/32")
    );
    assert_eq!(
        v4(Some(Ipv4Addr::new(255, 255, 255, 0))).as_deref(),
        Some("192.0.2.0/24")
    );
    assert_eq!(
        v4(Some(Ipv4Addr::UNSPECIFIED)).as_deref(),
        Some("0.0.0.0/0")
    );
    assert_eq!(v4(Some(Ipv4Addr::new(255, 0, 255, 0))), None);
    assert_eq!(v4(Some(Ipv4Addr::new(0, 0, 0, 1))), None);
    assert_eq!(v6(None).as_deref(), Some("2001:db8::25/128"));
    assert_eq!(
        v6(Some(Ipv6Addr::from(u128::MAX))).as_deref(),
        Some("2001:db8::25/128")
    );
    assert_eq!(
        v6(Some(Ipv6Addr::from(u128::MAX << 96))).as_deref(),
        Some("2001:db8::/32")
    );
    assert_eq!(v6(Some(Ipv6Addr::from(1u128))), None);
    assert_eq!(v6(Some(Ipv6Addr::from(u128::MAX ^ (1 << 100)))), None);
}
