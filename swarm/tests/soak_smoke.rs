//! CI smoke test of the soak at a small size: 200 switches for 120 s against the real
//! controller binary, a tenth of them churned every 20 s (half of those with wiped tables), a
//! reload every 10 s, samples and API polls throughout, the footprint's baseline after 40 s.
//! Correctness only, not speed: the controller's RSS, descriptors, threads and registry come
//! back within 10%, every switch ends in sync (its table and the controller's word), every
//! reload applied, the API always answered, and the log holds no unexplained WARN/ERROR. The
//! swarm's exit status says the same; the JSON's last line is checked check by check so a
//! failure says which.
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The controller binary, built (debug, as this test) into the same target directory.
fn controller_binary() -> PathBuf {
    let swarm = PathBuf::from(env!("CARGO_BIN_EXE_op25b-swarm"));
    let dir = swarm.parent().expect("binary directory").to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "op25b", "--bin", "op25b"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build for the controller");
    assert!(status.success(), "cargo build -p op25b failed: {status}");
    dir.join("op25b")
}

#[test]
fn two_minutes_of_churn_leave_the_controller_as_it_was() {
    let controller = controller_binary();
    let work = std::env::temp_dir().join(format!("op25b-soak-smoke-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_op25b-swarm"))
        .args([
            "soak",
            "-n",
            "200",
            "--secs",
            "120",
            "--period-secs",
            "20",
            "--warmup-secs",
            "40",
            "--json",
            "--timeout-secs",
            "60",
        ])
        .arg("--controller-bin")
        .arg(&controller)
        .arg("--work-dir")
        .arg(&work)
        .output()
        .expect("run op25b-swarm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let r: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("last line is not JSON ({e}): {stdout}\n{stderr}"));
    eprintln!("{stderr}");
    assert_eq!(r["switches"], 200, "{r}");
    let churn = &r["churn"];
    assert!(churn["rounds"].as_u64().is_some_and(|n| n >= 5), "{churn}");
    assert!(
        churn["disconnects"].as_u64().is_some_and(|n| n >= 100),
        "{churn}"
    );
    assert!(r["tables_wiped"].as_u64().is_some_and(|n| n >= 50), "{r}");
    assert!(
        churn["reloads"].as_u64().is_some_and(|n| n >= 10),
        "{churn}"
    );
    assert!(
        churn["api_polls"].as_u64().is_some_and(|n| n >= 300),
        "{churn}"
    );
    assert!(
        r["samples_sent"].as_u64().is_some_and(|n| n > 10_000),
        "{r}"
    );
    let checks = r["verdict"]["checks"].as_array().expect("checks");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    for name in [
        "rss_kib back within 10%",
        "fds back within 10%",
        "threads back within 10%",
        "registry_entries back within 10%",
        "every switch in sync at the end (table and controller)",
        "the churn ran",
        "every reload applied",
        "the API always answered",
        "no unexplained WARN/ERROR in the log",
    ] {
        assert!(names.contains(&name), "no check {name:?}: {names:?}");
    }
    for c in checks {
        assert_eq!(c["ok"], true, "check failed: {c}");
    }
    for s in r["verdict"]["series"].as_array().expect("series") {
        assert!(s["baseline"].is_number() && s["end"].is_number(), "{s}");
    }
    assert_eq!(r["verdict"]["ok"], true, "{r}");
    assert!(out.status.success(), "op25b-swarm failed: {stderr}");
    let _ = std::fs::remove_dir_all(&work);
}
