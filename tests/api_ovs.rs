//! The whole observability chain with real parts: the `op25b run` binary, a real Open vSwitch
//! bridge (userspace datapath, fail_mode=secure), and real TCP SYNs to port 25 from a Linux
//! network namespace behind a veth port. A subscriber spraying 7 hosts is flagged in
//! `/api/offenders`, `/metrics` and the X-ARF v4 report file (validated against the schema); a mail client retrying one host is
//! not; the drop flow's counters show up as blocked packets; `op25b status` prints both.
//!
//! Needs root, iproute2 (`ip netns`), `/usr/bin/python3` and Open vSwitch running. When they
//! are missing this test FAILS with instructions; it never skips.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use op25b_test_support::api::prometheus_text::{parse, value};
use op25b_test_support::command::{must, run};
use op25b_test_support::net::free_port;
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::poll::poll;
use op25b_test_support::temp::temp_dir;
use op25b_test_support::xarf;

use base64::Engine as _;

const DPID: &str = "00:00:00:00:00:00:25:b9";

fn require_tools() {
    require_ovs();
    let (ok, out) = run("ip", &["netns", "list"]);
    assert!(ok, "`ip netns` is needed (iproute2, root): {out}");
    assert!(
        std::path::Path::new("/usr/bin/python3").exists(),
        "/usr/bin/python3 is needed to open TCP connections from the namespace"
    );
}

/// The bridge, the veth pair, the namespace and the controller process; removed on drop.
struct Fabric {
    bridge: Option<Bridge>,
    veth: String,
    netns: String,
    controller: Option<Child>,
}

impl Drop for Fabric {
    fn drop(&mut self) {
        if let Some(mut child) = self.controller.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(self.bridge.take());
        let _ = run("ip", &["netns", "del", &self.netns]);
        let _ = run("ip", &["link", "del", &self.veth]);
    }
}

const SYNS: &str = r#"
import socket, time
# New connections, each closed in SYN_SENT after 50 ms (no retransmission): 35 from 10.0.0.66
# to 7 hosts, 35 from 10.0.0.20 to one host; about 20 SYNs/s, the meter's rate.
for i in range(35):
    for src, dst in (("10.0.0.66", "198.51.100.%d" % (1 + i % 7)), ("10.0.0.20", "198.51.100.200")):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        s.connect_ex((dst, 25))
        time.sleep(0.05)
        s.close()
"#;

#[test]
fn real_ovs_real_syns_flag_the_spraying_subscriber_everywhere() {
    require_tools();
    let id = std::process::id() % 100_000;
    let mut fabric = Fabric {
        bridge: None,
        veth: format!("o25v{id}"),
        netns: format!("op25b-api-{id}"),
        controller: None,
    };
    let peer = format!("o25w{id}");
    let (of_port, api_port) = (free_port().port(), free_port().port());
    let dir = temp_dir("ovs-api");
    let reports: PathBuf = dir.join("reports.jsonl");
    // report_command: a script appending its stdin to a file, run by the daemon per report.
    let from_command: PathBuf = dir.join("from-command.jsonl");
    let append = dir.join("append-stdin");
    std::fs::write(&append, "#!/bin/sh\ncat >> \"$1\"\n").expect("script");
    std::fs::set_permissions(
        &append,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .expect("chmod");
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[controller]
audit_interval_secs = 2

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]
fragments = "drop-tcp"

[[switch]]
dpid = "{DPID}"
name = "ovs-api"
uplink_ports = [2]

[reporting]
enabled = true
sample_rate_pps = 50
report_path = "{}"
reported_from = "abuse@isp.example"
report_command = ["{}", "{}"]
"#,
            reports.display(),
            append.display(),
            from_command.display()
        ),
    )
    .expect("write policy");

    let log = std::fs::File::create(dir.join("run.log")).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .arg("run")
        .arg("--config")
        .arg(&policy)
        .args(["--listen", &format!("127.0.0.1:{of_port}")])
        .args(["--api-listen", &format!("127.0.0.1:{api_port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start op25b run");
    fabric.controller = Some(child);
    let base = format!("http://127.0.0.1:{api_port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let get = |path: &str| -> Option<(u16, String)> {
        let bearer = op25b_test_support::api::bearer_from(&dir.join("api-token"));
        let mut r = agent
            .get(&format!("{base}{path}"))
            .header("Authorization", &bearer)
            .call()
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.body_mut().read_to_string().ok()?))
    };
    poll("the API to answer /readyz", Duration::from_secs(10), || {
        get("/readyz").filter(|(s, _)| *s == 200)
    });

    // Bridge: port 1 a veth to the subscriber namespace, port 2 an internal uplink.
    let bridge_name = format!("o25a{id}");
    let b = bridge_name.as_str();
    let (v, w, ns) = (&fabric.veth, &peer, &fabric.netns);
    let _ = run("ip", &["netns", "del", ns]);
    let _ = run("ip", &["link", "del", v]);
    must("ip", &["netns", "add", ns]);
    must("ip", &["link", "add", v, "type", "veth", "peer", "name", w]);
    must("ip", &["link", "set", w, "netns", ns]);
    must("ip", &["link", "set", v, "up"]);
    let uplink = format!("{b}u");
    let target = format!("tcp:127.0.0.1:{of_port}");
    fabric.bridge = Some(Bridge::create(
        bridge_name.clone(),
        Some(&DPID.replace(':', "")),
        0,
        &[
            "--",
            "add-port",
            b,
            v,
            "--",
            "set",
            "interface",
            v,
            "ofport_request=1",
            "--",
            "add-port",
            b,
            &uplink,
            "--",
            "set",
            "interface",
            &uplink,
            "type=internal",
            "ofport_request=2",
            "--",
            "set-controller",
            b,
            &target,
        ],
    ));
    let in_ns = |args: &[&str]| {
        let mut all = vec!["netns", "exec", ns];
        all.extend_from_slice(args);
        must("ip", &all)
    };
    in_ns(&["ip", "link", "set", "lo", "up"]);
    in_ns(&["ip", "link", "set", w, "address", "02:00:00:00:00:66"]);
    in_ns(&["ip", "addr", "add", "10.0.0.66/24", "dev", w]);
    in_ns(&["ip", "addr", "add", "10.0.0.20/24", "dev", w]);
    in_ns(&["ip", "link", "set", w, "up"]);
    in_ns(&["ip", "route", "add", "default", "via", "10.0.0.1"]);
    in_ns(&[
        "ip",
        "neigh",
        "add",
        "10.0.0.1",
        "lladdr",
        "02:00:00:00:00:01",
        "dev",
        w,
        "nud",
        "permanent",
    ]);

    let switch = poll(
        "the bridge in sync in /api/switches",
        Duration::from_secs(15),
        || {
            let (_, body) = get("/api/switches")?;
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            let s = v["switches"].get(0)?.clone();
            (s["sync_state"] == "in_sync").then_some(s)
        },
    );
    assert_eq!(switch["dpid"], DPID);
    assert_eq!(switch["name"], "ovs-api");
    assert_eq!(
        switch["meters_in_use"], true,
        "OVS's userspace datapath takes meters"
    );

    // The veth port must be up on the switch side before the namespace sends.
    poll(
        "the veth port up on the bridge",
        Duration::from_secs(10),
        || {
            let (ok, out) = run("ovs-vsctl", &["get", "interface", v, "link_state"]);
            (ok && out.trim() == "up").then_some(())
        },
    );
    in_ns(&["/usr/bin/python3", "-c", SYNS]);
    // On the switch itself: every SYN hit the sampling drop flow.
    poll(
        "70 packets on the port-25 drop flow (ovs-ofctl)",
        Duration::from_secs(20),
        || {
            let (_, flows) = run("ovs-ofctl", &["-O", "OpenFlow13", "dump-flows", b]);
            flows
                .lines()
                .any(|l| l.contains("tp_dst=25") && l.contains("n_packets=70,"))
                .then_some(())
        },
    );

    let flagged = poll("the sprayer flagged", Duration::from_secs(20), || {
        let (_, body) = get("/api/offenders?flagged=true")?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let list = v["offenders"].as_array()?.clone();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0]["source_ip"], "10.0.0.66");
    assert_eq!(flagged[0]["source_mac"], "02:00:00:00:00:66");
    assert_eq!(flagged[0]["port"], 1);
    assert_eq!(flagged[0]["switch"], DPID);

    // Every SYN reached the drop flow; the 2 s audit re-reads its counters.
    let detail = poll("70 blocked packets", Duration::from_secs(20), || {
        let (_, body) = get(&format!("/api/switches/{DPID}"))?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        (v["blocked_packets"] == 70).then_some(v)
    });
    assert!(detail["blocked_bytes"]
        .as_u64()
        .is_some_and(|b| b >= 70 * 54));

    let (_, body) = get("/api/offenders").expect("offenders");
    let all: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let client = all["offenders"]
        .as_array()
        .expect("array")
        .iter()
        .find(|o| o["source_ip"] == "10.0.0.20")
        .cloned()
        .expect("the mail client is tracked");
    assert_eq!(client["flagged"], false);
    assert_eq!(client["distinct_destinations"], 1);

    let (_, text) = get("/metrics").expect("metrics");
    let f = parse(&text).unwrap_or_else(|e| panic!("invalid exposition: {e}"));
    let dpid = [("dpid", DPID)];
    assert_eq!(value(&f, "op25b_switches_in_sync", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_offenders_flagged", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_blocked_packets_total", &dpid), Some(70.0));
    let sampled = value(&f, "op25b_sampled_attempts_total", &dpid).expect("sampled attempts");
    assert!(sampled >= 60.0, "most SYNs sampled at 50/s: {sampled}");

    let line = poll("the X-ARF report line", Duration::from_secs(5), || {
        std::fs::read_to_string(&reports)
            .ok()
            .filter(|t| !t.is_empty())
    });
    assert_eq!(line.lines().count(), 1, "{line}");
    let report: serde_json::Value = serde_json::from_str(line.trim()).expect("JSON line");
    assert_eq!(report["category"], "infrastructure");
    assert_eq!(report["type"], "botnet");
    assert_eq!(report["source_identifier"], "10.0.0.66");
    assert_eq!(report["_internal"]["op25b"]["switch"], DPID);
    assert_eq!(report["_internal"]["op25b"]["port"], 1);
    assert_eq!(
        report["_internal"]["op25b"]["source_mac"],
        "02:00:00:00:00:66"
    );
    // The evidence is the frame OVS sent: a SYN from 02:00:00:00:00:66 / 10.0.0.66 to port 25.
    let frame = base64::engine::general_purpose::STANDARD
        .decode(report["evidence"][0]["payload"].as_str().expect("payload"))
        .expect("base64");
    assert_eq!(&frame[6..12], &[2, 0, 0, 0, 0, 0x66], "source MAC");
    assert_eq!(&frame[26..30], &[10, 0, 0, 66], "IPv4 source");
    assert_eq!(&frame[36..38], &25u16.to_be_bytes(), "TCP destination port");
    // Every line validates against the X-ARF v4 master schema.
    assert_eq!(xarf::assert_valid(&reports), "VALID: 1 report(s)");
    let delivered = poll("the report_command output", Duration::from_secs(5), || {
        std::fs::read_to_string(&from_command)
            .ok()
            .filter(|t| !t.is_empty())
    });
    assert_eq!(delivered, line, "the command got the report line on stdin");
    assert_eq!(xarf::assert_valid(&from_command), "VALID: 1 report(s)");

    let out = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .args(["status", "--api", &base, "--token-file"])
        .arg(dir.join("api-token"))
        .output()
        .expect("op25b status");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 connected, 1 in sync"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("FLAGGED") && l.contains("10.0.0.66")),
        "{stdout}"
    );
}
