//! The outbreak: N switches send metered samples of blocked SYNs (PACKET_INs built by each
//! simulated switch's own datapath from the flows the controller programmed: its cookie, table
//! and match) at `--samples-pps` in all, from the subscriber mix of [`crate::outbreak_mix`],
//! for `--secs`. Meanwhile:
//! - every switch sends an ECHO_REQUEST every 5 s (Open vSwitch's default inactivity probe)
//!   and counts a timeout when the reply is not there 5 s later;
//! - the controller writes its X-ARF reports to a file the swarm tails: each spraying
//!   subscriber must appear, and its latency is from the moment the swarm sent its
//!   `threshold_attempts`-th sample to the moment its report line was read;
//! - half-way, a policy reload (one relay added) must reach every switch (timed as the
//!   `reload` storm).
//!
//! Afterwards the controller's own counters (`/metrics`) give the samples it shed and the
//! offender table's size.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use op25b::policy::Config;
use op25b_proto::{Message, OfpMessage};
use op25b_sim::{SimSwitch, SimSwitchConfig};
use serde::Serialize;

use crate::api_probe;
use crate::error::SwarmError;
use crate::expected::expected_flows;
use crate::fleet::{source_ip, Fleet};
use crate::latency::{percentile, summarise, Latency};
use crate::outbreak_mix::{MixConfig, SwitchMix};
use crate::policy_text::SwarmPolicy;
use crate::scenarios::{
    api_of, connect, controller_with, own_sample, sample, write_policy_text, Options, Storm,
    FIRST_DPID,
};
use crate::storm_result::{load_now, StormResult};

/// How often samples go out (each switch's due samples in one write).
const TICK: Duration = Duration::from_millis(100);
/// Open vSwitch's default inactivity probe: an echo unanswered this long is a timeout.
const ECHO_PROBE: Duration = Duration::from_secs(5);
/// Detection latency allowed past the threshold.
const DETECT_WITHIN: Duration = Duration::from_secs(2);
/// Received messages each switch keeps: its echo replies must still be there 5 s later.
const RECORD: usize = 16;
const ECHO_XID_BASE: u32 = 0x0eb0_0000;

/// What an outbreak run is asked to do.
#[derive(Debug, Clone)]
pub struct OutbreakOptions {
    pub base: Options,
    /// Samples a second, all switches together.
    pub samples_pps: f64,
    pub secs: u64,
    /// Percent of subscribers spraying.
    pub spray_percent: u32,
    pub seed: u64,
}

/// What it measured (`--json`: one line).
#[derive(Debug, Clone, Serialize)]
pub struct OutbreakReport {
    pub switches: usize,
    pub secs: f64,
    pub samples_pps_target: f64,
    /// The meter rate the policy was given (samples/s per switch).
    pub meter_pps: u32,
    pub samples_sent: u64,
    pub samples_pps_sent: f64,
    /// Samples the swarm could not queue on a switch's connection (not sent).
    pub samples_unsent: u64,
    /// Samples the controller shed (`op25b_samples_shed_total`, during the run).
    pub samples_shed: Option<u64>,
    pub disconnects: u64,
    pub echo_probes: u64,
    pub echo_timeouts: u64,
    pub offenders_expected: usize,
    pub offenders_expected_ipv6: usize,
    pub offenders_detected: usize,
    pub offenders_detected_ipv6: usize,
    /// Report lines naming a subscriber that was not spraying, or before its threshold.
    pub false_reports: usize,
    pub report_lines: usize,
    pub detect_p99_secs: Option<f64>,
    pub detect_max_secs: Option<f64>,
    /// Detected later than the threshold + 2 s.
    pub detect_late: usize,
    pub detect: Option<Latency>,
    pub reload_all_secs: Option<f64>,
    pub reload: Option<StormResult>,
    /// The offender table's size at the end (`op25b_offenders_tracked`).
    pub offenders_tracked: Option<u64>,
    pub controller_cpu_percent: Option<f64>,
    pub swarm_cpu_percent: Option<f64>,
    pub controller_hwm_kib: Option<u64>,
    pub load_before: Option<f64>,
    pub notes: Vec<String>,
}

impl OutbreakReport {
    /// Correctness, not speed: every sprayer reported, nothing else reported, no switch lost
    /// or unanswered, the reload reached everyone.
    pub fn correct(&self) -> bool {
        self.offenders_detected == self.offenders_expected
            && self.offenders_expected > 0
            && self.false_reports == 0
            && self.disconnects == 0
            && self.echo_timeouts == 0
            && self.reload_all_secs.is_some()
    }
}

/// The swarm policy with the outbreak's `[reporting]` keys: the meter at `meter_pps` and the
/// reports written to `report`.
pub(crate) fn outbreak_toml(p: &SwarmPolicy, meter_pps: u32, report: &Path) -> String {
    p.to_toml().replacen(
        "sample_rate_pps = 20\n",
        &format!(
            "sample_rate_pps = {meter_pps}\nipv6_prefix_len = 64\nreport_path = {:?}\n",
            report.display().to_string()
        ),
        1,
    )
}

/// Builds the switches: no own echo timer (the probe here does it), a longer record.
pub(crate) fn fleet(n: usize, ports: u32) -> Fleet {
    let switches = (0..n)
        .map(|i| {
            let mut cfg = SimSwitchConfig::new(FIRST_DPID + i as u64, ports);
            cfg.record_limit = RECORD;
            cfg.event_limit = 4;
            cfg.local_ip = Some(source_ip(i));
            SimSwitch::new(cfg)
        })
        .collect();
    Fleet { switches }
}

/// One scrape of the controller's counters.
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    shed: Option<u64>,
    tracked: Option<u64>,
}

async fn counters(api: Option<SocketAddr>) -> Counters {
    let Some(api) = api else {
        return Counters::default();
    };
    let body = tokio::task::spawn_blocking(move || api_probe::get(api, "/metrics"))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let value = |name: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    Counters {
        shed: value("op25b_samples_shed_total"),
        tracked: value("op25b_offenders_tracked"),
    }
}

/// Tails the report file until `stop`: (dpid, port) -> when its line was read; and the lines.
async fn tail_reports(
    path: PathBuf,
    stop: Arc<AtomicBool>,
) -> (HashMap<(u64, u32), Instant>, usize) {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut seen = HashMap::new();
    let mut offset = 0u64;
    let mut lines = 0;
    let mut partial = Vec::new();
    loop {
        let done = stop.load(Ordering::Relaxed);
        if let Ok(mut file) = tokio::fs::File::open(&path).await {
            let mut fresh = Vec::new();
            if file.seek(std::io::SeekFrom::Start(offset)).await.is_ok()
                && file.read_to_end(&mut fresh).await.is_ok()
            {
                let now = Instant::now();
                offset += fresh.len() as u64;
                partial.extend_from_slice(&fresh);
                while let Some(end) = partial.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=end).collect();
                    lines += 1;
                    if let Some(key) = report_subscriber(&String::from_utf8_lossy(&line)) {
                        seen.entry(key).or_insert(now);
                    }
                }
            }
        }
        if done {
            return (seen, lines);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The (dpid, port) of one X-ARF v4 report line (op25b keeps them in `_internal.op25b`).
pub fn report_subscriber(line: &str) -> Option<(u64, u32)> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let op25b = &v["_internal"]["op25b"];
    let switch = op25b["switch"].as_str()?.replace(':', "");
    let dpid = u64::from_str_radix(&switch, 16).ok()?;
    let port = u32::try_from(op25b["port"].as_u64()?).ok()?;
    Some((dpid, port))
}

/// Every [`ECHO_PROBE`], staggered over 50 ticks: checks each switch's previous probe was
/// answered, then sends the next. Returns (probes, timeouts).
async fn echo_probes(fleet: Arc<Fleet>, stop: Arc<AtomicBool>) -> (u64, u64) {
    let buckets = 50u32;
    let step = ECHO_PROBE / buckets;
    let buckets = buckets as usize;
    let mut pending: Vec<Option<u32>> = vec![None; fleet.len()];
    let mut xid = ECHO_XID_BASE;
    let (mut probes, mut timeouts) = (0, 0);
    let mut tick = tokio::time::interval(step);
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let bucket = round % buckets;
        round += 1;
        for i in (bucket..fleet.len()).step_by(buckets) {
            let sw = &fleet.switches[i];
            if let Some(x) = pending[i].take() {
                let answered = sw
                    .received()
                    .iter()
                    .any(|m| m.xid == x && matches!(m.body, Message::EchoReply(_)));
                if !answered {
                    timeouts += 1;
                }
            }
            xid = xid.wrapping_add(1);
            let req = OfpMessage::new(xid, Message::EchoRequest(Bytes::new()));
            if sw.send_raw(req.to_bytes()) {
                pending[i] = Some(xid);
                probes += 1;
            }
        }
    }
    (probes, timeouts)
}

/// Sends the samples for `secs`; returns (sent, unsent).
pub(crate) async fn drive(fleet: &Fleet, mixes: &mut [SwitchMix], secs: u64) -> (u64, u64) {
    let (mut sent, mut unsent) = (0u64, 0u64);
    let start = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = Instant::now();
    let mut picks = Vec::new();
    while start.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        let now = Instant::now();
        let dt = now.duration_since(last).as_secs_f64();
        last = now;
        for (sw, mix) in fleet.switches.iter().zip(mixes.iter_mut()) {
            let n = mix.due(dt);
            if n == 0 {
                continue;
            }
            picks.clear();
            picks.extend((0..n).map(|_| mix.pick()));
            let mut out = BytesMut::new();
            sw.with_datapath(|dp| {
                for p in &picks {
                    let frame = Bytes::from(op25b_sim::frame::build_frame(&p.packet));
                    let verdict = dp.record_packet(&p.packet, frame.len() as u64);
                    if let Some(pin) = dp.packet_in(&p.packet, &verdict, frame) {
                        let m = OfpMessage::new(0, Message::PacketIn(pin));
                        out.extend_from_slice(&m.to_bytes());
                    }
                }
            });
            if !out.is_empty() && sw.send_raw(out.freeze()) {
                sent += picks.len() as u64;
                mix.commit(&picks, now);
            } else {
                unsent += picks.len() as u64;
            }
        }
        // Let the connections write what was queued.
        tokio::task::yield_now().await;
    }
    (sent, unsent)
}

/// The outbreak (see the module docs).
pub async fn run_outbreak(o: &OutbreakOptions) -> Result<OutbreakReport, SwarmError> {
    let opts = &o.base;
    let n = opts.switches.max(1);
    let per_switch = o.samples_pps / n as f64;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive rate, capped by the policy's own bound"
    )]
    let meter_pps = per_switch.ceil().clamp(1.0, 1_000_000.0) as u32;
    let work = std::fs::canonicalize(&opts.work_dir).unwrap_or_else(|_| opts.work_dir.clone());
    let report_path = work.join("outbreak-reports.jsonl");
    std::fs::remove_file(&report_path).ok();
    if opts.tls.is_some() {
        return Err(SwarmError::TlsUnsupported {
            scenario: "outbreak",
        });
    }
    let mut policy = SwarmPolicy {
        listen: "127.0.0.1:6653".parse().expect("literal address"),
        tls: None,
        api_listen: "127.0.0.1:9325".parse().expect("literal address"),
        extra_relays: 0,
        exempt_prefixes: 1,
        echo_interval_secs: opts.echo_secs,
        reporting: true,
        counters_interval_secs: opts.counters_secs,
    };
    let render = |p: &SwarmPolicy| outbreak_toml(p, meter_pps, &report_path);
    let (mut ctl, policy_path, config) = controller_with(opts, &mut policy, "outbreak", render)?;
    let reporting = config.policy().reporting().clone();
    if reporting.sample_rate_pps != meter_pps || reporting.report_path.is_none() {
        return Err(SwarmError::InvalidPolicy(
            "the outbreak's [reporting] keys did not make it into the policy".into(),
        ));
    }
    let api = api_of(opts, &policy);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let expected = expected_flows(&config, FIRST_DPID, opts.ports)?;
    let fleet = Arc::new(fleet(n, opts.ports));
    let storm = |name, expected, target_ms| Storm {
        name,
        transport: "tcp".into(),
        fleet: &fleet,
        expected,
        exempt_prefixes: 1,
        target_ms,
        timeout: opts.timeout,
    };
    let addr = ctl.addr;
    eprintln!("op25b-swarm: outbreak: {n} switches connect");
    let cold = storm("cold", &expected, None)
        .run(&ctl, api, || connect(&fleet, addr))
        .await?;
    let mut notes = Vec::new();
    if cold.all_ms.is_none() {
        notes.push(format!("cold storm: {} of {n} in sync", cold.reached));
    }

    let mix = MixConfig {
        ports: opts.ports,
        per_switch_pps: per_switch,
        spray_percent: o.spray_percent,
        rotate_every: 3,
        threshold: reporting.threshold_attempts,
        seed: o.seed,
    };
    let mut mixes: Vec<SwitchMix> = (0..n).map(|i| SwitchMix::new(i, mix)).collect();
    let load_before = load_now();
    let before = counters(api).await;
    let connections_before = fleet.connections();
    let (s0, own0, t0) = (sample(&ctl), own_sample(), Instant::now());
    let stop = Arc::new(AtomicBool::new(false));
    let tail = tokio::spawn(tail_reports(report_path.clone(), stop.clone()));
    let probes = tokio::spawn(echo_probes(fleet.clone(), stop.clone()));
    eprintln!(
        "op25b-swarm: outbreak: {:.0} samples/s for {} s, reload half-way",
        o.samples_pps, o.secs
    );

    // Half-way, a reload (one relay added) must reach every switch while samples flow.
    policy.extra_relays = 1;
    let reload_config = Config::parse(&render(&policy), "swarm")
        .map_err(|e| SwarmError::InvalidPolicy(e.to_string()))?
        .config;
    let expected2 = expected_flows(&reload_config, FIRST_DPID, opts.ports)?;
    let signal = ctl.is_child();
    let reload = async {
        tokio::time::sleep(Duration::from_secs(o.secs / 2)).await;
        eprintln!("op25b-swarm: outbreak: reload");
        storm("reload", &expected2, Some(2000.0))
            .run(&ctl, api, || async {
                write_policy_text(&policy_path, render(&policy))?;
                if signal {
                    ctl.signal("HUP")?;
                }
                Ok(0)
            })
            .await
    };
    let ((sent, unsent), reload) = tokio::join!(drive(&fleet, &mut mixes, o.secs), reload);
    let reload = reload?;
    let (s1, own1) = (sample(&ctl), own_sample());
    let secs = t0.elapsed().as_secs_f64();
    // Reports of the last crossings get DETECT_WITHIN (and one tail poll) to arrive.
    tokio::time::sleep(DETECT_WITHIN + Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (reported, report_lines) = tail.await.unwrap_or_default();
    let (echo_probes, echo_timeouts) = probes.await.unwrap_or_default();
    let after = counters(api).await;
    let disconnects =
        (fleet.connections() - connections_before) + (n - fleet.connected().min(n)) as u64;

    let mut latencies = Vec::new();
    let (mut expected_n, mut expected_v6, mut detected, mut detected_v6) = (0, 0, 0, 0);
    let mut late = 0;
    let mut sprayers: HashMap<(u64, u32), Option<Instant>> = HashMap::new();
    for (i, m) in mixes.iter().enumerate() {
        for s in &m.sprayers {
            sprayers.insert((FIRST_DPID + i as u64, s.port), s.crossed_at);
            let Some(crossed) = s.crossed_at else {
                continue;
            };
            expected_n += 1;
            expected_v6 += usize::from(s.rotating_v6);
            if let Some(seen) = reported.get(&(FIRST_DPID + i as u64, s.port)) {
                detected += 1;
                detected_v6 += usize::from(s.rotating_v6);
                let d = seen.saturating_duration_since(crossed);
                late += usize::from(d > DETECT_WITHIN);
                latencies.push(d);
            }
        }
    }
    let false_reports = reported
        .keys()
        .filter(|k| !matches!(sprayers.get(k), Some(Some(_))))
        .count();
    latencies.sort_unstable();
    let p99 = percentile(&latencies, 99.0).map(|d| d.as_secs_f64());
    let detect_max = latencies.last().map(Duration::as_secs_f64);
    let detect = summarise(latencies);
    let report = OutbreakReport {
        switches: n,
        secs,
        samples_pps_target: o.samples_pps,
        meter_pps,
        samples_sent: sent,
        samples_pps_sent: sent as f64 / secs,
        samples_unsent: unsent,
        samples_shed: before
            .shed
            .zip(after.shed)
            .map(|(b, a)| a.saturating_sub(b)),
        disconnects,
        echo_probes,
        echo_timeouts,
        offenders_expected: expected_n,
        offenders_expected_ipv6: expected_v6,
        offenders_detected: detected,
        offenders_detected_ipv6: detected_v6,
        false_reports,
        report_lines,
        detect_p99_secs: p99,
        detect_max_secs: detect_max,
        detect_late: late,
        detect,
        reload_all_secs: reload.all_ms.map(|ms| ms / 1000.0),
        reload: Some(reload),
        offenders_tracked: after.tracked,
        controller_cpu_percent: s0
            .zip(s1)
            .map(|(a, b)| (b.cpu_secs - a.cpu_secs) / secs * 100.0),
        swarm_cpu_percent: own0
            .zip(own1)
            .map(|(a, b)| (b.cpu_secs - a.cpu_secs) / secs * 100.0),
        controller_hwm_kib: sample(&ctl).map(|s| s.hwm_kib),
        load_before,
        notes,
    };
    fleet.disconnect_all();
    ctl.stop();
    Ok(report)
}

/// The run as a two-column Markdown table.
pub fn outbreak_table(r: &OutbreakReport) -> String {
    let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    let rows: Vec<(&str, String)> = vec![
        ("switches", r.switches.to_string()),
        (
            "samples/s target (meter per switch)",
            format!("{:.0} ({}/s)", r.samples_pps_target, r.meter_pps),
        ),
        (
            "samples sent (per s)",
            format!("{} ({:.0})", r.samples_sent, r.samples_pps_sent),
        ),
        (
            "samples not queued by the swarm",
            r.samples_unsent.to_string(),
        ),
        (
            "samples shed by the controller",
            r.samples_shed.map_or("-".into(), |v| v.to_string()),
        ),
        ("disconnects", r.disconnects.to_string()),
        (
            "echo probes / timeouts (5 s)",
            format!("{} / {}", r.echo_probes, r.echo_timeouts),
        ),
        (
            "sprayers detected / expected (IPv6 rotating)",
            format!(
                "{} / {} ({} / {})",
                r.offenders_detected,
                r.offenders_expected,
                r.offenders_detected_ipv6,
                r.offenders_expected_ipv6
            ),
        ),
        (
            "false reports / report lines",
            format!("{} / {}", r.false_reports, r.report_lines),
        ),
        (
            "detection p99 / max (s past the threshold)",
            format!(
                "{} / {}",
                opt(r.detect_p99_secs, 3),
                opt(r.detect_max_secs, 3)
            ),
        ),
        (
            "detected later than threshold + 2 s",
            r.detect_late.to_string(),
        ),
        ("reload reached all (s)", opt(r.reload_all_secs, 3)),
        (
            "offenders tracked at the end",
            r.offenders_tracked.map_or("-".into(), |v| v.to_string()),
        ),
        (
            "controller CPU (% of a core)",
            opt(r.controller_cpu_percent, 1),
        ),
        ("swarm CPU (% of a core)", opt(r.swarm_cpu_percent, 1)),
        (
            "controller HWM (MiB)",
            opt(r.controller_hwm_kib.map(|k| k as f64 / 1024.0), 1),
        ),
        ("load before", opt(r.load_before, 2)),
        (
            "verdict (correctness)",
            if r.correct() {
                "ok".into()
            } else {
                "FAILED".into()
            },
        ),
    ];
    let mut s = String::from("| outbreak | |\n|---|---|\n");
    for (k, v) in rows {
        s.push_str(&format!("| {k} | {v} |\n"));
    }
    for note in &r.notes {
        s.push_str(&format!("\nnote: {note}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_line_names_its_switch_and_port() {
        let line = r#"{"source_identifier":"10.0.0.1","_internal":{"op25b":{"switch":"00:00:00:5a:00:00:00:07","port":12}}}"#;
        assert_eq!(report_subscriber(line), Some((0x5a_0000_0007, 12)));
        assert_eq!(report_subscriber("{"), None);
        assert_eq!(
            report_subscriber(r#"{"_internal":{"op25b":{"switch":"x","port":1}}}"#),
            None
        );
    }

    #[test]
    fn the_outbreak_policy_carries_its_meter_and_report_path() {
        let p = SwarmPolicy {
            listen: "127.0.0.1:6653".parse().expect("address"),
            tls: None,
            api_listen: "127.0.0.1:9325".parse().expect("address"),
            extra_relays: 0,
            exempt_prefixes: 1,
            echo_interval_secs: 5,
            reporting: true,
            counters_interval_secs: 30,
        };
        let text = outbreak_toml(&p, 40, Path::new("/tmp/r.jsonl"));
        let config = Config::parse(&text, "t").expect("valid").config;
        let r = config.policy().reporting();
        assert_eq!(r.sample_rate_pps, 40);
        assert_eq!(r.ipv6_prefix_len, 64);
        assert!(r.report_path.is_some());
    }
}
