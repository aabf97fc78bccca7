//! CI smoke test of the outbreak at a small size: 100 switches x 20 samples/s for 12 s against
//! the real controller binary. Correctness only, not speed: every spraying subscriber (IPv6
//! hosts rotating addresses included) is reported and nobody else, no switch drops, every echo
//! is answered, and the reload half-way reaches every switch. The swarm's exit status says the
//! same; the JSON's last line is checked field by field so a failure says which.
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
fn a_small_outbreak_is_detected_without_losing_a_switch_or_an_echo() {
    let controller = controller_binary();
    let work = std::env::temp_dir().join(format!("op25b-outbreak-smoke-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_op25b-swarm"))
        .args([
            "outbreak",
            "-n",
            "100",
            "--samples-pps",
            "2000",
            "--secs",
            "12",
            "--spray-percent",
            "5",
            "--json",
            "--timeout-secs",
            "20",
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
    println!("{r}");
    for key in [
        "switches",
        "samples_sent",
        "samples_shed",
        "disconnects",
        "echo_timeouts",
        "offenders_expected",
        "offenders_detected",
        "detect_p99_secs",
        "reload_all_secs",
        "controller_hwm_kib",
    ] {
        assert!(r.get(key).is_some(), "no {key}: {r}");
    }
    assert_eq!(r["switches"], 100);
    assert!(
        r["samples_sent"].as_u64().is_some_and(|n| n > 10_000),
        "{r}"
    );
    assert!(
        r["samples_shed"].is_u64(),
        "the controller's counter was read: {r}"
    );
    assert_eq!(r["disconnects"], 0, "{r}");
    assert!(r["echo_probes"].as_u64().is_some_and(|n| n >= 100), "{r}");
    assert_eq!(r["echo_timeouts"], 0, "{r}");
    let expected = r["offenders_expected"].as_u64().unwrap_or(0);
    assert!(expected > 0, "the mix has sprayers: {r}");
    assert_eq!(r["offenders_detected"], expected, "{r}");
    assert!(
        r["offenders_expected_ipv6"].as_u64().is_some_and(|n| n > 0),
        "rotating IPv6 sprayers in the mix: {r}"
    );
    assert_eq!(
        r["offenders_detected_ipv6"], r["offenders_expected_ipv6"],
        "{r}"
    );
    assert_eq!(r["false_reports"], 0, "{r}");
    assert!(
        r["reload_all_secs"].is_number(),
        "the reload reached every switch: {r}"
    );
    assert!(out.status.success(), "op25b-swarm failed: {stderr}");
    let _ = std::fs::remove_dir_all(&work);
}
