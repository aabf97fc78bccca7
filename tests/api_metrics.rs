//! `GET /metrics`: Prometheus text format checked by a strict validator and by the
//! `prometheus_client` Python package's parser (a real, independent parser).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use op25b_test_support::api::prometheus_text::{parse, value, Families};
use op25b_test_support::api::{syn_sample, TestApi};

fn scrape(api: &TestApi) -> (String, Families) {
    let (status, content_type, body) = api.request("GET", "/metrics");
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let families = parse(&body).unwrap_or_else(|e| panic!("invalid exposition: {e}\n{body}"));
    // For docs: `OP25B_DUMP_METRICS=/tmp/m.txt cargo test --test api_metrics`.
    if let Ok(path) = std::env::var("OP25B_DUMP_METRICS") {
        std::fs::write(path, &body).expect("dump metrics");
    }
    (body, families)
}

fn busy_api() -> TestApi {
    let api = TestApi::start(true);
    api.fill_registry();
    // One rejected reload: an invalid file, then the valid one back.
    let valid = std::fs::read_to_string(&api.policy_path).expect("read policy");
    std::fs::write(&api.policy_path, "[policy]\nblocked_ports = [\"x\"]\n").expect("write policy");
    assert!(
        api.store.reload("test").is_err(),
        "the invalid file is rejected"
    );
    std::fs::write(&api.policy_path, valid).expect("write policy");
    api.observations
        .record_sync(1, "connect", true, Duration::from_millis(20));
    api.observations
        .record_sync(1, "audit", true, Duration::from_millis(2));
    api.observations
        .record_sync(0xabc, "connect", false, Duration::from_secs(2));
    let samples = api.samples.clone().expect("offender service on");
    let now = SystemTime::now();
    api.rt.block_on(async {
        for i in 0..3u16 {
            samples
                .send(syn_sample(1, 2, [10, 0, 0, 7], 9, 1000 + i, now))
                .await
                .expect("service running");
        }
    });
    // Wait until the service has counted them.
    for _ in 0..200 {
        if api.state.offenders.as_ref().expect("on").summary().tracked == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    api
}

#[test]
fn metrics_cover_switches_syncs_errors_reloads_and_offenders() {
    let api = busy_api();
    let (_, f) = scrape(&api);
    let edge = [("dpid", "00:00:00:00:00:00:00:01")];
    assert_eq!(value(&f, "op25b_switches_known", &[]), Some(2.0));
    assert_eq!(value(&f, "op25b_switches_connected", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_switches_in_sync", &[]), Some(1.0));
    assert_eq!(
        value(
            &f,
            "op25b_switch_sync_state",
            &[
                ("dpid", "00:00:00:00:00:00:0a:bc"),
                ("state", "disconnected")
            ]
        ),
        Some(1.0)
    );
    // A state set: every state for every switch, exactly one of them 1.
    for dpid in ["00:00:00:00:00:00:00:01", "00:00:00:00:00:00:0a:bc"] {
        let mut ones = Vec::new();
        for state in [
            "handshaking",
            "syncing",
            "in_sync",
            "retry_wait",
            "disconnected",
        ] {
            let v = value(
                &f,
                "op25b_switch_sync_state",
                &[("dpid", dpid), ("state", state)],
            );
            assert!(v == Some(0.0) || v == Some(1.0), "{dpid} {state}: {v:?}");
            if v == Some(1.0) {
                ones.push(state);
            }
        }
        let want = if dpid.ends_with("01") {
            "in_sync"
        } else {
            "disconnected"
        };
        assert_eq!(ones, vec![want], "{dpid}");
    }
    assert_eq!(
        value(&f, "op25b_syncs_total", &[edge[0], ("result", "ok")]),
        Some(2.0)
    );
    assert_eq!(
        value(
            &f,
            "op25b_sync_runs_total",
            &[edge[0], ("reason", "audit"), ("result", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&f, "op25b_flow_mods_sent_total", &edge), Some(9.0));
    assert_eq!(
        value(
            &f,
            "op25b_openflow_errors_total",
            &[
                edge[0],
                ("type", "OFPET_BAD_MATCH"),
                ("code", "OFPBMC_BAD_PREREQ")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(value(&f, "op25b_policy_generation", &[]), Some(1.0));
    assert_eq!(
        value(&f, "op25b_policy_reloads_total", &[("result", "failed")]),
        Some(1.0)
    );
    assert_eq!(value(&f, "op25b_sampled_packets_total", &edge), Some(40.0));
    assert_eq!(value(&f, "op25b_sampled_attempts_total", &edge), Some(3.0));
    assert_eq!(value(&f, "op25b_offenders_tracked", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_offenders_flagged", &[]), Some(0.0));
    for family in [
        "op25b_blocked_packets_total",
        "op25b_blocked_bytes_total",
        "op25b_reconnects_total",
        "op25b_audit_repairs_total",
        "op25b_offender_flag_events_total",
        "op25b_abuse_reports_total",
        "op25b_report_command_delivered_total",
        "op25b_report_command_dropped_total",
        "op25b_report_command_failures_total",
    ] {
        assert_eq!(
            f.get(family).map(|x| x.kind.as_str()),
            Some("counter"),
            "{family}"
        );
    }

    let hist = f.get("op25b_sync_duration_seconds").expect("histogram");
    assert_eq!(hist.kind, "histogram");
    let count = |dpid: &str, result: &str| {
        hist.samples
            .iter()
            .find(|s| {
                s.name == "op25b_sync_duration_seconds_count"
                    && s.labels.get("dpid").map(String::as_str) == Some(dpid)
                    && s.labels.get("result").map(String::as_str) == Some(result)
            })
            .map(|s| s.value)
    };
    assert_eq!(count("00:00:00:00:00:00:00:01", "ok"), Some(2.0));
    assert_eq!(count("00:00:00:00:00:00:0a:bc", "failed"), Some(1.0));

    // What is in force and what runs.
    let info = &f.get("op25b_policy_info").expect("policy info").samples;
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].value, 1.0);
    assert_eq!(info[0].labels["generation"], "1");
    let hash = &info[0].labels["hash"];
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash}"
    );
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert_eq!(
        value(
            &f,
            "op25b_build_info",
            &[("version", env!("CARGO_PKG_VERSION")), ("profile", profile)]
        ),
        Some(1.0)
    );
    assert!(
        !f.contains_key("op25b_tls_cert_not_after_seconds"),
        "no TLS configured, no expiry series"
    );
    assert_eq!(
        f.get("process_cpu_seconds_total").map(|x| x.kind.as_str()),
        Some("counter")
    );
    for gauge in [
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        let v = value(&f, gauge, &[]).unwrap_or_else(|| panic!("{gauge}"));
        assert!(v > 0.0, "{gauge} = {v}");
    }
}

/// The interpreter with the `prometheus_client` package: `OP25B_PYTHON`, else Debian's
/// `/usr/bin/python3` (which `scripts/install-deps` gives python3-prometheus-client), else
/// `python3` from PATH.
fn python() -> String {
    std::env::var("OP25B_PYTHON").unwrap_or_else(|_| {
        if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3".to_owned()
        } else {
            "python3".to_owned()
        }
    })
}

const PY_CHECK: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(sys.stdin.read()))
samples = sum(len(f.samples) for f in families)
print(len(families), samples)
"#;

#[test]
fn metrics_parse_with_the_python_prometheus_client_parser() {
    let api = busy_api();
    let (body, f) = scrape(&api);
    let mut child = Command::new(python())
        .args(["-c", PY_CHECK])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write exposition");
    let out = child.wait_with_output().expect("python finished");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the prometheus_client parser rejected /metrics (or is not installed: \
         `pip install prometheus-client`, or Debian's python3-prometheus-client, or set \
         OP25B_PYTHON): {stderr}\n{body}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (families, samples) = stdout
        .trim()
        .split_once(' ')
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
        .unwrap_or_else(|| panic!("unexpected parser output {stdout:?}"));
    // Both parsers see the same families and samples.
    let ours: usize = f.values().map(|x| x.samples.len()).sum();
    assert_eq!(families, f.len(), "family count");
    assert_eq!(samples, ours, "sample count");
}
