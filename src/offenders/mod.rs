//! Who is trying: sampled blocked attempts -> likely infected subscribers.
//!
//! Each switch's drop flows for blocked TCP ports also send the packet, cut to 128 bytes and
//! rate-capped by a meter, to the controller. The session layer hands each such PACKET_IN here:
//!
//! 1. [`sample::parse_sample`] turns the bytes into a [`Sample`] (MAC, VLANs, IPs, TCP ports and
//!    flags, or "later fragment").
//! 2. [`table::OffenderTable::record`] counts connection attempts per subscriber
//!    (switch, port, MAC, IPv4 address or IPv6 prefix) and returns an [`InfectionEvent`] once when a subscriber starts to
//!    look like a spambot.
//! 3. [`report::XarfReport`] turns each event into an X-ARF v4 `infrastructure`/`botnet`
//!    report, one JSON line, which [`report::ReportSink`] writes to a file or stdout (and the
//!    controller's offender service can also hand to `[reporting] report_command`).
//!
//! In a cluster, [`cluster_share`] decides what each instance publishes of its table, how the
//! instances' tables merge into one list, and the name a report is claimed under.
//!
//! Everything but the sink is pure: time comes in as [`UnixMillis`].

pub mod clock;
pub mod cluster_share;
pub mod from_policy;
mod mac_json;
pub mod report;
pub mod report_file;
pub mod sample;
pub mod table;

pub use clock::UnixMillis;
pub use report::{
    ContactInfo, ReportConfig, ReportError, ReportId, ReportSink, XarfReport, MAX_EVIDENCE_BYTES,
    XARF_VERSION,
};
pub use report_file::{ReportFile, Rotation};
pub use sample::{parse_sample, Sample, SampleError, TcpSummary, Transport};
pub use table::{
    InfectionEvent, OffenderConfig, OffenderConfigError, OffenderStats, OffenderTable,
    OffenderView, SampleContext, SubscriberKey, MAX_SAMPLE_FRAME_BYTES, MAX_SOURCE_ADDRESSES,
};

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod pipeline_tests;
#[cfg(test)]
pub(crate) mod test_fixtures;
