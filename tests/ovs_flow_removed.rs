//! `op25b run` (the real binary) against a real Open vSwitch bridge (userspace datapath,
//! fail_mode=secure, OpenFlow 1.3), with `audit_interval_secs = 3600` so that no audit can
//! repair anything during the test:
//! 1. every flow it installs carries `send_flow_rem`;
//! 2. after `ovs-ofctl del-flows` from another connection, the switch's FLOW_REMOVED makes it
//!    re-sync, and `ofproto/trace` shows enforcement back (TCP/25 to a foreign host dropped by
//!    our flow, TCP/587 forwarded) within 2 s;
//! 3. a reload that deletes stale flows of ours (which now also send FLOW_REMOVED back) settles:
//!    the syncs stop, no re-sync loop;
//! 4. flows an older op25b installed without `send_flow_rem` (`op25b plan` output loaded with
//!    `ovs-ofctl add-flows`) are replaced in place (modified = all, added = removed = 0) while a
//!    prober's `ofproto/trace` of TCP/25 to a foreign host never shows anything but `drop`.
//!
//! Needs Open vSwitch installed and running. When it is not, this test FAILS with instructions;
//! it never skips.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use op25b_test_support::command::run;
use op25b_test_support::net::free_port;
use op25b_test_support::op25b_run::{listener_addr, Op25bRun};
use op25b_test_support::ovs::{last_datapath_actions, require_ovs, Bridge};
use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
const DPID: u64 = 0x0000_0000_0000_25f2;
const COOKIE_HEX: &str = "cookie=0x4f50323542000000,";
const FOREIGN_25: &str = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=25";
const FOREIGN_587: &str = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=587";
/// How long after `del-flows` enforcement must be back (FLOW_REMOVED, not the audit).
const RESTORE_WITHIN: Duration = Duration::from_secs(2);

fn policy(relay: &str) -> String {
    format!(
        r#"
[controller]
echo_interval_secs = 5
echo_timeout_secs = 15
audit_interval_secs = 3600

[policy]
blocked_ports = [25]
relays = ["{relay}", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29"]
forwarding = "normal"
fragments = "drop-tcp"

[reporting]
enabled = false

[[switch]]
dpid = {DPID}
name = "ovs-flow-removed"
subscriber_ports = "all"
uplink_ports = [3]
"#
    )
}

/// A userspace bridge with internal ports 1..=3, with `controller` set if given.
fn new_bridge(controller: Option<std::net::SocketAddr>) -> Bridge {
    let bridge = Bridge::create(
        Bridge::unique_name("o25r"),
        Some(&format!("{DPID:016x}")),
        3,
        &[],
    );
    if let Some(c) = controller {
        bridge.set_controller(c);
    }
    bridge
}

/// Our policy in force on `bridge`: TCP/25 to a foreign host dropped by one of our flows (not
/// a table miss: TCP/587 on the same path is forwarded).
fn enforcing(bridge: &Bridge) -> bool {
    bridge.trace(FOREIGN_25) == "Datapath actions: drop"
        && bridge.trace(FOREIGN_587) != "Datapath actions: drop"
}

/// Our flows (our cookie) on `bridge` as `dump-flows` lines.
fn our_flows(bridge: &Bridge) -> Vec<String> {
    bridge
        .ofctl(&["dump-flows"])
        .lines()
        .filter(|l| l.contains(COOKIE_HEX))
        .map(str::to_string)
        .collect()
}

fn poll(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `duration=` of a `dump-flows` line, in seconds.
fn age(line: &str) -> f64 {
    line.split(", ")
        .find_map(|f| f.trim().strip_prefix("duration="))
        .and_then(|d| d.trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no duration in {line}"))
}

fn is_sync_line(l: &str) -> bool {
    l.contains("in sync after applying changes") || l.contains("in sync; nothing to change")
}

#[test]
fn flow_removed_restores_enforcement_after_del_flows_without_waiting_for_the_audit() {
    require_ovs();
    let dir = temp_dir("flowrem");
    let config = dir.join("policy.toml");
    std::fs::write(&config, policy("192.0.2.25/32")).expect("write policy");

    let mut op = Op25bRun::start(BIN, &config, "127.0.0.1:0", "op25b=debug");
    let ready = op.wait_line(&["OpenFlow listener ready"], Duration::from_secs(10));
    let bridge = new_bridge(Some(listener_addr(&ready)));
    op.wait_line(&["in sync after applying changes"], Duration::from_secs(15));
    assert!(
        poll(Duration::from_secs(5), || enforcing(&bridge)).is_some(),
        "not enforcing after the first sync: 25 -> {}, 587 -> {}",
        bridge.trace(FOREIGN_25),
        bridge.trace(FOREIGN_587)
    );

    // 1. Every flow of ours asks for FLOW_REMOVED.
    let flows = our_flows(&bridge);
    assert!(flows.len() >= 5, "{flows:#?}");
    for f in &flows {
        assert!(
            f.contains(" send_flow_rem "),
            "flow without send_flow_rem: {f}"
        );
    }

    // 2. Wipe from another connection, twice; each time enforcement is back within 2 s.
    for round in 1..=2 {
        // Flows at least 1.5 s old, so that re-installed ones are told apart by their age.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            our_flows(&bridge).iter().all(|f| age(f) >= 1.5),
            "round {round}: {:#?}",
            our_flows(&bridge)
        );
        bridge.ofctl(&["del-flows"]);
        let wiped = Instant::now();
        let back = poll(RESTORE_WITHIN, || enforcing(&bridge));
        let took = wiped.elapsed();
        assert!(
            back.is_some(),
            "round {round}: enforcement not back {took:?} after del-flows (audit is 3600 s, so only FLOW_REMOVED can do it): 25 -> {}, 587 -> {}",
            bridge.trace(FOREIGN_25),
            bridge.trace(FOREIGN_587)
        );
        eprintln!("round {round}: enforcement back {took:?} after del-flows");
        op.wait_line(&["one of our flows was removed"], Duration::from_secs(2));
        let again = our_flows(&bridge);
        assert_eq!(again.len(), flows.len(), "round {round}: {again:#?}");
        let limit = wiped.elapsed().as_secs_f64();
        assert!(
            again.iter().all(|f| age(f) <= limit),
            "round {round}: flows older than the wipe ({limit} s), so not re-installed: {again:#?}"
        );
        // Let the FLOW_REMOVED burst's coalesced re-syncs finish before the next round.
        op.lines_for(Duration::from_secs(1));
    }

    // 3. A reload that deletes stale flows of ours (they carry send_flow_rem, so the switch
    // reports each delete back): the session re-syncs a bounded number of times, then is quiet.
    std::fs::write(&config, policy("192.0.2.26/32")).expect("rewrite policy");
    op.signal("-HUP");
    op.wait_line(&["in sync after applying changes"], Duration::from_secs(10));
    let settle = op.lines_for(Duration::from_secs(2));
    let syncs_settling = settle.iter().filter(|l| is_sync_line(l)).count();
    let quiet = op.lines_for(Duration::from_secs(3));
    let syncs_quiet: Vec<&String> = quiet.iter().filter(|l| is_sync_line(l)).collect();
    eprintln!("after the reload: {syncs_settling} more sync(s) while settling");
    assert!(
        syncs_settling <= 2,
        "re-sync storm after a reload: {syncs_settling} syncs in 2 s:\n{}",
        settle.join("\n")
    );
    assert!(
        syncs_quiet.is_empty(),
        "syncs still running 2 s after the reload: {syncs_quiet:#?}"
    );
    assert!(enforcing(&bridge));
    let relay = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=192.0.2.26,tp_dst=25";
    assert_ne!(
        bridge.trace(relay),
        "Datapath actions: drop",
        "new relay open"
    );
    let old_relay = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=192.0.2.25,tp_dst=25";
    assert_eq!(
        bridge.trace(old_relay),
        "Datapath actions: drop",
        "old relay closed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A JSON log line's numeric field (top level or under "fields").
fn log_number(line: &str, field: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get(field)
        .or_else(|| v.get("fields").and_then(|f| f.get(field)))
        .and_then(serde_json::Value::as_u64)
}

#[test]
fn flows_of_an_older_op25b_without_the_flag_are_replaced_in_place_without_a_leak() {
    require_ovs();
    let dir = temp_dir("flowupg");
    let config = dir.join("policy.toml");
    std::fs::write(&config, policy("192.0.2.25/32")).expect("write policy");

    // The flows as an older op25b left them: `op25b plan` prints them without send_flow_rem.
    let dpid = format!("{DPID:#x}");
    let config_arg = config.to_str().expect("utf-8 path");
    let (ok, plan) = run(BIN, &["plan", "--config", config_arg, "--dpid", &dpid]);
    assert!(ok, "op25b plan: {plan}");
    let lines: Vec<&str> = plan.lines().filter(|l| l.starts_with("cookie=")).collect();
    assert!(lines.len() >= 5, "{plan}");
    let flows_file = dir.join("old.flows");
    std::fs::write(&flows_file, lines.join("\n") + "\n").expect("write flows");
    // The controller is configured before the old flows go in: setting a controller on a
    // bridge that had none flushes its flows (seen on Open vSwitch 3.1). Nothing listens on
    // the port yet; the bridge retries every second.
    let port = free_port();
    let bridge = new_bridge(Some(port));
    let flows_arg = flows_file.to_str().expect("utf-8 path");
    bridge.ofctl(&["add-flows", flows_arg]);
    let old = our_flows(&bridge);
    assert_eq!(old.len(), lines.len(), "{old:#?}");
    assert!(old.iter().all(|f| !f.contains("send_flow_rem")), "{old:#?}");
    assert!(enforcing(&bridge));

    // A prober traces TCP/25 to a foreign host over and over while op25b takes over.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let stop = stop.clone();
        let name = bridge.name.clone();
        std::thread::spawn(move || {
            let (mut traces, mut leaks) = (0u32, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let (ok, out) = run("ovs-appctl", &["ofproto/trace", &name, FOREIGN_25]);
                let last = last_datapath_actions(&out).unwrap_or("").to_string();
                traces += 1;
                if !ok || last != "Datapath actions: drop" {
                    leaks.push(format!("ok={ok} {last}"));
                }
            }
            (traces, leaks)
        })
    };

    let mut op = Op25bRun::start(BIN, &config, &port.to_string(), "op25b=debug");
    let ready = op.wait_line(&["OpenFlow listener ready"], Duration::from_secs(10));
    assert_eq!(listener_addr(&ready), port, "{ready}");
    let synced = op.wait_line(&["in sync after applying changes"], Duration::from_secs(15));
    op.lines_for(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let (traces, leaks) = prober.join().expect("prober thread");
    eprintln!(
        "upgrade: {synced}\nprober: {traces} traces, {} not dropped",
        leaks.len()
    );
    assert!(traces > 0);
    assert!(
        leaks.is_empty(),
        "TCP/25 forwarded during the upgrade: {leaks:#?}"
    );
    let n = lines.len() as u64;
    assert_eq!(log_number(&synced, "modified"), Some(n), "{synced}");
    assert_eq!(log_number(&synced, "added"), Some(0), "{synced}");
    assert_eq!(log_number(&synced, "removed"), Some(0), "{synced}");
    let new = our_flows(&bridge);
    assert_eq!(new.len(), lines.len(), "{new:#?}");
    for f in &new {
        assert!(
            f.contains(" send_flow_rem "),
            "flow without send_flow_rem: {f}"
        );
    }
    assert!(enforcing(&bridge));

    // And now a wipe heals at once.
    bridge.ofctl(&["del-flows"]);
    let wiped = Instant::now();
    assert!(
        poll(RESTORE_WITHIN, || enforcing(&bridge)).is_some(),
        "enforcement not back {:?} after del-flows",
        wiped.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
