//! The cluster's shared policy in a real etcd (a private one): `op25b policy push/show/history`
//! (the real binary) and an `op25b run` instance with `[cluster]` applying what is pushed, and
//! keeping the policy in force when etcd holds a policy it cannot validate.

use op25b_test_support::api::bearer_from;
use op25b_test_support::etcd::PrivateEtcd;
use op25b_test_support::op25b_run::Op25bRun;
use op25b_test_support::temp::temp_dir;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
const PREFIX: &str = "/op25b-policy-test/";

fn shared(relay: &str) -> String {
    format!(
        "[policy]\nblocked_ports = [25]\nrelays = [\"{relay}\"]\n\n[reporting]\nenabled = false\n"
    )
}

/// `op25b policy ARGS --etcd E --key-prefix PREFIX` as `user`: (exit code, stdout, stderr).
fn policy(etcd: &PrivateEtcd, user: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("policy")
        .args(args)
        .args(["--etcd", &etcd.endpoint(), "--key-prefix", PREFIX])
        .env("USER", user)
        .output()
        .expect("run op25b policy");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write policy");
    p
}

/// `etcdctl get KEY -w json`'s mod_revision of the policy key (0: absent).
fn stored_revision(etcd: &PrivateEtcd) -> i64 {
    let out = etcd.ctl(&["get", &format!("{PREFIX}policy"), "-w", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("etcdctl json");
    v["kvs"][0]["mod_revision"].as_i64().unwrap_or(0)
}

#[test]
fn push_validates_like_check_swaps_on_the_revision_read_and_records_who_and_what() {
    let etcd = PrivateEtcd::start();
    let dir = temp_dir("policy-push");
    let p1 = write(&dir, "p1.toml", &shared("192.0.2.25/32"));
    let p1s = p1.to_str().expect("utf-8 path");

    // Nothing stored yet.
    assert_eq!(policy(&etcd, "ann", &["show"]).0, 1);

    let (code, out, err) = policy(&etcd, "ann", &["push", "--config", p1s]);
    assert_eq!(code, 0, "{out}{err}");
    let rev1 = stored_revision(&etcd);
    assert!(rev1 > 0);
    let (code, shown, err) = policy(&etcd, "ann", &["show"]);
    assert_eq!(
        (code, shown.as_str()),
        (0, shared("192.0.2.25/32").as_str())
    );
    assert!(
        err.contains(&format!("revision {rev1}, pushed by ann@")),
        "{err}"
    );

    // Invalid: refused with the location, etcd untouched.
    let bad = write(
        &dir,
        "bad.toml",
        "[policy]\nblocked_ports = [25]\nrelays = [\"192.0.2.999/32\"]\n",
    );
    let (code, _, err) = policy(
        &etcd,
        "ann",
        &["push", "--config", bad.to_str().expect("utf-8")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bad.toml:3:11: policy.relays[0]"), "{err}");
    // An instance-local section: refused at its header.
    let local = write(
        &dir,
        "local.toml",
        &format!(
            "{}[controller]\nlisten = \"127.0.0.1:6653\"\n",
            shared("192.0.2.26/32")
        ),
    );
    let (code, _, err) = policy(
        &etcd,
        "ann",
        &["push", "--config", local.to_str().expect("utf-8")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("local.toml:7:1: [controller]: instance-local"),
        "{err}"
    );
    assert_eq!(stored_revision(&etcd), rev1, "refused pushes write nothing");

    // bob pushes a change based on rev1; ann's edit, also based on rev1, is then refused.
    let p2 = write(&dir, "p2.toml", &shared("192.0.2.26/32"));
    let p3 = write(&dir, "p3.toml", &shared("192.0.2.27/32"));
    let base = rev1.to_string();
    let (code, _, err) = policy(
        &etcd,
        "bob",
        &[
            "push",
            "--config",
            p2.to_str().expect("utf-8"),
            "--expect-revision",
            &base,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rev2 = stored_revision(&etcd);
    let (code, _, err) = policy(
        &etcd,
        "ann",
        &[
            "push",
            "--config",
            p3.to_str().expect("utf-8"),
            "--expect-revision",
            &base,
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "changed since revision {rev1}: it is now at revision {rev2}, pushed by bob@"
        )),
        "{err}"
    );
    assert_eq!(
        stored_revision(&etcd),
        rev2,
        "a conflicting push writes nothing"
    );
    // --force overrides.
    let (code, _, err) = policy(
        &etcd,
        "ann",
        &["push", "--config", p3.to_str().expect("utf-8"), "--force"],
    );
    assert_eq!(code, 0, "{err}");
    let rev3 = stored_revision(&etcd);
    assert!(rev3 > rev2);

    // History: newest first, with pusher and a diff against the one before.
    let (code, hist, err) = policy(&etcd, "ann", &["history", "-n", "2"]);
    assert_eq!(code, 0, "{err}");
    let forced = format!("revision {rev3}: pushed by ann@");
    let by_bob = format!("revision {rev2}: pushed by bob@");
    let (i3, i2) = (hist.find(&forced), hist.find(&by_bob));
    assert!(i3.is_some() && i2.is_some() && i3 < i2, "{hist}");
    assert!(hist.contains("(--force)"), "{hist}");
    assert!(
        hist.contains("-relays = [\"192.0.2.26/32\"]\n+relays = [\"192.0.2.27/32\"]"),
        "{hist}"
    );
    assert!(
        hist.contains("-relays = [\"192.0.2.25/32\"]\n+relays = [\"192.0.2.26/32\"]"),
        "{hist}"
    );
    assert!(
        !hist.contains(&format!("revision {rev1}: pushed")),
        "-n 2 shows two: {hist}"
    );

    // etcd unreachable: exit 2.
    let out = Command::new(BIN)
        .args(["policy", "show", "--etcd", "http://127.0.0.1:1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

fn instance_config(etcd: &str, relay: &str) -> String {
    format!(
        "[controller]\naudit_interval_secs = 3600\n\n{}\n[cluster]\netcd = [\"{etcd}\"]\nname = \"a\"\nlease_secs = 2\nkey_prefix = \"{PREFIX}\"\n",
        shared(relay)
    )
}

fn get(api: &str, bearer: &str, path: &str) -> String {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .new_agent();
    let mut resp = agent
        .get(&format!("http://{api}{path}"))
        .header("Authorization", bearer)
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    resp.body_mut().read_to_string().expect("body")
}

fn policy_in_force(api: &str, bearer: &str) -> (u64, Vec<String>) {
    let v: serde_json::Value =
        serde_json::from_str(&get(api, bearer, "/api/policy")).expect("json");
    let relays = v["policy"]["relays"]
        .as_array()
        .expect("relays")
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    (v["generation"].as_u64().expect("generation"), relays)
}

fn failed_reloads(api: &str, bearer: &str) -> u64 {
    get(api, bearer, "/metrics")
        .lines()
        .find(|l| l.starts_with("op25b_policy_reloads_total{result=\"failed\"}"))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or(0)
}

fn until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn an_instance_applies_a_push_and_keeps_its_policy_when_etcd_holds_an_invalid_one() {
    let etcd = PrivateEtcd::start();
    let dir = temp_dir("policy-instance");
    let config = write(
        &dir,
        "policy.toml",
        &instance_config(&etcd.endpoint(), "192.0.2.25/32"),
    );
    let mut run = Op25bRun::start(BIN, &config, "127.0.0.1:0", "info");
    let api_line = run.wait_line(&["HTTP API ready"], Duration::from_secs(20));
    let v: serde_json::Value = serde_json::from_str(&api_line).expect("JSON log line");
    let api = v["api"].as_str().expect("api address").to_owned();
    let bearer = bearer_from(&dir.join("api-token"));
    let (gen0, relays) = policy_in_force(&api, &bearer);
    assert_eq!(
        relays,
        vec!["192.0.2.25/32".to_owned()],
        "the local file's until a push"
    );

    // Pushed with --instance (the instance's own file names etcd and the prefix).
    let pushed = write(&dir, "shared.toml", &shared("198.51.100.1/32"));
    let out = Command::new(BIN)
        .args(["policy", "push", "--config"])
        .arg(&pushed)
        .arg("--instance")
        .arg(&config)
        .output()
        .expect("push");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied = until(Duration::from_secs(5), || {
        let (g, r) = policy_in_force(&api, &bearer);
        (r == vec!["198.51.100.1/32".to_owned()]).then_some(g)
    });
    let gen1 = applied.expect("the pushed relay in force within 5 s");
    assert_eq!(gen1, gen0 + 1, "one new generation");
    run.wait_line(
        &["cluster policy applied", "\"trigger\":\"etcd\""],
        Duration::from_secs(5),
    );

    // Written past `op25b policy push`: invalid here, rejected, the pushed one stays.
    let failed_before = failed_reloads(&api, &bearer);
    etcd.ctl(&[
        "put",
        &format!("{PREFIX}policy"),
        "[policy]\nrelays = [\"not-an-ip\"]\n",
    ]);
    let line = run.wait_line(&["cluster policy rejected"], Duration::from_secs(5));
    assert!(line.contains("policy.relays[0]"), "{line}");
    assert_eq!(
        failed_reloads(&api, &bearer),
        failed_before + 1,
        "counted as a failed reload"
    );
    assert_eq!(
        policy_in_force(&api, &bearer),
        (gen1, vec!["198.51.100.1/32".to_owned()])
    );

    // A local edit of the policy sections does not fight etcd: the cluster's policy stays.
    std::fs::write(&config, instance_config(&etcd.endpoint(), "203.0.113.9/32")).expect("edit");
    run.signal("-HUP");
    run.wait_line(
        &["local file's policy sections differ"],
        Duration::from_secs(5),
    );
    assert_eq!(
        policy_in_force(&api, &bearer).1,
        vec!["198.51.100.1/32".to_owned()]
    );
}
