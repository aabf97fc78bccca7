//! What one timed scenario measured, as printed and as JSON.
use serde::Serialize;

use crate::api_probe::ControllerView;
use crate::latency::Latency;

/// One scenario (cold, reconnect, reload, or a growth point).
#[derive(Debug, Clone, Serialize)]
pub struct StormResult {
    pub scenario: String,
    /// How the switches connect: `tcp`, `tls-p256` or `tls-rsa2048` (the controller's key; `-full`
    /// appended when switches do not resume sessions).
    pub transport: String,
    pub switches: usize,
    /// Exempt prefixes in the policy (the growth curve's variable).
    pub exempt_prefixes: usize,
    /// Flows each switch must hold.
    pub flows_per_switch: usize,
    /// Switches confirmed in sync with exactly the desired flows.
    pub reached: usize,
    /// From the trigger until the last switch was confirmed; `None` if any missed the timeout.
    pub all_ms: Option<f64>,
    pub per_switch: Option<Latency>,
    /// From the trigger until the controller's own API listed every switch in sync at the
    /// current generation (polled after the switch side finished).
    pub controller_all_ms: Option<f64>,
    /// Target for all_ms at N = 10,000, if the issue sets one.
    pub target_ms: Option<f64>,
    /// FLOW_MODs the switches received during the scenario.
    pub flow_mods: u64,
    /// FLOW_MODs answered with an error during the scenario.
    pub flow_mod_errors: u64,
    /// TCP connect (and TLS handshake) errors.
    pub connect_errors: usize,
    /// Connections the switches made during the scenario, and how many of them resumed a TLS
    /// session.
    pub connections: u64,
    pub tls_resumed: u64,
    /// Switches connected when the scenario ended (all of them, unless one was dropped).
    pub connected_after: usize,
    /// SYNs dropped by a full listen queue during the scenario (namespace-wide counter).
    pub listen_overflows: Option<u64>,
    /// Controller CPU seconds (user + system) from the trigger until the controller confirmed
    /// (includes answering the API polls).
    pub controller_cpu_secs: Option<f64>,
    /// CPU seconds the swarm itself used in the same window (it shares the machine).
    pub swarm_cpu_secs: Option<f64>,
    /// Controller VmRSS / VmHWM after the scenario, KiB.
    pub controller_rss_kib: Option<u64>,
    pub controller_hwm_kib: Option<u64>,
    /// `/api/switches` when it first listed them all in sync (or the last poll).
    pub controller_view: Option<ControllerView>,
    /// 1-minute load average when the scenario started.
    pub load_before: Option<f64>,
    pub notes: Vec<String>,
}

/// Steady state: N idle switches, echo keepalive both ways.
#[derive(Debug, Clone, Serialize)]
pub struct SteadyResult {
    pub switches: usize,
    pub seconds: f64,
    pub echo_interval_secs: u64,
    /// The switches' own probe interval (0: none).
    pub switch_echo_secs: u64,
    /// Controller CPU, percent of one core.
    pub controller_cpu_percent: Option<f64>,
    pub controller_rss_kib: Option<u64>,
    pub controller_hwm_kib: Option<u64>,
    /// Controller RSS before any switch connected, KiB.
    pub idle_baseline_rss_kib: Option<u64>,
    /// (RSS with N connected - idle baseline) / N, KiB.
    pub rss_per_switch_kib: Option<f64>,
    /// Switches still connected at the end; connections made during the window.
    pub connected_at_end: usize,
    pub reconnects_during: u64,
    /// Messages per second the switches received from the controller (echo requests and
    /// replies) and sent to it (their own echo requests, one per switch per interval).
    pub messages_from_controller_per_sec: f64,
    /// CPU the swarm itself used, percent of one core.
    pub swarm_cpu_percent: Option<f64>,
    pub load_before: Option<f64>,
}

/// 1-minute load average from the text of /proc/loadavg.
pub fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// The 1-minute load average now.
pub fn load_now() -> Option<f64> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg() {
        assert_eq!(parse_loadavg("5.74 5.31 3.95 3/512 4242\n"), Some(5.74));
        assert_eq!(parse_loadavg(""), None);
    }
}
