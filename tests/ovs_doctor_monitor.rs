//! `run`'s continuous check of the bridges' settings (`[ovsdb] endpoints`) against a private
//! `ovsdb-server` (tests/ovsdb_support): `ovs-vsctl set-fail-mode BR standalone` is seen within
//! 2 s and the fix within 2 s, in the shared problem set (the monitor task on its own), and in
//! the WARN log, `/metrics`, `/api/switches` and `op25b status` of the real `op25b run`. Also:
//! a reload's policy is applied at once, an endpoint added by a reload is monitored, and a
//! database that restarts is monitored again.
mod ovsdb_support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use op25b::controller::ovsdb_monitor;
use op25b::controller::policy_store::PolicyStore;
use op25b::doctor::Listeners;
use op25b::doctor::ProblemKind;
use op25b::fleet::SwitchConfigProblems;
use op25b::policy::Config;
use op25b_test_support::op25b_run::Op25bRun;
use ovsdb_support::{wait_for, PrivateOvsdb, BIN};
use tokio_util::sync::CancellationToken;

/// How soon a change must show.
const WITHIN: Duration = Duration::from_secs(2);

fn config(listen: &str, endpoints: &[&str], extra: &str) -> Config {
    let list: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
    let text = format!(
        "[controller]\nlisten = \"{listen}\"\n\n[policy]\nrelays = [\"192.0.2.25\"]\n{extra}\n[ovsdb]\nendpoints = [{}]\n",
        list.join(", ")
    );
    Config::parse(&text, "test.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// A healthy bridge `name` with dpid `dpid` pointing at `listen`.
fn healthy_bridge(db: &PrivateOvsdb, name: &str, dpid: u64, listen: &str) {
    db.add_bridge(
        name,
        &[
            "fail_mode=secure",
            "protocols=OpenFlow13",
            &format!("other-config:datapath-id={dpid:016x}"),
        ],
        &[&format!("tcp:{listen}")],
    );
}

/// The problem kinds of `bridge` at `endpoint` now, or None while the endpoint is unknown or
/// not connected.
fn kinds(
    problems: &SwitchConfigProblems,
    endpoint: &str,
    bridge: &str,
) -> Option<Vec<ProblemKind>> {
    let snap = problems.snapshot();
    let e = snap
        .iter()
        .find(|e| e.endpoint == endpoint && e.connected)?;
    Some(
        e.problems
            .iter()
            .filter(|p| p.bridge == bridge)
            .map(|p| p.problem)
            .collect(),
    )
}

/// Waits until `bridge`'s problem kinds are `want`; returns how long that took.
fn expect_kinds(
    problems: &SwitchConfigProblems,
    endpoint: &str,
    bridge: &str,
    want: &[ProblemKind],
    timeout: Duration,
) -> Duration {
    let start = Instant::now();
    let seen = wait_for(timeout, || {
        (kinds(problems, endpoint, bridge).as_deref() == Some(want)).then_some(())
    });
    assert!(
        seen.is_some(),
        "{bridge} at {endpoint}: wanted {want:?} within {timeout:?}, have {:?}",
        problems.snapshot()
    );
    start.elapsed()
}

struct Monitor {
    /// Runs the monitor task; dropped (after `shutdown` is cancelled) with the test.
    _runtime: tokio::runtime::Runtime,
    store: Arc<PolicyStore>,
    problems: Arc<SwitchConfigProblems>,
    shutdown: CancellationToken,
}

impl Monitor {
    fn start(config: Config, listen: &str) -> Monitor {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let store = Arc::new(PolicyStore::new(config, None));
        let problems = Arc::new(SwitchConfigProblems::new());
        let shutdown = CancellationToken::new();
        let listen = Listeners {
            plain: Some(listen.parse().expect("listen address")),
            tls: None,
        };
        let _guard = runtime.enter();
        ovsdb_monitor::spawn(
            store.subscribe(),
            listen,
            problems.clone(),
            shutdown.clone(),
        );
        Monitor {
            _runtime: runtime,
            store,
            problems,
            shutdown,
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[test]
fn standalone_is_seen_within_2_s_and_so_is_the_fix() {
    let listen = "127.0.0.1:6653";
    let db = PrivateOvsdb::start();
    healthy_bridge(&db, "br0", 1, listen);
    let endpoint = db.endpoint();
    let m = Monitor::start(config(listen, &[endpoint.as_str()], ""), listen);
    expect_kinds(&m.problems, &endpoint, "br0", &[], Duration::from_secs(5));

    db.vsctl(&["set-fail-mode", "br0", "standalone"]);
    let took = expect_kinds(
        &m.problems,
        &endpoint,
        "br0",
        &[ProblemKind::FailMode],
        WITHIN,
    );
    eprintln!("standalone seen after {took:?}");
    db.vsctl(&["set-fail-mode", "br0", "secure"]);
    let took = expect_kinds(&m.problems, &endpoint, "br0", &[], WITHIN);
    eprintln!("the fix seen after {took:?}");
    db.vsctl(&["del-fail-mode", "br0"]);
    expect_kinds(
        &m.problems,
        &endpoint,
        "br0",
        &[ProblemKind::FailMode],
        WITHIN,
    );
}

#[test]
fn a_reload_rechecks_at_once_and_monitors_an_added_endpoint() {
    let listen = "127.0.0.1:6653";
    let first = PrivateOvsdb::start();
    let second = PrivateOvsdb::start();
    healthy_bridge(&first, "br-a", 0xa, listen);
    healthy_bridge(&second, "br-b", 0xb, listen);
    let (a, b) = (first.endpoint(), second.endpoint());
    let m = Monitor::start(config(listen, &[a.as_str()], ""), listen);
    expect_kinds(&m.problems, &a, "br-a", &[], Duration::from_secs(5));

    // The policy stops policing unlisted switches: br-a's dpid is now a problem.
    m.store.install(config(
        listen,
        &[a.as_str()],
        "[defaults]\nsubscriber_ports = []\n",
    ));
    expect_kinds(
        &m.problems,
        &a,
        "br-a",
        &[ProblemKind::DpidNotInPolicy],
        WITHIN,
    );

    // A second database added by a reload is monitored; dropping the first forgets it.
    m.store.install(config(listen, &[b.as_str()], ""));
    expect_kinds(&m.problems, &b, "br-b", &[], WITHIN);
    let gone = wait_for(WITHIN, || {
        m.problems
            .snapshot()
            .iter()
            .all(|e| e.endpoint != a)
            .then_some(())
    });
    assert!(
        gone.is_some(),
        "{a} is still listed: {:?}",
        m.problems.snapshot()
    );
}

#[test]
fn a_database_that_restarts_is_monitored_again() {
    let listen = "127.0.0.1:6653";
    let mut db = PrivateOvsdb::start();
    healthy_bridge(&db, "br0", 1, listen);
    db.vsctl(&["set-fail-mode", "br0", "standalone"]);
    let endpoint = db.endpoint();
    let m = Monitor::start(config(listen, &[endpoint.as_str()], ""), listen);
    expect_kinds(
        &m.problems,
        &endpoint,
        "br0",
        &[ProblemKind::FailMode],
        Duration::from_secs(5),
    );

    db.stop();
    let down = wait_for(WITHIN, || {
        m.problems
            .snapshot()
            .iter()
            .find(|e| e.endpoint == endpoint && !e.connected)
            .cloned()
    })
    .expect("marked not connected");
    assert_eq!(down.problems.len(), 1, "the last problems seen stay listed");
    assert!(down.last_error.is_some());

    db.serve();
    db.vsctl(&["set-fail-mode", "br0", "secure"]);
    // Retries start at 1 s and double: the second or third attempt finds it.
    expect_kinds(&m.problems, &endpoint, "br0", &[], Duration::from_secs(8));
}

fn http_get(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn run_logs_exports_and_lists_the_problem_and_its_fix() {
    let db = PrivateOvsdb::start();
    // The bridge points at wherever `run` listens (a port chosen at start): only the target
    // is compared with it, and `run --listen 127.0.0.1:0` decides the port, so the target
    // check is expected to flag it; this test is about fail_mode.
    healthy_bridge(&db, "br0", 0x25, "127.0.0.1:6653");
    let endpoint = db.endpoint();
    let policy = db.file(
        "policy.toml",
        &format!("[policy]\nrelays = [\"192.0.2.25\"]\n\n[ovsdb]\nendpoints = [{endpoint:?}]\n"),
    );
    let api = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config"])
        .arg(&policy)
        .args(["--log-format", "json", "--listen", "127.0.0.1:0"])
        .args(["--api-listen", &api]);
    let mut run = Op25bRun::spawn(cmd);
    run.wait_line(
        &["OVSDB monitor connected", &endpoint],
        Duration::from_secs(10),
    );

    db.vsctl(&["set-fail-mode", "br0", "standalone"]);
    let line = run.wait_line(
        &["switch config problem: br0: fail_mode is standalone"],
        WITHIN,
    );
    assert!(line.contains("\"level\":\"WARN\""), "{line}");
    assert!(
        line.contains("fix: ovs-vsctl set-fail-mode br0 secure"),
        "{line}"
    );
    assert!(
        line.contains("\"dpid\":\"00:00:00:00:00:00:00:25\""),
        "{line}"
    );

    let metrics = http_get(&format!("http://{api}/metrics"));
    assert!(
        metrics.contains(
            "op25b_switch_config_problems{dpid=\"00:00:00:00:00:00:00:25\",problem=\"fail_mode\"} 1\n"
        ),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "op25b_ovsdb_connected{{endpoint=\"{endpoint}\"}} 1\n"
    )));
    let switches: serde_json::Value =
        serde_json::from_str(&http_get(&format!("http://{api}/api/switches"))).expect("JSON");
    let listed = &switches["switch_config"][0];
    assert_eq!(listed["endpoint"], endpoint.as_str());
    assert_eq!(listed["connected"], true);
    let fail_mode: Vec<&serde_json::Value> = listed["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["problem"] == "fail_mode")
        .collect();
    assert_eq!(fail_mode.len(), 1);
    assert_eq!(fail_mode[0]["fix"], "ovs-vsctl set-fail-mode br0 secure");
    let status = Command::new(BIN)
        .args(["status", "--api", &format!("http://{api}")])
        .output()
        .expect("op25b status");
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("  br0 (00:00:00:00:00:00:00:25): fail_mode: standalone; fix: ovs-vsctl set-fail-mode br0 secure\n"),
        "{status}"
    );

    db.vsctl(&["set-fail-mode", "br0", "secure"]);
    run.wait_line(
        &["switch config problem cleared: br0: fail_mode is no longer standalone"],
        WITHIN,
    );
    let metrics = http_get(&format!("http://{api}/metrics"));
    assert!(
        metrics.contains(
            "op25b_switch_config_problems{dpid=\"00:00:00:00:00:00:00:25\",problem=\"fail_mode\"} 0\n"
        ),
        "{metrics}"
    );
}
