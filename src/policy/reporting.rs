//! The `[reporting]` section: sampling of blocked attempts and offender detection settings.
use std::fmt;
use std::path::{Path, PathBuf};

use super::Location;

/// Where the offender report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportPath {
    /// `"-"`: standard output.
    Stdout,
    /// A file path.
    File(PathBuf),
}

/// Validated `[reporting]` settings (all have defaults; the section may be omitted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporting {
    /// Sample blocked attempts to the controller (default true).
    pub enabled: bool,
    /// Meter rate for samples, packets per second per switch (default 20, >= 1).
    pub sample_rate_pps: u32,
    /// How many offenders to track at most (default 100000, >= 1).
    pub max_offenders: usize,
    /// Attempts within the window that mark a subscriber (default 30, >= 1).
    pub threshold_attempts: u32,
    /// Distinct destinations within the window that mark a subscriber (default 5, >= 1).
    pub threshold_destinations: u32,
    /// Sliding window, seconds (default 600, >= 1).
    pub window_secs: u64,
    /// Where reports go (default: none).
    pub report_path: Option<ReportPath>,
    /// X-ARF `Reported-From`: the ISP's abuse mailbox (default the placeholder
    /// [`PLACEHOLDER_REPORTED_FROM`]; a warning is logged at load if reporting is on with it).
    pub reported_from: String,
    /// Read the drop flows' packet and byte counters from every switch this often, seconds
    /// (default 10, 1..=86400).
    pub counters_interval_secs: u64,
    /// Rotate the report file before it would grow past this many bytes (default: never;
    /// 4096..=2^40). Rotation renames `report_path` to `report_path.1` (`.1` to `.2`, ...).
    pub report_max_bytes: Option<u64>,
    /// Rotated files kept (`.1` .. `.N`; default 5, 1..=1000); the oldest is deleted.
    pub report_keep: u32,
    /// IPv6 sources are counted per prefix of this length (default 64, 1..=128): a host
    /// rotating privacy addresses inside its /64 (or its delegated /56, with 56) is one
    /// subscriber. IPv4 sources are counted per address.
    pub ipv6_prefix_len: u8,
    /// X-ARF `reporter.org` / `sender.org`: the ISP's name (1..=200 characters; default
    /// `None`: the domain part of `reported_from`).
    pub reporter_org: Option<String>,
    /// A program run once per report with the report's JSON line on stdin (default: none).
    pub report_command: Option<ReportCommand>,
    /// Seconds a `report_command` may run before it is killed (default 10, 1..=3600).
    pub report_command_timeout_secs: u64,
    /// Reports waiting for `report_command` (default 256, 1..=65536); past it they are dropped
    /// for the command (the report file still gets them) and counted.
    pub report_command_queue: usize,
}

/// `report_command`: the program (an absolute path) and its arguments, run without a shell,
/// with where the key is in the policy file (so a program that is missing or not executable is
/// reported at the key's `file:line:column`). Equality ignores the location.
#[derive(Debug, Clone)]
pub struct ReportCommand {
    /// `argv[0]` is the program, absolute; never empty.
    pub argv: Vec<String>,
    /// Where the value is in the policy file.
    pub location: Location,
}

impl ReportCommand {
    /// The program to run (`argv[0]`).
    pub fn program(&self) -> &Path {
        Path::new(self.argv.first().map_or("", String::as_str))
    }
}

impl PartialEq for ReportCommand {
    fn eq(&self, other: &Self) -> bool {
        self.argv == other.argv
    }
}

impl Eq for ReportCommand {}

impl fmt::Display for ReportCommand {
    /// `policy.toml:12:18: reporting.report_command (/usr/local/bin/ticket)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: reporting.report_command ({})",
            self.location,
            self.program().display()
        )
    }
}

/// The `Reported-From` used when the policy names none: not a real mailbox.
pub const PLACEHOLDER_REPORTED_FROM: &str = "abuse@localhost";

impl Reporting {
    /// True when reports would go out under the placeholder sender.
    pub fn uses_placeholder_sender(&self) -> bool {
        self.reported_from == PLACEHOLDER_REPORTED_FROM
    }
}

impl Default for Reporting {
    fn default() -> Self {
        Reporting {
            enabled: true,
            sample_rate_pps: 20,
            max_offenders: 100_000,
            threshold_attempts: 30,
            threshold_destinations: 5,
            window_secs: 600,
            report_path: None,
            reported_from: PLACEHOLDER_REPORTED_FROM.to_owned(),
            counters_interval_secs: 30,
            report_max_bytes: None,
            report_keep: 5,
            ipv6_prefix_len: 64,
            reporter_org: None,
            report_command: None,
            report_command_timeout_secs: 10,
            report_command_queue: 256,
        }
    }
}
