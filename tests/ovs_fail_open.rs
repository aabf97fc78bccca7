//! A bridge that fails open, seen by `op25b run` (the real binary) from the OpenFlow side, on
//! real Open vSwitch bridges (userspace datapath, OpenFlow 1.3): one in `fail_mode=standalone`,
//! one in `secure`, both synced by op25b. op25b is then frozen with SIGSTOP (a controller that
//! stops answering: the switches drop it after their inactivity probe and cannot reconnect) for
//! longer than Open vSwitch's fail-open trigger (3 x 5 s), and resumed with SIGCONT:
//! - while frozen, the standalone bridge forwards TCP/25 to a foreign host (`ofproto/trace`:
//!   the hidden NORMAL flow), the secure one still drops it;
//! - after SIGCONT, `/api/switches` reports the standalone bridge `failed_open`
//!   (`flows_wiped_while_away`), the secure one never, and an ERROR names it; the metric
//!   `op25b_switch_failed_open` is 1 for it and 0 for the other;
//! - op25b's flows are back on both (the standalone bridge left fail-open mode on reconnect).
//!
//! Needs Open vSwitch installed and running. When it is not, this test FAILS with instructions;
//! it never skips. Takes about 40 s.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use op25b_test_support::net::free_port;
use op25b_test_support::op25b_run::Op25bRun;
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::poll::poll;
use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
const STANDALONE: u64 = 0x0000_0000_0000_f0a1;
const SECURE: u64 = 0x0000_0000_0000_f0a2;
const FOREIGN_25: &str = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=25";
/// Longer than Open vSwitch's trigger (3 x the 5 s inactivity probe) with a margin.
const FROZEN: Duration = Duration::from_secs(22);

fn policy() -> String {
    format!(
        r#"
[controller]
echo_interval_secs = 5
echo_timeout_secs = 15
audit_interval_secs = 3600

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]
forwarding = "normal"

[reporting]
enabled = false

[[switch]]
dpid = {STANDALONE}
name = "fo-standalone"
subscriber_ports = "all"
uplink_ports = [3]

[[switch]]
dpid = {SECURE}
name = "fo-secure"
subscriber_ports = "all"
uplink_ports = [3]
"#
    )
}

fn bridge(dpid: u64, fail_mode: &str) -> Bridge {
    let name = Bridge::unique_name("o25f");
    let mode = format!("fail_mode={fail_mode}");
    Bridge::create(
        name.clone(),
        Some(&format!("{dpid:016x}")),
        3,
        &["--", "set", "bridge", &name, &mode],
    )
}

fn switches(api: &str) -> Option<Vec<serde_json::Value>> {
    let mut r = ureq::get(&format!("http://{api}/api/switches"))
        .call()
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()?;
    v["switches"].as_array().cloned()
}

fn entry(list: &[serde_json::Value], dpid: u64) -> Option<&serde_json::Value> {
    list.iter().find(|s| s["dpid_int"].as_u64() == Some(dpid))
}

fn both_in_sync(api: &str) -> Option<()> {
    let list = switches(api)?;
    [STANDALONE, SECURE]
        .iter()
        .all(|d| entry(&list, *d).is_some_and(|s| s["sync_state"] == "in_sync"))
        .then_some(())
}

fn metric(api: &str, dpid: u64) -> Option<String> {
    let mut r = ureq::get(&format!("http://{api}/metrics")).call().ok()?;
    let text = r.body_mut().read_to_string().ok()?;
    let label = op25b::policy::Dpid(dpid).to_string();
    text.lines()
        .find(|l| l.starts_with("op25b_switch_failed_open{") && l.contains(&label))
        .map(str::to_string)
}

#[test]
fn a_standalone_bridge_that_failed_open_is_reported_and_a_secure_one_never() {
    require_ovs();
    let dir = temp_dir("failopen");
    let config = dir.join("policy.toml");
    std::fs::write(&config, policy()).expect("write policy");
    let controller: SocketAddr = format!("127.0.0.1:{}", free_port().port())
        .parse()
        .expect("an address");
    let mut op = Op25bRun::start(BIN, &config, &controller.to_string(), "op25b=info");
    let line = op.wait_line(&["HTTP API listening"], Duration::from_secs(10));
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let api = v["addr"].as_str().expect("addr").to_string();
    let standalone = bridge(STANDALONE, "standalone");
    let secure = bridge(SECURE, "secure");
    standalone.set_controller(controller);
    secure.set_controller(controller);
    poll("both bridges in sync", Duration::from_secs(20), || {
        both_in_sync(&api)
    });
    let list = switches(&api).expect("switches");
    for d in [STANDALONE, SECURE] {
        let s = entry(&list, d).expect("listed");
        assert!(s["failed_open"].is_null(), "reported before: {s}");
    }
    assert_eq!(standalone.trace(FOREIGN_25), "Datapath actions: drop");

    // Freeze op25b past the switches' fail-open trigger.
    op.signal("-STOP");
    let frozen = Instant::now();
    let leak = poll("the standalone bridge to leak TCP/25", FROZEN, || {
        (standalone.trace(FOREIGN_25) != "Datapath actions: drop").then(|| frozen.elapsed())
    });
    eprintln!("standalone bridge forwarding TCP/25 {leak:?} after op25b froze");
    assert_eq!(
        secure.trace(FOREIGN_25),
        "Datapath actions: drop",
        "the secure bridge must keep blocking"
    );
    std::thread::sleep(FROZEN.saturating_sub(frozen.elapsed()));
    op.signal("-CONT");
    let resumed = Instant::now();

    let reported = poll(
        "the standalone bridge reported failed open",
        Duration::from_secs(20),
        || {
            let list = switches(&api)?;
            let s = entry(&list, STANDALONE)?;
            (!s["failed_open"].is_null()).then(|| s["failed_open"].clone())
        },
    );
    eprintln!(
        "reported failed open {:?} after SIGCONT: {reported}",
        resumed.elapsed()
    );
    assert_eq!(reported["evidence"], "flows_wiped_while_away");
    let away = reported["away_secs"].as_u64().expect("away_secs");
    assert!(away >= 15, "away {away} s");
    op.wait_line(&["most likely failed open"], Duration::from_secs(5));
    poll(
        "both bridges in sync again",
        Duration::from_secs(20),
        || both_in_sync(&api),
    );
    assert_eq!(standalone.trace(FOREIGN_25), "Datapath actions: drop");
    let list = switches(&api).expect("switches");
    let s = entry(&list, SECURE).expect("secure listed");
    assert!(s["failed_open"].is_null(), "secure bridge reported: {s}");
    let m = metric(&api, STANDALONE).expect("metric for the standalone bridge");
    assert!(m.ends_with(" 1"), "{m}");
    let m = metric(&api, SECURE).expect("metric for the secure bridge");
    assert!(m.ends_with(" 0"), "{m}");
}
