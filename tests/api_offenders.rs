//! The offender service end to end: samples into the channel -> table -> `/api/offenders`,
//! `/metrics`, the X-ARF v4 report file and `report_command` (real processes), every report
//! validated against the X-ARF v4 master schema by `tests/data/xarf-v4/validate.py`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use op25b::api::Readiness;
use op25b::cli::launch;
use op25b::controller::policy_store::PolicyStore;
use op25b::fleet::registry::Registry;
use op25b::policy::Config;
use op25b_test_support::api::prometheus_text::{parse, value};
use op25b_test_support::api::{syn_sample, TestApi, POLICY};
use op25b_test_support::temp::temp_dir;
use op25b_test_support::xarf;
use tokio_util::sync::CancellationToken;

/// 35 new connections from a bot to 7 hosts; 35 new connections from a misconfigured mail
/// client to one host; one connection retransmitting its SYN 35 times.
fn feed(samples: &tokio::sync::mpsc::Sender<op25b::session::codec_bridge::PacketInSample>) {
    let start = SystemTime::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for i in 0..35u16 {
            let at = start + Duration::from_millis(u64::from(i) * 50);
            for s in [
                syn_sample(1, 3, [10, 0, 0, 66], 1 + (i % 7) as u8, 40_000 + i, at),
                syn_sample(1, 2, [10, 0, 0, 20], 200, 50_000 + i, at),
                syn_sample(1, 1, [10, 0, 0, 21], 9, 33_333, at),
            ] {
                samples.send(s).await.expect("service running");
            }
        }
    });
}

#[test]
fn a_bot_shows_up_flagged_in_the_api_and_metrics_and_well_behaved_hosts_do_not() {
    let api = TestApi::start(true);
    feed(api.samples.as_ref().expect("service on"));

    let mut flagged = serde_json::Value::Null;
    for _ in 0..300 {
        let (status, body) = api.json("GET", "/api/offenders?flagged=true&limit=10");
        assert_eq!(status, 200);
        if body["tracked"] == 3 && body["offenders"].as_array().is_some_and(|a| !a.is_empty()) {
            flagged = body;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let list = flagged["offenders"]
        .as_array()
        .expect("flagged offenders within 3 s");
    assert_eq!(list.len(), 1, "{flagged}");
    let bot = &list[0];
    assert_eq!(bot["source_ip"], "10.0.0.66");
    assert_eq!(bot["source_mac"], "02:00:00:00:00:42");
    assert_eq!(bot["switch"], "00:00:00:00:00:00:00:01");
    assert_eq!(bot["port"], 3);
    assert_eq!(bot["attempts"], 35);
    assert_eq!(bot["distinct_destinations"], 7);
    assert_eq!(bot["flagged"], true);
    assert!(bot["flagged_at"].is_string());
    assert_eq!(flagged["flagged"], 1);

    let (_, all) = api.json("GET", "/api/offenders");
    let all = all["offenders"].as_array().expect("array").clone();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["source_ip"], "10.0.0.66", "flagged first");
    let client = all
        .iter()
        .find(|o| o["source_ip"] == "10.0.0.20")
        .expect("client tracked");
    assert_eq!(
        (client["attempts"].clone(), client["flagged"].clone()),
        (35.into(), false.into())
    );
    let retrier = all
        .iter()
        .find(|o| o["source_ip"] == "10.0.0.21")
        .expect("retrier tracked");
    assert_eq!(retrier["attempts"], 1);
    assert_eq!(retrier["retransmissions"], 34);
    assert_eq!(retrier["flagged"], false);

    let (_, _, text) = api.request("GET", "/metrics");
    let f = parse(&text).expect("valid exposition");
    assert_eq!(value(&f, "op25b_offenders_flagged", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_offenders_tracked", &[]), Some(3.0));
    assert_eq!(
        value(&f, "op25b_offender_flag_events_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &f,
            "op25b_sampled_attempts_total",
            &[("dpid", "00:00:00:00:00:00:00:01")]
        ),
        Some(105.0)
    );
}

#[test]
fn launch_starts_the_service_and_the_api_from_the_policy_and_writes_the_report_line() {
    let dir = temp_dir("launch");
    let report = dir.join("reports.jsonl");
    let policy_path = dir.join("policy.toml");
    std::fs::write(
        &policy_path,
        format!("{POLICY}report_path = \"{}\"\n", report.display()),
    )
    .expect("write policy");
    let loaded = Config::load(&policy_path).expect("valid");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(loaded.config, Some(policy_path)));
    let readiness = Arc::new(Readiness::new());
    let shutdown = CancellationToken::new();
    let obs = rt
        .block_on(launch::start(
            registry,
            store,
            readiness.clone(),
            Some("127.0.0.1:0".parse().expect("addr")),
            shutdown.clone(),
        ))
        .expect("starts");
    assert_ne!(obs.api_addr.port(), 0);
    feed(obs.samples.as_ref().expect("reporting is on by default"));

    let mut lines = String::new();
    for _ in 0..300 {
        lines = std::fs::read_to_string(&report).unwrap_or_default();
        if !lines.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(lines.lines().count(), 1, "one report: {lines:?}");
    let r: serde_json::Value = serde_json::from_str(lines.trim()).expect("one JSON line");
    assert_eq!(r["category"], "infrastructure");
    assert_eq!(r["type"], "botnet");
    assert_eq!(r["source_identifier"], "10.0.0.66");
    assert_eq!(r["destination_port"], 25);
    assert_eq!(r["_internal"]["op25b"]["switch"], "00:00:00:00:00:00:00:01");
    assert_eq!(r["_internal"]["op25b"]["port"], 3);
    assert!(r["timestamp"].as_str().is_some_and(|d| d.ends_with('Z')));
    xarf::assert_valid(&report);

    // The API answers on the address launch bound, and stops on shutdown.
    let url = format!("http://{}/healthz", obs.api_addr);
    let mut response = ureq::get(&url).call().expect("API up");
    assert_eq!(
        response.body_mut().read_to_string().expect("body"),
        r#"{"status":"ok"}"#
    );
    shutdown.cancel();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), obs.join())
            .await
            .expect("API and service stop within 5 s");
    });
    assert!(
        ureq::get(&url).call().is_err(),
        "API still answering after shutdown"
    );
}

/// Reporting off at start, then a reload turns it on with lower thresholds, a report file and
/// the ISP's sender: the samples after the reload are ingested, judged by the new thresholds
/// and reported under the new sender.
#[test]
fn a_reload_turns_reporting_on_with_new_thresholds_and_report_settings() {
    let dir = temp_dir("reporting-reload");
    let report = dir.join("reports.jsonl");
    let policy_path = dir.join("policy.toml");
    std::fs::write(&policy_path, format!("{POLICY}enabled = false\n")).expect("write policy");
    let loaded = Config::load(&policy_path).expect("valid");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(loaded.config, Some(policy_path.clone())));
    let shutdown = CancellationToken::new();
    let obs = rt
        .block_on(launch::start(
            registry,
            store.clone(),
            Arc::new(Readiness::new()),
            Some("127.0.0.1:0".parse().expect("addr")),
            shutdown.clone(),
        ))
        .expect("starts");
    let offenders_url = format!("http://{}/api/offenders", obs.api_addr);
    let bearer = op25b_test_support::api::bearer_from(&obs.token_file);
    let get = |url: &str| -> serde_json::Value {
        let mut r = ureq::get(url)
            .header("Authorization", &bearer)
            .call()
            .expect("API answers");
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("JSON")
    };
    assert_eq!(get(&offenders_url)["enabled"], false);

    // The reload also sets a report_command (a real script appending stdin to a file).
    let from_command = dir.join("from-command.jsonl");
    let append = dir.join("append-stdin");
    std::fs::write(&append, "#!/bin/sh\ncat >> \"$1\"\n").expect("script");
    std::fs::set_permissions(
        &append,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .expect("chmod");
    let text = POLICY.replace(
        "threshold_attempts = 30\nthreshold_destinations = 5\n",
        &format!(
            "threshold_attempts = 10\nthreshold_destinations = 3\nreported_from = \"abuse@isp.example\"\nreport_path = \"{}\"\nreport_command = [\"{}\", \"{}\"]\n",
            report.display(),
            append.display(),
            from_command.display()
        ),
    );
    assert_ne!(
        text, POLICY,
        "the test policy still has the thresholds it replaces"
    );
    std::fs::write(&policy_path, text).expect("rewrite policy");
    let outcome = store.reload("test").expect("reload accepted");
    assert_eq!(
        outcome,
        op25b::controller::policy_store::ReloadOutcome::Installed { generation: 2 }
    );
    // The reload task applies the change asynchronously: wait until the API says enabled.
    let mut enabled = false;
    for _ in 0..300 {
        if get(&offenders_url)["enabled"] == true {
            enabled = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(enabled, "reporting on within 3 s of the reload");

    // 12 connections to 4 hosts: flagged at 10/3, not at the old 30/5.
    let samples = obs
        .samples
        .clone()
        .expect("samples channel even though reporting was off at start");
    let start = SystemTime::now();
    rt.block_on(async {
        for i in 0..12u16 {
            let at = start + Duration::from_millis(u64::from(i) * 50);
            let s = syn_sample(1, 3, [10, 0, 0, 66], 1 + (i % 4) as u8, 40_000 + i, at);
            samples.send(s).await.expect("service running");
        }
    });
    let mut lines = String::new();
    for _ in 0..300 {
        lines = std::fs::read_to_string(&report).unwrap_or_default();
        if !lines.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(lines.lines().count(), 1, "one report: {lines:?}");
    let r: serde_json::Value = serde_json::from_str(lines.trim()).expect("one JSON line");
    assert_eq!(r["reporter"]["contact"], "abuse@isp.example");
    assert_eq!(r["sender"]["domain"], "isp.example");
    assert_eq!(r["source_identifier"], "10.0.0.66");
    let mut got = String::new();
    for _ in 0..300 {
        got = std::fs::read_to_string(&from_command).unwrap_or_default();
        if !got.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(got, lines, "the reloaded report_command got the report");
    xarf::assert_valid(&from_command);
    let body = get(&format!("{offenders_url}?flagged=true"));
    assert_eq!(body["flagged"], 1, "{body}");
    assert_eq!(body["offenders"][0]["attempts"], 12, "{body}");
    shutdown.cancel();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), obs.join())
            .await
            .expect("everything stops within 5 s");
    });
}

/// A SYN from `source` (an IPv6 address in 2001:db8:66::/64, MAC 02:..:66) to
/// `2001:db8:5100::<host>` port 25, as a sample.
fn syn6_sample(
    in_port: u32,
    source_last: u16,
    host: u16,
    source_port: u16,
    at: SystemTime,
) -> op25b::session::codec_bridge::PacketInSample {
    use etherparse::PacketBuilder;
    let mut source = [0u8; 16];
    source[..6].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x00, 0x66]);
    source[14..].copy_from_slice(&source_last.to_be_bytes());
    let mut destination = [0u8; 16];
    destination[..6].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x51, 0x00]);
    destination[14..].copy_from_slice(&host.to_be_bytes());
    let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 0x66], [2, 0, 0, 0, 0, 0xfe])
        .ipv6(source, destination, 64)
        .tcp(source_port, 25, 1, 64240)
        .syn();
    let mut frame = Vec::with_capacity(builder.size(0));
    builder.write(&mut frame, &[]).expect("write to a Vec");
    let mut sample = syn_sample(1, in_port, [10, 0, 0, 1], 1, 1, at);
    sample.packet_in.data = bytes::Bytes::from(frame);
    sample
}

/// Through the real pipeline (launch: service, writer thread, `report_command` as a real
/// process): an IPv4 bot and an IPv6 bot rotating addresses inside its /64 are reported to the
/// file and to the command; every line of both validates against the X-ARF v4 master schema,
/// and the same line without `compromise_evidence` is refused by the same validator.
#[test]
fn reports_through_the_real_pipeline_validate_against_the_xarf_v4_schema() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("xarf-v4");
    let report = dir.join("reports.jsonl");
    let from_command = dir.join("from-command.jsonl");
    let append = dir.join("append-stdin");
    std::fs::write(&append, "#!/bin/sh\ncat >> \"$1\"\n").expect("script");
    std::fs::set_permissions(&append, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let policy_path = dir.join("policy.toml");
    std::fs::write(
        &policy_path,
        format!(
            "{POLICY}reported_from = \"abuse@isp.example\"\nreporter_org = \"Example ISP\"\n\
             report_path = \"{}\"\nreport_command = [\"{}\", \"{}\"]\n",
            report.display(),
            append.display(),
            from_command.display()
        ),
    )
    .expect("write policy");
    let loaded = Config::load(&policy_path).expect("valid");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let shutdown = CancellationToken::new();
    let obs = rt
        .block_on(launch::start(
            Arc::new(Registry::new()),
            Arc::new(PolicyStore::new(loaded.config, Some(policy_path))),
            Arc::new(Readiness::new()),
            Some("127.0.0.1:0".parse().expect("addr")),
            shutdown.clone(),
        ))
        .expect("starts");
    let samples = obs.samples.clone().expect("reporting on");
    feed(&samples);
    let start = SystemTime::now();
    rt.block_on(async {
        for i in 0..35u16 {
            let at = start + Duration::from_millis(u64::from(i) * 50);
            // A new privacy address every 5 attempts, all in 2001:db8:66::/64.
            let s = syn6_sample(5, 0x100 + i / 5, 1 + i % 7, 41_000 + i, at);
            samples.send(s).await.expect("service running");
        }
    });
    let mut lines = (String::new(), String::new());
    for _ in 0..500 {
        lines = (
            std::fs::read_to_string(&report).unwrap_or_default(),
            std::fs::read_to_string(&from_command).unwrap_or_default(),
        );
        if lines.0.lines().count() == 2 && lines.1.lines().count() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (file_lines, command_lines) = lines;
    assert_eq!(file_lines.lines().count(), 2, "{file_lines}");
    assert_eq!(
        command_lines, file_lines,
        "the command got each report line on stdin, byte for byte"
    );
    let file_verdict = xarf::assert_valid(&report);
    let command_verdict = xarf::assert_valid(&from_command);
    assert_eq!(file_verdict, "VALID: 2 report(s)");
    assert_eq!(command_verdict, "VALID: 2 report(s)");

    let reports: Vec<serde_json::Value> = file_lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let v6 = reports
        .iter()
        .find(|r| {
            r["source_identifier"]
                .as_str()
                .is_some_and(|s| s.contains(':'))
        })
        .expect("the IPv6 bot is reported");
    assert_eq!(v6["reporter"]["org"], "Example ISP");
    assert_eq!(v6["_internal"]["op25b"]["port"], 5);
    assert_eq!(
        v6["_internal"]["op25b"]["source_prefix"],
        "2001:db8:66::/64"
    );
    let seen = v6["_internal"]["op25b"]["source_addresses"]
        .as_array()
        .expect("addresses seen in the prefix");
    assert!(seen.len() >= 5, "{v6}");
    assert_eq!(
        v6["evidence"][0]["content_type"],
        "application/octet-stream"
    );

    // The validator can fail: the same line without a required field is refused.
    let first = file_lines.lines().next().expect("a line");
    xarf::assert_refused_without(first, "compromise_evidence", &dir);
    xarf::assert_refused_without(first, "reporter", &dir);

    // The command's runs are counted in /metrics.
    let metrics = format!("http://{}/metrics", obs.api_addr);
    let bearer = op25b_test_support::api::bearer_from(&obs.token_file);
    let text = ureq::get(&metrics)
        .header("Authorization", &bearer)
        .call()
        .expect("metrics")
        .body_mut()
        .read_to_string()
        .expect("body");
    let families = parse(&text).unwrap_or_else(|e| panic!("invalid exposition: {e}"));
    assert_eq!(
        value(&families, "op25b_report_command_delivered_total", &[]),
        Some(2.0)
    );
    assert_eq!(
        value(&families, "op25b_report_command_dropped_total", &[]),
        Some(0.0)
    );
    for reason in ["spawn", "exit", "timeout"] {
        assert_eq!(
            value(
                &families,
                "op25b_report_command_failures_total",
                &[("reason", reason)]
            ),
            Some(0.0),
            "{reason}"
        );
    }
    shutdown.cancel();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), obs.join())
            .await
            .expect("everything stops within 5 s");
    });
}
