//! Abuse reports: each [`InfectionEvent`] becomes one JSON line, an X-ARF v4 report of
//! category `infrastructure`, type `botnet`.
//!
//! # Schema
//!
//! The reports follow the X-ARF v4 schemas of <https://github.com/xarf/xarf-spec> (commit
//! `37820dac`, MIT; copied with their provenance into `tests/data/xarf-v4/`), and every line
//! validates against `xarf-v4-master.json`: the tests run `tests/data/xarf-v4/validate.py` on
//! lines made by the real pipeline. The core schema (`xarf-core.json`) requires
//! `xarf_version`, `report_id` (a UUID), `timestamp`, `reporter` and `sender` (each exactly
//! `org`, `contact` (e-mail), `domain`), `source_identifier`, `category` and `type`; the
//! `infrastructure-botnet` type adds `compromise_evidence`. This writer fills:
//!
//! | field | value |
//! |---|---|
//! | `xarf_version` | [`XARF_VERSION`] (`4.2.0`, the version of the spec's own samples) |
//! | `report_id` | a random UUID v4 ([`ReportId`]; the caller brings the randomness) |
//! | `timestamp` | when the subscriber was flagged (RFC 3339, UTC) |
//! | `reporter`, `sender` | both the ISP: `[reporting] reported_from` is `contact`, its domain part `domain`, `reporter_org` (default: that domain) `org` |
//! | `source_identifier`, `source_port` | source address and TCP source port of the attempt that crossed the threshold (`source_port` is left out when it is 0, which the schema forbids) |
//! | `category`, `type` | `infrastructure`, `botnet` |
//! | `bot_capabilities` | `["spam"]` |
//! | `compromise_evidence` | one sentence: N blocked port-25 connection attempts to M distinct hosts within S seconds |
//! | `evidence_source` | `firewall_logs` (the edge switch's drop flow sampled them) |
//! | `evidence` | the sampled frame that crossed the threshold, base64, as `application/octet-stream`, with its `sha256:` hash and size (at most [`MAX_EVIDENCE_BYTES`]: the switch sends 128 bytes, the Ethernet, VLAN, IP and TCP headers of a SYN); left out when no frame was kept |
//! | `first_seen`, `last_seen` | first attempt of this activity, and the flagging attempt (RFC 3339) |
//! | `destination_count` | distinct destination hosts among the attempts in the window |
//! | `destination_ip`, `destination_port`, `protocol` | the flagging attempt's destination, and `tcp` |
//! | `tags` | `["op25b:outbound-port25-blocked", "protocol:smtp"]` |
//! | `description` | one human-readable line |
//! | `_internal.op25b` | op25b's own context, see below |
//!
//! # op25b's context: `_internal`
//!
//! The core schema allows extra properties (`additionalProperties: true`) but defines one
//! object for exactly this: `_internal`, "organization-defined" metadata that is "never
//! transmitted between systems". The switch, port and MAC address that locate the subscriber's
//! line are the ISP's own business, so they go there, under `_internal.op25b`: `switch`
//! (datapath id, colon hex), `port` (OpenFlow port), `source_mac`, `attempts_in_window`,
//! `total_attempts`, `window_start`, `generator` (`op25b/<version>`), and for an IPv6
//! subscriber, counted per prefix, `source_prefix` (e.g. `2001:db8:1:2::/64`) and
//! `source_addresses` (the addresses seen in it, at most
//! [`super::table::MAX_SOURCE_ADDRESSES`]; `source_identifier` is the one that crossed the
//! threshold). A tool forwarding a report to another organisation drops `_internal`.
//!
//! # Example (one line, wrapped here)
//!
//! ```text
//! {"xarf_version":"4.2.0","report_id":"6f1c0d2e-5b7a-4c1e-9d3f-0a8b7c6d5e4f",
//!  "timestamp":"2026-11-27T21:16:45.000Z",
//!  "reporter":{"org":"isp.example","contact":"abuse@isp.example","domain":"isp.example"},
//!  "sender":{"org":"isp.example","contact":"abuse@isp.example","domain":"isp.example"},
//!  "source_identifier":"10.0.0.1","source_port":40029,"category":"infrastructure",
//!  "type":"botnet","bot_capabilities":["spam"],"compromise_evidence":"30 outbound TCP
//!  connection attempts to port 25 of 5 distinct hosts within 29 s were blocked at the ISP
//!  edge (30 since 2026-11-27T21:16:16.000Z)","evidence_source":"firewall_logs",
//!  "evidence":[{"content_type":"application/octet-stream","description":"...","payload":
//!  "AgAAAAD+AgAAAAABCABFAAAo...","hash":"sha256:...","size":54}],
//!  "first_seen":"2026-11-27T21:16:16.000Z","last_seen":"2026-11-27T21:16:45.000Z",
//!  "destination_count":5,"destination_ip":"198.51.100.5","destination_port":25,
//!  "protocol":"tcp","tags":["op25b:outbound-port25-blocked","protocol:smtp"],
//!  "description":"...","_internal":{"op25b":{"switch":"00:00:00:00:00:00:00:01","port":3,
//!  "source_mac":"02:00:00:00:00:01","attempts_in_window":30,"total_attempts":30,
//!  "window_start":"2026-11-27T21:16:16.000Z","generator":"op25b/0.1.0"}}}
//! ```
//!
//! Building a report is pure ([`XarfReport::from_event`]). [`ReportSink`] appends finished
//! lines to a file or writes them to standard output; it does blocking I/O: call it from a
//! blocking context (the offender service's writer thread).

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ipnet::IpNet;
use op25b_proto::MacAddr;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::policy::Dpid;

use super::report_file::{ReportFile, Rotation};
use super::table::{InfectionEvent, MAX_SAMPLE_FRAME_BYTES};

/// The `xarf_version` written: the version of the X-ARF v4 specification's own samples at the
/// commit the schemas were taken from.
pub const XARF_VERSION: &str = "4.2.0";

/// Most bytes of the sampled frame carried as evidence (the drop flows send 128).
pub const MAX_EVIDENCE_BYTES: usize = MAX_SAMPLE_FRAME_BYTES;

/// One organisation as X-ARF's `contact_info` names it (exactly these three fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContactInfo {
    /// Organisation name (the schema allows at most 200 characters).
    pub org: String,
    /// E-mail address.
    pub contact: String,
    /// The organisation's domain.
    pub domain: String,
}

impl ContactInfo {
    /// The ISP as `[reporting]` names it: `contact` is `mailbox`, `domain` its part after the
    /// last `@` (`localhost` when there is none), `org` the given name or else that domain.
    pub fn from_mailbox(mailbox: &str, org: Option<&str>) -> Self {
        let domain = mailbox
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .filter(|domain| !domain.is_empty())
            .unwrap_or("localhost")
            .to_owned();
        Self {
            org: org.map_or_else(|| domain.clone(), str::to_owned),
            contact: mailbox.to_owned(),
            domain,
        }
    }
}

/// Who sends the reports. [`Default`] is only a placeholder (`abuse@localhost`): set
/// `[reporting] reported_from` to the ISP's abuse mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportConfig {
    /// Written as both `reporter` (who complains) and `sender` (who files it): the ISP.
    pub reporter: ContactInfo,
    /// `_internal.op25b.generator`: the software that made the report.
    pub generator: String,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            reporter: ContactInfo::from_mailbox("abuse@localhost", None),
            generator: concat!("op25b/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// A report id: 16 random bytes shown as a UUID version 4 (RFC 9562: the version and variant
/// bits are set here, the other 122 bits are the caller's randomness).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportId([u8; 16]);

impl ReportId {
    /// Marks `bytes` as a version 4, RFC 9562 variant UUID.
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(bytes)
    }
}

impl std::fmt::Display for ReportId {
    /// `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, lower-case hex.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{}-{}-{}-{}-{}",
            hex::encode(&b[0..4]),
            hex::encode(&b[4..6]),
            hex::encode(&b[6..8]),
            hex::encode(&b[8..10]),
            hex::encode(&b[10..16])
        )
    }
}

impl Serialize for ReportId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One X-ARF `evidence` item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceItem {
    pub content_type: &'static str,
    pub description: String,
    /// Base64 (standard alphabet, padded).
    pub payload: String,
    /// `sha256:<hex>` of the raw bytes.
    pub hash: String,
    /// Raw bytes.
    pub size: usize,
}

impl EvidenceItem {
    /// The sampled frame's first [`MAX_EVIDENCE_BYTES`] bytes.
    fn sampled_frame(frame: &[u8], dpid: u64, port: u32) -> Self {
        let bytes = &frame[..frame.len().min(MAX_EVIDENCE_BYTES)];
        Self {
            content_type: "application/octet-stream",
            description: format!(
                "Ethernet frame of the blocked TCP SYN that crossed the threshold, as sampled by \
                 switch {} port {port} (headers: Ethernet, VLAN tags, IP, TCP; first {} bytes)",
                Dpid(dpid),
                bytes.len()
            ),
            payload: base64::engine::general_purpose::STANDARD.encode(bytes),
            hash: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
            size: bytes.len(),
        }
    }
}

/// op25b's context in `_internal.op25b` (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Op25bContext {
    /// Datapath id as colon hex.
    pub switch: String,
    /// OpenFlow port the subscriber is behind.
    pub port: u32,
    #[serde(with = "super::mac_json")]
    pub source_mac: MacAddr,
    /// IPv6 only: the prefix the subscriber is counted under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_prefix: Option<IpNet>,
    /// IPv6 only: the distinct source addresses seen in that prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_addresses: Option<Vec<IpAddr>>,
    pub attempts_in_window: usize,
    /// Attempts since the entry was created (retransmissions excluded).
    pub total_attempts: u32,
    /// RFC 3339: the oldest attempt of the triggering window.
    pub window_start: String,
    pub generator: String,
}

/// `_internal`: organisation-defined metadata the core schema leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Internal {
    pub op25b: Op25bContext,
}

/// One X-ARF v4 `infrastructure` / `botnet` report, serialized with the schema's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct XarfReport {
    pub xarf_version: &'static str,
    pub report_id: ReportId,
    /// RFC 3339, UTC: when the subscriber was flagged.
    pub timestamp: String,
    pub reporter: ContactInfo,
    pub sender: ContactInfo,
    pub source_identifier: IpAddr,
    /// Absent for port 0 (the schema wants 1..=65535).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    pub category: &'static str,
    #[serde(rename = "type")]
    pub report_type: &'static str,
    pub bot_capabilities: [&'static str; 1],
    pub compromise_evidence: String,
    pub evidence_source: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceItem>,
    pub first_seen: String,
    pub last_seen: String,
    pub destination_count: usize,
    pub destination_ip: IpAddr,
    pub destination_port: u16,
    pub protocol: &'static str,
    pub tags: [&'static str; 2],
    pub description: String,
    #[serde(rename = "_internal")]
    pub internal: Internal,
}

impl XarfReport {
    /// Builds the report for one event; `id` is its `report_id`.
    pub fn from_event(event: &InfectionEvent, config: &ReportConfig, id: ReportId) -> Self {
        let window_secs = event.flagged_at.since(event.window_start).as_secs();
        let first_seen = event.first_seen.to_rfc3339();
        let switch = Dpid(event.dpid).to_string();
        let compromise_evidence = format!(
            "{} outbound TCP connection attempts to port {} of {} distinct hosts within {} s \
             were blocked at the ISP edge ({} since {})",
            event.attempts_in_window,
            event.destination_port,
            event.distinct_destinations_in_window,
            window_secs,
            event.total_attempts,
            first_seen
        );
        let description = format!(
            "Subscriber {} (MAC {}, switch {} port {}) tried to deliver mail directly to many \
             mail servers, as spam bots do; op25b blocks outbound port {} and flagged it",
            event.source_prefix.map_or_else(
                || event.source_ip.to_string(),
                |prefix| format!("{} in {prefix}", event.source_ip)
            ),
            event.source_mac,
            switch,
            event.in_port,
            event.destination_port
        );
        let evidence = if event.sample_frame.is_empty() {
            Vec::new()
        } else {
            vec![EvidenceItem::sampled_frame(
                &event.sample_frame,
                event.dpid,
                event.in_port,
            )]
        };
        Self {
            xarf_version: XARF_VERSION,
            report_id: id,
            timestamp: event.flagged_at.to_rfc3339(),
            reporter: config.reporter.clone(),
            sender: config.reporter.clone(),
            source_identifier: event.source_ip,
            source_port: (event.source_port != 0).then_some(event.source_port),
            category: "infrastructure",
            report_type: "botnet",
            bot_capabilities: ["spam"],
            compromise_evidence,
            evidence_source: "firewall_logs",
            evidence,
            first_seen,
            last_seen: event.flagged_at.to_rfc3339(),
            destination_count: event.distinct_destinations_in_window,
            destination_ip: event.destination_ip,
            destination_port: event.destination_port,
            protocol: "tcp",
            tags: ["op25b:outbound-port25-blocked", "protocol:smtp"],
            description,
            internal: Internal {
                op25b: Op25bContext {
                    switch,
                    port: event.in_port,
                    source_mac: event.source_mac,
                    source_prefix: event.source_prefix,
                    source_addresses: event.source_prefix.map(|_| event.source_addresses.clone()),
                    attempts_in_window: event.attempts_in_window,
                    total_attempts: event.total_attempts,
                    window_start: event.window_start.to_rfc3339(),
                    generator: config.generator.clone(),
                },
            },
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

/// Writes report lines to standard output or appended to a file.
pub struct ReportSink {
    /// `"stdout"` or the file's path, for error messages.
    target: String,
    out: Box<dyn Write + Send>,
}

impl std::fmt::Debug for ReportSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportSink")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl ReportSink {
    /// `-` means standard output; anything else is a file, created if missing and appended to.
    pub fn open(path: &Path) -> Result<Self, ReportError> {
        if path == Path::new("-") {
            Ok(Self::stdout())
        } else {
            Self::file(path)
        }
    }

    /// Reports to standard output.
    pub fn stdout() -> Self {
        Self::from_writer("stdout", Box::new(io::stdout()))
    }

    /// Reports appended to `path` (created if missing, never truncated, never rotated).
    pub fn file(path: &Path) -> Result<Self, ReportError> {
        Self::rotating_file(path, Rotation::default())
    }

    /// Reports appended to `path`, rotated as `rotation` says ([`ReportFile`]: a symlink at
    /// `path` is refused). Each report is one `write` of a whole line to a file opened with
    /// `O_APPEND`.
    pub fn rotating_file(path: &Path, rotation: Rotation) -> Result<Self, ReportError> {
        let file = ReportFile::open(path, rotation).map_err(|source| ReportError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::from_writer(
            &path.display().to_string(),
            Box::new(file),
        ))
    }

    /// Reports to any writer (tests, or a pipe the caller owns).
    pub fn from_writer(target: &str, out: Box<dyn Write + Send>) -> Self {
        Self {
            target: target.to_owned(),
            out,
        }
    }

    /// Where the reports go: `"stdout"` or the file path.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Writes one finished line ([`XarfReport::to_json_line`]) and flushes.
    pub fn write_line(&mut self, line: &[u8]) -> Result<(), ReportError> {
        self.out
            .write_all(line)
            .and_then(|()| self.out.flush())
            .map_err(|source| ReportError::Write {
                target: self.target.clone(),
                source,
            })
    }

    /// Builds `event`'s report with `id`, writes it as one line and flushes. Returns the
    /// report and its line.
    pub fn write(
        &mut self,
        event: &InfectionEvent,
        config: &ReportConfig,
        id: ReportId,
    ) -> Result<(XarfReport, Vec<u8>), ReportError> {
        let report = XarfReport::from_event(event, config, id);
        let line = report.to_json_line()?;
        self.write_line(&line)?;
        Ok((report, line))
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
