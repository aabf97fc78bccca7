//! The runs: the storm sequence (cold, steady, reconnect, reload) against one controller, and
//! the growth curve (re-sync of pre-loaded switches for several policy sizes).
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use op25b::policy::Config;
use serde::Serialize;

use crate::controller_process::{free_loopback_port, ControllerHandle};
use crate::error::SwarmError;
use crate::expected::{expected_flows, ExpectedFlows};
use crate::fleet::{collect, Fleet};
use crate::judge::{confirmations, judge, view_of};
use crate::latency::summarise;
use crate::listen_drops::listen_overflows;
use crate::policy_text::SwarmPolicy;
use crate::proc_stats::{self, ProcSample};
use crate::storm_result::{load_now, SteadyResult, StormResult};
use crate::tls_pki::{self, RunPki};
use op25b_test_support::pki::KeyType;

/// The first switch's dpid (the rest follow).
pub const FIRST_DPID: u64 = 0x5a_0000_0001;

/// A controller someone else started.
#[derive(Debug, Clone)]
pub struct Attach {
    pub addr: SocketAddr,
    pub pid: Option<u32>,
    /// The policy file it runs with (and watches): the swarm overwrites it.
    pub policy: PathBuf,
    pub api: Option<SocketAddr>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub switches: usize,
    pub ports: u32,
    pub exempt_prefixes: usize,
    pub echo_secs: u64,
    /// The switches' own ECHO_REQUEST interval (like Open vSwitch's inactivity probe), seconds;
    /// 0 = the switches never probe.
    pub switch_echo_secs: u64,
    /// The controller's counter poll interval (policy `counters_interval_secs`), seconds.
    pub counters_secs: u64,
    pub steady_secs: u64,
    pub timeout: Duration,
    pub reporting: bool,
    pub controller_bin: PathBuf,
    pub attach: Option<Attach>,
    pub work_dir: PathBuf,
    pub rust_log: String,
    /// The controller child's `--workers`.
    pub controller_workers: Option<usize>,
    /// Skip the steady-state window (the CI smoke test).
    pub skip_steady: bool,
    /// Mutual TLS with a controller key of this type (fresh certificates per run); `None`:
    /// plain TCP.
    pub tls: Option<KeyType>,
    /// Over TLS: switches resume their sessions on reconnect (false: full handshakes only).
    pub tls_resume: bool,
}

impl Options {
    /// `tcp`, `tls-p256` or `tls-rsa2048` (with `-full` when sessions are not resumed).
    pub fn transport(&self) -> String {
        match (self.tls, self.tls_resume) {
            (None, _) => "tcp".into(),
            (Some(k), true) => format!("tls-{k}"),
            (Some(k), false) => format!("tls-{k}-full"),
        }
    }
}

/// Everything one `storms` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct StormsReport {
    pub controller_listening_ms: Option<f64>,
    pub storms: Vec<StormResult>,
    pub steady: Option<SteadyResult>,
    pub controller_log: Option<PathBuf>,
}

fn write_policy(path: &Path, p: &SwarmPolicy) -> Result<Config, SwarmError> {
    write_policy_text(path, p.to_toml())
}

/// Checks `text` as the controller would, then writes it to `path` (write then rename).
pub(crate) fn write_policy_text(path: &Path, text: String) -> Result<Config, SwarmError> {
    let config = Config::parse(&text, &path.display().to_string())
        .map_err(|e| SwarmError::InvalidPolicy(e.to_string()))?
        .config;
    // Write then rename, as an editor would: the watcher never sees half a file.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| SwarmError::WritePolicy {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(config)
}

pub(crate) fn switch_echo(opts: &Options) -> Option<Duration> {
    (opts.switch_echo_secs > 0).then(|| Duration::from_secs(opts.switch_echo_secs))
}

pub(crate) fn own_sample() -> Option<ProcSample> {
    proc_stats::sample(std::process::id()).ok()
}

pub(crate) fn sample(ctl: &ControllerHandle) -> Option<ProcSample> {
    ctl.pid.and_then(|pid| proc_stats::sample(pid).ok())
}

/// One timed storm: waiters first, then `trigger`, then wait for every switch.
pub(crate) struct Storm<'a> {
    pub(crate) name: &'a str,
    pub(crate) transport: String,
    pub(crate) fleet: &'a Fleet,
    pub(crate) expected: &'a ExpectedFlows,
    pub(crate) exempt_prefixes: usize,
    pub(crate) target_ms: Option<f64>,
    pub(crate) timeout: Duration,
}

impl Storm<'_> {
    pub(crate) async fn run<F, Fut>(
        &self,
        ctl: &ControllerHandle,
        api: Option<SocketAddr>,
        trigger: F,
    ) -> Result<StormResult, SwarmError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<usize, SwarmError>>,
    {
        let load_before = load_now();
        let before = sample(ctl);
        let swarm_before = own_sample();
        let overflows_before = listen_overflows();
        let mods_before = self.fleet.flow_mods();
        let errors_before = self.fleet.flow_mod_errors();
        let connections_before = self.fleet.connections();
        let resumed_before = self.fleet.tls_resumptions();
        let marks = self.fleet.message_marks();
        let expected = Arc::new(self.expected.canonical.clone());
        let start = Instant::now();
        let waiters = self
            .fleet
            .spawn_waiters(&expected, &marks, start, self.timeout);
        let connect_errors = trigger().await?;
        let outcome = collect(waiters).await;
        let want = outcome
            .reached
            .iter()
            .map(|&(dpid, _)| dpid)
            .chain(outcome.missing.iter().copied())
            .collect();
        let (controller_all_ms, confirmed) = confirmations(api, &want, start, self.timeout).await;
        let after = sample(ctl);
        let swarm_after = own_sample();
        let overflows_after = listen_overflows();
        let mut notes = Vec::new();
        if let Some(&dpid) = outcome.missing.first() {
            notes.push(format!(
                "{} switches without the desired flows within {:?}, e.g. dpid {dpid:#x}",
                outcome.missing.len(),
                self.timeout,
            ));
        }
        let controller_view = view_of(confirmed.as_ref());
        let verdict = judge(outcome, confirmed.as_ref());
        notes.extend(verdict.notes);
        let reached = verdict.reached.len();
        let all_ms = (verdict.missing.is_empty() && verdict.unconfirmed.is_empty())
            .then(|| {
                verdict
                    .reached
                    .iter()
                    .max()
                    .map(|d| d.as_secs_f64() * 1000.0)
            })
            .flatten();
        Ok(StormResult {
            scenario: self.name.to_string(),
            transport: self.transport.clone(),
            switches: self.fleet.len(),
            exempt_prefixes: self.exempt_prefixes,
            flows_per_switch: self.expected.canonical.len(),
            reached,
            all_ms,
            per_switch: summarise(verdict.reached),
            target_ms: self.target_ms,
            flow_mods: self.fleet.flow_mods() - mods_before,
            flow_mod_errors: self.fleet.flow_mod_errors() - errors_before,
            connect_errors,
            connections: self.fleet.connections() - connections_before,
            tls_resumed: self.fleet.tls_resumptions() - resumed_before,
            connected_after: self.fleet.connected(),
            listen_overflows: overflows_before
                .zip(overflows_after)
                .map(|(b, a)| a.saturating_sub(b)),
            controller_cpu_secs: before.zip(after).map(|(b, a)| a.cpu_secs - b.cpu_secs),
            swarm_cpu_secs: swarm_before
                .zip(swarm_after)
                .map(|(b, a)| a.cpu_secs - b.cpu_secs),
            controller_rss_kib: after.map(|a| a.rss_kib),
            controller_hwm_kib: after.map(|a| a.hwm_kib),
            controller_all_ms,
            controller_view,
            load_before,
            notes,
        })
    }
}

pub(crate) async fn connect(fleet: &Fleet, addr: SocketAddr) -> Result<usize, SwarmError> {
    let c = fleet.connect_all(addr).await;
    if c.error_count > 0 {
        eprintln!(
            "op25b-swarm: {} connect errors, first: {:?}",
            c.error_count, c.errors
        );
    }
    Ok(c.error_count)
}

/// Starts the controller (or attaches) with `policy` written to the right file.
fn controller_for(
    opts: &Options,
    policy: &mut SwarmPolicy,
    tag: &str,
) -> Result<(ControllerHandle, PathBuf, Config), SwarmError> {
    controller_with(opts, policy, tag, SwarmPolicy::to_toml)
}

/// [`controller_for`] with the policy text made by `render` (a scenario's own keys).
pub(crate) fn controller_with(
    opts: &Options,
    policy: &mut SwarmPolicy,
    tag: &str,
    render: impl Fn(&SwarmPolicy) -> String,
) -> Result<(ControllerHandle, PathBuf, Config), SwarmError> {
    match &opts.attach {
        Some(_) if opts.tls.is_some() => Err(SwarmError::TlsAttach),
        Some(a) => {
            policy.listen = a.addr;
            if let Some(api) = a.api {
                policy.api_listen = api;
            }
            let config = write_policy_text(&a.policy, render(policy))?;
            Ok((
                ControllerHandle::attach(a.addr, a.pid),
                a.policy.clone(),
                config,
            ))
        }
        None => {
            policy.listen = free_loopback_port()?;
            policy.api_listen = free_loopback_port()?;
            let path = opts.work_dir.join(format!("policy-{tag}.toml"));
            let config = write_policy_text(&path, render(policy))?;
            let log = opts.work_dir.join(format!("controller-{tag}.log"));
            let ctl = ControllerHandle::spawn(
                &opts.controller_bin,
                &path,
                policy.listen,
                &log,
                &opts.rust_log,
                opts.controller_workers,
            )?;
            Ok((ctl, path, config))
        }
    }
}

pub(crate) fn api_of(opts: &Options, policy: &SwarmPolicy) -> Option<SocketAddr> {
    match &opts.attach {
        Some(a) => a.api,
        None => Some(policy.api_listen),
    }
}

/// The run's certificates, when it runs over TLS.
fn run_pki(opts: &Options) -> Result<Option<RunPki>, SwarmError> {
    opts.tls
        .map(|key| tls_pki::mint(&opts.work_dir, key, opts.tls_resume))
        .transpose()
}

/// cold storm, steady state, reconnect storm, reload fan-out.
pub async fn run_storms(opts: &Options) -> Result<StormsReport, SwarmError> {
    let pki = run_pki(opts)?;
    let mut policy = SwarmPolicy {
        listen: "127.0.0.1:6653".parse().expect("literal address"),
        tls: pki.as_ref().map(|p| p.controller.clone()),
        api_listen: "127.0.0.1:9325".parse().expect("literal address"),
        extra_relays: 0,
        exempt_prefixes: opts.exempt_prefixes,
        echo_interval_secs: opts.echo_secs,
        reporting: opts.reporting,
        counters_interval_secs: opts.counters_secs,
    };
    let (mut ctl, policy_path, config) = controller_for(opts, &mut policy, "storms")?;
    let api = api_of(opts, &policy);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = sample(&ctl);
    let expected = expected_flows(&config, FIRST_DPID, opts.ports)?;
    let fleet = Fleet::new(
        opts.switches,
        FIRST_DPID,
        opts.ports,
        switch_echo(opts),
        pki.as_ref().map(|p| &p.switch),
        opts.tls_resume,
    );
    let addr = ctl.addr;
    // The targets at N = 10,000: cold 3 s and reconnect 2 s over TCP, 5 s and 3 s over
    // TLS (the reload fan-out reuses the connections, so its target does not change).
    let tls = opts.tls.is_some();
    let mut storms = Vec::new();
    let storm = |name, expected, target_ms| Storm {
        name,
        transport: opts.transport(),
        fleet: &fleet,
        expected,
        exempt_prefixes: opts.exempt_prefixes,
        target_ms,
        timeout: opts.timeout,
    };

    eprintln!("op25b-swarm: cold storm, {} switches", fleet.len());
    let cold = storm("cold", &expected, Some(if tls { 5000.0 } else { 3000.0 }))
        .run(&ctl, api, || connect(&fleet, addr))
        .await?;
    storms.push(cold);

    let steady = if opts.skip_steady {
        None
    } else {
        eprintln!("op25b-swarm: steady state, {} s", opts.steady_secs);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let load_before = load_now();
        let conns = fleet.connections();
        let msgs0: u64 = fleet.message_marks().iter().sum();
        let s0 = sample(&ctl);
        let own0 = own_sample();
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(opts.steady_secs)).await;
        let s1 = sample(&ctl);
        let own1 = own_sample();
        let secs = t0.elapsed().as_secs_f64();
        let msgs1: u64 = fleet.message_marks().iter().sum();
        let n = fleet.len() as f64;
        Some(SteadyResult {
            switches: fleet.len(),
            seconds: secs,
            echo_interval_secs: opts.echo_secs,
            switch_echo_secs: opts.switch_echo_secs,
            controller_cpu_percent: s0
                .zip(s1)
                .map(|(a, b)| (b.cpu_secs - a.cpu_secs) / secs * 100.0),
            controller_rss_kib: s1.map(|s| s.rss_kib),
            controller_hwm_kib: s1.map(|s| s.hwm_kib),
            idle_baseline_rss_kib: baseline.map(|b| b.rss_kib),
            rss_per_switch_kib: baseline
                .zip(s1)
                .map(|(b, s)| (s.rss_kib as f64 - b.rss_kib as f64) / n),
            connected_at_end: fleet.connected(),
            reconnects_during: fleet.connections() - conns,
            messages_from_controller_per_sec: (msgs1 - msgs0) as f64 / secs,
            swarm_cpu_percent: own0
                .zip(own1)
                .map(|(a, b)| (b.cpu_secs - a.cpu_secs) / secs * 100.0),
            load_before,
        })
    };

    eprintln!("op25b-swarm: reconnect storm");
    fleet.disconnect_all();
    // Let the controller see every FIN first: a drop, then a reconnect (not a takeover).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut reconnect = storm(
        "reconnect",
        &expected,
        Some(if tls { 3000.0 } else { 2000.0 }),
    )
    .run(&ctl, api, || connect(&fleet, addr))
    .await?;
    if reconnect.flow_mods != 0 {
        reconnect.notes.push(format!(
            "FAILED: {} FLOW_MODs sent to switches that already held the desired flows",
            reconnect.flow_mods
        ));
    }
    storms.push(reconnect);

    eprintln!("op25b-swarm: reload fan-out (one relay added)");
    policy.extra_relays = 1;
    let new_config = Config::parse(&policy.to_toml(), "swarm")
        .map_err(|e| SwarmError::InvalidPolicy(e.to_string()))?
        .config;
    let expected2 = expected_flows(&new_config, FIRST_DPID, opts.ports)?;
    let signal = ctl.is_child();
    let reload = storm("reload", &expected2, Some(2000.0))
        .run(&ctl, api, || async {
            write_policy(&policy_path, &policy)?;
            if signal {
                ctl.signal("HUP")?;
            }
            Ok(0)
        })
        .await?;
    storms.push(reload);

    let log = ctl.log().map(Path::to_path_buf);
    fleet.disconnect_all();
    ctl.stop();
    Ok(StormsReport {
        controller_listening_ms: ctl.listening_after_ms,
        storms,
        steady,
        controller_log: log,
    })
}

/// The growth curve: for each prefix count, a fresh controller and `switches` switches that
/// already hold the desired flows connect at once; the controller must read and diff every
/// table and send nothing.
pub async fn run_growth(
    opts: &Options,
    prefix_counts: &[usize],
) -> Result<Vec<StormResult>, SwarmError> {
    let pki = run_pki(opts)?;
    let mut rows = Vec::new();
    for &p in prefix_counts {
        let mut policy = SwarmPolicy {
            listen: "127.0.0.1:6653".parse().expect("literal address"),
            tls: pki.as_ref().map(|p| p.controller.clone()),
            api_listen: "127.0.0.1:9325".parse().expect("literal address"),
            extra_relays: 0,
            exempt_prefixes: p,
            echo_interval_secs: opts.echo_secs,
            reporting: opts.reporting,
            counters_interval_secs: opts.counters_secs,
        };
        let (mut ctl, _, config) = controller_for(opts, &mut policy, &format!("growth-{p}"))?;
        let api = api_of(opts, &policy);
        let expected = expected_flows(&config, FIRST_DPID, opts.ports)?;
        let fleet = Fleet::new(
            opts.switches,
            FIRST_DPID,
            opts.ports,
            switch_echo(opts),
            pki.as_ref().map(|p| &p.switch),
            opts.tls_resume,
        );
        fleet.preload(&expected.table);
        eprintln!(
            "op25b-swarm: growth, {p} prefixes, {} flows x {} switches",
            expected.canonical.len(),
            fleet.len()
        );
        let addr = ctl.addr;
        let mut row = Storm {
            name: "resync",
            transport: opts.transport(),
            fleet: &fleet,
            expected: &expected,
            exempt_prefixes: p,
            target_ms: None,
            timeout: opts.timeout,
        }
        .run(&ctl, api, || connect(&fleet, addr))
        .await?;
        if row.flow_mods != 0 {
            row.notes.push(format!(
                "FAILED: {} FLOW_MODs sent to switches that already held the desired flows",
                row.flow_mods
            ));
        }
        rows.push(row);
        fleet.disconnect_all();
        ctl.stop();
        drop(fleet);
    }
    Ok(rows)
}
