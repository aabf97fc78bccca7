//! A process's memory and CPU from /proc: `VmRSS`/`VmHWM` from `status`, user+system ticks
//! from `stat`; and for the soak its `Threads` (from `status`) and open descriptors (the
//! entries of `fd/`). Parsing is pure; reading is the only I/O.
use serde::Serialize;

use crate::error::SwarmError;

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProcSample {
    /// Resident set now, KiB.
    pub rss_kib: u64,
    /// Peak resident set so far, KiB.
    pub hwm_kib: u64,
    /// User + system CPU seconds so far.
    pub cpu_secs: f64,
}

/// `VmRSS` and `VmHWM` (KiB) from the text of /proc/PID/status.
pub fn parse_status(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// `Threads` from the text of /proc/PID/status.
pub fn parse_threads(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// What the soak follows of a process: resident set, threads, open descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Footprint {
    pub rss_kib: u64,
    pub threads: u64,
    pub fds: u64,
}

/// Reads `pid`'s [`Footprint`] now (its `fd/` needs the same user or root).
pub fn footprint(pid: u32) -> Result<Footprint, SwarmError> {
    let err = |file: &'static str, detail: String| SwarmError::Proc { pid, file, detail };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| err("status", e.to_string()))?;
    let (rss_kib, _) = parse_status(&status).ok_or_else(|| err("status", "no VmRSS".into()))?;
    let threads = parse_threads(&status).ok_or_else(|| err("status", "no Threads".into()))?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map_err(|e| err("fd", e.to_string()))?
        .count() as u64;
    Ok(Footprint {
        rss_kib,
        threads,
        fds,
    })
}

/// utime + stime in clock ticks from the text of /proc/PID/stat. The command name (field 2)
/// may hold spaces and parentheses: fields are counted after its last ')'.
pub fn parse_stat_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ')': state is field 3 overall; utime is 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (USER_HZ). Linux has used 100 on every common architecture.
pub const TICKS_PER_SEC: f64 = 100.0;

/// Reads `pid` now.
pub fn sample(pid: u32) -> Result<ProcSample, SwarmError> {
    let read = |file: &'static str| {
        std::fs::read_to_string(format!("/proc/{pid}/{file}")).map_err(|e| SwarmError::Proc {
            pid,
            file,
            detail: e.to_string(),
        })
    };
    let bad = |file: &'static str| SwarmError::Proc {
        pid,
        file,
        detail: "unexpected format".into(),
    };
    let (rss_kib, hwm_kib) = parse_status(&read("status")?).ok_or_else(|| bad("status"))?;
    let ticks = parse_stat_ticks(&read("stat")?).ok_or_else(|| bad("stat"))?;
    Ok(ProcSample {
        rss_kib,
        hwm_kib,
        cpu_secs: ticks as f64 / TICKS_PER_SEC,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STATUS: &str =
        "Name:\top25b\nVmPeak:\t  90000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t   12000 kB\n";

    #[test]
    fn status_fields() {
        assert_eq!(parse_status(STATUS), Some((12000, 12345)));
        assert_eq!(parse_status("VmRSS: 1 kB\n"), None);
    }

    #[test]
    fn threads_field() {
        assert_eq!(parse_threads("Name:\tx\nThreads:\t7\n"), Some(7));
        assert_eq!(parse_threads(STATUS), None);
    }

    #[test]
    fn this_process_footprint() {
        let f = footprint(std::process::id()).unwrap();
        assert!(f.rss_kib > 0 && f.threads >= 1 && f.fds >= 3, "{f:?}");
    }

    #[test]
    fn stat_with_a_hostile_command_name() {
        let stat = "42 (a) b) (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_stat_ticks(stat), Some(300));
        assert_eq!(parse_stat_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".*") {
            let _ = parse_status(&s);
            let _ = parse_stat_ticks(&s);
            let _ = parse_threads(&s);
        }
    }
}
