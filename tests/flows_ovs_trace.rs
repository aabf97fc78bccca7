//! The flows `op25b plan` prints, installed on a real Open vSwitch bridge and checked with
//! `ovs-appctl ofproto/trace`: what is dropped and what is forwarded.
//!
//! Needs Open vSwitch installed and running (userspace datapath, no kernel module). When it is
//! not, these tests FAIL with instructions; they never skip.

use std::path::Path;
use std::process::Command;

use op25b_test_support::command::run;
use op25b_test_support::ovs::{forwards, require_ovs, Bridge};
use op25b_test_support::temp::temp_file;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

const POLICY: &str = r#"
[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29", "2001:db8:e::/48"]
fragments = "drop-tcp"

[defaults]
subscriber_ports = "all"
uplink_ports = [4]

[[switch]]
dpid = "0x77"
subscriber_ports = [1, 2]
uplink_ports = [4]
"#;

/// A uniquely named bridge with internal ports 1..=4 (see [`Bridge`]).
fn new_bridge() -> Bridge {
    Bridge::create(Bridge::unique_name("o25t"), None, 4, &[])
}

/// Installs what `op25b plan` prints for `dpid` on `bridge`, including its meter comment line.
fn install_plan(bridge: &Bridge, policy: &Path, dpid: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "plan",
            "--config",
            &policy.display().to_string(),
            "--dpid",
            dpid,
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "op25b plan failed: {plan}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in plan.lines() {
        if let Some(rest) = line.split("add-meter BRIDGE ").nth(1) {
            bridge.ofctl(&["add-meter", rest]);
        }
    }
    let file = temp_file("plan.txt", &plan);
    bridge.ofctl(&["add-flows", &file.display().to_string()]);
    let _ = std::fs::remove_file(&file);
    let dump = bridge.ofctl(&["dump-flows"]);
    let installed = dump
        .lines()
        .filter(|l| l.contains("cookie=0x4f50323542000000"))
        .count();
    let planned = plan.lines().filter(|l| l.starts_with("cookie=")).count();
    assert_eq!(installed, planned, "plan:\n{plan}\ndump:\n{dump}");
    plan
}

/// The trace's `Datapath actions:` (after the prefix) for `flow`.
fn trace_actions(bridge: &Bridge, flow: &str) -> String {
    trace_lines(bridge, &[flow]).1
}

/// Traces real packet bytes arriving on `in_port`: Open vSwitch extracts the fields itself.
/// Returns the trace's `Flow:` line (what it extracted) and its `Datapath actions:`.
fn trace_packet(bridge: &Bridge, in_port: u32, frame: &[u8]) -> (String, String) {
    trace_lines(
        bridge,
        &[&format!("in_port={in_port}"), &hex::encode(frame)],
    )
}

/// The `Flow:` and `Datapath actions:` lines (after their prefixes) of a trace.
fn trace_lines(bridge: &Bridge, args: &[&str]) -> (String, String) {
    let out = bridge.trace_output(args);
    let line = |prefix: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no {prefix:?} line in trace of {args:?}:\n{out}"))
    };
    (line("Flow: "), line("Datapath actions: "))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Want {
    Dropped,
    Forwarded,
}
use Want::*;

fn check_all(bridge: &Bridge, cases: &[(&str, Want)]) {
    let mut failures = Vec::new();
    for (flow, want) in cases {
        let actions = trace_actions(bridge, flow);
        let got = if forwards(&actions) {
            Forwarded
        } else {
            Dropped
        };
        if got != *want {
            failures.push(format!(
                "{flow}: want {want:?}, got {got:?} (Datapath actions: {actions})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

const SUB4: &str = "in_port=1,tcp,nw_src=10.0.0.1";
const SUB6: &str = "in_port=1,tcp6,ipv6_src=2001:db8:1::1";
/// An IPv6 fragment other than the first from a subscriber: Open vSwitch sees no TCP header,
/// only the Fragment extension header (44).
const LATER6: &str = "in_port=1,ipv6,ipv6_src=2001:db8:1::1,nw_proto=44,nw_frag=later";

fn all_mode_cases() -> Vec<(String, Want)> {
    let c = |s: String, w| (s, w);
    vec![
        c(format!("{SUB4},nw_dst=198.51.100.7,tp_dst=25"), Dropped),
        c(format!("{SUB4},nw_dst=192.0.2.25,tp_dst=25"), Forwarded),
        c(format!("{SUB4},nw_dst=198.51.100.7,tp_dst=587"), Forwarded),
        c(format!("{SUB4},nw_dst=198.51.100.7,tp_dst=465"), Forwarded),
        c(
            format!("{SUB4},nw_dst=198.51.100.7,tp_src=25,tp_dst=40000"),
            Forwarded,
        ),
        c(
            "in_port=1,udp,nw_src=10.0.0.1,nw_dst=198.51.100.7,udp_dst=25".into(),
            Forwarded,
        ),
        c(
            "in_port=1,tcp,nw_src=203.0.113.3,nw_dst=198.51.100.7,tp_dst=25".into(),
            Forwarded,
        ),
        c(
            "in_port=4,tcp,nw_src=198.51.100.9,nw_dst=198.51.100.7,tp_dst=25".into(),
            Forwarded,
        ),
        c(
            "in_port=3,tcp,nw_src=10.0.0.3,nw_dst=198.51.100.7,tp_dst=25".into(),
            Dropped,
        ),
        c(
            format!("{SUB4},nw_dst=198.51.100.7,tp_dst=25,nw_frag=first"),
            Dropped,
        ),
        c(format!("{SUB4},nw_dst=198.51.100.7,nw_frag=later"), Dropped),
        c(
            format!("{SUB4},nw_dst=192.0.2.25,tp_dst=25,nw_frag=first"),
            Forwarded,
        ),
        c(
            "in_port=1,tcp,nw_src=203.0.113.3,nw_dst=198.51.100.7,tp_dst=25,nw_frag=first".into(),
            Forwarded,
        ),
        c(
            "in_port=1,udp,nw_src=10.0.0.1,nw_dst=198.51.100.7,nw_frag=later".into(),
            Forwarded,
        ),
        c(format!("{SUB6},ipv6_dst=2001:db8:2::7,tp_dst=25"), Dropped),
        c(format!("{SUB6},ipv6_dst=2001:db8::25,tp_dst=25"), Forwarded),
        c(
            format!("{SUB6},ipv6_dst=2001:db8:2::7,tp_dst=587"),
            Forwarded,
        ),
        c(
            format!("{SUB6},ipv6_dst=2001:db8:2::7,tp_src=25,tp_dst=40000"),
            Forwarded,
        ),
        c(
            "in_port=1,udp6,ipv6_src=2001:db8:1::1,ipv6_dst=2001:db8:2::7,udp_dst=25".into(),
            Forwarded,
        ),
        c(
            "in_port=1,tcp6,ipv6_src=2001:db8:e::9,ipv6_dst=2001:db8:2::7,tp_dst=25".into(),
            Forwarded,
        ),
        c(
            "in_port=4,tcp6,ipv6_src=2001:db8:9::1,ipv6_dst=2001:db8:2::7,tp_dst=25".into(),
            Forwarded,
        ),
        c(
            format!("{SUB6},ipv6_dst=2001:db8:2::7,tp_dst=25,nw_frag=first"),
            Dropped,
        ),
        c(
            format!("{SUB6},ipv6_dst=2001:db8:2::7,nw_frag=later"),
            Dropped,
        ),
        c(
            format!("{SUB6},ipv6_dst=2001:db8::25,nw_frag=later"),
            Forwarded,
        ),
        // IPv4 later fragments keep nw_proto=6 (the IPv4 header is in every fragment).
        c(format!("{SUB4},nw_dst=192.0.2.25,nw_frag=later"), Forwarded),
        c(
            "in_port=1,tcp,nw_src=203.0.113.3,nw_dst=198.51.100.7,nw_frag=later".into(),
            Forwarded,
        ),
        // IPv6 later fragments, as Open vSwitch really classifies them: by the Fragment header.
        c(format!("{LATER6},ipv6_dst=2001:db8:2::7"), Dropped),
        c(format!("{LATER6},ipv6_dst=2001:db8::25"), Forwarded),
        c(
            "in_port=1,ipv6,ipv6_src=2001:db8:e::9,ipv6_dst=2001:db8:2::7,nw_proto=44,nw_frag=later"
                .into(),
            Forwarded,
        ),
        c(
            "in_port=4,ipv6,ipv6_src=2001:db8:2::7,ipv6_dst=2001:db8:1::1,nw_proto=44,nw_frag=later"
                .into(),
            Forwarded,
        ),
    ]
}

fn as_refs(v: &[(String, Want)]) -> Vec<(&str, Want)> {
    v.iter().map(|(s, w)| (s.as_str(), *w)).collect()
}

#[test]
fn defaults_with_sampling_drop_exactly_the_policed_traffic() {
    let bridge = new_bridge();
    let policy = temp_file("policy.toml", POLICY);
    let plan = install_plan(&bridge, &policy, "0x1");
    let _ = std::fs::remove_file(&policy);
    assert!(plan.contains("actions=meter:1,controller:128"), "{plan}");
    check_all(&bridge, &as_refs(&all_mode_cases()));
    // A sampled drop goes through the meter to the controller and nowhere else.
    let a = trace_actions(&bridge, &format!("{SUB4},nw_dst=198.51.100.7,tp_dst=25"));
    assert!(
        a.starts_with("meter(") && a.contains("userspace(") && a.contains("controller("),
        "{a}"
    );
}

#[test]
fn without_reporting_blocked_attempts_are_plain_drops() {
    let bridge = new_bridge();
    let policy = temp_file(
        "policy.toml",
        &format!("{POLICY}\n[reporting]\nenabled = false\n"),
    );
    let plan = install_plan(&bridge, &policy, "1");
    let _ = std::fs::remove_file(&policy);
    assert!(!plan.contains("meter"), "{plan}");
    check_all(&bridge, &as_refs(&all_mode_cases()));
    assert_eq!(
        trace_actions(&bridge, &format!("{SUB4},nw_dst=198.51.100.7,tp_dst=25")),
        "drop"
    );
    assert_eq!(
        trace_actions(&bridge, &format!("{SUB6},ipv6_dst=2001:db8:2::7,tp_dst=25")),
        "drop"
    );
}

#[test]
fn a_listed_switch_polices_only_its_subscriber_ports() {
    let bridge = new_bridge();
    let policy = temp_file("policy.toml", POLICY);
    install_plan(&bridge, &policy, "00:00:00:00:00:00:00:77");
    let _ = std::fs::remove_file(&policy);
    check_all(
        &bridge,
        &[
            (
                "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=25",
                Dropped,
            ),
            (
                "in_port=2,tcp6,ipv6_src=2001:db8:1::2,ipv6_dst=2001:db8:2::7,tp_dst=25",
                Dropped,
            ),
            (
                "in_port=2,tcp,nw_src=10.0.0.2,nw_dst=198.51.100.7,nw_frag=later",
                Dropped,
            ),
            (
                "in_port=2,ipv6,ipv6_src=2001:db8:1::2,ipv6_dst=2001:db8:2::7,nw_proto=44,nw_frag=later",
                Dropped,
            ),
            (
                "in_port=3,ipv6,ipv6_src=2001:db8:1::3,ipv6_dst=2001:db8:2::7,nw_proto=44,nw_frag=later",
                Forwarded,
            ),
            (
                "in_port=2,ipv6,ipv6_src=2001:db8:1::2,ipv6_dst=2001:db8::25,nw_proto=44,nw_frag=later",
                Forwarded,
            ),
            // Port 3 is neither subscriber nor uplink on this switch: not policed.
            (
                "in_port=3,tcp,nw_src=10.0.0.3,nw_dst=198.51.100.7,tp_dst=25",
                Forwarded,
            ),
            (
                "in_port=4,tcp,nw_src=198.51.100.9,nw_dst=198.51.100.7,tp_dst=25",
                Forwarded,
            ),
            (
                "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=192.0.2.25,tp_dst=25",
                Forwarded,
            ),
            (
                "in_port=1,tcp,nw_src=203.0.113.1,nw_dst=198.51.100.7,tp_dst=25",
                Forwarded,
            ),
            (
                "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=587",
                Forwarded,
            ),
        ],
    );
}

#[test]
fn the_forwarded_check_recognises_ovs_output() {
    assert!(forwards("20,22,23,24"));
    assert!(!forwards("drop"));
    assert!(!forwards(
        "meter(0),userspace(pid=0,controller(reason=1,dont_send=1,continuation=0,recirc_id=2411,rule_cookie=0x4f50323542000000,controller_id=0,max_len=128))"
    ));
}

/// The bytes op25b's FLOW_MODs encode to, decoded by Open vSwitch's own `ofp-print`, read back
/// as the same flows `plan` prints.
#[test]
fn flow_mod_bytes_decode_in_ovs_as_planned() {
    use op25b::flows::{desired_flows, flow_mods_for, ofctl_line, SwitchView};
    use op25b::policy::{Config, Dpid, PortNo};
    use op25b_proto::message::{Message, OfpMessage};
    require_ovs();
    // The layout of switch 0x77 and a switch with bound exemptions and an extra EtherType
    // (`dl_type=0x88cc`).
    let lldp = BOUND.replace(
        "exempt_sources = []",
        "exempt_sources = []\nsubscriber_ethertypes = [\"lldp\"]",
    );
    for (text, dpid) in [(POLICY, 0x77), (lldp.as_str(), 0x78)] {
        let loaded = Config::parse(text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let policy = loaded.config.policy();
        let d = desired_flows(policy, &SwitchView::new(Dpid(dpid), (1..=4).map(PortNo)));
        for (fm, spec) in flow_mods_for(&d).into_iter().zip(&d.flows) {
            let bytes = OfpMessage::new(7, Message::FlowMod(fm)).to_bytes();
            let (ok, out) = run("ovs-ofctl", &["ofp-print", &hex::encode(&bytes)]);
            assert!(ok && !out.contains("***"), "ofp-print: {out}");
            // `plan` prints e.g. "...,priority=20000,in_port=1,tcp,tp_dst=25,actions=..."; OVS prints
            // "OFPT_FLOW_MOD ... ADD priority=20000,tcp,in_port=1,tp_dst=25 cookie:0x... actions=..."
            let line = ofctl_line(d.cookie, spec);
            let fields = line.split(",actions=").next().unwrap_or_default();
            for f in fields.split(',').skip(2) {
                assert!(out.contains(f), "{f} of {line} missing in:\n{out}");
            }
            let actions = line.split(",actions=").nth(1).unwrap_or_default();
            let want = actions.replace("controller:128", "CONTROLLER:128");
            assert!(
                out.contains(&format!("actions={want}")),
                "actions {want} missing in:\n{out}"
            );
        }
    }
}

// ---------- real fragment bytes ----------

/// Ethernet + IPv4 header (protocol 6, id 77, fragment offset `offset8` x 8 bytes, MF as
/// given, header checksum filled in) + `payload`.
fn ipv4_fragment(src: [u8; 4], dst: [u8; 4], offset8: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(
        &u16::try_from(20 + payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    ip.extend_from_slice(&77u16.to_be_bytes());
    ip.extend_from_slice(&(offset8 | if more { 0x2000 } else { 0 }).to_be_bytes());
    ip.extend_from_slice(&[64, 6, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ethernet(0x0800, &[ip, payload.to_vec()].concat())
}

/// Ethernet + IPv6 header (next header 44) + Fragment header (next header 6, id 77, offset
/// `offset8` x 8 bytes, M flag as given) + `payload`.
fn ipv6_fragment(src: &str, dst: &str, offset8: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let addr = |a: &str| {
        a.parse::<std::net::Ipv6Addr>()
            .unwrap_or_else(|e| panic!("{a}: {e}"))
            .octets()
    };
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(
        &u16::try_from(8 + payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    ip.extend_from_slice(&[44, 64]);
    ip.extend_from_slice(&addr(src));
    ip.extend_from_slice(&addr(dst));
    ip.extend_from_slice(&[6, 0]);
    ip.extend_from_slice(&((offset8 << 3) | u16::from(more)).to_be_bytes());
    ip.extend_from_slice(&77u32.to_be_bytes());
    ethernet(0x86dd, &[ip, payload.to_vec()].concat())
}

fn ethernet(eth_type: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1];
    f.extend_from_slice(&eth_type.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// A TCP SYN header to port 25 (no checksum: nothing here verifies it).
fn syn_to_25() -> Vec<u8> {
    let mut t = vec![
        0x9c, 0x41, 0, 25, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0,
    ];
    t.extend_from_slice(&[0, 0, 0, 0]);
    t
}

/// Fragments built byte by byte, classified by Open vSwitch itself: the IPv6 later fragment
/// really is `nw_proto=44,nw_frag=later`, and each fragment gets the verdict the policy wants.
#[test]
fn real_fragment_bytes_meet_the_planned_flows() {
    let bridge = new_bridge();
    let policy = temp_file("policy.toml", POLICY);
    install_plan(&bridge, &policy, "1");
    let _ = std::fs::remove_file(&policy);
    let rest = [0u8; 24];
    let sub4 = [10, 0, 0, 1];
    let foreign4 = [198, 51, 100, 7];
    let relay4 = [192, 0, 2, 25];
    let cases: Vec<(&str, u32, Vec<u8>, &str, Want)> = vec![
        (
            "v4 first fragment -> foreign",
            1,
            ipv4_fragment(sub4, foreign4, 0, true, &syn_to_25()),
            "nw_frag=first",
            Dropped,
        ),
        (
            "v4 later fragment -> foreign",
            1,
            ipv4_fragment(sub4, foreign4, 3, false, &rest),
            "nw_frag=later",
            Dropped,
        ),
        (
            "v4 later fragment -> relay",
            1,
            ipv4_fragment(sub4, relay4, 3, false, &rest),
            "nw_frag=later",
            Forwarded,
        ),
        (
            "v4 later fragment from exempt -> foreign",
            1,
            ipv4_fragment([203, 0, 113, 3], foreign4, 3, false, &rest),
            "nw_frag=later",
            Forwarded,
        ),
        (
            "v6 first fragment -> foreign",
            1,
            ipv6_fragment("2001:db8:1::1", "2001:db8:2::7", 0, true, &syn_to_25()),
            "nw_frag=first",
            Dropped,
        ),
        (
            "v6 later fragment -> foreign",
            1,
            ipv6_fragment("2001:db8:1::1", "2001:db8:2::7", 3, false, &rest),
            "nw_proto=44",
            Dropped,
        ),
        (
            "v6 later fragment -> relay",
            1,
            ipv6_fragment("2001:db8:1::1", "2001:db8::25", 3, false, &rest),
            "nw_proto=44",
            Forwarded,
        ),
        (
            "v6 later fragment from exempt -> foreign",
            1,
            ipv6_fragment("2001:db8:e::9", "2001:db8:2::7", 3, false, &rest),
            "nw_proto=44",
            Forwarded,
        ),
        (
            "v6 later fragment from the uplink",
            4,
            ipv6_fragment("2001:db8:2::7", "2001:db8:1::1", 3, false, &rest),
            "nw_proto=44",
            Forwarded,
        ),
    ];
    let mut failures = Vec::new();
    for (name, in_port, frame, classified, want) in &cases {
        let (flow, actions) = trace_packet(&bridge, *in_port, frame);
        let got = if forwards(&actions) {
            Forwarded
        } else {
            Dropped
        };
        let later6 = *classified == "nw_proto=44";
        let extracted = flow.contains(classified)
            && (!later6 || (flow.starts_with("ipv6,") && flow.contains("nw_frag=later")));
        if got != *want || !extracted {
            failures.push(format!(
                "{name}: want {want:?} with {classified}, got {got:?}\n  Flow: {flow}\n  Datapath actions: {actions}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------- frames that try to carry TCP/25 past the drop (issue 12) ----------

/// `ethernet()` with VLAN tags (TPID, VLAN id) between the addresses and the EtherType.
fn tagged(tags: &[(u16, u16)], eth_type: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1];
    for (tpid, vid) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&vid.to_be_bytes());
    }
    f.extend_from_slice(&eth_type.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// The ones' complement sum over `bytes` (an IPv4 header checksum when the field is zero).
fn checksum(bytes: &[u8]) -> u16 {
    let sum = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum::<u32>();
    let folded = (sum & 0xffff) + (sum >> 16);
    !u16::try_from((folded & 0xffff) + (folded >> 16)).unwrap_or(u16::MAX)
}

/// An IPv4 packet (no Ethernet) carrying a TCP SYN to `dst_port`, with `options` (a multiple of
/// 4 bytes) in the IP header.
fn ipv4_syn(src: [u8; 4], dst: [u8; 4], dst_port: u16, options: &[u8]) -> Vec<u8> {
    let tcp = syn_to(dst_port);
    let header_len = 20 + options.len();
    let ihl = u8::try_from(header_len / 4).unwrap_or(15);
    let mut ip = vec![0x40 | ihl, 0];
    ip.extend_from_slice(
        &u16::try_from(header_len + tcp.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    ip.extend_from_slice(&[0, 78, 0x40, 0, 64, 6, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    ip.extend_from_slice(options);
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    [ip, tcp].concat()
}

/// A TCP SYN header to `port` (no checksum: nothing here verifies it).
fn syn_to(port: u16) -> Vec<u8> {
    let mut t = syn_to_25();
    t[2..4].copy_from_slice(&port.to_be_bytes());
    t
}

fn v6(a: &str) -> [u8; 16] {
    a.parse::<std::net::Ipv6Addr>()
        .unwrap_or_else(|e| panic!("{a}: {e}"))
        .octets()
}

/// An IPv6 packet (no Ethernet): `src` -> `dst`, the extension headers `ext` (next-header values,
/// each header 8 bytes: options all Pad1, or a routing header with no segments left), then
/// `last` (protocol number) with `payload`.
fn ipv6_packet(src: &str, dst: &str, ext: &[u8], last: u8, payload: &[u8]) -> Vec<u8> {
    let chain: Vec<u8> = ext.iter().copied().chain([last]).collect();
    let mut body = Vec::new();
    for next in &chain[1..] {
        // next header, length 0 (8 bytes), then zeros.
        body.extend_from_slice(&[*next, 0, 0, 0, 0, 0, 0, 0]);
    }
    body.extend_from_slice(payload);
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
    ip.extend_from_slice(&[chain[0], 64]);
    ip.extend_from_slice(&v6(src));
    ip.extend_from_slice(&v6(dst));
    [ip, body].concat()
}

/// An MPLS label stack entry: label, bottom of stack, TTL 64.
fn mpls(label: u32, body: &[u8]) -> Vec<u8> {
    let entry = (label << 12) | (1 << 8) | 64;
    [entry.to_be_bytes().to_vec(), body.to_vec()].concat()
}

/// A PPPoE session header (session 1) and the PPP protocol IPv4 (0x0021) around `ip`.
fn pppoe_ipv4(ip: &[u8]) -> Vec<u8> {
    let len = u16::try_from(ip.len() + 2).unwrap_or(u16::MAX);
    let mut f = vec![0x11, 0x00, 0x00, 0x01];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&[0x00, 0x21]);
    f.extend_from_slice(ip);
    f
}

/// An ARP request: who has `target`, tell `sender`.
fn arp_request(sender: [u8; 4], target: [u8; 4]) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1, 0, 0, 0, 0, 0, 1];
    a.extend_from_slice(&sender);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&target);
    ethernet(0x0806, &a)
}

/// An ICMPv6 neighbour solicitation for `target` (no checksum: nothing here verifies it).
fn neighbour_solicitation(src: &str, target: &str) -> Vec<u8> {
    let t = v6(target);
    let solicited = format!("ff02::1:ff{:02x}:{:02x}{:02x}", t[13], t[14], t[15]);
    let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&t);
    let mut ip = ipv6_packet(src, &solicited, &[], 58, &icmp);
    ip[7] = 255; // hop limit 255, as ND requires
    ethernet(0x86dd, &ip)
}

/// An LLDP frame (chassis id, port id, TTL, end).
fn lldp() -> Vec<u8> {
    let tlvs = [
        vec![0x02, 0x07, 4, 0, 0, 0, 0, 0, 1],
        vec![0x04, 0x02, 7, b'1'],
        vec![0x06, 0x02, 0, 120],
        vec![0, 0],
    ]
    .concat();
    ethernet(0x88cc, &tlvs)
}

const SUB_V4: [u8; 4] = [10, 0, 0, 1];
const FOREIGN_V4: [u8; 4] = [198, 51, 100, 7];
const RELAY_V4: [u8; 4] = [192, 0, 2, 25];
/// The IPv4 options of a record-route option with room for one address, then end of list.
const RECORD_ROUTE: [u8; 8] = [7, 7, 4, 0, 0, 0, 0, 0];
/// Hop-by-hop options (0), then destination options (60), before the upper layer.
const HBH_DEST: [u8; 2] = [0, 60];
/// Hop-by-hop options, a routing header (43), destination options.
const HBH_ROUTING_DEST: [u8; 3] = [0, 43, 60];

struct FrameCase {
    name: &'static str,
    in_port: u32,
    frame: Vec<u8>,
    /// What Open vSwitch must extract (pieces of the trace's `Flow:` line).
    classified: &'static [&'static str],
    want: Want,
}

fn case(
    name: &'static str,
    in_port: u32,
    frame: Vec<u8>,
    classified: &'static [&'static str],
    want: Want,
) -> FrameCase {
    FrameCase {
        name,
        in_port,
        frame,
        classified,
        want,
    }
}

/// Every frame that carries a TCP SYN to port 25 from a subscriber towards a foreign host,
/// wrapped so that a plain `tcp,tp_dst=25` drop does not see it (or would, if the wrapping
/// were the only problem), and the controls that must still pass.
fn bypass_cases() -> Vec<FrameCase> {
    let syn = ipv4_syn(SUB_V4, FOREIGN_V4, 25, &[]);
    let to_relay = ipv4_syn(SUB_V4, RELAY_V4, 25, &[]);
    let syn6 =
        |dst: &str, port: u16| ipv6_packet("2001:db8:1::1", dst, &HBH_DEST, 6, &syn_to(port));
    vec![
        case(
            "untagged TCP/25",
            1,
            ethernet(0x0800, &syn),
            &["tcp,"],
            Dropped,
        ),
        case(
            "QinQ 88a8+8100 TCP/25",
            1,
            tagged(&[(0x88a8, 100), (0x8100, 200)], 0x0800, &syn),
            &["dl_type=0x8100"],
            Dropped,
        ),
        case(
            "8100+8100 TCP/25",
            1,
            tagged(&[(0x8100, 100), (0x8100, 200)], 0x0800, &syn),
            &["dl_type=0x8100"],
            Dropped,
        ),
        case(
            "MPLS 8847 TCP/25",
            1,
            ethernet(0x8847, &mpls(16, &syn)),
            &["mpls,"],
            Dropped,
        ),
        case(
            "MPLS 8848 TCP/25",
            1,
            ethernet(0x8848, &mpls(16, &syn)),
            &["mplsm,"],
            Dropped,
        ),
        case(
            "PPPoE session TCP/25",
            1,
            ethernet(0x8864, &pppoe_ipv4(&syn)),
            &["dl_type=0x8864"],
            Dropped,
        ),
        case(
            "802.1Q-tagged TCP/25",
            1,
            tagged(&[(0x8100, 100)], 0x0800, &syn),
            &["tcp,", "dl_vlan=100"],
            Dropped,
        ),
        case(
            "802.1ad-tagged TCP/25",
            1,
            tagged(&[(0x88a8, 100)], 0x0800, &syn),
            &["tcp,", "dl_vlan=100"],
            Dropped,
        ),
        case(
            "IPv6 hop-by-hop + destination options TCP/25",
            1,
            ethernet(0x86dd, &syn6("2001:db8:2::7", 25)),
            &["tcp6,"],
            Dropped,
        ),
        case(
            "IPv6 hop-by-hop + routing + destination options TCP/25",
            1,
            ethernet(
                0x86dd,
                &ipv6_packet(
                    "2001:db8:1::1",
                    "2001:db8:2::7",
                    &HBH_ROUTING_DEST,
                    6,
                    &syn_to(25),
                ),
            ),
            &["tcp6,"],
            Dropped,
        ),
        case(
            "IPv4 with options TCP/25",
            1,
            ethernet(0x0800, &ipv4_syn(SUB_V4, FOREIGN_V4, 25, &RECORD_ROUTE)),
            &["tcp,"],
            Dropped,
        ),
        case(
            "LLDP from a subscriber port",
            1,
            lldp(),
            &["dl_type=0x88cc"],
            Dropped,
        ),
        // Controls: the same kinds of frames where the policy allows them.
        case(
            "802.1Q-tagged TCP/25 to the relay",
            1,
            tagged(&[(0x8100, 100)], 0x0800, &to_relay),
            &["tcp,", "dl_vlan=100"],
            Forwarded,
        ),
        case(
            "802.1ad-tagged TCP/25 to the relay",
            1,
            tagged(&[(0x88a8, 100)], 0x0800, &to_relay),
            &["tcp,", "dl_vlan=100"],
            Forwarded,
        ),
        case(
            "IPv6 hop-by-hop + destination options TCP/25 to the relay",
            1,
            ethernet(0x86dd, &syn6("2001:db8::25", 25)),
            &["tcp6,"],
            Forwarded,
        ),
        case(
            "IPv4 with options TCP/25 to the relay",
            1,
            ethernet(0x0800, &ipv4_syn(SUB_V4, RELAY_V4, 25, &RECORD_ROUTE)),
            &["tcp,"],
            Forwarded,
        ),
        case(
            "IPv6 TCP/587",
            1,
            ethernet(
                0x86dd,
                &ipv6_packet("2001:db8:1::1", "2001:db8:2::7", &[], 6, &syn_to(587)),
            ),
            &["tcp6,"],
            Forwarded,
        ),
        case(
            "ARP request",
            1,
            arp_request(SUB_V4, [10, 0, 0, 254]),
            &["arp,"],
            Forwarded,
        ),
        case(
            "IPv6 neighbour solicitation",
            1,
            neighbour_solicitation("2001:db8:1::1", "2001:db8:2::7"),
            &["icmp6,"],
            Forwarded,
        ),
        case(
            "QinQ TCP/25 from the uplink",
            4,
            tagged(&[(0x88a8, 100), (0x8100, 200)], 0x0800, &syn),
            &["dl_type=0x8100"],
            Forwarded,
        ),
    ]
}

/// Traces each case's bytes; every case must be classified as described and get its verdict.
fn check_frames(bridge: &Bridge, cases: &[FrameCase]) {
    let mut failures = Vec::new();
    for c in cases {
        let (flow, actions) = trace_packet(bridge, c.in_port, &c.frame);
        let got = if forwards(&actions) {
            Forwarded
        } else {
            Dropped
        };
        if got != c.want || !c.classified.iter().all(|piece| flow.contains(piece)) {
            failures.push(format!(
                "{}: want {:?} with {:?}, got {got:?}\n  Flow: {flow}\n  Datapath actions: {actions}",
                c.name, c.want, c.classified
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Stacked VLANs, MPLS and PPPoE sessions carrying TCP/25 are dropped on policed ports (only
/// IPv4, IPv6 and ARP pass them); single tags, IPv6 extension headers and IPv4 options are
/// seen through and blocked exactly like plain TCP/25; the controls pass.
#[test]
fn wrapped_tcp_25_from_a_subscriber_is_dropped_and_the_controls_pass() {
    for (dpid, reporting) in [("1", ""), ("0x77", "\n[reporting]\nenabled = false\n")] {
        let bridge = new_bridge();
        let policy = temp_file("policy.toml", &format!("{POLICY}{reporting}"));
        install_plan(&bridge, &policy, dpid);
        let _ = std::fs::remove_file(&policy);
        check_frames(&bridge, &bypass_cases());
    }
}

/// `subscriber_ethertypes` opens exactly the types it names: LLDP passes, and MPLS too (with
/// TCP/25 inside it: the hole `check` warns about), while PPPoE sessions stay dropped.
#[test]
fn subscriber_ethertypes_open_exactly_the_listed_types() {
    let bridge = new_bridge();
    let text = POLICY.replace(
        "fragments = \"drop-tcp\"",
        "fragments = \"drop-tcp\"\nsubscriber_ethertypes = [\"lldp\", \"0x8847\"]",
    );
    let policy = temp_file("policy.toml", &text);
    install_plan(&bridge, &policy, "1");
    let _ = std::fs::remove_file(&policy);
    let syn = ipv4_syn(SUB_V4, FOREIGN_V4, 25, &[]);
    check_frames(
        &bridge,
        &[
            case("LLDP", 1, lldp(), &["dl_type=0x88cc"], Forwarded),
            case(
                "MPLS 8847 TCP/25",
                1,
                ethernet(0x8847, &mpls(16, &syn)),
                &["mpls,"],
                Forwarded,
            ),
            case(
                "MPLS 8848 TCP/25",
                1,
                ethernet(0x8848, &mpls(16, &syn)),
                &["mplsm,"],
                Dropped,
            ),
            case(
                "PPPoE session TCP/25",
                1,
                ethernet(0x8864, &pppoe_ipv4(&syn)),
                &["dl_type=0x8864"],
                Dropped,
            ),
            case(
                "untagged TCP/25",
                1,
                ethernet(0x0800, &syn),
                &["tcp,"],
                Dropped,
            ),
        ],
    );
}

/// A business line's exemption bound to its port: its sources pass there, and the same source
/// address from any other port (a subscriber spoofing it) is blocked.
const BOUND: &str = r#"
[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = []
fragments = "drop-tcp"

[[switch]]
dpid = "0x78"
subscriber_ports = [1, 2]
uplink_ports = [4]
[[switch.exempt]]
port = 2
sources = ["203.0.113.0/29", "2001:db8:b::/64"]

[[switch]]
dpid = "0x79"
subscriber_ports = "all"
uplink_ports = [4]
[[switch.exempt]]
port = 2
sources = ["203.0.113.0/29", "2001:db8:b::/64"]
"#;

#[test]
fn an_exemption_bound_to_a_port_holds_only_there() {
    for dpid in ["0x78", "0x79"] {
        let bridge = new_bridge();
        let policy = temp_file("policy.toml", BOUND);
        let plan = install_plan(&bridge, &policy, dpid);
        let _ = std::fs::remove_file(&policy);
        assert!(
            plan.contains("priority=29000,in_port=2,tcp,nw_src=203.0.113.0/29,actions=NORMAL"),
            "{plan}"
        );
        let v4 = |port: u32, src: &str| {
            format!("in_port={port},tcp,nw_src={src},nw_dst=198.51.100.7,tp_dst=25")
        };
        let v6 = |port: u32, src: &str| {
            format!("in_port={port},tcp6,ipv6_src={src},ipv6_dst=2001:db8:2::7,tp_dst=25")
        };
        let later6 = |port: u32, src: &str| {
            format!("in_port={port},ipv6,ipv6_src={src},ipv6_dst=2001:db8:2::7,nw_proto=44,nw_frag=later")
        };
        // Port 3 is policed only on 0x79 ("all").
        let port3 = if dpid == "0x79" { Dropped } else { Forwarded };
        let cases = [
            (v4(2, "203.0.113.2"), Forwarded),
            (v4(1, "203.0.113.2"), Dropped),
            (v4(3, "203.0.113.2"), port3),
            (v4(2, "10.0.0.2"), Dropped),
            (v6(2, "2001:db8:b::2"), Forwarded),
            (v6(1, "2001:db8:b::2"), Dropped),
            (later6(2, "2001:db8:b::2"), Forwarded),
            (later6(1, "2001:db8:b::2"), Dropped),
            (format!("{},nw_frag=first", v4(2, "203.0.113.2")), Forwarded),
            (format!("{},nw_frag=first", v4(1, "203.0.113.2")), Dropped),
            (v4(4, "203.0.113.2"), Forwarded),
        ];
        check_all(&bridge, &as_refs(&cases));
        // The same, from real bytes: a spoofed exempt source on the wrong port.
        let spoofed = ethernet(0x0800, &ipv4_syn([203, 0, 113, 2], FOREIGN_V4, 25, &[]));
        check_frames(
            &bridge,
            &[
                case(
                    "exempt source on its port",
                    2,
                    spoofed.clone(),
                    &["tcp,"],
                    Forwarded,
                ),
                case(
                    "spoofed exempt source on port 1",
                    1,
                    spoofed,
                    &["tcp,"],
                    Dropped,
                ),
            ],
        );
    }
}
