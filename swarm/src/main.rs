//! `op25b-swarm storms|growth|outbreak|soak|echo-floor`: see the crate docs and BENCHMARKS.md ("Swarm").
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use op25b_swarm::echo_floor::{respond, respond_epoll, run_floor};
use op25b_swarm::open_files::raise_open_files_limit;
use op25b_swarm::outbreak::{outbreak_table, run_outbreak, OutbreakOptions};
use op25b_swarm::report::{floor_table, steady_table, storms_table};
use op25b_swarm::soak::{run_soak, soak_table, SoakOptions};
use op25b_swarm::{run_growth, run_storms, Attach, Options};
use op25b_test_support::pki::KeyType;

/// mimalloc, not glibc's malloc: 10,000 simulated switches allocate from both worker threads at
/// once, and glibc's per-thread arenas spent a tenth of a TLS storm's cycles in `_int_malloc`,
/// `unlink_chunk` and `mprotect` (perf). The swarm shares the cores with the controller it
/// measures, so every cycle it saves is the controller's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "op25b-swarm",
    about = "N simulated OpenFlow 1.3 switches against an op25b controller"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Cold storm, steady state, reconnect storm, reload fan-out.
    Storms {
        #[command(flatten)]
        common: Common,
        /// Exempt prefixes in the policy.
        #[arg(long, default_value_t = 1)]
        prefixes: usize,
        /// Steady-state window, seconds.
        #[arg(long, default_value_t = 30)]
        steady_secs: u64,
        /// Skip the steady-state window.
        #[arg(long)]
        no_steady: bool,
    },
    /// The floor under the steady-state CPU: a do-nothing responder (it only answers
    /// ECHO_REQUESTs) against N connections probing every --echo-secs.
    EchoFloor {
        /// Connections.
        #[arg(short = 'n', long, default_value_t = 10000)]
        switches: usize,
        /// Each connection's ECHO_REQUEST interval, seconds.
        #[arg(long, default_value_t = 5)]
        echo_secs: u64,
        /// Measurement window, seconds.
        #[arg(long, default_value_t = 30)]
        window_secs: u64,
        /// JSON on stdout instead of a table.
        #[arg(long)]
        json: bool,
        /// The responder without tokio: one thread on a raw epoll loop.
        #[arg(long)]
        raw_epoll: bool,
    },
    /// (internal) The echo-floor responder process.
    #[command(hide = true)]
    EchoResponder {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        raw_epoll: bool,
    },
    /// A storm of samples (an outbreak): metered PACKET_INs of blocked SYNs from a mix of
    /// subscribers, a few percent spraying; echoes, detection and a reload are checked.
    Outbreak {
        #[command(flatten)]
        common: Common,
        /// Samples per second, all switches together (default: 20 per switch, the default
        /// policy's meter).
        #[arg(long)]
        samples_pps: Option<f64>,
        /// How long the samples flow, seconds.
        #[arg(long, default_value_t = 60)]
        secs: u64,
        /// Percent of subscribers spraying port 25 (a third of them IPv6 hosts rotating
        /// addresses inside their /64).
        #[arg(long, default_value_t = 3)]
        spray_percent: u32,
        /// Seed of the subscriber mix.
        #[arg(long, default_value_t = 25)]
        seed: u64,
    },
    /// A long day: a tenth of the switches disconnect and reconnect every period (half of them
    /// with wiped tables), a reload every half period, samples and API polls throughout; then
    /// the controller's RSS, descriptors, threads and registry must be back within 10% of
    /// their value after the warm-up, every switch in sync, no unexplained WARN/ERROR logged.
    Soak {
        #[command(flatten)]
        common: Common,
        /// How long the churn goes on, seconds.
        #[arg(long, default_value_t = 1800)]
        secs: u64,
        /// Churn period, seconds (reloads every half period).
        #[arg(long, default_value_t = 60)]
        period_secs: u64,
        /// The footprint's baseline is taken after this many seconds (default: a sixth of
        /// --secs, 300 for the full 1,800 s).
        #[arg(long)]
        warmup_secs: Option<u64>,
        /// Samples per second, all switches together (default: 5 per switch).
        #[arg(long)]
        samples_pps: Option<f64>,
        /// Percent of subscribers spraying port 25.
        #[arg(long, default_value_t = 3)]
        spray_percent: u32,
        /// Seed of the subscriber mix.
        #[arg(long, default_value_t = 25)]
        seed: u64,
        /// With --controller: the controller's log file, classified at the end (without it the
        /// verdict fails: the log is part of it).
        #[arg(long)]
        controller_log_file: Option<PathBuf>,
        /// With --controller: its API token file (default: `api-token` next to --policy).
        #[arg(long)]
        api_token_file: Option<PathBuf>,
    },
    /// Re-sync time of pre-loaded switches for several policy sizes.
    Growth {
        #[command(flatten)]
        common: Common,
        /// Exempt-prefix counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10,100,1000,5000")]
        prefixes: Vec<usize>,
    },
}

#[derive(Args)]
struct Common {
    /// Number of switches.
    #[arg(short = 'n', long, default_value_t = 1000)]
    switches: usize,
    /// Ports per switch.
    #[arg(long, default_value_t = 48)]
    ports: u32,
    /// The controller's ECHO interval (policy `echo_interval_secs`), seconds.
    #[arg(long, default_value_t = 5)]
    echo_secs: u64,
    /// The switches' own ECHO_REQUEST interval, seconds (0: they never probe).
    #[arg(long, default_value_t = 5)]
    switch_echo_secs: u64,
    /// The controller's counter poll interval (policy `counters_interval_secs`), seconds.
    #[arg(long, default_value_t = 30)]
    counters_secs: u64,
    /// Give up on a scenario after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Policy without sampling (no meters).
    #[arg(long)]
    no_reporting: bool,
    /// The controller binary to start (default: `op25b` next to this binary).
    #[arg(long)]
    controller_bin: Option<PathBuf>,
    /// Attach to a running controller at this OpenFlow address instead of starting one.
    #[arg(long, requires = "policy")]
    controller: Option<SocketAddr>,
    /// With --controller: its pid (for /proc readings and SIGHUP).
    #[arg(long)]
    controller_pid: Option<u32>,
    /// With --controller: the policy file it watches (the swarm overwrites it).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// With --controller: its JSON API address.
    #[arg(long)]
    api: Option<SocketAddr>,
    /// Where policies and controller logs go.
    #[arg(long, default_value = "target/swarm")]
    work_dir: PathBuf,
    /// RUST_LOG for the controller child.
    #[arg(long, default_value = "warn")]
    controller_log: String,
    /// The controller child's `--workers` (default: its own, one per core).
    #[arg(long)]
    controller_workers: Option<usize>,
    /// JSON on stdout instead of tables.
    #[arg(long)]
    json: bool,
    /// Switches connect over mutual TLS (fresh certificates in the work directory; the
    /// controller's key of this type: p256 or rsa2048). Without a value: p256.
    #[arg(long, value_name = "KEY", num_args = 0..=1, default_missing_value = "p256")]
    tls: Option<KeyType>,
    /// With --tls: switches never resume a TLS session (every reconnect a full handshake, as
    /// Open vSwitch 3.1 does).
    #[arg(long, requires = "tls")]
    tls_full: bool,
}

impl Common {
    fn options(&self, steady_secs: u64, skip_steady: bool, prefixes: usize) -> Options {
        let controller_bin = self.controller_bin.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.join("op25b")))
                .unwrap_or_else(|| PathBuf::from("op25b"))
        });
        Options {
            switches: self.switches,
            ports: self.ports,
            exempt_prefixes: prefixes,
            echo_secs: self.echo_secs,
            switch_echo_secs: self.switch_echo_secs,
            counters_secs: self.counters_secs,
            steady_secs,
            timeout: Duration::from_secs(self.timeout_secs),
            reporting: !self.no_reporting,
            controller_bin,
            attach: self.controller.map(|addr| Attach {
                addr,
                pid: self.controller_pid,
                policy: self.policy.clone().unwrap_or_default(),
                api: self.api,
            }),
            work_dir: self.work_dir.clone(),
            rust_log: self.controller_log.clone(),
            controller_workers: self.controller_workers,
            skip_steady,
            tls: self.tls,
            tls_resume: !self.tls_full,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::EchoResponder { listen, raw_epoll } = cli.command {
        return echo_responder(listen, raw_epoll);
    }
    match raise_open_files_limit() {
        Ok(n) => eprintln!("op25b-swarm: open-files limit {n}"),
        Err(e) => eprintln!("op25b-swarm: cannot raise the open-files limit: {e}"),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("op25b-swarm: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Storms {
                common,
                prefixes,
                steady_secs,
                no_steady,
            } => {
                let opts = common.options(steady_secs, no_steady, prefixes);
                std::fs::create_dir_all(&opts.work_dir).ok();
                let r = run_storms(&opts).await?;
                let ok = r.storms.iter().all(|s| {
                    s.all_ms.is_some()
                        && s.connect_errors == 0
                        && s.flow_mod_errors == 0
                        && s.connected_after == s.switches
                }) && r
                    .storms
                    .iter()
                    .find(|s| s.scenario == "reconnect")
                    .map(|s| s.flow_mods)
                    == Some(0);
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                } else {
                    if let Some(ms) = r.controller_listening_ms {
                        println!("controller listening {ms:.1} ms after spawn");
                    }
                    print!("{}", storms_table(&r.storms));
                    if let Some(s) = &r.steady {
                        println!();
                        print!("{}", steady_table(s));
                    }
                }
                Ok::<bool, op25b_swarm::SwarmError>(ok)
            }
            Command::EchoFloor {
                switches,
                echo_secs,
                window_secs,
                json,
                raw_epoll,
            } => {
                let r = run_floor(
                    switches,
                    Duration::from_secs(echo_secs.max(1)),
                    Duration::from_secs(window_secs.max(1)),
                    raw_epoll,
                )
                .await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                } else {
                    print!("{}", floor_table(&r));
                }
                Ok(r.connected == switches && r.exchanges > 0)
            }
            Command::EchoResponder { .. } => Ok(false),
            Command::Outbreak {
                common,
                samples_pps,
                secs,
                spray_percent,
                seed,
            } => {
                let base = common.options(0, true, 1);
                std::fs::create_dir_all(&base.work_dir).ok();
                let o = OutbreakOptions {
                    samples_pps: samples_pps.unwrap_or(base.switches as f64 * 20.0),
                    base,
                    secs: secs.max(2),
                    spray_percent: spray_percent.min(100),
                    seed,
                };
                let r = run_outbreak(&o).await?;
                if common.json {
                    println!("{}", serde_json::to_string(&r).unwrap_or_default());
                } else {
                    print!("{}", outbreak_table(&r));
                }
                Ok(r.correct())
            }
            Command::Soak {
                common,
                secs,
                period_secs,
                warmup_secs,
                samples_pps,
                spray_percent,
                seed,
                controller_log_file,
                api_token_file,
            } => {
                let base = common.options(0, true, 1);
                std::fs::create_dir_all(&base.work_dir).ok();
                let o = SoakOptions {
                    samples_pps: samples_pps.unwrap_or(base.switches as f64 * 5.0),
                    secs: secs.max(4),
                    period_secs: period_secs.max(2),
                    warmup_secs: warmup_secs.unwrap_or(secs / 6),
                    spray_percent: spray_percent.min(100),
                    seed,
                    controller_log_file,
                    token_file: api_token_file,
                    base,
                };
                let r = run_soak(&o).await?;
                if common.json {
                    eprint!("{}", soak_table(&r));
                    println!("{}", serde_json::to_string(&r).unwrap_or_default());
                } else {
                    print!("{}", soak_table(&r));
                }
                Ok(r.verdict.ok)
            }
            Command::Growth { common, prefixes } => {
                let opts = common.options(0, true, 0);
                std::fs::create_dir_all(&opts.work_dir).ok();
                let rows = run_growth(&opts, &prefixes).await?;
                let ok = rows.iter().all(|r| r.all_ms.is_some() && r.flow_mods == 0);
                if common.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&rows).unwrap_or_default()
                    );
                } else {
                    print!("{}", storms_table(&rows));
                }
                Ok(ok)
            }
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("op25b-swarm: the verdict failed (see the table: switches short of the desired flows, or a failed check)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("op25b-swarm: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The echo-floor responder: one worker thread, as `op25b run --workers 1`, or a raw epoll loop.
fn echo_responder(listen: SocketAddr, raw_epoll: bool) -> ExitCode {
    if let Err(e) = raise_open_files_limit() {
        eprintln!("op25b-swarm echo-responder: cannot raise the open-files limit: {e}");
    }
    if raw_epoll {
        return match respond_epoll(listen) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("op25b-swarm echo-responder: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("op25b-swarm echo-responder: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        respond(listener).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("op25b-swarm echo-responder: {e}");
            ExitCode::FAILURE
        }
    }
}
