//! The three stages together, as the session layer will drive them: PACKET_IN bytes ->
//! `parse_sample` -> `OffenderTable::record` -> `ReportSink::write`.

use super::test_fixtures::{syn_frame, SharedBuffer};
use super::*;

#[test]
fn a_spambot_is_reported_once_and_a_retrying_client_never() {
    let mut table = OffenderTable::new(OffenderConfig::default()).expect("defaults are valid");
    let lines = SharedBuffer::default();
    let mut sink = ReportSink::from_writer("memory", Box::new(lines.clone()));
    let config = ReportConfig {
        reporter: ContactInfo::from_mailbox("abuse@isp.example", None),
        ..ReportConfig::default()
    };
    let id = ReportId::from_random_bytes([1; 16]);
    let start = 1_795_814_176_000u64;

    for i in 0..120u16 {
        let now = UnixMillis(start + u64::from(i) * 500);
        // Subscriber on port 1: a bot, new connection each time, 12 MX hosts.
        let bot = parse_sample(&syn_frame([10, 0, 0, 1], 1 + (i % 12) as u8, 20_000 + i))
            .expect("parses");
        let context = SampleContext {
            dpid: 0xa,
            in_port: 1,
            now,
        };
        if let Some(event) = table.record(&bot, context) {
            sink.write(&event, &config, id).expect("report written");
        }
        // Subscriber on port 2: a mail client retrying its one smarthost.
        let client = parse_sample(&syn_frame([10, 0, 0, 1], 200, 30_000 + i)).expect("parses");
        let context = SampleContext {
            dpid: 0xa,
            in_port: 2,
            now,
        };
        if let Some(event) = table.record(&client, context) {
            sink.write(&event, &config, id).expect("report written");
        }
    }

    let text = lines.text();
    let reports: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(reports.len(), 1, "{text}");
    assert_eq!(reports[0]["_internal"]["op25b"]["port"], 1);
    assert_eq!(
        reports[0]["_internal"]["op25b"]["switch"],
        "00:00:00:00:00:00:00:0a"
    );
    assert_eq!(reports[0]["source_identifier"], "10.0.0.1");
    assert_eq!(reports[0]["type"], "botnet");
    assert_eq!(table.flagged_count(), 1);
    assert_eq!(table.len(), 2);
    let top = table.top(2);
    assert!(top[0].flagged && top[0].port == 1);
    assert!(!top[1].flagged && top[1].port == 2 && top[1].attempts == 120);
}
