//! Abuse reports: each [`InfectionEvent`] becomes one JSON line shaped as an X-ARF
//! `bot-infection` report.
//!
//! Field names and values follow the X-ARF schema `abuse_bot-infection_0.2.0` (read from
//! Intevation's `xarf-schemata` repository, file `abuse_bot-infection_0.2.0_unstable.json`).
//! Its non-optional fields are `Reported-From`, `Report-ID`, `User-Agent`, `Category`
//! (enum `abuse`), `Report-Type` (enum `bot-infection`), `Date` (date-time), `Source`,
//! `Source-Type` (enum `ipv4`, `ipv6`, `ip-address`), `Attachment` (enum `none`,
//! `text/plain`) and `Schema-URL`; this writer also fills the optional `Source-Port`,
//! `Destination`, `Destination-Type`, `Destination-Port`, `Transport-Protocol` and
//! `Occurrences`. The schema does not forbid other properties; the switch and port where the
//! subscriber was seen, its MAC and the attempt counts are added under X-ARF-style names
//! (`Switch`, `Switch-Port`, `Source-MAC`, `First-Seen`, `Attempts-In-Window`,
//! `Distinct-Destinations-In-Window`), and for an IPv6 subscriber, counted per prefix, the
//! prefix (`Source-Prefix`, e.g. `2001:db8:1:2::/64`) and the addresses seen in it
//! (`Source-Addresses`, at most [`super::table::MAX_SOURCE_ADDRESSES`]; `Source` is the one
//! that crossed the threshold).
//!
//! [`ReportSink`] appends the lines to a file or writes them to standard output. It does
//! blocking I/O: call it from a blocking context (`spawn_blocking` or a dedicated thread).

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use op25b_proto::MacAddr;
use serde::Serialize;

use crate::policy::Dpid;

use super::report_file::{ReportFile, Rotation};
use super::table::InfectionEvent;

/// Where the schema these reports follow is published.
pub const BOT_INFECTION_SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/Intevation/xarf-schemata/master/abuse_bot-infection_0.2.0_unstable.json";

/// Who sends the reports. [`Default`] is only a placeholder: set `reported_from` to the ISP's
/// abuse mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportConfig {
    /// `Reported-From` (schema: e-mail address), e.g. `abuse@isp.example`. Its domain part also
    /// ends every `Report-ID`.
    pub reported_from: String,
    /// `User-Agent`: the software that made the report.
    pub user_agent: String,
    /// `Schema-URL`.
    pub schema_url: String,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            reported_from: "abuse@localhost".to_owned(),
            user_agent: concat!("op25b/", env!("CARGO_PKG_VERSION")).to_owned(),
            schema_url: BOT_INFECTION_SCHEMA_URL.to_owned(),
        }
    }
}

/// One X-ARF `bot-infection` report, serialized with the schema's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BotInfectionReport {
    #[serde(rename = "Reported-From")]
    pub reported_from: String,
    #[serde(rename = "Report-ID")]
    pub report_id: String,
    #[serde(rename = "User-Agent")]
    pub user_agent: String,
    #[serde(rename = "Category")]
    pub category: &'static str,
    #[serde(rename = "Report-Type")]
    pub report_type: &'static str,
    /// RFC 3339, UTC: when the subscriber was flagged.
    #[serde(rename = "Date")]
    pub date: String,
    #[serde(rename = "Source")]
    pub source: IpAddr,
    #[serde(rename = "Source-Type")]
    pub source_type: &'static str,
    #[serde(rename = "Source-Port")]
    pub source_port: u16,
    #[serde(rename = "Destination")]
    pub destination: IpAddr,
    #[serde(rename = "Destination-Type")]
    pub destination_type: &'static str,
    #[serde(rename = "Destination-Port")]
    pub destination_port: u16,
    #[serde(rename = "Transport-Protocol")]
    pub transport_protocol: &'static str,
    /// Connection attempts counted for this subscriber (retransmissions excluded).
    #[serde(rename = "Occurrences")]
    pub occurrences: u32,
    #[serde(rename = "Attachment")]
    pub attachment: &'static str,
    #[serde(rename = "Schema-URL")]
    pub schema_url: String,
    /// Datapath id as colon hex.
    #[serde(rename = "Switch")]
    pub switch: String,
    /// OpenFlow port the subscriber is behind.
    #[serde(rename = "Switch-Port")]
    pub switch_port: u32,
    #[serde(rename = "Source-MAC", with = "super::mac_json")]
    pub source_mac: MacAddr,
    /// RFC 3339: first sample of this activity.
    #[serde(rename = "First-Seen")]
    pub first_seen: String,
    #[serde(rename = "Attempts-In-Window")]
    pub attempts_in_window: usize,
    #[serde(rename = "Distinct-Destinations-In-Window")]
    pub distinct_destinations_in_window: usize,
    /// IPv6 only: the prefix the subscriber is counted under.
    #[serde(rename = "Source-Prefix", skip_serializing_if = "Option::is_none")]
    pub source_prefix: Option<IpNet>,
    /// IPv6 only: the distinct source addresses seen in that prefix.
    #[serde(rename = "Source-Addresses", skip_serializing_if = "Option::is_none")]
    pub source_addresses: Option<Vec<IpAddr>>,
}

/// The schema's `Source-Type` / `Destination-Type` value for an address.
fn address_type(ip: &IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(_) => "ipv6",
    }
}

impl BotInfectionReport {
    /// Builds the report for one event. `sequence` makes `Report-ID` unique among reports of
    /// one sink (two events can share a millisecond).
    pub fn from_event(event: &InfectionEvent, config: &ReportConfig, sequence: u64) -> Self {
        let domain = config
            .reported_from
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .filter(|domain| !domain.is_empty())
            .unwrap_or("localhost");
        let report_id = format!(
            "{}.{:016x}.{}.{}@{}",
            event.flagged_at.0, event.dpid, event.in_port, sequence, domain
        );
        Self {
            reported_from: config.reported_from.clone(),
            report_id,
            user_agent: config.user_agent.clone(),
            category: "abuse",
            report_type: "bot-infection",
            date: event.flagged_at.to_rfc3339(),
            source: event.source_ip,
            source_type: address_type(&event.source_ip),
            source_port: event.source_port,
            destination: event.destination_ip,
            destination_type: address_type(&event.destination_ip),
            destination_port: event.destination_port,
            transport_protocol: "tcp",
            occurrences: event.total_attempts,
            attachment: "none",
            schema_url: config.schema_url.clone(),
            switch: Dpid(event.dpid).to_string(),
            switch_port: event.in_port,
            source_mac: event.source_mac,
            first_seen: event.first_seen.to_rfc3339(),
            attempts_in_window: event.attempts_in_window,
            distinct_destinations_in_window: event.distinct_destinations_in_window,
            source_prefix: event.source_prefix,
            source_addresses: event.source_prefix.map(|_| event.source_addresses.clone()),
        }
    }

    /// The report as one JSON line, newline included.
    pub fn to_json_line(&self) -> Result<Vec<u8>, ReportError> {
        let mut line = serde_json::to_vec(self).map_err(ReportError::Encode)?;
        line.push(b'\n');
        Ok(line)
    }
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot open report file {path} for appending: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write report to {target}")]
    Write {
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot encode report as JSON")]
    Encode(#[source] serde_json::Error),
}

/// Writes reports, one JSON line each, to standard output or appended to a file.
pub struct ReportSink {
    /// `"stdout"` or the file's path, for error messages.
    target: String,
    out: Box<dyn Write + Send>,
    config: ReportConfig,
    next_sequence: u64,
}

impl std::fmt::Debug for ReportSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportSink")
            .field("target", &self.target)
            .field("config", &self.config)
            .field("next_sequence", &self.next_sequence)
            .finish_non_exhaustive()
    }
}

impl ReportSink {
    /// `-` means standard output; anything else is a file, created if missing and appended to.
    pub fn open(path: &Path, config: ReportConfig) -> Result<Self, ReportError> {
        if path == Path::new("-") {
            Ok(Self::stdout(config))
        } else {
            Self::file(path, config)
        }
    }

    /// Reports to standard output.
    pub fn stdout(config: ReportConfig) -> Self {
        Self::from_writer("stdout", Box::new(io::stdout()), config)
    }

    /// Reports appended to `path` (created if missing, never truncated, never rotated).
    pub fn file(path: &Path, config: ReportConfig) -> Result<Self, ReportError> {
        Self::rotating_file(path, Rotation::default(), config)
    }

    /// Reports appended to `path`, rotated as `rotation` says ([`ReportFile`]: a symlink at
    /// `path` is refused). Each report is one `write` of a whole line to a file opened with
    /// `O_APPEND`.
    pub fn rotating_file(
        path: &Path,
        rotation: Rotation,
        config: ReportConfig,
    ) -> Result<Self, ReportError> {
        let file = ReportFile::open(path, rotation).map_err(|source| ReportError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::from_writer(
            &path.display().to_string(),
            Box::new(file),
            config,
        ))
    }

    /// Reports to any writer (tests, or a pipe the caller owns).
    pub fn from_writer(target: &str, out: Box<dyn Write + Send>, config: ReportConfig) -> Self {
        Self {
            target: target.to_owned(),
            out,
            config,
            next_sequence: 0,
        }
    }

    /// Where the reports go: `"stdout"` or the file path.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Writes one event as one line and flushes. Returns the report written.
    pub fn write(&mut self, event: &InfectionEvent) -> Result<BotInfectionReport, ReportError> {
        let report = BotInfectionReport::from_event(event, &self.config, self.next_sequence);
        let line = report.to_json_line()?;
        self.out
            .write_all(&line)
            .and_then(|()| self.out.flush())
            .map_err(|source| ReportError::Write {
                target: self.target.clone(),
                source,
            })?;
        self.next_sequence = self.next_sequence.wrapping_add(1);
        Ok(report)
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
