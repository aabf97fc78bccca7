//! The standard Prometheus process metrics, read from `/proc/self` at scrape time (Linux only;
//! elsewhere none are exported), with the names and units every Prometheus client library uses
//! so stock dashboards and alerts work unchanged:
//!
//! - `process_cpu_seconds_total`: user + system CPU time (`/proc/self/stat` utime + stime).
//! - `process_resident_memory_bytes` (`VmRSS` of `/proc/self/status`) and
//!   `process_virtual_memory_bytes` (vsize of `/proc/self/stat`).
//! - `process_open_fds` (entries of `/proc/self/fd`) and `process_max_fds` (the soft
//!   "Max open files" of `/proc/self/limits`).
//! - `process_start_time_seconds`: Unix time the process started (starttime of
//!   `/proc/self/stat` after the boot time `btime` of `/proc/stat`).
//!
//! Clock ticks are `USER_HZ`, which Linux fixes at 100 for everything it reports to user space
//! (as the Go client's procfs also assumes). A file that cannot be read or parsed leaves out
//! only the metrics it feeds. Parsing is pure ([`parse_stat`] and friends); the reading is
//! [`ProcessReadings::read`].

use std::fmt::Error as FmtError;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};

use super::encode::{as_gauge, gauge};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second in `/proc` (`USER_HZ`).
const USER_HZ: f64 = 100.0;

/// The fields of `/proc/self/stat` the metrics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// User + system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    /// Clock ticks after boot at which the process started.
    pub start_ticks: u64,
    /// Virtual memory size, bytes.
    pub vsize: u64,
}

/// Parses `/proc/<pid>/stat`: the command name is in parentheses and may hold spaces and
/// parentheses itself, so fields are counted after the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    // After ")": field 3 (state) is index 0, so field N is index N - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        cpu_ticks: field(14)?.checked_add(field(15)?)?,
        start_ticks: field(22)?,
        vsize: field(23)?,
    })
}

/// `VmRSS:  1234 kB` of `/proc/<pid>/status`, in bytes.
pub fn parse_status_rss(text: &str) -> Option<u64> {
    let line = text.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kb = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kb.checked_mul(1024)
}

/// `btime <secs>` of `/proc/stat`: boot time, Unix seconds.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The soft limit of "Max open files" in `/proc/<pid>/limits` (`None` for "unlimited").
pub fn parse_max_open_files(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// One reading of every process metric; `None` where its source could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessReadings {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub start_time_seconds: Option<f64>,
}

impl ProcessReadings {
    /// Reads `/proc` now (all `None` on a system without it).
    pub fn read() -> Self {
        let file = |path: &str| std::fs::read_to_string(path).ok();
        let stat = file("/proc/self/stat").as_deref().and_then(parse_stat);
        let btime = file("/proc/stat").as_deref().and_then(parse_btime);
        #[allow(
            clippy::cast_precision_loss,
            reason = "tick counts stay far below 2^52 for any real uptime"
        )]
        let ticks = |t: u64| t as f64 / USER_HZ;
        #[allow(
            clippy::cast_precision_loss,
            reason = "a Unix time in seconds is far below 2^52"
        )]
        let start_time_seconds = match (stat, btime) {
            (Some(s), Some(b)) => Some(b as f64 + ticks(s.start_ticks)),
            _ => None,
        };
        ProcessReadings {
            cpu_seconds: stat.map(|s| ticks(s.cpu_ticks)),
            resident_bytes: file("/proc/self/status")
                .as_deref()
                .and_then(parse_status_rss),
            virtual_bytes: stat.map(|s| s.vsize),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|d| d.count() as u64),
            max_fds: file("/proc/self/limits")
                .as_deref()
                .and_then(parse_max_open_files),
            start_time_seconds,
        }
    }
}

/// Encodes a fresh [`ProcessReadings`] on every scrape.
#[derive(Debug, Default)]
pub struct ProcessCollector;

fn gauge_f64(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: f64,
) -> Result<(), FmtError> {
    let g = ConstGauge::new(value);
    g.encode(enc.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), FmtError> {
        let r = ProcessReadings::read();
        if let Some(secs) = r.cpu_seconds {
            let c = ConstCounter::new(secs);
            c.encode(enc.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                c.metric_type(),
            )?)?;
        }
        let e = &mut enc;
        if let Some(n) = r.resident_bytes {
            gauge(
                e,
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                as_gauge(n),
            )?;
        }
        if let Some(n) = r.virtual_bytes {
            gauge(
                e,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                as_gauge(n),
            )?;
        }
        if let Some(n) = r.open_fds {
            gauge(
                e,
                "process_open_fds",
                "Number of open file descriptors",
                as_gauge(n),
            )?;
        }
        if let Some(n) = r.max_fds {
            gauge(
                e,
                "process_max_fds",
                "Maximum number of open file descriptors",
                as_gauge(n),
            )?;
        }
        if let Some(t) = r.start_time_seconds {
            gauge_f64(
                e,
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                t,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
