//! The `[reporting]` section: sampling of blocked attempts and offender detection settings.
use std::path::PathBuf;

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
        }
    }
}
