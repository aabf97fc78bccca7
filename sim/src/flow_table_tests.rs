//! Unit and property tests of [`FlowTable`] against OpenFlow 1.3.5 section 6.4.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use op25b_proto::consts::*;
use op25b_proto::error_codes::{BadActionCode, BadInstructionCode, BadMatchCode};
use op25b_proto::{Action, FlowMod, FlowModCommand, FlowStatsRequest, Instruction, Match, Oxm};
use proptest::prelude::*;

use super::*;
use crate::verdict::Fate;

const SUBSCRIBER_PORT: u32 = 1;
const UPLINK: u32 = 9;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn tcp4_dst(port: u16) -> Vec<Oxm> {
    vec![
        Oxm::EthType(ETH_TYPE_IPV4),
        Oxm::IpProto(IP_PROTO_TCP),
        Oxm::TcpDst(port),
    ]
}

fn out(port: u32) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(vec![Action::output(port)])]
}

fn drop_() -> Vec<Instruction> {
    Vec::new()
}

fn add(priority: u16, fields: Vec<Oxm>, instructions: Vec<Instruction>) -> FlowMod {
    FlowMod::add(0, priority, Match::new(fields), instructions)
}

fn with(mut fm: FlowMod, command: FlowModCommand) -> FlowMod {
    fm.command = command;
    fm
}

fn small() -> FlowTable {
    FlowTable::new(TableConfig {
        n_tables: 4,
        capacity: 8,
    })
}

fn smtp_from_subscriber(dst: &str, dport: u16) -> PacketHeaders {
    PacketHeaders::tcp(SUBSCRIBER_PORT, ip("10.0.0.5"), 40000, ip(dst), dport)
}

/// The op25b shape: priority 200 drops TCP/25, priority 300 allows it to the relay, 0 forwards.
fn op25b_table() -> FlowTable {
    let now = Instant::now();
    let mut t = small();
    t.apply(&add(0, vec![], out(OFPP_NORMAL)), now)
        .expect("catch-all");
    t.apply(&add(200, tcp4_dst(25), drop_()), now)
        .expect("block");
    let mut relay = tcp4_dst(25);
    relay.push(Oxm::Ipv4Dst {
        value: Ipv4Addr::new(192, 0, 2, 25),
        mask: None,
    });
    t.apply(&add(300, relay, out(OFPP_NORMAL)), now)
        .expect("relay");
    t
}

#[test]
fn classify_follows_priority() {
    let t = op25b_table();
    assert!(t
        .classify(&smtp_from_subscriber("198.51.100.7", 25))
        .is_blocked());
    assert_eq!(
        t.classify(&smtp_from_subscriber("192.0.2.25", 25)).fate(),
        Fate::Forward(vec![OFPP_NORMAL])
    );
    let submission = t.classify(&smtp_from_subscriber("198.51.100.7", 587));
    assert_eq!(submission.fate(), Fate::Forward(vec![OFPP_NORMAL]));
    assert_eq!(submission.last_hit().map(|h| h.priority), Some(0));
    let v = t.classify(&smtp_from_subscriber("198.51.100.7", 25));
    assert_eq!(v.last_hit().map(|h| h.priority), Some(200));
}

#[test]
fn fragments_walk_past_a_port_25_rule() {
    // Seen on OVS (docs/ovs-mininet facts): fragments carry port 0, so tcp_dst=25 misses them.
    let t = op25b_table();
    let frag = smtp_from_subscriber("198.51.100.7", 25).fragment();
    assert_eq!(t.classify(&frag).fate(), Fate::Forward(vec![OFPP_NORMAL]));
}

#[test]
fn empty_table_drops_everything() {
    let t = small();
    let v = t.classify(&smtp_from_subscriber("198.51.100.7", 587));
    assert_eq!(v.miss, Some(0));
    assert_eq!(v.fate(), Fate::Drop);
}

#[test]
fn add_identical_match_replaces_and_keeps_counters_unless_reset() {
    let mut t = op25b_table();
    let pkt = smtp_from_subscriber("198.51.100.7", 25);
    t.record_packet(&pkt, 60);
    t.record_packet(&pkt, 60);
    let later = Instant::now() + Duration::from_secs(5);
    // A prerequisite after its field is refused, as OVS does.
    let backwards = vec![
        Oxm::TcpDst(25),
        Oxm::IpProto(IP_PROTO_TCP),
        Oxm::EthType(ETH_TYPE_IPV4),
    ];
    let refused = t
        .apply(&add(200, backwards, drop_()), later)
        .expect_err("prerequisites first");
    assert_eq!(refused.ofp_error(), (4, BadMatchCode::BadPrereq as u16));
    // The relay flow's match in another valid order replaces it.
    let relay_reordered = vec![
        Oxm::EthType(ETH_TYPE_IPV4),
        Oxm::Ipv4Dst {
            value: Ipv4Addr::new(192, 0, 2, 25),
            mask: None,
        },
        Oxm::IpProto(IP_PROTO_TCP),
        Oxm::TcpDst(25),
    ];
    let o = t
        .apply(&add(300, relay_reordered, out(UPLINK)), later)
        .expect("replace");
    assert_eq!((o.added, o.replaced), (0, 1));
    // Same match, new instructions.
    let reordered = tcp4_dst(25);
    let outcome = t
        .apply(&add(200, reordered.clone(), out(OFPP_CONTROLLER)), later)
        .expect("replace");
    assert_eq!(outcome.replaced, 1);
    assert_eq!(t.len(), 3);
    let e = t
        .entries()
        .find(|e| e.priority == 200)
        .expect("still there");
    assert_eq!((e.packet_count, e.byte_count), (2, 120));
    assert_eq!(e.installed_at, later, "duration restarts on replace");
    assert_eq!(e.instructions, out(OFPP_CONTROLLER));
    let mut reset = add(200, reordered, drop_());
    reset.flags = OFPFF_RESET_COUNTS;
    t.apply(&reset, later).expect("replace with reset");
    let e = t
        .entries()
        .find(|e| e.priority == 200)
        .expect("still there");
    assert_eq!((e.packet_count, e.byte_count), (0, 0));
}

#[test]
fn check_overlap_refuses_same_priority_overlaps_only() {
    let mut t = op25b_table();
    let now = Instant::now();
    let mut fm = add(
        200,
        vec![Oxm::EthType(ETH_TYPE_IPV4), Oxm::IpProto(IP_PROTO_TCP)],
        drop_(),
    );
    fm.flags = OFPFF_CHECK_OVERLAP;
    let e = t.apply(&fm, now).expect_err("overlaps tcp_dst=25 at 200");
    assert_eq!(
        e,
        TableError::Overlap {
            table_id: 0,
            priority: 200
        }
    );
    assert_eq!(e.ofp_error(), (5, 3));
    fm.priority = 201;
    t.apply(&fm, now).expect("other priority");
    let mut udp = add(
        200,
        vec![Oxm::EthType(ETH_TYPE_IPV4), Oxm::IpProto(IP_PROTO_UDP)],
        drop_(),
    );
    udp.flags = OFPFF_CHECK_OVERLAP;
    t.apply(&udp, now).expect("udp does not overlap tcp");
    // An ADD that replaces an identical flow is not checked for overlaps (as in OVS), even
    // though the priority 201 tcp flow overlaps it.
    let mut same = add(201, tcp4_dst(25), out(OFPP_CONTROLLER));
    same.flags = OFPFF_CHECK_OVERLAP;
    t.apply(&same, now)
        .expect_err("a new flow overlapping the priority 201 tcp flow");
    same.flags = 0;
    t.apply(&same, now).expect("added without the check");
    same.flags = OFPFF_CHECK_OVERLAP;
    assert_eq!(t.apply(&same, now).expect("replaces").replaced, 1);
}

#[test]
fn modify_changes_instructions_of_covered_flows_only() {
    let mut t = op25b_table();
    t.record_packet(&smtp_from_subscriber("198.51.100.7", 25), 100);
    let mut m = with(
        add(0, tcp4_dst(25), out(OFPP_CONTROLLER)),
        FlowModCommand::Modify,
    );
    m.cookie = 0xdead; // a MODIFY does not change cookies
    let outcome = t.apply(&m, Instant::now()).expect("modify");
    assert_eq!(
        outcome.modified, 2,
        "the priority 200 and 300 flows match tcp_dst=25"
    );
    for e in t.entries().filter(|e| e.priority >= 200) {
        assert_eq!(e.instructions, out(OFPP_CONTROLLER));
        assert_eq!(e.cookie, 0);
    }
    let e200 = t.entries().find(|e| e.priority == 200).expect("kept");
    assert_eq!(
        e200.packet_count, 1,
        "counters survive MODIFY without RESET_COUNTS"
    );
    let catch_all = t.entries().find(|e| e.priority == 0).expect("kept");
    assert_eq!(catch_all.instructions, out(OFPP_NORMAL));
}

#[test]
fn modify_strict_needs_priority_and_exact_match_and_never_adds() {
    let mut t = op25b_table();
    let m = with(add(201, tcp4_dst(25), out(7)), FlowModCommand::ModifyStrict);
    assert_eq!(t.apply(&m, Instant::now()).expect("no-op").modified, 0);
    assert_eq!(
        t.len(),
        3,
        "a MODIFY that matches nothing adds nothing (OF1.2+)"
    );
    let mut m = with(add(200, tcp4_dst(25), out(7)), FlowModCommand::ModifyStrict);
    m.flags = OFPFF_RESET_COUNTS;
    assert_eq!(t.apply(&m, Instant::now()).expect("modify").modified, 1);
    let nothing = with(add(0, tcp4_dst(26), out(7)), FlowModCommand::Modify);
    assert_eq!(
        t.apply(&nothing, Instant::now()).expect("no-op").modified,
        0
    );
}

#[test]
fn cookie_mask_filters_modify_and_delete() {
    let now = Instant::now();
    let mut t = small();
    for (cookie, port) in [(0x0b25_0001u64, 25u16), (0x0b25_0002, 26), (0x7777, 27)] {
        let mut fm = add(100, tcp4_dst(port), drop_());
        fm.cookie = cookie;
        t.apply(&fm, now).expect("add");
    }
    let mut del = with(add(0, vec![], vec![]), FlowModCommand::Delete);
    del.cookie = 0x0b25_0000;
    del.cookie_mask = 0xffff_0000;
    let removed = t.apply(&del, now).expect("delete").removed;
    assert_eq!(removed.len(), 2);
    assert_eq!(
        t.entries().map(|e| e.cookie).collect::<Vec<_>>(),
        vec![0x7777]
    );
}

#[test]
fn delete_non_strict_removes_equal_or_more_specific() {
    let now = Instant::now();
    let mut t = op25b_table();
    let del = with(add(0, tcp4_dst(25), vec![]), FlowModCommand::Delete);
    let removed = t.apply(&del, now).expect("delete").removed;
    let mut prios: Vec<u16> = removed.iter().map(|e| e.priority).collect();
    prios.sort();
    assert_eq!(prios, vec![200, 300]);
    assert_eq!(t.len(), 1);
    let wipe = with(add(0, vec![], vec![]), FlowModCommand::Delete);
    assert_eq!(t.apply(&wipe, now).expect("wipe").removed.len(), 1);
    assert!(t.is_empty());
}

#[test]
fn delete_strict_removes_exactly_one() {
    let now = Instant::now();
    let mut t = op25b_table();
    let wrong_prio = with(add(201, tcp4_dst(25), vec![]), FlowModCommand::DeleteStrict);
    assert!(t.apply(&wrong_prio, now).expect("no-op").removed.is_empty());
    let right = with(add(200, tcp4_dst(25), vec![]), FlowModCommand::DeleteStrict);
    assert_eq!(t.apply(&right, now).expect("delete").removed.len(), 1);
    assert_eq!(t.len(), 2);
}

#[test]
fn delete_out_port_filter_follows_ovs() {
    let now = Instant::now();
    let mut t = op25b_table();
    t.apply(&add(10, tcp4_dst(80), out(UPLINK)), now)
        .expect("add");
    // out_port = 0 (a common controller bug): only flows outputting to port 0, i.e. none.
    let mut del = with(add(0, vec![], vec![]), FlowModCommand::Delete);
    del.out_port = 0;
    assert!(t.apply(&del, now).expect("no-op").removed.is_empty());
    del.out_port = UPLINK;
    let removed = t.apply(&del, now).expect("delete").removed;
    assert_eq!(
        removed.iter().map(|e| e.priority).collect::<Vec<_>>(),
        vec![10]
    );
    // out_group other than ANY: no flow here has group actions.
    del.out_port = OFPP_ANY;
    del.out_group = 5;
    assert!(t.apply(&del, now).expect("no-op").removed.is_empty());
    assert_eq!(t.len(), 3);
}

#[test]
fn delete_all_tables() {
    let now = Instant::now();
    let mut t = small();
    for table in 0..4u8 {
        let mut fm = add(5, tcp4_dst(25), drop_());
        fm.table_id = table;
        t.apply(&fm, now).expect("add");
    }
    let mut del = with(add(0, vec![], vec![]), FlowModCommand::Delete);
    del.table_id = 2;
    assert_eq!(t.apply(&del, now).expect("one table").removed.len(), 1);
    del.table_id = OFPTT_ALL;
    assert_eq!(t.apply(&del, now).expect("all tables").removed.len(), 3);
}

#[test]
fn refusals_carry_the_spec_error() {
    let now = Instant::now();
    let mut t = small();
    let code = |t: &mut FlowTable, fm: FlowMod| t.apply(&fm, now).expect_err("refused").ofp_error();
    let mut bad_table = add(1, vec![], drop_());
    bad_table.table_id = 4;
    assert_eq!(code(&mut t, bad_table.clone()), (5, 2));
    bad_table.table_id = OFPTT_ALL;
    assert_eq!(
        code(&mut t, bad_table),
        (5, 2),
        "OFPTT_ALL is for deletes only"
    );
    let no_prereq = add(1, vec![Oxm::TcpDst(25)], drop_());
    assert_eq!(code(&mut t, no_prereq), (4, BadMatchCode::BadPrereq as u16));
    let dup = add(
        1,
        vec![Oxm::EthType(ETH_TYPE_IPV4), Oxm::EthType(ETH_TYPE_IPV4)],
        drop_(),
    );
    assert_eq!(code(&mut t, dup), (4, BadMatchCode::DupField as u16));
    let host_bits = add(
        1,
        vec![
            Oxm::EthType(ETH_TYPE_IPV4),
            Oxm::Ipv4Src {
                value: Ipv4Addr::new(10, 0, 0, 1),
                mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            },
        ],
        drop_(),
    );
    assert_eq!(
        t.apply(&host_bits, now)
            .expect_err("host bits")
            .ofp_error()
            .0,
        4
    );
    assert_eq!(
        code(
            &mut t,
            with(add(1, vec![], drop_()), FlowModCommand::Other(9))
        ),
        (5, 6)
    );
    let mut flags = add(1, vec![], drop_());
    flags.flags = 1 << 9;
    assert_eq!(code(&mut t, flags), (5, 7));
    let mut buffered = add(1, vec![], drop_());
    buffered.buffer_id = 7;
    assert_eq!(code(&mut t, buffered), (1, 8));
    let mut backwards = add(1, vec![], vec![Instruction::GotoTable(1)]);
    backwards.table_id = 2;
    assert_eq!(
        code(&mut t, backwards),
        (3, BadInstructionCode::BadTableId as u16)
    );
    let beyond = add(1, vec![], vec![Instruction::GotoTable(9)]);
    assert_eq!(
        code(&mut t, beyond),
        (3, BadInstructionCode::BadTableId as u16)
    );
    let group = add(
        1,
        vec![],
        vec![Instruction::ApplyActions(vec![Action::Group(1)])],
    );
    assert_eq!(code(&mut t, group), (2, BadActionCode::BadOutGroup as u16));
    let any_port = add(1, vec![], out(OFPP_ANY));
    assert_eq!(
        code(&mut t, any_port),
        (2, BadActionCode::BadOutPort as u16)
    );
    let twice = add(
        1,
        vec![],
        vec![Instruction::ClearActions, Instruction::ClearActions],
    );
    assert_eq!(code(&mut t, twice).0, 3);
    assert!(t.is_empty(), "no refused FLOW_MOD changed the table");
}

#[test]
fn table_full_refuses_new_flows_but_not_replacements() {
    let now = Instant::now();
    let mut t = FlowTable::new(TableConfig {
        n_tables: 1,
        capacity: 2,
    });
    t.apply(&add(1, tcp4_dst(1), drop_()), now).expect("1");
    t.apply(&add(1, tcp4_dst(2), drop_()), now).expect("2");
    let full = t
        .apply(&add(1, tcp4_dst(3), drop_()), now)
        .expect_err("full");
    assert_eq!(
        full,
        TableError::TableFull {
            table_id: 0,
            capacity: 2
        }
    );
    assert_eq!(full.ofp_error(), (5, 1));
    t.apply(&add(1, tcp4_dst(2), out(3)), now)
        .expect("replacing needs no room");
}

#[test]
fn stats_filter_by_table_cookie_port_and_match() {
    let now = Instant::now();
    let mut t = op25b_table();
    let mut other = add(7, tcp4_dst(25), out(UPLINK));
    other.table_id = 1;
    other.cookie = 0x99;
    t.apply(&other, now).expect("add");
    t.record_packet(&smtp_from_subscriber("198.51.100.7", 25), 64);
    let all = t.flow_stats(&FlowStatsRequest::all(), now).expect("stats");
    assert_eq!(all.len(), 4);
    let mut req = FlowStatsRequest::all();
    req.table_id = 1;
    assert_eq!(t.flow_stats(&req, now).expect("stats").len(), 1);
    let mut req = FlowStatsRequest::all();
    req.cookie = 0x99;
    req.cookie_mask = u64::MAX;
    assert_eq!(t.flow_stats(&req, now).expect("stats")[0].priority, 7);
    let mut req = FlowStatsRequest::all();
    req.out_port = OFPP_NORMAL;
    assert_eq!(t.flow_stats(&req, now).expect("stats").len(), 2);
    let mut req = FlowStatsRequest::all();
    req.match_ = Match::new(tcp4_dst(25));
    let by_match = t.flow_stats(&req, now).expect("stats");
    assert_eq!(by_match.len(), 3);
    let agg = t.aggregate_stats(&req).expect("aggregate");
    assert_eq!(
        (agg.flow_count, agg.packet_count, agg.byte_count),
        (3, 1, 64)
    );
    let mut bad = FlowStatsRequest::all();
    bad.table_id = 200;
    assert_eq!(
        t.flow_stats(&bad, now).expect_err("bad table").ofp_error(),
        (1, 9)
    );
}

#[test]
fn pipeline_runs_goto_write_actions_metadata_and_meters() {
    let now = Instant::now();
    let mut t = small();
    // Table 0: meter 1, write output UPLINK, tag metadata, go to table 1.
    t.apply(
        &add(
            1,
            vec![],
            vec![
                Instruction::GotoTable(1),
                Instruction::WriteMetadata {
                    metadata: 0x25,
                    mask: 0xff,
                },
                Instruction::WriteActions(vec![Action::output(UPLINK)]),
                Instruction::Meter(1),
            ],
        ),
        now,
    )
    .expect("table 0");
    // Table 1: metadata 0x25 and tcp_dst 25 -> clear the action set, sample to the controller.
    let mut sample = tcp4_dst(25);
    sample.push(Oxm::Metadata {
        value: 0x25,
        mask: None,
    });
    let mut fm = add(
        10,
        sample,
        vec![
            Instruction::ClearActions,
            Instruction::ApplyActions(vec![Action::output(OFPP_CONTROLLER)]),
        ],
    );
    fm.table_id = 1;
    t.apply(&fm, now).expect("table 1 sample");
    let mut rest = add(0, vec![], vec![]);
    rest.table_id = 1;
    t.apply(&rest, now).expect("table 1 default");
    let v = t.classify(&smtp_from_subscriber("198.51.100.7", 25));
    assert_eq!(v.meters, vec![1]);
    assert_eq!(v.hits.len(), 2);
    assert_eq!(v.fate(), Fate::ToController);
    let web = t.classify(&smtp_from_subscriber("198.51.100.7", 80));
    assert_eq!(
        web.fate(),
        Fate::Forward(vec![UPLINK]),
        "action set executes at the end"
    );
    let mut t2 = small();
    t2.apply(
        &add(
            1,
            vec![],
            vec![
                Instruction::WriteActions(vec![Action::output(UPLINK)]),
                Instruction::GotoTable(3),
            ],
        ),
        now,
    )
    .expect("add");
    let miss = t2.classify(&smtp_from_subscriber("198.51.100.7", 80));
    assert_eq!(miss.miss, Some(3));
    assert_eq!(
        miss.fate(),
        Fate::Forward(vec![UPLINK]),
        "as in OVS, a miss in a later table still executes the action set"
    );
    let mut empty = small();
    assert_eq!(
        empty
            .record_packet(&smtp_from_subscriber("198.51.100.7", 80), 1)
            .fate(),
        Fate::Drop
    );
}

// ---------- properties ----------

/// A small space of valid matches: in_port, eth_type, ip_proto, tcp_dst, ipv4_dst prefix.
fn arb_fields() -> impl Strategy<Value = Vec<Oxm>> {
    (
        proptest::option::of(1u32..3),
        proptest::option::of(prop_oneof![Just(25u16), Just(587)]),
        proptest::option::of((0u8..2, prop_oneof![Just(24u32), Just(32)])),
        any::<bool>(),
        proptest::collection::vec(any::<prop::sample::Index>(), 5),
    )
        .prop_map(|(in_port, tcp_dst, dst, tcp, picks)| {
            let mut f = Vec::new();
            if let Some(p) = in_port {
                f.push(Oxm::InPort(p));
            }
            if tcp || tcp_dst.is_some() || dst.is_some() {
                f.push(Oxm::EthType(ETH_TYPE_IPV4));
            }
            if tcp || tcp_dst.is_some() {
                f.push(Oxm::IpProto(IP_PROTO_TCP));
            }
            if let Some(p) = tcp_dst {
                f.push(Oxm::TcpDst(p));
            }
            if let Some((host, len)) = dst {
                let mask = u32::MAX << (32 - len);
                f.push(Oxm::Ipv4Dst {
                    value: Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 51, 100, host)) & mask),
                    mask: (len < 32).then(|| Ipv4Addr::from(mask)),
                });
            }
            shuffle_keeping_prerequisites(f, &picks)
        })
}

/// Whether `f`'s prerequisite is among the fields already `placed` (OVS, and the codec's
/// check, want a prerequisite before the field that needs it).
fn prerequisite_placed(f: &Oxm, placed: &[Oxm]) -> bool {
    let has = |want: fn(&Oxm) -> bool| placed.iter().any(want);
    match f {
        Oxm::IpProto(_) | Oxm::Ipv4Dst { .. } => has(|p| matches!(p, Oxm::EthType(_))),
        Oxm::TcpDst(_) => has(|p| matches!(p, Oxm::IpProto(_))),
        _ => true,
    }
}

/// A random order of `fields` (a prerequisite-closed set) in which every prerequisite comes
/// before the field that needs it; field order is otherwise arbitrary on the wire.
fn shuffle_keeping_prerequisites(mut fields: Vec<Oxm>, picks: &[prop::sample::Index]) -> Vec<Oxm> {
    let mut out = Vec::with_capacity(fields.len());
    let mut turn = 0;
    while !fields.is_empty() {
        let ready: Vec<usize> = (0..fields.len())
            .filter(|&k| prerequisite_placed(&fields[k], &out))
            .collect();
        let k = ready[picks[turn % picks.len()].index(ready.len())];
        turn += 1;
        out.push(fields.remove(k));
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        prio: u16,
        fields: Vec<Oxm>,
        cookie: u64,
        check: bool,
    },
    Delete {
        fields: Vec<Oxm>,
        strict: bool,
        prio: u16,
        cookie_mask: u64,
        cookie: u64,
    },
    Modify {
        fields: Vec<Oxm>,
        strict: bool,
        prio: u16,
        port: u32,
    },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u16..3, arb_fields(), 0u64..3, any::<bool>())
            .prop_map(|(prio, fields, cookie, check)| Op::Add { prio, fields, cookie, check }),
        1 => (arb_fields(), any::<bool>(), 0u16..3, prop_oneof![Just(0u64), Just(u64::MAX)], 0u64..3)
            .prop_map(|(fields, strict, prio, cookie_mask, cookie)| Op::Delete { fields, strict, prio, cookie_mask, cookie }),
        1 => (arb_fields(), any::<bool>(), 0u16..3, 1u32..4)
            .prop_map(|(fields, strict, prio, port)| Op::Modify { fields, strict, prio, port }),
    ]
}

fn to_flow_mod(op: &Op) -> FlowMod {
    match op.clone() {
        Op::Add {
            prio,
            fields,
            cookie,
            check,
        } => {
            let mut fm = add(prio, fields, out(UPLINK));
            fm.cookie = cookie;
            fm.flags = if check { OFPFF_CHECK_OVERLAP } else { 0 };
            fm
        }
        Op::Delete {
            fields,
            strict,
            prio,
            cookie_mask,
            cookie,
        } => {
            let cmd = if strict {
                FlowModCommand::DeleteStrict
            } else {
                FlowModCommand::Delete
            };
            let mut fm = with(add(prio, fields, vec![]), cmd);
            fm.cookie = cookie;
            fm.cookie_mask = cookie_mask;
            fm
        }
        Op::Modify {
            fields,
            strict,
            prio,
            port,
        } => {
            let cmd = if strict {
                FlowModCommand::ModifyStrict
            } else {
                FlowModCommand::Modify
            };
            with(add(prio, fields, out(port)), cmd)
        }
    }
}

fn arb_packet() -> impl Strategy<Value = PacketHeaders> {
    (
        1u32..3,
        0u8..3,
        prop_oneof![Just(25u16), Just(587), Just(80)],
        any::<bool>(),
    )
        .prop_map(|(port, host, dport, frag)| {
            let p = PacketHeaders::tcp(
                port,
                ip("10.0.0.1"),
                1000,
                IpAddr::V4(Ipv4Addr::new(198, 51, 100, host)),
                dport,
            );
            if frag {
                p.fragment()
            } else {
                p
            }
        })
}

proptest! {
    #[test]
    fn invariants_hold_after_any_sequence(ops in proptest::collection::vec(arb_op(), 1..40)) {
        let now = Instant::now();
        let mut t = FlowTable::new(TableConfig { n_tables: 1, capacity: 1000 });
        for op in &ops {
            let fm = to_flow_mod(op);
            let before: Vec<FlowEntry> = t.entries().cloned().collect();
            let normal = crate::match_check::normalise(&fm.match_).expect("generated matches are valid");
            let result = t.apply(&fm, now);
            let after: Vec<FlowEntry> = t.entries().cloned().collect();
            // Sorted by descending priority; (priority, match) unique.
            prop_assert!(after.windows(2).all(|w| w[0].priority >= w[1].priority));
            for (i, a) in after.iter().enumerate() {
                for b in &after[i + 1..] {
                    prop_assert!(!(a.priority == b.priority && a.normal == b.normal));
                }
            }
            match (op, result) {
                (Op::Add { check: true, .. }, Err(TableError::Overlap { priority, .. })) => {
                    let clash = before.iter().any(|e| e.priority == priority && e.normal.overlaps(&normal));
                    let identical = before.iter().any(|e| e.priority == priority && e.normal == normal);
                    prop_assert!(clash && !identical);
                    prop_assert_eq!(&before, &after);
                }
                (Op::Add { prio, cookie, check, .. }, Ok(o)) => {
                    if *check && o.added == 1 {
                        let clash = before.iter().any(|e| e.priority == *prio && e.normal.overlaps(&normal));
                        prop_assert!(!clash);
                    }
                    prop_assert_eq!(o.added + o.replaced, 1);
                    let mine: Vec<_> = after.iter().filter(|e| e.priority == *prio && e.normal == normal).collect();
                    prop_assert_eq!(mine.len(), 1);
                    prop_assert_eq!(mine[0].cookie, *cookie);
                    prop_assert_eq!(after.len(), before.len() + o.added);
                }
                (Op::Delete { strict, prio, cookie, cookie_mask, .. }, Ok(o)) => {
                    prop_assert_eq!(after.len() + o.removed.len(), before.len());
                    let doomed = |e: &FlowEntry| {
                        let m = if *strict { e.priority == *prio && e.normal == normal } else { normal.covers(&e.normal) };
                        m && e.cookie & cookie_mask == cookie & cookie_mask
                    };
                    prop_assert!(o.removed.iter().all(doomed));
                    prop_assert!(!after.iter().any(doomed));
                }
                (Op::Modify { .. }, Ok(o)) => {
                    prop_assert_eq!(after.len(), before.len(), "MODIFY never adds or removes");
                    let changed = before.iter().zip(&after).filter(|(b, a)| b.instructions != a.instructions).count();
                    prop_assert!(changed <= o.modified);
                }
                (op, r) => prop_assert!(false, "unexpected {:?} for {:?}", r, op),
            }
        }
    }

    #[test]
    fn classify_picks_the_first_highest_priority_match(
        ops in proptest::collection::vec(arb_op(), 1..30),
        pkt in arb_packet(),
    ) {
        let now = Instant::now();
        let mut t = FlowTable::new(TableConfig { n_tables: 1, capacity: 1000 });
        for op in &ops {
            let _ = t.apply(&to_flow_mod(op), now);
        }
        let best = t.entries().filter(|e| e.normal.matches_packet(&pkt, 0)).map(|e| e.priority).max();
        let v = t.classify(&pkt);
        prop_assert_eq!(v.last_hit().map(|h| h.priority), best);
        prop_assert_eq!(v.miss.is_some(), best.is_none());
    }

    #[test]
    fn field_order_never_changes_the_outcome(
        fields in arb_fields(),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 5),
    ) {
        let now = Instant::now();
        let mut a = small();
        let mut b = small();
        a.apply(&add(3, fields.clone(), out(1)), now).expect("valid");
        let permuted = shuffle_keeping_prerequisites(fields.clone(), &picks);
        b.apply(&add(3, permuted.clone(), out(1)), now).expect("valid");
        let na: Vec<_> = a.entries().map(|e| e.normal.clone()).collect();
        let nb: Vec<_> = b.entries().map(|e| e.normal.clone()).collect();
        prop_assert_eq!(na, nb);
        // The permuted ADD replaces, and a strict DELETE with the other order removes it.
        a.apply(&add(3, permuted, out(2)), now).expect("valid");
        prop_assert_eq!(a.len(), 1);
        let del = with(add(3, fields, vec![]), FlowModCommand::DeleteStrict);
        prop_assert_eq!(a.apply(&del, now).expect("valid").removed.len(), 1);
    }
}

#[test]
fn a_flow_deleted_or_cleared_is_added_again_not_replaced() {
    let now = Instant::now();
    let mut t = small();
    let outcome = t.apply(&add(7, tcp4_dst(25), drop_()), now).expect("add");
    assert_eq!(outcome.added, 1);
    let again = t
        .apply(&add(7, tcp4_dst(25), out(1)), now)
        .expect("replace");
    assert_eq!((again.added, again.replaced), (0, 1));
    let del = with(add(7, tcp4_dst(25), vec![]), FlowModCommand::DeleteStrict);
    assert_eq!(t.apply(&del, now).expect("delete").removed.len(), 1);
    let back = t
        .apply(&add(7, tcp4_dst(25), drop_()), now)
        .expect("add again");
    assert_eq!((back.added, back.replaced), (1, 0));
    t.clear();
    let fresh = t
        .apply(&add(7, tcp4_dst(25), drop_()), now)
        .expect("after clear");
    assert_eq!((fresh.added, fresh.replaced), (1, 0));
    assert_eq!(t.len(), 1);
}
