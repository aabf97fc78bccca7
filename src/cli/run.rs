//! `op25b run --config F [--log-format text|json]`: the controller.
//!
//! Logs go to stderr through tracing-subscriber, filtered by `RUST_LOG` (default `info`):
//! coloured only when stderr is a terminal (a file, a pipe or the journal gets plain text), or
//! one JSON object per line with `--log-format json`. Under systemd's `Type=notify` it sends
//! `READY=1` once the listeners and the API are bound ([`super::service_manager`]).
//! SIGHUP or a change of the policy file reloads it; SIGINT/SIGTERM close every session cleanly
//! and leave the flows on the switches (a `fail_mode=secure` bridge keeps enforcing).

use crate::api::health::ClusterView;
use crate::api::Readiness;
use crate::cli::{launch, service_manager};
use crate::cluster;
use crate::cluster::offender_share::{self, PeerOffenders};
use crate::cluster::report_claims::ReportClaims;
use crate::controller::etcd_policy;
use crate::controller::ovsdb_monitor;
use crate::controller::policy_store::PolicyStore;
use crate::controller::reload::run_reloader_notifying;
use crate::controller::runtime::{Controller, ControllerOptions};
use crate::doctor::Listeners;
use crate::fleet::registry::Registry;
use crate::policy::Config;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The policy file (TOML).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Log line format on stderr: text (coloured only on a terminal) or one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Listen for plain TCP here instead of `[controller] listen` (the `plaintext` rule
    /// applies: a non-loopback address needs `plaintext = "allow"`).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Listen for mutual TLS here instead of `[controller] tls_listen` (TLS must be configured).
    #[arg(long)]
    pub tls_listen: Option<SocketAddr>,
    /// Serve the HTTP API here instead of `[controller] api_listen`.
    #[arg(long)]
    pub api_listen: Option<SocketAddr>,
    /// Threads that run the switch sessions (default: one per CPU core). Fewer spend less CPU
    /// on idle switches (no wake-ups across threads: one thread answered 10,000 switches'
    /// echoes for ~25% less CPU than two); more finish a reconnect storm sooner on a machine
    /// with cores to spare.
    #[arg(long)]
    pub workers: Option<std::num::NonZeroUsize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Why `run` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Policy(#[from] crate::policy::LoadError),
    #[error("{0}")]
    Listen(#[from] crate::controller::listener::ListenError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot install a signal handler: {0}")]
    Signal(std::io::Error),
    #[error("cannot start the API / offender service: {0}")]
    Observability(#[from] launch::LaunchError),
}

/// Installs the tracing subscriber (RUST_LOG, default info). Safe to call once per process.
/// ANSI colours only when stderr is a terminal: log files, pipes and the journal stay plain.
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(format == LogFormat::Text && std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Runs the subcommand; returns the process exit code.
pub fn main(args: RunArgs) -> i32 {
    init_logging(args.log_format);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.workers {
        builder.worker_threads(n.get());
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            error!("{}", RunError::Runtime(e));
            return 1;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => 0,
        Err(e) => {
            error!("{e}");
            eprintln!("op25b run: {e}");
            1
        }
    }
}

/// Loads the policy, starts the controller and the reloader, waits for SIGINT/SIGTERM.
pub async fn run(args: RunArgs) -> Result<(), RunError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigint = signal(SignalKind::interrupt()).map_err(RunError::Signal)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(RunError::Signal)?;
    // From here on SIGHUP no longer kills the process (tokio keeps the handler installed);
    // the reloader below listens for it. Without this, a SIGHUP in the moments between
    // "controller running" and the reloader's start ended the controller.
    let _hangup_is_not_fatal = signal(SignalKind::hangup()).map_err(RunError::Signal)?;
    let loaded = Config::load(&args.config)?;
    for w in &loaded.warnings {
        warn!("{w}");
    }
    let registry = Arc::new(Registry::new());
    // `[cluster]`: the etcd member task; without it, no roles (one process as ever).
    let cluster_shutdown = CancellationToken::new();
    let cluster_settings = loaded.config.cluster().cloned();
    let cluster = cluster_settings
        .clone()
        .map(|settings| cluster::start(settings, registry.clone(), cluster_shutdown.clone()));
    let store = Arc::new(
        PolicyStore::new(loaded.config, Some(args.config.clone()))
            .with_source_sha256(loaded.source_sha256),
    );
    // `[cluster]`: the shared policy from etcd replaces the local file's policy sections. Read
    // before the switches are served (up to lease_secs: unreachable, the local one stays).
    let etcd_policy = cluster_settings
        .as_ref()
        .map(|settings| etcd_policy::spawn(store.clone(), settings, cluster_shutdown.clone()));
    if let (Some(p), Some(settings)) = (&etcd_policy, &cluster_settings) {
        let mut first = p.first_read.clone();
        let wait = std::time::Duration::from_secs(settings.lease_secs);
        if tokio::time::timeout(wait, first.wait_for(|read| *read))
            .await
            .is_err()
        {
            warn!("the cluster policy could not be read from etcd yet; the local file's policy is in force until it is");
        }
    }
    // The API and the offender service first, so the sessions have somewhere to report to;
    // the OpenFlow listener right after (it binds in microseconds).
    let obs_shutdown = CancellationToken::new();
    let readiness = Arc::new(Readiness::new());
    let peer_offenders = PeerOffenders::default();
    if let Some(c) = &cluster {
        readiness.set_cluster(ClusterView {
            status: c.status.clone(),
            masterships: c.masterships.clone(),
            peer_offenders: peer_offenders.clone(),
        });
    }
    let observability = launch::start(
        registry.clone(),
        store.clone(),
        readiness.clone(),
        args.api_listen,
        obs_shutdown.clone(),
    )
    .await?;
    // `[cluster]`: reports claimed in etcd before they are written (one per subscriber across
    // the instances), and this instance's offenders shared with the others.
    let offender_share = match (&cluster, &cluster_settings, &observability.state.offenders) {
        (Some(c), Some(settings), Some(handle)) => {
            handle.set_claims(ReportClaims::new(settings, c.status.clone()));
            let h = handle.clone();
            let name = settings.name.clone();
            Some(offender_share::spawn(
                settings,
                c.status.clone(),
                peer_offenders,
                move || h.published(&name),
                cluster_shutdown.clone(),
            ))
        }
        _ => None,
    };
    let controller = Controller::start_observed(
        store.clone(),
        registry,
        ControllerOptions {
            listen: args.listen,
            tls_listen: args.tls_listen,
            samples: observability.samples.clone(),
            masterships: cluster.as_ref().map(|c| c.masterships.clone()),
        },
        observability.observations.clone(),
    )?;
    readiness.set_openflow_listening(true);
    info!(api = %observability.api_addr, token_file = %observability.token_file.display(), "HTTP API ready");
    // `[ovsdb] endpoints`: the bridges' settings, checked against the listener's real address.
    let switch_config = ovsdb_monitor::spawn(
        store.subscribe(),
        Listeners {
            plain: controller.plain_addr(),
            tls: controller.tls_addr(),
        },
        observability.state.switch_config.clone(),
        obs_shutdown.clone(),
    );
    let shutdown = controller.shutdown_token();
    info!(
        config = %args.config.display(),
        listen = %controller.local_addr(),
        tls_listen = ?controller.tls_addr(),
        generation = store.current().generation(),
        "op25b controller running"
    );
    // Everything a switch or `op25b status` connects to is bound: systemd may call us started.
    service_manager::ready(&format!(
        "listening on {}, API on {}",
        controller.local_addr(),
        observability.api_addr
    ));
    let reopen_reports = observability.reopen_reports.clone();
    let reloader = tokio::spawn(async move {
        if let Err(e) = run_reloader_notifying(store, Some(reopen_reports), shutdown).await {
            // Reloads by SIGHUP/file change are off; the policy in force keeps working.
            error!("policy reloads disabled: {e}");
        }
    });
    let signal_name = tokio::select! {
        _ = sigint.recv() => "SIGINT",
        _ = sigterm.recv() => "SIGTERM",
    };
    info!(
        signal = signal_name,
        "shutting down; flows stay on the switches"
    );
    service_manager::stopping();
    readiness.set_openflow_listening(false);
    controller.shutdown().await;
    cluster_shutdown.cancel();
    if let Some(c) = cluster {
        if let Err(e) = c.task.await {
            warn!("cluster task: {e}");
        }
    }
    if let Some(t) = offender_share {
        if let Err(e) = t.await {
            warn!("cluster offenders task: {e}");
        }
    }
    if let Some(p) = etcd_policy {
        if let Err(e) = p.task.await {
            warn!("cluster policy task: {e}");
        }
    }
    obs_shutdown.cancel();
    observability.join().await;
    if let Err(e) = switch_config.await {
        warn!("OVSDB monitor task: {e}");
    }
    if let Err(e) = reloader.await {
        warn!("policy reloader task: {e}");
    }
    Ok(())
}
