//! `op25b status [--api HOST:PORT | --config FILE] [--token-file F] [--top N]`: asks a running
//! controller's API and prints its switches and the top offenders as tables. In a cluster
//! (`/api/cluster` answers) it also prints this instance's lease and etcd health, each live
//! instance with the number of switches it masters, a MASTER column per switch and, per
//! offender, the instance that saw it (the list is the cluster's).
//!
//! The address and token are found as [`super::api_client`] says; the offender list needs the
//! token (`--config` of the running policy, or `--token-file`).
//!
//! Exit codes: 0 printed (or the reader closed the pipe early); 1 the controller could not be
//! reached or answered with an error (401 without the token), the policy or token file could
//! not be read, or stdout could not be written; 2 it answered something that is not the
//! API's JSON.
//!
//! The answers are read into the API's own response types ([`SwitchList`],
//! [`OffendersResponse`]): one type serves both ends, so the two cannot drift apart.

use std::fmt::Write as _;

use clap::Args;
use serde::Deserialize;

use std::collections::BTreeMap;

use crate::api::cluster_view::ClusterReport;
use crate::api::offenders::OffendersResponse;
use crate::api::switches::SwitchList;
use crate::fleet::registry::{FailOpenEvidence, SyncState};

use super::api_client::{ApiTarget, Resolved, TargetError};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: ApiTarget,
    /// How many offenders to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

/// Why `status` could not print the state.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("cannot reach the op25b API at {url}: {source} (is `op25b run` running, and is --api its [controller] api_listen?)")]
    Unreachable {
        url: String,
        #[source]
        source: ureq::Error,
    },
    #[error("{url} answered HTTP {status}: {body}")]
    Http {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} did not answer with the API's JSON: {source}")]
    BadJson {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

impl StatusError {
    fn exit_code(&self) -> i32 {
        match self {
            StatusError::Target(_) | StatusError::Unreachable { .. } | StatusError::Http { .. } => {
                1
            }
            StatusError::BadJson { .. } => 2,
        }
    }
}

fn get_json<T: for<'de> Deserialize<'de>>(api: &Resolved, path: &str) -> Result<T, StatusError> {
    let url = format!("{}{path}", api.base);
    let (status, body) = api.get(path).map_err(|source| StatusError::Unreachable {
        url: url.clone(),
        source,
    })?;
    if status != 200 {
        return Err(StatusError::Http { url, status, body });
    }
    serde_json::from_str(&body).map_err(|source| StatusError::BadJson { url, source })
}

/// Lays out rows as left-aligned columns separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let _ = write!(text, "{cell:<w$}");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// One line per switch op25b saw fail open, after the switch table.
fn failed_open_lines(out: &mut String, switches: &SwitchList) {
    for s in &switches.switches {
        let Some(f) = &s.failed_open else {
            continue;
        };
        let how = match f.evidence {
            FailOpenEvidence::Probe => "sent the fail-open probe".to_owned(),
            FailOpenEvidence::FlowsWipedWhileAway => format!(
                "came back without our flows after {} s away",
                f.away_secs.unwrap_or(0)
            ),
        };
        let _ = writeln!(
            out,
            "FAILED OPEN: {} {} {how} (seen {}): port 25 was open for everyone; set fail_mode=secure",
            s.dpid,
            s.name.as_deref().unwrap_or("-"),
            f.detected_at
        );
    }
}

/// The report `status` prints, from the two API answers.
/// Renders the switches, then the offenders (`None`: not asked for, as no token was given).
pub fn render(switches: &SwitchList, offenders: Option<&OffendersResponse>) -> String {
    render_with_cluster(switches, offenders, None)
}

/// In a cluster: this instance's lease and etcd health, and per live instance how many
/// switches it masters (as this instance sees the masterships).
fn cluster_lines(out: &mut String, c: &ClusterReport) {
    let s = &c.status;
    let ok = |b: bool| if b { "ok" } else { "NOT OK" };
    let _ = writeln!(
        out,
        "cluster: this instance {}: lease {} {} (ttl {} s), etcd {}{}",
        s.name,
        s.lease_id.as_deref().unwrap_or("-"),
        ok(s.lease_ok),
        s.lease_secs,
        ok(s.etcd_ok),
        s.last_error
            .as_deref()
            .map_or_else(String::new, |e| format!(" (last error: {e})"))
    );
    let mut per: BTreeMap<&str, usize> = s.live_instances.iter().map(|n| (n.as_str(), 0)).collect();
    for m in c.masters.values() {
        *per.entry(m.instance.as_str()).or_default() += 1;
    }
    let rows: Vec<Vec<String>> = per
        .iter()
        .map(|(name, n)| {
            vec![
                (*name).to_owned(),
                if s.live_instances.iter().any(|l| l == name) {
                    "live"
                } else {
                    "GONE"
                }
                .to_owned(),
                n.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["INSTANCE", "LEASE", "MASTERS"], &rows));
    if s.unmastered > 0 {
        let _ = writeln!(out, "{} connected switch(es) have no master", s.unmastered);
    }
    out.push('\n');
}

/// [`render`], with the cluster's masterships (`None`: no `[cluster]`).
pub fn render_with_cluster(
    switches: &SwitchList,
    offenders: Option<&OffendersResponse>,
    cluster: Option<&ClusterReport>,
) -> String {
    let connected = switches.switches.iter().filter(|s| s.connected).count();
    let in_sync = switches
        .switches
        .iter()
        .filter(|s| s.connected && s.sync_state == SyncState::InSync)
        .count();
    let mut out = format!(
        "policy generation {}; switches: {} known, {} connected, {} in sync",
        switches.policy_generation,
        switches.switches.len(),
        connected,
        in_sync
    );
    if switches.handshaking > 0 {
        let _ = write!(out, ", {} handshaking", switches.handshaking);
    }
    out.push_str("\n\n");
    if let Some(c) = cluster {
        cluster_lines(&mut out, c);
    }
    let dash = || "-".to_owned();
    let master_of = |dpid: &str| -> String {
        cluster
            .and_then(|c| c.masters.get(dpid))
            .map_or_else(|| "-".to_owned(), |m| m.instance.clone())
    };
    let rows: Vec<Vec<String>> = switches
        .switches
        .iter()
        .map(|s| {
            vec![
                s.dpid.clone(),
                s.name.clone().unwrap_or_else(dash),
                s.peer.map_or_else(dash, |p| p.to_string()),
                if s.connected { "yes" } else { "no" }.to_owned(),
                s.sync_state.name().to_owned(),
                s.synced_generation.map_or_else(dash, |g| g.to_string()),
                s.flow_count.to_string(),
                s.blocked_packets.to_string(),
                s.connected_since.map_or_else(dash, |t| t.to_string()),
                s.last_error.clone().unwrap_or_else(dash),
            ]
        })
        .map(|mut row: Vec<String>| {
            if cluster.is_some() {
                let master = master_of(&row[0]);
                row.insert(4, master);
            }
            row
        })
        .collect();
    let mut header = vec![
        "DPID",
        "NAME",
        "PEER",
        "CONNECTED",
        "STATE",
        "GEN",
        "FLOWS",
        "BLOCKED",
        "SINCE",
        "LAST ERROR",
    ];
    if cluster.is_some() {
        header.insert(4, "MASTER");
    }
    if rows.is_empty() {
        out.push_str("no switch has connected yet\n");
    } else {
        out.push_str(&table(&header, &rows));
    }
    out.push_str(&super::config_problems::render(&switches.switch_config));
    failed_open_lines(&mut out, switches);
    out.push('\n');
    let Some(offenders) = offenders else {
        out.push_str(
            "offenders: not shown: they need the API token (--config with the running policy \
             file, or --token-file)\n",
        );
        return out;
    };
    if !offenders.enabled {
        out.push_str("offenders: reporting is off ([reporting] enabled = false)\n");
        return out;
    }
    let _ = writeln!(
        out,
        "offenders: {} tracked, {} flagged as likely infected",
        offenders.tracked, offenders.flagged
    );
    if offenders.offenders.is_empty() {
        return out;
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = offenders
        .offenders
        .iter()
        .map(|o| {
            vec![
                if o.flagged { "FLAGGED" } else { "" }.to_owned(),
                o.source_ip.to_string(),
                o.source_mac.to_string(),
                o.switch.clone(),
                o.port.to_string(),
                o.attempts.to_string(),
                o.distinct_destinations.to_string(),
                o.last_seen.to_string(),
                o.instance.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "",
            "SOURCE",
            "MAC",
            "SWITCH",
            "PORT",
            "ATTEMPTS",
            "HOSTS",
            "LAST SEEN",
            if cluster.is_some() { "INSTANCE" } else { "" },
        ],
        &rows,
    ));
    out
}

/// Fetches both answers and renders them.
pub fn fetch(args: &StatusArgs) -> Result<String, StatusError> {
    let api = args.target.resolve()?;
    let switches: SwitchList = get_json(&api, "/api/switches")?;
    // 404: no `[cluster]` on that instance.
    let cluster: Option<ClusterReport> = match get_json(&api, "/api/cluster") {
        Ok(c) => Some(c),
        Err(StatusError::Http { status: 404, .. }) => None,
        Err(e) => return Err(e),
    };
    if api.token.is_none() {
        return Ok(render_with_cluster(&switches, None, cluster.as_ref()));
    }
    let top = args.top.clamp(1, 10_000);
    let offenders: OffendersResponse = get_json(&api, &format!("/api/offenders?limit={top}"))?;
    Ok(render_with_cluster(
        &switches,
        Some(&offenders),
        cluster.as_ref(),
    ))
}

/// Runs the subcommand; returns the process exit code.
pub fn main(args: &StatusArgs) -> i32 {
    match fetch(args) {
        Ok(text) => super::check::write_stdout(&text),
        Err(e) => {
            eprintln!("op25b status: {e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_trim_trailing_space() {
        let t = table(
            &["A", "LONG HEADER", "C"],
            &[
                vec!["x".into(), "y".into(), "".into()],
                vec!["wide cell".into(), "z".into(), "w".into()],
            ],
        );
        assert_eq!(
            t,
            "A          LONG HEADER  C\nx          y\nwide cell  z            w\n"
        );
    }

    #[test]
    fn render_shows_the_master_of_each_switch_and_each_instance_with_its_lease() {
        let switches: SwitchList = serde_json::from_str(
            r#"{"policy_generation": 1, "switches": [
                {"dpid": "00:00:00:00:00:00:00:01", "dpid_int": 1, "name": "e1",
                 "peer": null, "connected": true, "connected_since": null,
                 "sync_state": "in_sync", "synced_generation": 1, "last_sync": null,
                 "last_error": null, "flow_count": 9, "desired_flow_count": 9,
                 "meters_in_use": false, "blocked_bytes": 0},
                {"dpid": "00:00:00:00:00:00:00:02", "dpid_int": 2, "name": "e2",
                 "peer": null, "connected": true, "connected_since": null,
                 "sync_state": "in_sync", "synced_generation": 1, "last_sync": null,
                 "last_error": null, "flow_count": 9, "desired_flow_count": 9,
                 "meters_in_use": false, "blocked_bytes": 0},
                {"dpid": "00:00:00:00:00:00:00:03", "dpid_int": 3, "name": "e3",
                 "peer": null, "connected": true, "connected_since": null,
                 "sync_state": "in_sync", "synced_generation": 1, "last_sync": null,
                 "last_error": null, "flow_count": 9, "desired_flow_count": 9,
                 "meters_in_use": false, "blocked_bytes": 0}]}"#,
        )
        .expect("parses");
        let cluster: ClusterReport = serde_json::from_str(
            r#"{"name": "a", "lease_id": "1f", "lease_ok": true, "etcd_ok": false,
                "last_error": "cannot reach etcd", "live_instances": ["a", "b"],
                "masters_held": 1, "masters_total": 2, "lease_secs": 10, "unmastered": 1,
                "masters": {
                  "00:00:00:00:00:00:00:01": {"instance": "a", "generation": 7},
                  "00:00:00:00:00:00:00:02": {"instance": "b", "generation": 9}}}"#,
        )
        .expect("parses");
        let text = render_with_cluster(&switches, None, Some(&cluster));
        assert!(
            text.contains("this instance a: lease 1f ok (ttl 10 s), etcd NOT OK (last error: cannot reach etcd)"),
            "{text}"
        );
        let row = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no line {start}:\n{text}"))
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        assert_eq!(row("a "), ["a", "live", "1"]);
        assert_eq!(row("b "), ["b", "live", "1"]);
        assert!(row("DPID").contains(&"MASTER"), "{text}");
        assert_eq!(row("00:00:00:00:00:00:00:01")[4], "a");
        assert_eq!(row("00:00:00:00:00:00:00:02")[4], "b");
        assert_eq!(row("00:00:00:00:00:00:00:03")[4], "-");
        assert!(
            text.contains("1 connected switch(es) have no master"),
            "{text}"
        );
        // Without a cluster: no MASTER column.
        assert!(!render(&switches, None).contains("MASTER"));
    }

    #[test]
    fn render_names_a_switch_that_failed_open() {
        let switches: SwitchList = serde_json::from_str(
            r#"{"policy_generation": 1, "switches": [
                {"dpid": "00:00:00:00:00:00:00:02", "dpid_int": 2, "name": "edge-2",
                 "peer": null, "connected": true, "connected_since": null,
                 "sync_state": "in_sync", "synced_generation": 1, "last_sync": null,
                 "last_error": null, "flow_count": 9, "desired_flow_count": 9,
                 "meters_in_use": false, "blocked_bytes": 0,
                 "failed_open": {"detected_at": "2026-12-06T23:00:00.000Z",
                                 "evidence": "flows_wiped_while_away", "away_secs": 21}},
                {"dpid": "00:00:00:00:00:00:00:03", "dpid_int": 3, "name": "edge-3",
                 "peer": null, "connected": true, "connected_since": null,
                 "sync_state": "in_sync", "synced_generation": 1, "last_sync": null,
                 "last_error": null, "flow_count": 9, "desired_flow_count": 9,
                 "meters_in_use": false, "blocked_bytes": 0}]}"#,
        )
        .expect("parses");
        let offenders: OffendersResponse = serde_json::from_str(
            r#"{"enabled": false, "tracked": 0, "flagged": 0, "offenders": []}"#,
        )
        .expect("parses");
        let text = render(&switches, Some(&offenders));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("FAILED OPEN"))
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            lines[0].contains("00:00:00:00:00:00:00:02 edge-2"),
            "{text}"
        );
        assert!(lines[0].contains("after 21 s away"), "{text}");
        assert!(lines[0].contains("2026-12-06T23:00:00.000Z"), "{text}");
    }

    #[test]
    fn render_shows_switches_and_flagged_offenders() {
        let switches: SwitchList = serde_json::from_str(
            r#"{"policy_generation": 3, "handshaking": 0, "switches": [
                {"dpid": "00:00:00:00:00:00:00:01", "dpid_int": 1, "name": "edge-1",
                 "peer": "10.1.1.1:40000", "connected": true,
                 "connected_since": "2026-11-27T21:00:00.000Z", "sync_state": "in_sync",
                 "synced_generation": 3, "last_sync": "2026-11-27T21:00:01.000Z",
                 "last_error": null, "flow_count": 9, "desired_flow_count": 9,
                 "meters_in_use": true, "blocked_packets": 12, "blocked_bytes": 720,
                 "extra": 1}]}"#,
        )
        .expect("parses");
        let offenders: OffendersResponse = serde_json::from_str(
            r#"{"enabled": true, "tracked": 2, "flagged": 1, "offenders": [
                {"switch": "00:00:00:00:00:00:00:01", "dpid": 1, "port": 3,
                 "source_mac": "02:00:00:00:00:01", "source_ip": "10.0.0.1", "attempts": 40,
                 "distinct_destinations": 6, "distinct_destinations_saturated": false,
                 "retransmissions": 0, "fragments": 0, "other_packets": 0,
                 "last_destination": "192.0.2.9", "last_destination_port": 25,
                 "first_seen": "2026-11-27T21:04:00.000Z",
                 "last_seen": "2026-11-27T21:05:00.000Z", "flagged": true,
                 "flagged_at": "2026-11-27T21:04:30.000Z"}]}"#,
        )
        .expect("parses");
        let text = render(&switches, Some(&offenders));
        assert!(
            text.starts_with("policy generation 3; switches: 1 known, 1 connected, 1 in sync\n")
        );
        assert!(text.contains("edge-1"));
        assert!(text.contains("offenders: 2 tracked, 1 flagged as likely infected"));
        let flagged_line = text
            .lines()
            .find(|l| l.starts_with("FLAGGED"))
            .expect("a flagged row");
        assert!(flagged_line.contains("10.0.0.1"));
        assert!(flagged_line.contains(" 40 "));
    }

    #[test]
    fn an_unreachable_api_is_exit_code_1_with_a_clear_message() {
        // Port 9 (discard) on loopback: nothing listens there in tests.
        let err = fetch(&StatusArgs {
            target: ApiTarget {
                api: Some("127.0.0.1:9".into()),
                timeout_secs: 2,
                ..ApiTarget::default()
            },
            top: 5,
        })
        .expect_err("nothing listens");
        assert_eq!(err.exit_code(), 1);
        assert!(err
            .to_string()
            .starts_with("cannot reach the op25b API at http://127.0.0.1:9/api/switches"));
    }
}
