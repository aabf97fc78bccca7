//! `op25b doctor` against a private `ovsdb-server` (tests/ovsdb_support): one bridge per
//! problem, its line and exit code asserted, then every printed fix applied with `ovs-vsctl`
//! and the database found clean. Also `--json`, the checks that need `--config`, a database
//! that cannot be reached (exit 2) and an `ssl:` endpoint.
mod ovsdb_support;

use std::process::{Command, Output};

use ovsdb_support::{PrivateOvsdb, BIN};

/// The controller the policy describes.
const LISTEN: &str = "127.0.0.1:6653";

fn policy(db: &PrivateOvsdb, extra: &str) -> std::path::PathBuf {
    db.file(
        "policy.toml",
        &format!(
            "[controller]\nlisten = \"{LISTEN}\"\n\n[policy]\nrelays = [\"192.0.2.25\"]\n{extra}"
        ),
    )
}

fn doctor(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("doctor")
        .args(args)
        .output()
        .expect("run op25b doctor")
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The five bridges of the issue, plus one without a controller (not op25b's: not checked).
fn fixture(db: &PrivateOvsdb) {
    fn with_dpid<'a>(good: &[&'a str], dpid: &'a str) -> Vec<&'a str> {
        let mut s = good.to_vec();
        s.push(dpid);
        s
    }
    let good = ["fail_mode=secure", "protocols=OpenFlow13"];
    let target = format!("tcp:{LISTEN}");
    db.add_bridge(
        "br-healthy",
        &with_dpid(&good, "other-config:datapath-id=0000000000000001"),
        &[&target],
    );
    db.add_bridge(
        "br-standalone",
        &[
            "protocols=OpenFlow13",
            "other-config:datapath-id=0000000000000002",
        ],
        &[&target],
    );
    db.add_bridge(
        "br-of10",
        &[
            "fail_mode=secure",
            "protocols=OpenFlow10",
            "other-config:datapath-id=0000000000000003",
        ],
        &[&target],
    );
    db.add_bridge("br-unpinned", &good, &[&target]);
    db.add_bridge(
        "br-elsewhere",
        &with_dpid(&good, "other-config:datapath-id=0000000000000005"),
        &["tcp:192.0.2.99:6653"],
    );
    db.add_bridge("br-no-controller", &[], &[]);
}

#[test]
fn each_broken_bridge_gets_one_line_with_its_fix_and_the_fixes_work() {
    let db = PrivateOvsdb::start();
    fixture(&db);
    let config = policy(&db, "");
    let config = config.to_string_lossy();
    let args = ["--ovsdb", &db.endpoint(), "--config", &config];
    let out = doctor(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "problems found: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out);
    let expected = [
        ("br-elsewhere: controller target is tcp:192.0.2.99:6653: it points at 192.0.2.99, but this controller listens on 127.0.0.1:6653", "ovs-vsctl set-controller br-elsewhere tcp:127.0.0.1:6653"),
        ("br-of10: protocols is [OpenFlow10]: op25b speaks OpenFlow 1.3 only", "ovs-vsctl add bridge br-of10 protocols OpenFlow13"),
        ("br-standalone: fail_mode is unset (standalone): three inactivity probes (about 15 s) after losing its controller Open vSwitch adds a hidden NORMAL flow", "ovs-vsctl set-fail-mode br-standalone secure"),
        ("br-unpinned: other_config:datapath-id is unset: the dpid can change", "ovs-vsctl set bridge br-unpinned other-config:datapath-id=DPID-16-HEX-DIGITS"),
    ];
    assert_eq!(got.len(), expected.len(), "one line per problem: {got:#?}");
    for (line, (start, fix)) in got.iter().zip(expected) {
        assert!(
            line.starts_with(start),
            "{line}\n  should start with\n{start}"
        );
        assert!(
            line.ends_with(&format!("; fix: {fix}")),
            "{line}\n  should end with the fix {fix}"
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(": 4 problems on 5 bridges with a controller"),
        "{stderr}"
    );

    // Every fix, run as printed (against the private database; the placeholder filled in).
    for line in &got {
        let fix = line
            .split("; fix: ovs-vsctl ")
            .nth(1)
            .expect("an ovs-vsctl fix");
        let fix = fix.replace("DPID-16-HEX-DIGITS", "0000000000000004");
        db.vsctl(&fix.split(' ').collect::<Vec<_>>());
    }
    let out = doctor(&args);
    assert_eq!(
        (out.status.code(), lines(&out)),
        (
            Some(0),
            vec![format!(
                "OK: 5 bridges with a controller at {}, no problems",
                db.endpoint()
            )]
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn json_gives_the_same_problems_and_without_a_policy_only_the_bridge_checks_run() {
    let db = PrivateOvsdb::start();
    fixture(&db);
    let endpoint = db.endpoint();
    let out = doctor(&["--ovsdb", &endpoint, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["endpoint"], endpoint.as_str());
    let problems: Vec<(String, String)> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["bridge"].as_str().unwrap_or_default().to_owned(),
                p["problem"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            ("br-of10".to_owned(), "protocols".to_owned()),
            ("br-standalone".to_owned(), "fail_mode".to_owned()),
            ("br-unpinned".to_owned(), "datapath_id_unpinned".to_owned()),
        ],
        "no --config: br-elsewhere's target is not checked"
    );
    assert_eq!(v["checked"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["checked"][0]["name"], "br-elsewhere");
    assert_eq!(v["checked"][0]["dpid"], "00:00:00:00:00:00:00:05");
    assert_eq!(
        v["problems"][1]["fix"],
        "ovs-vsctl set-fail-mode br-standalone secure"
    );
    assert!(v["skipped"][0]
        .as_str()
        .is_some_and(|s| s.contains("no policy given")));
}

#[test]
fn the_policy_checks_read_timers_dpids_and_vlan_limit_from_the_database() {
    let db = PrivateOvsdb::start();
    let target = format!("tcp:{LISTEN}");
    db.add_bridge(
        "br-timers",
        &[
            "fail_mode=secure",
            "other-config:datapath-id=0000000000000007",
        ],
        &[&target],
    );
    db.vsctl(&[
        "set",
        "controller",
        "br-timers",
        "max_backoff=60000",
        "inactivity_probe=0",
    ]);
    db.vsctl(&["set", "Open_vSwitch", ".", "other_config:vlan-limit=0"]);
    let config = policy(&db, "\n[defaults]\nsubscriber_ports = []\n");
    let config = config.to_string_lossy();
    let args = ["--ovsdb", &db.endpoint(), "--config", &config];
    let out = doctor(&args);
    assert_eq!(out.status.code(), Some(1));
    let got = lines(&out);
    let starts = [
        "br-timers: datapath_id is 00:00:00:00:00:00:00:07: no [[switch]] of the policy lists it",
        "br-timers: controller tcp:127.0.0.1:6653 max_backoff is 60000 ms: ",
        "br-timers: controller tcp:127.0.0.1:6653 inactivity_probe is 0 ms: probes are off",
        "br-timers: Open_vSwitch other_config:vlan-limit is 0: ",
    ];
    assert_eq!(got.len(), starts.len(), "{got:#?}");
    for (line, start) in got.iter().zip(starts) {
        assert!(
            line.starts_with(start),
            "{line}\n  should start with\n{start}"
        );
    }
    for line in &got[1..] {
        let fix = line
            .split("; fix: ovs-vsctl ")
            .nth(1)
            .expect("an ovs-vsctl fix");
        db.vsctl(&fix.split(' ').collect::<Vec<_>>());
    }
    let listed = policy(
        &db,
        "\n[defaults]\nsubscriber_ports = []\n\n[[switch]]\ndpid = 7\nsubscriber_ports = [1]\n",
    );
    let listed = listed.to_string_lossy();
    let out = doctor(&["--ovsdb", &db.endpoint(), "--config", &listed]);
    assert_eq!(out.status.code(), Some(0), "{:#?}", lines(&out));
}

#[test]
fn a_database_that_cannot_be_reached_is_exit_2_and_ssl_is_refused_clearly() {
    let dir = ovsdb_support::fresh_dir("no-ovsdb");
    let endpoint = format!("unix:{}", dir.join("db.sock").display());
    let out = doctor(&["--ovsdb", &endpoint]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "op25b doctor: cannot connect to the Open vSwitch database at {endpoint}: "
        )),
        "{stderr}"
    );
    let out = doctor(&["--ovsdb", "ssl:192.0.2.10:6640"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ssl: endpoints are not supported yet"));
    let _ = std::fs::remove_dir_all(dir);
}
