//! The service with a real channel, task, expiry timer and writer thread.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use op25b_proto::match_::Match;
use op25b_proto::oxm::Oxm;
use op25b_proto::packet_in::PacketIn;

use super::*;
use crate::controller::report_command::CommandSpec;
use crate::offenders::test_fixtures::{syn_frame, SharedBuffer};
use crate::offenders::ReportConfig;
use base64::Engine as _;

fn syn(source: [u8; 4], host: u8, source_port: u16) -> Bytes {
    Bytes::from(syn_frame(source, host, source_port))
}

fn sample(dpid: u64, in_port: Option<u32>, data: Bytes, at: SystemTime) -> PacketInSample {
    PacketInSample {
        dpid,
        received: at,
        packet_in: PacketIn {
            buffer_id: u32::MAX,
            total_len: 74,
            reason: 1,
            table_id: 0,
            cookie: 1,
            match_: Match {
                fields: in_port.map(Oxm::InPort).into_iter().collect(),
            },
            data,
        },
    }
}

fn config() -> OffenderServiceConfig {
    OffenderServiceConfig {
        expire_every: Duration::from_secs(3600),
        ..OffenderServiceConfig::default()
    }
}

#[tokio::test]
async fn a_bot_is_flagged_logged_and_reported_once_through_the_channel() {
    let lines = SharedBuffer::default();
    let sink = ReportSink::from_writer("memory", Box::new(lines.clone()));
    let shutdown = CancellationToken::new();
    let service = OffenderService::spawn(
        config(),
        ReportOutputs::sink(sink, ReportConfig::default()),
        shutdown.clone(),
    )
    .expect("starts");
    let start = SystemTime::now();
    for i in 0..40u16 {
        let at = start + Duration::from_millis(u64::from(i) * 100);
        let bot = sample(
            7,
            Some(3),
            syn([10, 0, 0, 1], 1 + (i % 6) as u8, 40_000 + i),
            at,
        );
        service.samples.send(bot).await.expect("service running");
        // A client retrying one server with fresh connections: never flagged.
        let client = sample(7, Some(4), syn([10, 0, 0, 2], 200, 50_000 + i), at);
        service.samples.send(client).await.expect("service running");
    }
    // A frame that is not IP and a PACKET_IN without in_port: counted as malformed.
    let junk = sample(7, Some(3), Bytes::from_static(&[0u8; 20]), start);
    service.samples.send(junk).await.expect("service running");
    let no_port = sample(7, None, syn([10, 0, 0, 3], 1, 1), start);
    service
        .samples
        .send(no_port)
        .await
        .expect("service running");

    // Dropping the sender ends the task after it drained the channel; the writer then ends.
    let OffenderService {
        handle,
        samples,
        task,
    } = service;
    drop(samples);
    task.await.expect("task ends cleanly");
    for _ in 0..100 {
        if handle.summary().reports_written == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let summary = handle.summary();
    assert_eq!(summary.tracked, 2);
    assert_eq!(summary.flagged, 1);
    assert_eq!(summary.table.flagged_events, 1);
    assert_eq!(summary.reports_written, 1);
    assert_eq!(summary.report_errors, 0);
    assert_eq!(
        summary.switches.get(&7),
        Some(&SwitchSampleCounts {
            samples: 82,
            connection_attempts: 80,
            malformed: 2
        })
    );

    let flagged = handle.top(10, true);
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].source_ip.to_string(), "10.0.0.1");
    assert_eq!(flagged[0].port, 3);
    assert_eq!(flagged[0].attempts, 40);
    assert_eq!(handle.top(10, false).len(), 2);

    let text = lines.text();
    assert_eq!(text.lines().count(), 1, "one report line: {text}");
    let report: serde_json::Value = serde_json::from_str(text.trim()).expect("JSON line");
    assert_eq!(report["type"], "botnet");
    assert_eq!(report["source_identifier"], "10.0.0.1");
    assert_eq!(report["_internal"]["op25b"]["port"], 3);
    // The sampled frame that crossed the threshold travels with the event as evidence: the
    // 30th bot SYN (the default threshold; i = 29: host 198.51.100.6, source port 40029).
    let evidence = &report["evidence"][0];
    let expected = syn([10, 0, 0, 1], 1 + (29 % 6) as u8, 40_029);
    assert_eq!(report["source_port"], 40_029);
    assert_eq!(
        evidence["payload"],
        base64::engine::general_purpose::STANDARD.encode(&expected)
    );
    assert_eq!(evidence["size"], expected.len());
}

/// 40 attempts to 6 hosts from 10.0.0.1 (flagged), then the channel closed and the task ended.
async fn flag_one_bot(service: OffenderService) -> OffenderHandle {
    let start = SystemTime::now();
    for i in 0..40u16 {
        let at = start + Duration::from_millis(u64::from(i) * 100);
        let host = 1 + u8::try_from(i % 6).unwrap_or(0);
        let bot = sample(7, Some(3), syn([10, 0, 0, 1], host, 40_000 + i), at);
        service.samples.send(bot).await.expect("service running");
    }
    let OffenderService {
        handle,
        samples,
        task,
    } = service;
    drop(samples);
    task.await.expect("task ends cleanly");
    handle
}

fn dead_etcd() -> crate::policy::ClusterSettings {
    // Nothing listens on the discard port of loopback: every request to etcd fails.
    crate::policy::ClusterSettings {
        etcd: vec!["http://127.0.0.1:9".to_owned()],
        name: "a".to_owned(),
        lease_secs: 3,
        key_prefix: "/op25b/".to_owned(),
    }
}

#[tokio::test]
async fn etcd_down_the_report_is_written_unclaimed_and_counted() {
    let lines = SharedBuffer::default();
    let sink = ReportSink::from_writer("memory", Box::new(lines.clone()));
    let service = OffenderService::spawn(
        config(),
        ReportOutputs::sink(sink, ReportConfig::default()),
        CancellationToken::new(),
    )
    .expect("starts");
    let status = Arc::new(Mutex::new(crate::cluster::ClusterStatus::new("a")));
    service
        .handle
        .set_claims(ReportClaims::new(&dead_etcd(), status.clone()));
    let handle = flag_one_bot(service).await;
    for _ in 0..100 {
        if handle.summary().reports_written == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(handle.summary().reports_written, 1, "written despite etcd");
    assert_eq!(lines.text().lines().count(), 1);
    let s = status.lock().clone();
    assert_eq!(s.offenders.claims_unavailable, 1);
    assert_eq!(s.offenders.claims_won + s.offenders.claims_lost, 0);
    assert!(s.etcd_errors >= 1);
}

#[tokio::test]
async fn without_a_report_sink_nothing_is_claimed() {
    let service = OffenderService::spawn(config(), ReportOutputs::none(), CancellationToken::new())
        .expect("starts");
    let status = Arc::new(Mutex::new(crate::cluster::ClusterStatus::new("a")));
    service
        .handle
        .set_claims(ReportClaims::new(&dead_etcd(), status.clone()));
    let handle = flag_one_bot(service).await;
    assert_eq!(handle.summary().flagged, 1);
    let s = status.lock().clone();
    assert_eq!(
        s.offenders.claims_unavailable + s.offenders.claims_won + s.offenders.claims_lost,
        0
    );
}

#[tokio::test]
async fn shutdown_stops_the_task_and_expiry_forgets_idle_subscribers() {
    let shutdown = CancellationToken::new();
    let service =
        OffenderService::spawn(config(), ReportOutputs::none(), shutdown.clone()).expect("starts");
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(
        service
            .handle
            .ingest(&sample(1, Some(1), syn([10, 0, 0, 9], 1, 1), long_ago)),
        None
    );
    assert_eq!(service.handle.summary().tracked, 1);
    assert_eq!(service.handle.expire(UnixMillis::now()), 1);
    assert_eq!(service.handle.summary().tracked, 0);
    assert_eq!(service.handle.summary().table.expired, 1);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), service.task)
        .await
        .expect("stops within 5 s")
        .expect("no panic");
}

#[test]
fn a_config_the_table_refuses_is_an_error_not_a_panic() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let bad = OffenderServiceConfig {
        table: OffenderConfig {
            flag_attempts: 2,
            flag_distinct_destinations: 5,
            ..OffenderConfig::default()
        },
        ..config()
    };
    assert!(matches!(
        OffenderService::spawn(bad, ReportOutputs::none(), CancellationToken::new()),
        Err(OffenderServiceError::Config(_))
    ));
    let zero = OffenderServiceConfig {
        channel_capacity: 0,
        ..config()
    };
    assert!(matches!(
        OffenderService::spawn(zero, ReportOutputs::none(), CancellationToken::new()),
        Err(OffenderServiceError::ZeroChannel)
    ));
}

#[tokio::test]
async fn a_switch_the_registry_forgets_loses_its_sample_counts_too() {
    use crate::fleet::registry::Registry;
    use std::time::Instant;
    let shutdown = CancellationToken::new();
    let service =
        OffenderService::spawn(config(), ReportOutputs::none(), shutdown.clone()).expect("starts");
    let registry = Registry::with_limits(Duration::from_secs(60), 1);
    registry.forget_with(&service.handle.forgetter());
    let peer = "127.0.0.1:1".parse().expect("addr");
    let now = SystemTime::now();
    let t0 = Instant::now();
    for dpid in 1..=3u64 {
        let h = registry.connect(dpid, dpid, peer, now);
        service
            .handle
            .ingest(&sample(dpid, Some(1), syn([10, 0, 0, 9], 1, 1), now));
        if dpid != 3 {
            h.update_at(t0, |s| s.connection = None);
        }
    }
    // Cap 1: of the disconnected dpids 1 and 2, 1 is forgotten; 3 is connected.
    let kept: Vec<u64> = service.handle.summary().switches.keys().copied().collect();
    assert_eq!(kept, vec![2, 3]);
    registry.sweep(t0 + Duration::from_secs(61));
    let kept: Vec<u64> = service.handle.summary().switches.keys().copied().collect();
    assert_eq!(
        kept,
        vec![3],
        "retention over: only the connected switch is left"
    );
    shutdown.cancel();
}

/// The file sink and the command side by side: a command slower than the reports (1 s each,
/// queue of 1) drops reports for itself, counted, while every report still reaches the file at
/// once and the service keeps taking samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_command_with_a_full_queue_never_holds_up_the_file_sink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!(
        "op25b-service-cmd-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("slow");
    std::fs::write(&script, "#!/bin/sh\ncat >> \"$1\"\nsleep 1\n").expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let got = dir.join("got.jsonl");

    let lines = SharedBuffer::default();
    let shutdown = CancellationToken::new();
    let small = OffenderServiceConfig {
        table: OffenderConfig {
            flag_attempts: 2,
            flag_distinct_destinations: 2,
            ..OffenderConfig::default()
        },
        ..config()
    };
    let outputs = ReportOutputs {
        config: ReportConfig::default(),
        sink: Some(ReportSink::from_writer("memory", Box::new(lines.clone()))),
        command: Some(CommandSpec {
            argv: vec![script.display().to_string(), got.display().to_string()],
            timeout: Duration::from_secs(10),
            queue: 1,
        }),
    };
    let service = OffenderService::spawn(small, outputs, shutdown.clone()).expect("starts");
    let now = SystemTime::now();
    let started = std::time::Instant::now();
    // 20 subscribers (ports 1..=20), each 2 SYNs to 2 hosts: 20 reports.
    for port in 1..=20u32 {
        for host in 1..=2u8 {
            let port16 = u16::try_from(port).expect("small");
            let s = sample(9, Some(port), syn([10, 0, 1, 1], host, 1000 + port16), now);
            service.samples.send(s).await.expect("running");
        }
    }
    for _ in 0..200 {
        if handle_written(&service.handle) == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    let summary = service.handle.summary();
    assert_eq!(summary.reports_written, 20, "{summary:?}");
    assert_eq!(lines.text().lines().count(), 20);
    assert!(
        elapsed < Duration::from_secs(2),
        "the file got all 20 while the command takes 1 s each: {elapsed:?}"
    );
    let c = summary.report_command;
    assert!(c.dropped >= 17, "{c:?}");
    // What the command accepted is delivered in time; nothing else is lost.
    let accepted = 20 - c.dropped;
    for _ in 0..100 {
        if service.handle.summary().report_command.delivered == accepted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = service.handle.summary().report_command;
    assert_eq!(c.delivered, accepted, "{c:?}");
    assert_eq!(
        c.failed_exit + c.failed_spawn + c.failed_timeout,
        0,
        "{c:?}"
    );
    let delivered = std::fs::read_to_string(&got).expect("command output");
    assert_eq!(delivered.lines().count() as u64, accepted);
    shutdown.cancel();
    std::fs::remove_dir_all(&dir).ok();
}

fn handle_written(handle: &OffenderHandle) -> u64 {
    handle.summary().reports_written
}
