//! Offenders across a cluster, on the real thing: two `op25b run` instances (the real binary)
//! sharing six real Open vSwitch bridges through a real etcd (`test_support::etcd`), reporting
//! on. One subscriber (same MAC and address) sends port-25 SYNs through bridge X, mastered by
//! instance a, and through bridge Y, mastered by b: the packets go through each bridge's real
//! pipeline (`ovs-ofctl packet-out ... actions=table`), the sampling drop flow sends each to its
//! master, and both instances flag the subscriber. Before that, with the bridges settled:
//! `op25b_cluster_masterships` of both add up to the bridges, etcd is up, nothing unmastered,
//! and `op25b status` names each bridge's master and each instance's count. Then:
//! 1. exactly one report line for it across both instances' report files (claimed in etcd),
//!    and `op25b_cluster_report_claims_total` says one won, one lost;
//! 2. `/api/offenders` on each instance lists both entries (X's seen by a, Y's by b);
//! 3. etcd killed: another subscriber flagged the same way is still reported, by both
//!    instances (the documented duplicate window), each counting the claim as `unavailable`,
//!    and `op25b_cluster_etcd_up` turns 0.
//!
//! Needs Open vSwitch running and etcd installed (`scripts/install-deps`); FAILS otherwise.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use op25b_test_support::api::bearer_from;
use op25b_test_support::api::prometheus_text::{parse, value};
use op25b_test_support::etcd::PrivateEtcd;
use op25b_test_support::op25b_run::{listener_addr, Op25bRun};
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
/// Long enough that both instances stay masters through the etcd outage of step 3.
const LEASE_SECS: u64 = 30;
const FIRST_DPID: u64 = 0x0000_0000_00c3_0000;

fn config(name: &str, etcd: &str, reports: &std::path::Path) -> String {
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

[defaults]
subscriber_ports = "all"
uplink_ports = [3]

[reporting]
enabled = true
sample_rate_pps = 200
threshold_attempts = 6
threshold_destinations = 3
report_path = "{}"
reported_from = "abuse@isp.example"

[cluster]
etcd = ["{etcd}"]
name = "{name}"
lease_secs = {LEASE_SECS}
key_prefix = "/op25b-offenders-test/"
"#,
        reports.display()
    )
}

struct Instance {
    name: String,
    _run: Op25bRun,
    openflow: SocketAddr,
    api: String,
    bearer: String,
    reports: PathBuf,
    token_file: PathBuf,
}

impl Instance {
    fn start(name: &str, etcd: &str) -> Instance {
        let dir = temp_dir(&format!("cluster-off-{name}"));
        let config = dir.join("policy.toml");
        let reports = dir.join("reports.jsonl");
        std::fs::write(&config, self::config(name, etcd, &reports)).expect("write");
        let mut run = Op25bRun::start(BIN, &config, "127.0.0.1:0", "info");
        let ready = run.wait_line(&["OpenFlow listener ready"], Duration::from_secs(20));
        let openflow = listener_addr(&ready);
        let api_line = run.wait_line(&["HTTP API ready"], Duration::from_secs(20));
        let v: serde_json::Value = serde_json::from_str(&api_line).expect("JSON log line");
        let api = v["api"].as_str().expect("api address").to_owned();
        let bearer = bearer_from(&dir.join("api-token"));
        Instance {
            name: name.to_owned(),
            _run: run,
            openflow,
            api,
            bearer,
            reports,
            token_file: dir.join("api-token"),
        }
    }

    /// A metric without labels (`None`: absent).
    fn metric(&self, name: &str) -> Option<f64> {
        let text = self.get_text("/metrics").unwrap_or_default();
        let families = parse(&text).expect("the exposition parses");
        value(&families, name, &[])
    }

    /// `op25b status` against this instance: its stdout.
    fn status(&self) -> String {
        let out = std::process::Command::new(BIN)
            .args(["status", "--api", &self.api, "--token-file"])
            .arg(&self.token_file)
            .output()
            .expect("run op25b status");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn get_text(&self, path: &str) -> Option<String> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .new_agent();
        let mut resp = agent
            .get(&format!("http://{}{path}", self.api))
            .header("Authorization", &self.bearer)
            .call()
            .ok()?;
        resp.body_mut().read_to_string().ok()
    }

    fn get(&self, path: &str) -> serde_json::Value {
        self.get_text(path)
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn masters_in_sync(&self, dpid: u64) -> bool {
        let s = self.get(&format!("/api/switches/0x{dpid:x}"));
        s["role"] == "master" && s["sync_state"] == "in_sync" && s["connected"] == true
    }

    /// `op25b_cluster_report_claims_total{result}` (0 when absent).
    fn claims(&self, result: &str) -> f64 {
        let text = self.get_text("/metrics").unwrap_or_default();
        let families = parse(&text).expect("the exposition parses");
        value(
            &families,
            "op25b_cluster_report_claims_total",
            &[("result", result)],
        )
        .unwrap_or(0.0)
    }

    /// The report lines (X-ARF v4) whose `source_identifier` is `ip`.
    fn report_lines(&self, ip: &str) -> Vec<String> {
        std::fs::read_to_string(&self.reports)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .is_ok_and(|v| v["source_identifier"] == ip)
            })
            .map(str::to_owned)
            .collect()
    }

    /// `/api/offenders` entries flagged for `ip`: (switch dpid, instance).
    fn flagged(&self, ip: &str) -> Vec<(u64, String)> {
        let v = self.get("/api/offenders?flagged=true&limit=100");
        let mut out: Vec<(u64, String)> = v["offenders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["source_ip"] == ip)
            .map(|o| {
                (
                    o["dpid"].as_u64().unwrap_or(0),
                    o["instance"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        out.sort();
        out
    }
}

fn wait(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An Ethernet + IPv4 + TCP SYN frame, hex, from `mac_last`/`src` to `dst`:25.
fn syn_hex(mac_last: u8, src: [u8; 4], dst: [u8; 4], sport: u16) -> String {
    let mut f: Vec<u8> = Vec::new();
    f.extend([0x02, 0, 0, 0, 0, 0x01]); // destination: the gateway
    f.extend([0x02, 0, 0, 0, 0, mac_last]);
    f.extend([0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
    ip.extend(src);
    ip.extend(dst);
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend(ip);
    f.extend(sport.to_be_bytes());
    f.extend(25u16.to_be_bytes());
    f.extend([0, 0, 0, 1, 0, 0, 0, 0]); // seq, ack
    f.extend([0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]); // offset 5, SYN, window, csum, urg
    f.iter().map(|b| format!("{b:02x}")).collect()
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(u16::MAX)
}

/// `n` SYNs from one subscriber (MAC `..:mac_last`, `src`) to `n` hosts, entering `bridge` on
/// port 1 and going through its pipeline.
fn send_syns(bridge: &Bridge, mac_last: u8, src: [u8; 4], n: u8, first_port: u16) {
    for i in 0..n {
        let hex = syn_hex(
            mac_last,
            src,
            [198, 51, 100, 1 + i],
            first_port + u16::from(i),
        );
        bridge.ofctl(&[
            "packet-out",
            &format!("in_port=1 packet={hex} actions=table"),
        ]);
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn a_subscriber_seen_by_two_instances_gives_one_report_and_is_listed_on_both() {
    require_ovs();
    let mut etcd = PrivateEtcd::start();
    let a = Instance::start("a", &etcd.endpoint());
    let b = Instance::start("b", &etcd.endpoint());
    let all = [&a, &b];
    let targets: Vec<SocketAddr> = all.iter().map(|i| i.openflow).collect();
    let bridges: Vec<(u64, Bridge)> = (0..6)
        .map(|i| {
            let dpid = FIRST_DPID + i;
            let br = Bridge::create(
                Bridge::unique_name("o25o"),
                Some(&format!("{dpid:016x}")),
                3,
                &[],
            );
            br.set_controllers(&targets);
            (dpid, br)
        })
        .collect();
    let settled = || {
        bridges
            .iter()
            .all(|(d, _)| all.iter().filter(|i| i.masters_in_sync(*d)).count() == 1)
    };
    assert!(
        wait(Duration::from_secs(30), settled),
        "every bridge under exactly one master in sync"
    );
    let mastered_by = |i: &Instance| {
        bridges
            .iter()
            .find(|(d, _)| i.masters_in_sync(*d))
            .unwrap_or_else(|| panic!("{} masters none of the 6 bridges", i.name))
    };
    // The cluster metrics and `op25b status` say who masters what.
    let held = |i: &Instance| i.metric("op25b_cluster_masterships").unwrap_or(-1.0);
    assert!(
        wait(Duration::from_secs(10), || held(&a) + held(&b) == 6.0),
        "op25b_cluster_masterships add up to the 6 bridges: a {}, b {}",
        held(&a),
        held(&b)
    );
    for i in all {
        assert_eq!(i.metric("op25b_cluster_etcd_up"), Some(1.0), "{}", i.name);
        assert_eq!(i.metric("op25b_cluster_live_instances"), Some(2.0));
        assert!(
            wait(Duration::from_secs(5), || i
                .metric("op25b_cluster_switches_unmastered")
                == Some(0.0)),
            "{}: {}",
            i.name,
            i.get("/api/cluster")
        );
        assert_eq!(
            i.metric("op25b_cluster_lease_ttl_seconds"),
            Some(LEASE_SECS as f64)
        );
    }
    let status = b.status();
    assert!(
        status.contains("cluster: this instance b: lease "),
        "{status}"
    );
    for (dpid, _) in &bridges {
        let master = if a.masters_in_sync(*dpid) { "a" } else { "b" };
        let colon = (0..8)
            .map(|k| format!("{:02x}", (dpid >> (56 - 8 * k)) & 0xff))
            .collect::<Vec<_>>()
            .join(":");
        let row: Vec<&str> = status
            .lines()
            .find(|l| l.starts_with(&colon))
            .unwrap_or_else(|| panic!("no row for {colon}:\n{status}"))
            .split_whitespace()
            .collect();
        assert_eq!(row.get(4), Some(&master), "MASTER of {colon}:\n{status}");
    }
    for (name, n) in [("a", held(&a)), ("b", held(&b))] {
        let line = format!("{name}  live  {n}");
        assert!(
            status
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>().join("  ") == line),
            "{line} in:\n{status}"
        );
    }

    let (dpid_x, x) = mastered_by(&a);
    let (dpid_y, y) = mastered_by(&b);

    // 1. One subscriber through X (a) and Y (b): both flag it, one report.
    send_syns(x, 0x66, [10, 0, 0, 66], 8, 40_000);
    send_syns(y, 0x66, [10, 0, 0, 66], 8, 41_000);
    let flagged_by_both = || {
        a.flagged("10.0.0.66").iter().any(|(_, i)| i == "a")
            && b.flagged("10.0.0.66").iter().any(|(_, i)| i == "b")
    };
    assert!(
        wait(Duration::from_secs(20), flagged_by_both),
        "both instances flag 10.0.0.66: a {:?}, b {:?}",
        a.flagged("10.0.0.66"),
        b.flagged("10.0.0.66")
    );
    let decided = || a.claims("won") + b.claims("won") + a.claims("lost") + b.claims("lost") >= 2.0;
    assert!(
        wait(Duration::from_secs(10), decided),
        "both claims decided"
    );
    std::thread::sleep(Duration::from_secs(1));
    let lines: Vec<String> = all
        .iter()
        .flat_map(|i| i.report_lines("10.0.0.66"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one report across the cluster: {lines:#?}"
    );
    assert_eq!(a.claims("won") + b.claims("won"), 1.0);
    assert_eq!(a.claims("lost") + b.claims("lost"), 1.0);
    assert_eq!(a.claims("unavailable") + b.claims("unavailable"), 0.0);
    let key = "/op25b-offenders-test/reports/02:00:00:00:00:66,10.0.0.66_32";
    let claim = etcd.ctl(&["get", key, "--print-value-only"]);
    let writer = if a.report_lines("10.0.0.66").len() == 1 {
        "a"
    } else {
        "b"
    };
    assert_eq!(
        claim.trim(),
        writer,
        "the claim names the instance that wrote"
    );

    // 2. Each instance lists both entries: X's seen by a, Y's seen by b.
    let want = {
        let mut w = vec![(*dpid_x, "a".to_owned()), (*dpid_y, "b".to_owned())];
        w.sort();
        w
    };
    assert!(
        wait(Duration::from_secs(20), || a.flagged("10.0.0.66") == want
            && b.flagged("10.0.0.66") == want),
        "both instances list {want:?}: a {:?}, b {:?}",
        a.flagged("10.0.0.66"),
        b.flagged("10.0.0.66")
    );
    let listing = a.get("/api/offenders?limit=100");
    assert_eq!(
        listing["instances"].as_array().map(Vec::len),
        Some(2),
        "{listing}"
    );

    // 3. etcd gone: reports are still written (by both: the duplicate window), counted.
    etcd.kill();
    send_syns(x, 0x67, [10, 0, 0, 67], 8, 42_000);
    send_syns(y, 0x67, [10, 0, 0, 67], 8, 43_000);
    let both_wrote =
        || a.report_lines("10.0.0.67").len() == 1 && b.report_lines("10.0.0.67").len() == 1;
    assert!(
        wait(Duration::from_secs(20), both_wrote),
        "each instance writes its report while etcd is down: a {:?}, b {:?}",
        a.report_lines("10.0.0.67"),
        b.report_lines("10.0.0.67")
    );
    assert!(a.claims("unavailable") >= 1.0 && b.claims("unavailable") >= 1.0);
    assert!(
        wait(Duration::from_secs(10), || a
            .metric("op25b_cluster_etcd_up")
            == Some(0.0)),
        "op25b_cluster_etcd_up turns 0"
    );
    let text = a.get_text("/metrics").unwrap_or_default();
    let families = parse(&text).expect("parses");
    assert!(
        value(&families, "op25b_cluster_etcd_errors_total", &[]).unwrap_or(0.0) >= 1.0,
        "the outage is counted"
    );
}
