//! A hostile peer against the real `op25b run` process, in raw OpenFlow over TCP: what it sends
//! must not grow the controller's memory, its metrics or its log without bound.
//!
//! - 20,000 ERROR messages, each with another (type, code): the error metric keeps a bounded
//!   number of series (known pairs and one `other`), and the log a bounded number of lines
//!   (the first few, then a count).
//! - 20 MB of FLOW stats reply parts (REPLY_MORE, never a last part) full of raw OXMs (each
//!   4-byte OXM costs far more once decoded): the controller drops the peer once the
//!   connection's reply bytes pass the cap (`[controller] max_multipart_bytes`), and its peak
//!   RSS stays within a multiple of the cap.
//!
//! The figures (series, log bytes, RSS) are printed; run with `--nocapture` to see them.

use op25b_proto::consts::OFPMPF_REPLY_MORE;
use op25b_proto::{
    ErrorMsg, FlowStats, Match, Message, MultipartReply, MultipartReplyBody, OfpMessage, Oxm,
};
use op25b_test_support::controller::{RawSwitch, Received};
use op25b_test_support::op25b_run::{listener_addr, Op25bRun};
use op25b_test_support::temp::temp_dir;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

/// Long timers: nothing may close the connection but what the test provokes.
const POLICY: &str = r#"
[controller]
listen = "127.0.0.1:0"
echo_interval_secs = 5
echo_timeout_secs = 60
handshake_timeout_secs = 10
audit_interval_secs = 3600

[policy]
relays = ["192.0.2.25/32"]
cookie = "0x4f50323542000000"

[reporting]
enabled = false
"#;

/// The controller process, its OpenFlow and API addresses.
struct Running {
    run: Op25bRun,
    openflow: SocketAddr,
    api: String,
}

fn start() -> Running {
    let dir = temp_dir("adv-of");
    let path = dir.join("policy.toml");
    std::fs::write(&path, POLICY).expect("write policy");
    let mut run = Op25bRun::start(BIN, &path, "127.0.0.1:0", "info");
    let ready = run.wait_line(&["OpenFlow listener ready"], Duration::from_secs(20));
    let openflow = listener_addr(&ready);
    let api_line = run.wait_line(&["HTTP API ready"], Duration::from_secs(20));
    let v: serde_json::Value = serde_json::from_str(&api_line).expect("JSON log line");
    let api = v["api"]
        .as_str()
        .unwrap_or_else(|| panic!("no api in {api_line}"))
        .to_owned();
    Running { run, openflow, api }
}

impl Running {
    fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.api);
        ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .into_body()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("GET {url}: body: {e}"))
    }

    /// VmHWM (peak) and VmRSS of the controller process, in KiB.
    fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.run.child.id()))
            .expect("read /proc/PID/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {status}"))
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

/// The series of the OpenFlow error counter, and their sum.
fn error_series(metrics: &str) -> (Vec<&str>, u64) {
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("op25b_openflow_errors_total{"))
        .collect();
    let sum = series
        .iter()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    (series, sum)
}

/// The `i`-th distinct (type, code): none is HELLO_FAILED (which closes the session), and none
/// names a known code.
fn distinct_pair(i: u16) -> (u16, u16) {
    if i < 10_000 {
        // Known types, unknown codes.
        (1 + i % 13, 1_000 + i / 13)
    } else {
        // Unknown types.
        let j = i - 10_000;
        (100 + j / 256, j % 256)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_distinct_errors_keep_metrics_and_log_bounded() {
    let mut c = start();
    let mut sw = RawSwitch::connect(c.openflow).await;
    sw.handshake(0xad1).await;
    let flood: u16 = 20_000;
    let mut bytes = Vec::new();
    for i in 0..flood {
        let (t, code) = distinct_pair(i);
        let e = ErrorMsg::new(t, code, bytes::Bytes::new());
        bytes.extend_from_slice(
            &OfpMessage::new(0xee00_0000 | u32::from(i), Message::Error(e)).to_bytes(),
        );
    }
    // Three of a known pair: counted under its own names.
    for i in 0..3 {
        let e = ErrorMsg::new(5, 1, bytes::Bytes::new());
        bytes.extend_from_slice(&OfpMessage::new(0xef00_0000 + i, Message::Error(e)).to_bytes());
    }
    let started = Instant::now();
    sw.send_raw(&bytes).await;
    let expected = u64::from(flood) + 3;
    let mut log = Vec::new();
    let metrics = loop {
        log.extend(c.run.lines_for(Duration::from_millis(200)));
        let m = c.metrics();
        if error_series(&m).1 >= expected {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the controller counted {} of {expected} errors",
            error_series(&m).1
        );
    };
    // Hang up: the session ends and says how many warnings it held back.
    drop(sw);
    log.extend(c.run.lines_for(Duration::from_secs(2)));

    let (series, sum) = error_series(&metrics);
    let warned = log
        .iter()
        .filter(|l| l.contains("switch answered with ERROR"))
        .count();
    let log_bytes: usize = log.iter().map(|l| l.len() + 1).sum();
    eprintln!(
        "{expected} errors: {} op25b_openflow_errors series ({} bytes of /metrics), \
         {warned} ERROR warnings, {log_bytes} log bytes",
        series.len(),
        metrics.len()
    );
    assert_eq!(sum, expected, "every error counted");
    assert!(
        series.len() <= 200,
        "{} series: one per (type, code) a peer chose",
        series.len()
    );
    assert!(
        series
            .iter()
            .any(|l| l.contains("type=\"OFPET_FLOW_MOD_FAILED\"")
                && l.contains("code=\"OFPFMFC_TABLE_FULL\"")
                && l.ends_with(" 3")),
        "a known pair keeps its names: {series:?}"
    );
    assert!(
        series
            .iter()
            .any(|l| l.contains("type=\"other\"") && l.ends_with(&format!(" {flood}"))),
        "the rest in one `other` series: {series:?}"
    );
    assert!(warned <= 50, "{warned} ERROR warnings logged");
    assert!(log_bytes < 64 * 1024, "{log_bytes} log bytes");
    assert!(
        log.iter().any(|l| l.contains("suppressed")
            && l.contains(&format!("{}", u64::from(flood) + 3 - warned as u64))),
        "the held-back warnings are counted in the log"
    );
}

/// A FLOW stats entry whose match is `oxms` raw (non-basic class) 4-byte OXMs.
fn raw_oxm_entry(oxms: usize) -> FlowStats {
    let raw = |i: usize| {
        Oxm::Raw(bytes::Bytes::copy_from_slice(&[
            0x00,
            0x01,
            u8::try_from(i % 128).expect("below 128") * 2,
            0,
        ]))
    };
    FlowStats {
        table_id: 0,
        duration_sec: 0,
        duration_nsec: 0,
        priority: 1,
        idle_timeout: 0,
        hard_timeout: 0,
        flags: 0,
        cookie: 0x4f50_3235_4200_0000,
        packet_count: 0,
        byte_count: 0,
        match_: Match::new((0..oxms).map(raw).collect()),
        instructions: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twenty_megabyte_multipart_flood_is_cut_off_with_memory_bounded() {
    let mut c = start();
    let mut sw = RawSwitch::connect(c.openflow).await;
    let xid = sw.handshake(0xad2).await;
    let part = OfpMessage::new(
        xid,
        Message::MultipartReply(MultipartReply {
            flags: OFPMPF_REPLY_MORE,
            body: MultipartReplyBody::Flow((0..15).map(|_| raw_oxm_entry(1_000)).collect()),
        }),
    )
    .to_bytes();
    // The part is what we meant: it decodes, with raw OXMs.
    match OfpMessage::decode(&part).expect("the part decodes").body {
        Message::MultipartReply(MultipartReply {
            body: MultipartReplyBody::Flow(entries),
            ..
        }) => assert!(matches!(entries[0].match_.fields[0], Oxm::Raw(_))),
        other => panic!("{other:?}"),
    }
    let (hwm_before, rss_before) = c.memory_kib();
    let target = 20 * 1000 * 1000;
    let started = Instant::now();
    let mut sent = 0;
    while sent < target {
        if sw.stream.write_all(&part).await.is_err() {
            break;
        }
        sent += part.len();
    }
    let sent_for = started.elapsed();
    // Dropped within a while (echo requests answered, so silence is never the reason), or not.
    let mut closed = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), sw.recv(Duration::from_secs(3600))).await
        {
            Ok(Received::Closed) => {
                closed = true;
                break;
            }
            Ok(Received::Msg(m)) => {
                if let Message::EchoRequest(data) = m.body {
                    let reply = OfpMessage::new(m.xid, Message::EchoReply(data));
                    if sw.stream.write_all(&reply.to_bytes()).await.is_err() {
                        closed = true;
                        break;
                    }
                }
            }
            Err(_) => {}
        }
    }
    let (hwm_after, rss_after) = c.memory_kib();
    let log = c.run.lines_for(Duration::from_millis(500));
    eprintln!(
        "multipart flood: {sent} bytes sent in {sent_for:?}; closed: {closed}; \
         VmHWM {hwm_before} -> {hwm_after} KiB, VmRSS {rss_before} -> {rss_after} KiB"
    );
    assert!(closed, "the peer was not dropped");
    let why = log
        .iter()
        .find(|l| l.contains("closing switch connection"))
        .unwrap_or_else(|| panic!("no closing line: {log:?}"));
    assert!(
        why.contains("max_multipart_bytes") && why.contains("96 MiB"),
        "the line names the cap and its setting: {why}"
    );
    // The cap (96 MiB by default) weighs the parts as decoded: the peak may pass it by what one
    // read and the runtime take, not by the 18-fold cost of raw OXMs over their wire bytes
    // (before: +348 MiB for 20 MB).
    assert!(
        hwm_after.saturating_sub(hwm_before) < 160 * 1024,
        "peak RSS grew by {} KiB",
        hwm_after.saturating_sub(hwm_before)
    );
}
