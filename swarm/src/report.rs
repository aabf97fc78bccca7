//! Plain-text tables of the results (Markdown, so they paste into BENCHMARKS.md).
use std::fmt::Write;

use crate::storm_result::{SteadyResult, StormResult};

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

/// Judged on the later of the switch-side and the controller-side "all in sync".
fn verdict(r: &StormResult) -> &'static str {
    let all = r
        .all_ms
        .map(|a| r.controller_all_ms.map_or(a, |c| a.max(c)));
    match (all, r.target_ms) {
        (None, _) => "MISSED (timeout)",
        (Some(_), None) => "",
        (Some(a), Some(t)) if a <= t => "met",
        (Some(_), Some(_)) => "MISSED",
    }
}

/// The storms as a Markdown table.
pub fn storms_table(rows: &[StormResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| scenario | transport | N | prefixes | flows/switch | in sync | all (ms) | ctl says all (ms) | p50 (ms) | p99 (ms) | target (ms) | verdict | FLOW_MODs | errors | conns (resumed) | SYN drops | ctl CPU (s) | swarm CPU (s) | ctl RSS (MiB) | ctl HWM (MiB) | API in_sync | load |"
    );
    let _ = writeln!(s, "|{}", "---|".repeat(22));
    for r in rows {
        let mib = |k: Option<u64>| k.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.transport,
            r.switches,
            r.exempt_prefixes,
            r.flows_per_switch,
            r.reached,
            ms(r.all_ms),
            ms(r.controller_all_ms),
            ms(r.per_switch.map(|l| l.p50_ms)),
            ms(r.per_switch.map(|l| l.p99_ms)),
            ms(r.target_ms),
            verdict(r),
            r.flow_mods,
            r.flow_mod_errors + r.connect_errors as u64,
            r.connections,
            r.tls_resumed,
            opt(r.listen_overflows),
            r.controller_cpu_secs
                .map_or("-".into(), |c| format!("{c:.2}")),
            r.swarm_cpu_secs.map_or("-".into(), |c| format!("{c:.2}")),
            mib(r.controller_rss_kib),
            mib(r.controller_hwm_kib),
            r.controller_view
                .map_or("-".into(), |v| format!("{}/{}", v.in_sync_current, v.connected)),
            opt(r.load_before),
        );
    }
    for r in rows {
        for n in &r.notes {
            let _ = writeln!(s, "- {}: {n}", r.scenario);
        }
    }
    s
}

/// The steady-state line.
pub fn steady_table(r: &SteadyResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| N | window (s) | echo ctl/switch (s) | ctl CPU (% of a core) | target | ctl RSS (MiB) | idle RSS (MiB) | KiB/switch | target | connected | reconnects | msgs/s to switches | swarm CPU (%) | load |"
    );
    let _ = writeln!(s, "|{}", "---|".repeat(14));
    let mib = |k: Option<u64>| k.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
    let _ = writeln!(
        s,
        "| {} | {:.1} | {}/{} | {} | < 2% | {} | {} | {} | <= 20 | {} | {} | {:.0} | {} | {} |",
        r.switches,
        r.seconds,
        r.echo_interval_secs,
        r.switch_echo_secs,
        r.controller_cpu_percent
            .map_or("-".into(), |c| format!("{c:.2}")),
        mib(r.controller_rss_kib),
        mib(r.idle_baseline_rss_kib),
        r.rss_per_switch_kib
            .map_or("-".into(), |k| format!("{k:.1}")),
        r.connected_at_end,
        r.reconnects_during,
        r.messages_from_controller_per_sec,
        r.swarm_cpu_percent
            .map_or("-".into(), |c| format!("{c:.1}")),
        opt(r.load_before),
    );
    s
}

/// The echo-floor line.
pub fn floor_table(r: &crate::echo_floor::FloorResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| responder | N | connected | echo every (s) | window (s) | exchanges/s | responder CPU (% of a core) | us per exchange | responder RSS (MiB) | load |"
    );
    let _ = writeln!(s, "|{}", "---|".repeat(10));
    let _ = writeln!(
        s,
        "| {} | {} | {} | {} | {:.1} | {:.0} | {:.2} | {:.2} | {:.1} | {} |",
        r.responder,
        r.switches,
        r.connected,
        r.echo_secs,
        r.window_secs,
        r.exchanges_per_sec,
        r.responder_cpu_pct,
        r.us_per_exchange,
        r.responder_rss_mib,
        opt(r.load),
    );
    s
}
