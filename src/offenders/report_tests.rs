//! Tests for the X-ARF report writer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use serde_json::Value;

use super::*;
use crate::offenders::clock::UnixMillis;
use crate::offenders::test_fixtures::SharedBuffer;

/// Required by `xarf-core.json` and by `types/infrastructure-botnet.json`.
const REQUIRED_FIELDS: [&str; 9] = [
    "xarf_version",
    "report_id",
    "timestamp",
    "reporter",
    "sender",
    "source_identifier",
    "category",
    "type",
    "compromise_evidence",
];

/// A fixed id for tests.
fn id(n: u8) -> ReportId {
    ReportId::from_random_bytes([n; 16])
}

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
        sample_frame: crate::offenders::test_fixtures::syn_frame([10, 0, 0, 1], 5, 40_029),
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
        reporter: ContactInfo::from_mailbox("abuse@isp.example", Some("Example ISP")),
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
fn a_report_has_the_v4_botnet_fields_and_values() {
    let buffer = SharedBuffer::default();
    let mut sink = ReportSink::from_writer("memory", Box::new(buffer.clone()));
    sink.write(&event_v4(), &config(), id(7)).expect("write");
    let text = buffer.text();
    assert!(text.ends_with('\n'));
    let reports = parse_lines(&text);
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    for field in REQUIRED_FIELDS {
        assert!(report.get(field).is_some(), "missing {field}: {report}");
    }
    assert_eq!(report["xarf_version"], "4.2.0");
    assert_eq!(report["report_id"], "07070707-0707-4707-8707-070707070707");
    assert_eq!(report["timestamp"], "2026-11-27T21:16:45.000Z");
    let isp = serde_json::json!({
        "org": "Example ISP", "contact": "abuse@isp.example", "domain": "isp.example"
    });
    assert_eq!(report["reporter"], isp);
    assert_eq!(report["sender"], isp);
    assert_eq!(report["source_identifier"], "10.0.0.1");
    assert_eq!(report["source_port"], 40_029);
    assert_eq!(report["category"], "infrastructure");
    assert_eq!(report["type"], "botnet");
    assert_eq!(report["bot_capabilities"], serde_json::json!(["spam"]));
    assert_eq!(
        report["compromise_evidence"],
        "30 outbound TCP connection attempts to port 25 of 5 distinct hosts within 29 s were \
         blocked at the ISP edge (30 since 2026-11-27T21:16:16.000Z)"
    );
    assert_eq!(report["evidence_source"], "firewall_logs");
    assert_eq!(report["first_seen"], "2026-11-27T21:16:16.000Z");
    assert_eq!(report["last_seen"], "2026-11-27T21:16:45.000Z");
    assert_eq!(report["destination_count"], 5);
    assert_eq!(report["destination_ip"], "198.51.100.5");
    assert_eq!(report["destination_port"], 25);
    assert_eq!(report["protocol"], "tcp");
    for tag in report["tags"].as_array().expect("tags") {
        let tag = tag.as_str().expect("string");
        let (namespace, predicate) = tag.split_once(':').expect("namespace:predicate");
        let ok = |s: &str| {
            s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c))
        };
        assert!(
            ok(namespace) && ok(predicate),
            "tag {tag} breaks the schema's pattern"
        );
    }
    let description = report["description"].as_str().expect("string");
    assert!(
        description.len() <= 1000 && description.contains("10.0.0.1"),
        "{description}"
    );
    let op25b = &report["_internal"]["op25b"];
    assert_eq!(op25b["switch"], "00:00:00:00:00:00:00:01");
    assert_eq!(op25b["port"], 3);
    assert_eq!(op25b["source_mac"], "02:00:00:00:00:01");
    assert_eq!(op25b["attempts_in_window"], 30);
    assert_eq!(op25b["total_attempts"], 30);
    assert_eq!(op25b["window_start"], "2026-11-27T21:16:16.000Z");
    assert!(op25b["generator"]
        .as_str()
        .is_some_and(|g| g.starts_with("op25b/")));
    // An IPv4 subscriber is counted per address: no prefix fields.
    assert!(op25b.get("source_prefix").is_none(), "{report}");
    assert!(op25b.get("source_addresses").is_none(), "{report}");
}

#[test]
fn the_sampled_frame_is_base64_evidence_with_its_hash() {
    let event = event_v4();
    let report =
        serde_json::to_value(XarfReport::from_event(&event, &config(), id(1))).expect("serialize");
    let evidence = report["evidence"].as_array().expect("evidence array");
    assert_eq!(evidence.len(), 1);
    let item = &evidence[0];
    // Exactly the evidence_item fields (the schema forbids others).
    let mut keys: Vec<&str> = item
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["content_type", "description", "hash", "payload", "size"]
    );
    assert_eq!(item["content_type"], "application/octet-stream");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(item["payload"].as_str().expect("string"))
        .expect("base64");
    assert_eq!(payload, event.sample_frame);
    assert_eq!(item["size"], event.sample_frame.len());
    assert_eq!(
        item["hash"],
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(&event.sample_frame))
        )
    );
    assert!(item["description"].as_str().is_some_and(|d| d.len() <= 500));
    // A frame longer than the bound is cut; no frame, no evidence.
    let long = InfectionEvent {
        sample_frame: vec![0xab; 400],
        ..event_v4()
    };
    let cut = XarfReport::from_event(&long, &config(), id(1));
    assert_eq!(cut.evidence[0].size, MAX_EVIDENCE_BYTES);
    let none = InfectionEvent {
        sample_frame: Vec::new(),
        ..event_v4()
    };
    let json = serde_json::to_value(XarfReport::from_event(&none, &config(), id(1))).expect("json");
    assert!(json.get("evidence").is_none(), "{json}");
}

#[test]
fn source_port_zero_is_left_out_the_schema_wants_1_to_65535() {
    let zero = InfectionEvent {
        source_port: 0,
        ..event_v4()
    };
    let json = serde_json::to_value(XarfReport::from_event(&zero, &config(), id(1))).expect("json");
    assert!(json.get("source_port").is_none(), "{json}");
}

#[test]
fn report_ids_are_uuid_v4() {
    for bytes in [[0u8; 16], [0xff; 16], *b"0123456789abcdef"] {
        let text = ReportId::from_random_bytes(bytes).to_string();
        let groups: Vec<&str> = text.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{text}"
        );
        assert!(groups[2].starts_with('4'), "version 4: {text}");
        assert!("89ab".contains(&groups[3][..1]), "RFC 9562 variant: {text}");
        assert!(text
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}

#[test]
fn the_timestamp_is_rfc3339() {
    let report = XarfReport::from_event(&event_v4(), &config(), id(0));
    let parsed = humantime::parse_rfc3339(&report.timestamp).expect("RFC 3339");
    assert_eq!(UnixMillis::from_system_time(parsed), event_v4().flagged_at);
}

#[test]
fn an_ipv6_subscriber_carries_its_prefix_and_addresses_in_internal() {
    let report = XarfReport::from_event(&event_v6(), &config(), id(0));
    let json = serde_json::to_value(&report).expect("serialize");
    assert_eq!(json["source_identifier"], "2001:db8::1");
    assert_eq!(json["destination_ip"], "2001:db8:1::7");
    let op25b = &json["_internal"]["op25b"];
    assert_eq!(op25b["source_prefix"], "2001:db8::/64");
    assert_eq!(
        op25b["source_addresses"],
        serde_json::json!(["2001:db8::9", "2001:db8::1"])
    );
    assert!(json["description"]
        .as_str()
        .is_some_and(|d| d.contains("2001:db8::1 in 2001:db8::/64")));
}

#[test]
fn one_line_per_event() {
    let buffer = SharedBuffer::default();
    let mut sink = ReportSink::from_writer("memory", Box::new(buffer.clone()));
    for n in 0..3 {
        sink.write(&event_v4(), &config(), id(n)).expect("write");
    }
    sink.write(&event_v6(), &config(), id(9)).expect("write");
    let reports = parse_lines(&buffer.text());
    assert_eq!(reports.len(), 4);
}

#[test]
fn the_reporter_comes_from_the_mailbox_and_org() {
    let plain = ContactInfo::from_mailbox("abuse@isp.example", None);
    assert_eq!(
        (
            plain.org.as_str(),
            plain.contact.as_str(),
            plain.domain.as_str()
        ),
        ("isp.example", "abuse@isp.example", "isp.example")
    );
    let odd = ContactInfo::from_mailbox("abuse", None);
    assert_eq!(odd.domain, "localhost");
    let default = ReportConfig::default().reporter;
    assert_eq!(default.contact, "abuse@localhost");
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
        let mut sink = ReportSink::open(&path).expect("open");
        assert_eq!(sink.target(), path.display().to_string());
        sink.write(&event_v4(), &config(), id(1)).expect("write");
    }
    {
        let mut sink = ReportSink::open(&path).expect("reopen");
        sink.write(&event_v6(), &config(), id(2)).expect("write");
    }
    let text = std::fs::read_to_string(&path).expect("read back");
    let lines = parse_lines(&text);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["earlier"], true);
    assert_eq!(lines[1]["source_identifier"], "10.0.0.1");
    assert_eq!(lines[2]["source_identifier"], "2001:db8::1");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn dash_means_stdout() {
    let sink = ReportSink::open(Path::new("-")).expect("stdout");
    assert_eq!(sink.target(), "stdout");
}

#[test]
fn an_unopenable_path_is_a_typed_error() {
    let dir = scratch_dir("unopenable");
    let missing_parent = dir.join("no-such-dir").join("reports.jsonl");
    match ReportSink::open(&missing_parent) {
        Err(ReportError::Open { path, source }) => {
            assert_eq!(path, missing_parent);
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("expected an open error, got {other:?}"),
    }
    // A directory cannot be opened for appending either.
    assert!(matches!(
        ReportSink::open(&dir),
        Err(ReportError::Open { .. })
    ));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn a_failing_writer_is_a_typed_error_not_a_panic() {
    let mut sink = ReportSink::from_writer("full-disk", Box::new(FullDisk));
    match sink.write(&event_v4(), &config(), id(1)) {
        Err(error @ ReportError::Write { .. }) => {
            assert_eq!(error.to_string(), "cannot write report to full-disk");
            let source = std::error::Error::source(&error).expect("io error kept");
            assert!(source.to_string().contains("no space left"));
        }
        other => panic!("expected a write error, got {other:?}"),
    }
}
