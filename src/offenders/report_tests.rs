//! Tests for the X-ARF report writer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::*;
use crate::offenders::clock::UnixMillis;
use crate::offenders::test_fixtures::SharedBuffer;

/// The schema's non-optional properties (abuse_bot-infection_0.2.0).
const REQUIRED_FIELDS: [&str; 10] = [
    "Reported-From",
    "Report-ID",
    "User-Agent",
    "Category",
    "Report-Type",
    "Date",
    "Source",
    "Source-Type",
    "Attachment",
    "Schema-URL",
];

fn event_v4() -> InfectionEvent {
    InfectionEvent {
        dpid: 0x1,
        in_port: 3,
        source_mac: MacAddr([0x02, 0, 0, 0, 0, 1]),
        source_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        source_prefix: None,
        source_addresses: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))],
        source_port: 40_029,
        destination_ip: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 5)),
        destination_port: 25,
        attempts_in_window: 30,
        distinct_destinations_in_window: 5,
        window_start: UnixMillis(1_795_814_176_000),
        total_attempts: 30,
        first_seen: UnixMillis(1_795_814_176_000),
        flagged_at: UnixMillis(1_795_814_205_000),
    }
}

fn event_v6() -> InfectionEvent {
    InfectionEvent {
        source_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        source_prefix: Some("2001:db8::/64".parse().expect("prefix")),
        source_addresses: vec![
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        ],
        destination_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 7)),
        ..event_v4()
    }
}

fn config() -> ReportConfig {
    ReportConfig {
        reported_from: "abuse@isp.example".to_owned(),
        ..ReportConfig::default()
    }
}

/// A writer whose disk is always full.
struct FullDisk;

impl Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn a_report_has_the_schema_fields_and_values() {
    let buffer = SharedBuffer::default();
    let mut sink = ReportSink::from_writer("memory", Box::new(buffer.clone()), config());
    sink.write(&event_v4()).expect("write");
    let text = buffer.text();
    assert!(text.ends_with('\n'));
    let reports = parse_lines(&text);
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    for field in REQUIRED_FIELDS {
        assert!(report.get(field).is_some(), "missing {field}: {report}");
    }
    assert_eq!(report["Category"], "abuse");
    assert_eq!(report["Report-Type"], "bot-infection");
    assert_eq!(report["Reported-From"], "abuse@isp.example");
    assert_eq!(report["Source"], "10.0.0.1");
    assert_eq!(report["Source-Type"], "ipv4");
    assert_eq!(report["Source-Port"], 40_029);
    assert_eq!(report["Destination"], "198.51.100.5");
    assert_eq!(report["Destination-Type"], "ipv4");
    assert_eq!(report["Destination-Port"], 25);
    assert_eq!(report["Transport-Protocol"], "tcp");
    assert_eq!(report["Occurrences"], 30);
    assert_eq!(report["Attachment"], "none");
    assert_eq!(report["Date"], "2026-11-27T21:16:45.000Z");
    assert_eq!(report["First-Seen"], "2026-11-27T21:16:16.000Z");
    assert_eq!(report["Switch"], "00:00:00:00:00:00:00:01");
    assert_eq!(report["Switch-Port"], 3);
    assert_eq!(report["Source-MAC"], "02:00:00:00:00:01");
    assert_eq!(report["Schema-URL"], BOT_INFECTION_SCHEMA_URL);
    // An IPv4 subscriber is counted per address: no prefix fields.
    assert!(report.get("Source-Prefix").is_none(), "{report}");
    assert!(report.get("Source-Addresses").is_none(), "{report}");
    let user_agent = report["User-Agent"].as_str().expect("string");
    assert!(user_agent.starts_with("op25b/"), "{user_agent}");
    let id = report["Report-ID"].as_str().expect("string");
    assert!(id.ends_with("@isp.example"), "{id}");
}

#[test]
fn the_date_is_rfc3339() {
    let report = BotInfectionReport::from_event(&event_v4(), &config(), 0);
    let parsed = humantime::parse_rfc3339(&report.date).expect("RFC 3339");
    assert_eq!(UnixMillis::from_system_time(parsed), event_v4().flagged_at);
}

#[test]
fn ipv6_sources_are_typed_ipv6() {
    let report = BotInfectionReport::from_event(&event_v6(), &config(), 0);
    let json = serde_json::to_value(&report).expect("serialize");
    assert_eq!(json["Source-Type"], "ipv6");
    assert_eq!(json["Source"], "2001:db8::1");
    assert_eq!(json["Destination-Type"], "ipv6");
    assert_eq!(json["Source-Prefix"], "2001:db8::/64");
    assert_eq!(
        json["Source-Addresses"],
        serde_json::json!(["2001:db8::9", "2001:db8::1"])
    );
}

#[test]
fn one_line_per_event_with_distinct_report_ids() {
    let buffer = SharedBuffer::default();
    let mut sink = ReportSink::from_writer("memory", Box::new(buffer.clone()), config());
    for _ in 0..3 {
        sink.write(&event_v4()).expect("write");
    }
    sink.write(&event_v6()).expect("write");
    let reports = parse_lines(&buffer.text());
    assert_eq!(reports.len(), 4);
    let mut ids: Vec<&str> = reports
        .iter()
        .map(|r| r["Report-ID"].as_str().expect("string"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        4,
        "same-millisecond events still get distinct ids"
    );
}

#[test]
fn a_reporter_without_a_domain_falls_back_to_localhost() {
    let odd = ReportConfig {
        reported_from: "abuse".to_owned(),
        ..ReportConfig::default()
    };
    let report = BotInfectionReport::from_event(&event_v4(), &odd, 7);
    assert!(
        report.report_id.ends_with(".7@localhost"),
        "{}",
        report.report_id
    );
}

fn scratch_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "op25b-report-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[test]
fn a_file_sink_appends_and_keeps_what_was_there() {
    let dir = scratch_dir("append");
    let path = dir.join("reports.jsonl");
    std::fs::write(&path, "{\"earlier\":true}\n").expect("seed");
    {
        let mut sink = ReportSink::open(&path, config()).expect("open");
        assert_eq!(sink.target(), path.display().to_string());
        sink.write(&event_v4()).expect("write");
    }
    {
        let mut sink = ReportSink::open(&path, config()).expect("reopen");
        sink.write(&event_v6()).expect("write");
    }
    let text = std::fs::read_to_string(&path).expect("read back");
    let lines = parse_lines(&text);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["earlier"], true);
    assert_eq!(lines[1]["Source-Type"], "ipv4");
    assert_eq!(lines[2]["Source-Type"], "ipv6");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn dash_means_stdout() {
    let sink = ReportSink::open(Path::new("-"), config()).expect("stdout");
    assert_eq!(sink.target(), "stdout");
}

#[test]
fn an_unopenable_path_is_a_typed_error() {
    let dir = scratch_dir("unopenable");
    let missing_parent = dir.join("no-such-dir").join("reports.jsonl");
    match ReportSink::open(&missing_parent, config()) {
        Err(ReportError::Open { path, source }) => {
            assert_eq!(path, missing_parent);
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("expected an open error, got {other:?}"),
    }
    // A directory cannot be opened for appending either.
    assert!(matches!(
        ReportSink::open(&dir, config()),
        Err(ReportError::Open { .. })
    ));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn a_failing_writer_is_a_typed_error_not_a_panic() {
    let mut sink = ReportSink::from_writer("full-disk", Box::new(FullDisk), config());
    match sink.write(&event_v4()) {
        Err(error @ ReportError::Write { .. }) => {
            assert_eq!(error.to_string(), "cannot write report to full-disk");
            let source = std::error::Error::source(&error).expect("io error kept");
            assert!(source.to_string().contains("no space left"));
        }
        other => panic!("expected a write error, got {other:?}"),
    }
}
