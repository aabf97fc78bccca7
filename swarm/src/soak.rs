//! The soak ("a long day"): churn against one controller for `--secs`, then a verdict
//! ([`crate::soak_judge`]) on whether it came back to where it was.
//!
//! N switches connect (a cold storm, judged as every scenario's) and then, until the end:
//! - every `--period-secs` a tenth of them (a different tenth each round) disconnect and
//!   reconnect a second later, every other one of them with its flow table wiped (a switch
//!   that restarted) while the others keep theirs (a switch that only lost its connection);
//! - every half period a policy reload: the file is rewritten with the other of two policies
//!   (relays and exempt sources differ, so the flows change) and the controller is told by
//!   `POST /api/reload` with the API token, or by SIGHUP, in turn;
//! - samples of blocked SYNs flow at a steady `--samples-pps` (the outbreak's generator,
//!   [`crate::outbreak_mix`]), with the offender window (`[reporting] window_secs`) at half the
//!   warm-up so that the offender table is at its steady size before the baseline;
//! - every second the API is polled (`/api/switches`, `/api/offenders` with the token,
//!   `/metrics`) and the controller's RSS, threads and open descriptors are read from /proc.
//!
//! Then the churn stops, every switch must end with the flows of the policy in force and be
//! confirmed in sync by the controller ([`crate::judge`]), a quiet window is sampled, and the
//! controller's log is classified ([`crate::controller_log`]).
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::api_probe;
use crate::controller_log::{summarise, Explains, LogSummary};
use crate::error::SwarmError;
use crate::expected::expected_flows;
use crate::fleet::{Fleet, SyncOutcome};
use crate::judge::{judge, Verdict};
use crate::outbreak::{drive, fleet, outbreak_toml};
use crate::outbreak_mix::{MixConfig, SwitchMix};
use crate::policy_text::SwarmPolicy;
use crate::proc_stats::footprint;
use crate::scenarios::{
    api_of, connect, controller_with, write_policy_text, Options, Storm, FIRST_DPID,
};
use crate::soak_judge::{judge_soak, ChurnCounts, SoakInput, SoakSample, SoakVerdict};
use crate::storm_result::load_now;

/// How often the API and /proc are read.
const POLL: Duration = Duration::from_secs(1);
/// How long a churned switch stays away.
const AWAY: Duration = Duration::from_secs(1);
/// The quiet window sampled at the end, once every switch is back in sync.
const QUIET: Duration = Duration::from_secs(5);
/// One switch in this many is churned each round.
const CHURN_ONE_IN: usize = 10;
/// Points of the series kept in the report.
const POINTS: usize = 60;

/// What a soak run is asked to do.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub base: Options,
    pub secs: u64,
    /// Churn period; reloads come every half period.
    pub period_secs: u64,
    /// The footprint's baseline is taken after this.
    pub warmup_secs: u64,
    /// Samples a second, all switches together.
    pub samples_pps: f64,
    pub spray_percent: u32,
    pub seed: u64,
    /// An attached controller's log file (a child's own log is read without it).
    pub controller_log_file: Option<PathBuf>,
    /// An attached controller's API token file (default: `api-token` next to the policy).
    pub token_file: Option<PathBuf>,
}

/// What it measured (`--json`: one line).
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub switches: usize,
    /// How long the churn went on.
    pub secs: u64,
    /// When the quiet end began (the churn, then the final sync), seconds after the start.
    pub end_from_secs: f64,
    pub period_secs: u64,
    pub warmup_secs: u64,
    pub samples_pps_target: f64,
    pub samples_sent: u64,
    pub samples_unsent: u64,
    pub churn: ChurnCounts,
    pub tables_wiped: u64,
    /// Seconds from the end of the churn until every switch was in sync.
    pub final_sync_secs: Option<f64>,
    pub offenders_listed_max: Option<u64>,
    pub log: Option<LogSummary>,
    pub log_path: Option<PathBuf>,
    /// The series, thinned to about 60 points.
    pub points: Vec<SoakSample>,
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    pub verdict: SoakVerdict,
    pub notes: Vec<String>,
}

/// The API token: the first line of `path`.
fn read_token(path: &Path) -> Result<String, SwarmError> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_string())
        .map_err(|e| SwarmError::Api {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            detail: format!("cannot read the API token {}: {e}", path.display()),
        })
}

/// The value of an unlabelled metric in a Prometheus text body (a whole number).
fn metric(body: &str, name: &str) -> Option<u64> {
    let text = body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))?
        .trim();
    text.parse::<u64>().ok().or_else(|| {
        let v: f64 = text.parse().ok()?;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked: a finite whole number from 0 to 2^53"
        )]
        let n = (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 9.0e15).then_some(v as u64);
        n
    })
}

/// Entries of `/api/switches` (its `switches` array).
fn listed(body: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v["switches"].as_array().map(|a| a.len() as u64)
}

/// What the sampler shares with the run (the lock is never held across an await).
#[derive(Default)]
struct Shared {
    samples: Mutex<Vec<SoakSample>>,
    offenders_max: Mutex<Option<u64>>,
    polls: AtomicU64,
    failures: AtomicU64,
    stop: AtomicBool,
}

/// Where the sampler reads from.
struct Sampler {
    api: Option<SocketAddr>,
    pid: Option<u32>,
    token: String,
    t0: Instant,
    shared: Arc<Shared>,
}

impl Sampler {
    /// Polls the API and /proc every [`POLL`] until `stop`: one [`SoakSample`] each time.
    async fn run(self) {
        let out = &self.shared;
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !out.stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let t_secs = self.t0.elapsed().as_secs_f64();
            let fp = self.pid.and_then(|p| footprint(p).ok());
            let (registry, offenders) = match self.api {
                Some(api) => self.poll_api(api).await,
                None => (None, None),
            };
            if let Ok(mut list) = out.samples.lock() {
                list.push(SoakSample {
                    t_secs,
                    rss_kib: fp.map(|f| f.rss_kib),
                    fds: fp.map(|f| f.fds),
                    threads: fp.map(|f| f.threads),
                    registry,
                    offenders,
                });
            }
        }
    }

    /// `/metrics`, `/api/switches`, `/api/offenders` once; the registry's entries and the
    /// offender table's size.
    async fn poll_api(&self, api: SocketAddr) -> (Option<u64>, Option<u64>) {
        let out = &self.shared;
        let token = self.token.clone();
        let answers = tokio::task::spawn_blocking(move || {
            [
                api_probe::get(api, "/metrics"),
                api_probe::get(api, "/api/switches"),
                api_probe::request(api, "GET", "/api/offenders?limit=20", Some(&token)),
            ]
        })
        .await;
        out.polls.fetch_add(3, Ordering::Relaxed);
        let Ok([metrics, switches, offenders]) = answers else {
            out.failures.fetch_add(3, Ordering::Relaxed);
            return (None, None);
        };
        for e in [&metrics, &switches, &offenders]
            .into_iter()
            .filter_map(|r| r.as_ref().err())
        {
            out.failures.fetch_add(1, Ordering::Relaxed);
            eprintln!("op25b-swarm: soak: API poll failed: {e}");
        }
        if let Some(n) = offenders.ok().and_then(|b| listed_offenders(&b)) {
            if let Ok(mut m) = out.offenders_max.lock() {
                *m = Some(m.map_or(n, |x| x.max(n)));
            }
        }
        let metrics = metrics.ok();
        let registry = metrics
            .as_deref()
            .and_then(|m| metric(m, "op25b_switches_known"))
            .or_else(|| switches.ok().and_then(|b| listed(&b)));
        let tracked = metrics
            .as_deref()
            .and_then(|m| metric(m, "op25b_offenders_tracked"));
        (registry, tracked)
    }
}

/// Entries of `/api/offenders` (its `offenders` array, or the body as an array).
fn listed_offenders(body: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v["offenders"]
        .as_array()
        .or_else(|| v.as_array())
        .map(|a| a.len() as u64)
}

/// The policy generation the controller reports now.
async fn generation(api: Option<SocketAddr>) -> Option<u64> {
    let api = api?;
    tokio::task::spawn_blocking(move || api_probe::fetch(api))
        .await
        .ok()?
        .ok()
        .map(|v| v.policy_generation)
}

/// The two policies the reloads alternate between: `b` has two more relays and two more
/// exempt sources than `a`.
fn policy_variant(base: &SwarmPolicy, b: bool) -> SwarmPolicy {
    let mut p = base.clone();
    p.extra_relays = if b { 2 } else { 0 };
    p.exempt_prefixes = if b { 3 } else { 1 };
    p
}

/// One churn round: switches `round % 10, + 10, ...` go away for [`AWAY`] and come back,
/// every other one with a wiped table. Returns (disconnects, wiped, connect errors).
async fn churn_round(fleet: &Fleet, addr: SocketAddr, round: usize) -> (u64, u64, u64) {
    let offset = round % CHURN_ONE_IN;
    let chosen: Vec<usize> = (offset..fleet.len()).step_by(CHURN_ONE_IN).collect();
    let mut wiped = 0;
    for (k, &i) in chosen.iter().enumerate() {
        let sw = &fleet.switches[i];
        sw.disconnect();
        if (k + round).is_multiple_of(2) {
            sw.with_datapath(|dp| dp.flows_mut().clear());
            wiped += 1;
        }
    }
    tokio::time::sleep(AWAY).await;
    let mut set = JoinSet::new();
    for &i in &chosen {
        let sw = fleet.switches[i].clone();
        set.spawn(async move { sw.connect(addr).await });
    }
    let mut errors = 0;
    while let Some(r) = set.join_next().await {
        if !matches!(r, Ok(Ok(()))) {
            errors += 1;
        }
    }
    (chosen.len() as u64, wiped, errors)
}

/// Waits until every switch holds `expected` and the controller confirms it in sync (or
/// `timeout`): the verdict, and when it got there.
async fn final_sync(
    fleet: &Fleet,
    expected: &[op25b_sim::CanonicalFlow],
    api: Option<SocketAddr>,
    timeout: Duration,
) -> (Verdict, Option<f64>) {
    let start = Instant::now();
    loop {
        let mut outcome = SyncOutcome::default();
        for sw in &fleet.switches {
            let holds =
                sw.is_connected() && sw.with_datapath(|dp| dp.flows().canonical() == expected);
            if holds {
                outcome.reached.push((sw.dpid(), start.elapsed()));
            } else {
                outcome.missing.push(sw.dpid());
            }
        }
        let confirmed = match api {
            Some(api) => tokio::task::spawn_blocking(move || api_probe::fetch_confirmations(api))
                .await
                .ok()
                .and_then(Result::ok),
            None => None,
        };
        let verdict = judge(outcome, confirmed.as_ref());
        let done = verdict.missing.is_empty() && verdict.unconfirmed.is_empty();
        if done || start.elapsed() >= timeout {
            return (verdict, done.then(|| start.elapsed().as_secs_f64()));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The soak (see the module docs).
pub async fn run_soak(o: &SoakOptions) -> Result<SoakReport, SwarmError> {
    let opts = &o.base;
    if opts.tls.is_some() {
        return Err(SwarmError::TlsUnsupported { scenario: "soak" });
    }
    let n = opts.switches.max(1);
    let period = Duration::from_secs(o.period_secs.max(2));
    let half = period / 2;
    let per_switch = o.samples_pps / n as f64;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive rate, capped by the policy's own bound"
    )]
    let meter_pps = per_switch.ceil().clamp(1.0, 1_000_000.0) as u32;
    let work = std::fs::canonicalize(&opts.work_dir).unwrap_or_else(|_| opts.work_dir.clone());
    let report_path = work.join("soak-reports.jsonl");
    std::fs::remove_file(&report_path).ok();
    let base = SwarmPolicy {
        listen: "127.0.0.1:6653".parse().expect("literal address"),
        tls: None,
        api_listen: "127.0.0.1:9325".parse().expect("literal address"),
        extra_relays: 0,
        exempt_prefixes: 1,
        echo_interval_secs: opts.echo_secs,
        reporting: true,
        counters_interval_secs: opts.counters_secs,
    };
    let mut policy = base.clone();
    // A real abuse mailbox: the placeholder is worth a WARN at every reload. The offender
    // window fits in the warm-up: each subscriber's attempts are kept for the window, so the
    // table only reaches its steady size one window after the samples begin (with the default
    // 600 s, RSS grew from 164 to 254 MiB over the first 500 s of a 2,000-switch run).
    let window_secs = (o.warmup_secs / 2).max(10);
    let render = |p: &SwarmPolicy| {
        outbreak_toml(p, meter_pps, &report_path).replacen(
            "[reporting]\n",
            &format!(
                "[reporting]\nreported_from = \"abuse@isp.example\"\nwindow_secs = {window_secs}\n"
            ),
            1,
        )
    };
    let (mut ctl, policy_path, config) = controller_with(opts, &mut policy, "soak", render)?;
    if config.policy().reporting().window_secs != window_secs {
        return Err(SwarmError::InvalidPolicy(
            "the soak's [reporting] window_secs did not make it into the policy".into(),
        ));
    }
    // The reloads keep where the controller listens (a change would only be logged).
    let base = policy.clone();
    let api = api_of(opts, &policy);
    let log_path = o
        .controller_log_file
        .clone()
        .or_else(|| ctl.log().map(Path::to_path_buf));
    // An attached controller's log is read from here on; a child's from its start.
    let log_offset = match (&o.controller_log_file, ctl.is_child()) {
        (Some(p), false) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        _ => 0,
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let token_path = o.token_file.clone().unwrap_or_else(|| {
        policy_path
            .parent()
            .unwrap_or(Path::new("."))
            .join("api-token")
    });
    let token = read_token(&token_path)?;
    let mut expected = expected_flows(&config, FIRST_DPID, opts.ports)?;
    let fleet = Arc::new(fleet(n, opts.ports));
    let addr = ctl.addr;
    eprintln!("op25b-swarm: soak: {n} switches connect");
    let cold = Storm {
        name: "cold",
        transport: "tcp".into(),
        fleet: &fleet,
        expected: &expected,
        exempt_prefixes: 1,
        target_ms: None,
        timeout: opts.timeout,
    }
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
        threshold: config.policy().reporting().threshold_attempts,
        seed: o.seed,
    };
    let mut mixes: Vec<SwitchMix> = (0..n).map(|i| SwitchMix::new(i, mix)).collect();
    let load_before = load_now();
    let generation_start = generation(api).await;
    let t0 = Instant::now();
    let shared = Arc::new(Shared::default());
    let sampler_task = tokio::spawn(
        Sampler {
            api,
            pid: ctl.pid,
            token: token.clone(),
            t0,
            shared: shared.clone(),
        }
        .run(),
    );
    eprintln!(
        "op25b-swarm: soak: {} s, churn every {} s, reload every {} s, {:.0} samples/s",
        o.secs,
        period.as_secs(),
        half.as_secs_f64(),
        o.samples_pps
    );

    let mut churn = ChurnCounts {
        switches: n,
        // Rounds fall at every whole period before the end.
        rounds_planned: o.secs.saturating_sub(1) / period.as_secs(),
        generation_start,
        ..ChurnCounts::default()
    };
    let mut tables_wiped = 0;
    let signal_ok = ctl.pid.is_some();
    let churn_loop = async {
        let end = t0 + Duration::from_secs(o.secs);
        let mut next_churn = t0 + period;
        let mut next_reload = t0 + half;
        let mut round = 0usize;
        let mut variant_b = false;
        loop {
            let next = next_churn.min(next_reload);
            if next >= end {
                break;
            }
            tokio::time::sleep_until(next.into()).await;
            if next == next_reload {
                next_reload += half;
                variant_b = !variant_b;
                policy = policy_variant(&base, variant_b);
                let by_api = churn.reloads.is_multiple_of(2) || !signal_ok;
                churn.reloads += 1;
                let result = match write_policy_text(&policy_path, render(&policy)) {
                    Ok(c) => {
                        expected = expected_flows(&c, FIRST_DPID, opts.ports)?;
                        if by_api {
                            let (api, token) = (api, token.clone());
                            match api {
                                Some(api) => tokio::task::spawn_blocking(move || {
                                    api_probe::request(api, "POST", "/api/reload", Some(&token))
                                })
                                .await
                                .map_err(|e| e.to_string())
                                .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string())),
                                None => Err("no API to POST /api/reload to".to_string()),
                            }
                        } else {
                            ctl.signal("HUP").map_err(|e| e.to_string())
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = result {
                    churn.reload_failures += 1;
                    eprintln!("op25b-swarm: soak: reload {} failed: {e}", churn.reloads);
                }
            } else {
                next_churn += period;
                let (gone, wiped, errors) = churn_round(&fleet, addr, round).await;
                round += 1;
                churn.rounds = round as u64;
                churn.disconnects += gone;
                churn.connect_errors += errors;
                tables_wiped += wiped;
            }
        }
        // The samples stop with the churn, at the end.
        tokio::time::sleep_until(end.into()).await;
        Ok::<(), SwarmError>(())
    };
    let ((sent, unsent), churned) = tokio::join!(drive(&fleet, &mut mixes, o.secs), churn_loop);
    churned?;
    eprintln!("op25b-swarm: soak: churn over, waiting for every switch to be in sync");
    // A reconnect that failed leaves its switch away: it must come back for the verdict.
    for sw in fleet.switches.iter().filter(|s| !s.is_connected()) {
        if sw.connect(addr).await.is_err() {
            churn.connect_errors += 1;
        }
    }
    let (sync, final_sync_secs) = final_sync(&fleet, &expected.canonical, api, opts.timeout).await;
    churn.generation_end = generation(api).await;
    let end_from_secs = t0.elapsed().as_secs_f64();
    tokio::time::sleep(QUIET).await;
    shared.stop.store(true, Ordering::Relaxed);
    sampler_task.await.ok();
    let load_after = load_now();
    churn.api_polls = shared.polls.load(Ordering::Relaxed);
    churn.api_failures = shared.failures.load(Ordering::Relaxed);
    let explains = Explains {
        sprayers: mixes
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                m.sprayers
                    .iter()
                    .map(move |s| (FIRST_DPID + i as u64, s.port))
            })
            .collect(),
    };
    let log = log_path.as_ref().and_then(|p| {
        let bytes = std::fs::read(p).ok()?;
        let from = usize::try_from(log_offset).unwrap_or(0).min(bytes.len());
        Some(summarise(
            &String::from_utf8_lossy(&bytes[from..]),
            &explains,
        ))
    });
    let list = shared.samples.lock().map(|l| l.clone()).unwrap_or_default();
    let verdict = judge_soak(&SoakInput {
        samples: &list,
        warmup_secs: o.warmup_secs as f64,
        window_secs: period.as_secs_f64(),
        end_from_secs,
        sync: &sync,
        churn,
        log: log.as_ref(),
    });
    let step = (list.len() / POINTS).max(1);
    let points = list.iter().step_by(step).copied().collect();
    let offenders_listed_max = shared.offenders_max.lock().ok().and_then(|m| *m);
    fleet.disconnect_all();
    ctl.stop();
    Ok(SoakReport {
        switches: n,
        secs: o.secs,
        end_from_secs,
        period_secs: period.as_secs(),
        warmup_secs: o.warmup_secs,
        samples_pps_target: o.samples_pps,
        samples_sent: sent,
        samples_unsent: unsent,
        churn,
        tables_wiped,
        final_sync_secs,
        offenders_listed_max,
        log,
        log_path,
        points,
        load_before,
        load_after,
        verdict,
        notes,
    })
}

/// The run as Markdown: the series and the checks.
pub fn soak_table(r: &SoakReport) -> String {
    let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
    let mut s = format!(
        "soak: {} switches, {} s, churn every {} s ({} rounds, {} disconnects, {} tables wiped), {} reloads, warm-up {} s, {} samples sent, every switch in sync {} s after the churn, load {} -> {}\n\n",
        r.switches,
        r.secs,
        r.period_secs,
        r.churn.rounds,
        r.churn.disconnects,
        r.tables_wiped,
        r.churn.reloads,
        r.warmup_secs,
        r.samples_sent,
        r.final_sync_secs.map_or("-".into(), |t| format!("{t:.1}")),
        r.load_before.map_or("-".into(), |l| format!("{l:.2}")),
        r.load_after.map_or("-".into(), |l| format!("{l:.2}")),
    );
    s.push_str(
        "| series | after warm-up | end | min | max | change |\n|---|---|---|---|---|---|\n",
    );
    for x in &r.verdict.series {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            x.name,
            opt(x.baseline),
            opt(x.end),
            x.min.map_or("-".into(), |v| v.to_string()),
            x.max.map_or("-".into(), |v| v.to_string()),
            x.change_percent.map_or("-".into(), |p| format!("{p:+.1}%")),
        ));
    }
    s.push_str("\n| check | ok | detail |\n|---|---|---|\n");
    for c in &r.verdict.checks {
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            c.name,
            if c.ok { "ok" } else { "FAILED" },
            c.detail
        ));
    }
    s.push_str(&format!(
        "\nverdict: {}\n",
        if r.verdict.ok { "ok" } else { "FAILED" }
    ));
    for note in &r.notes {
        s.push_str(&format!("note: {note}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use op25b::policy::Config;

    #[test]
    fn metrics_and_lists_are_read() {
        let body = "# HELP op25b_switches_known x\nop25b_switches_known 200\nop25b_switches_known_other 3\n";
        assert_eq!(metric(body, "op25b_switches_known"), Some(200));
        assert_eq!(metric(body, "op25b_nothing"), None);
        assert_eq!(
            metric("op25b_switches_known 12.0\n", "op25b_switches_known"),
            Some(12)
        );
        assert_eq!(
            metric("op25b_switches_known -1\n", "op25b_switches_known"),
            None
        );
        assert_eq!(
            metric("op25b_switches_known NaN\n", "op25b_switches_known"),
            None
        );
        assert_eq!(listed(r#"{"switches":[{},{}]}"#), Some(2));
        assert_eq!(listed("{"), None);
        assert_eq!(listed_offenders(r#"{"offenders":[{}]}"#), Some(1));
        assert_eq!(listed_offenders("[{},{}]"), Some(2));
    }

    #[test]
    fn the_two_policies_differ_in_their_flows() {
        let base = SwarmPolicy {
            listen: "127.0.0.1:6653".parse().expect("address"),
            tls: None,
            api_listen: "127.0.0.1:9325".parse().expect("address"),
            extra_relays: 0,
            exempt_prefixes: 1,
            echo_interval_secs: 5,
            reporting: true,
            counters_interval_secs: 30,
        };
        let flows = |b| {
            let text = outbreak_toml(&policy_variant(&base, b), 5, Path::new("/tmp/r.jsonl"));
            let config = Config::parse(&text, "t").expect("valid").config;
            expected_flows(&config, FIRST_DPID, 4)
                .expect("flows")
                .canonical
        };
        let (a, b) = (flows(false), flows(true));
        assert_ne!(a, b);
        assert!(b.len() > a.len());
    }
}
