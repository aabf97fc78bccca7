//! Starting the observability side of `op25b run` in one call: the offender service (always:
//! a reload may turn reporting on), its report outputs (when `[reporting] enabled`: the
//! `report_path` sink and the `report_command`, whose program must exist and be executable), the task applying reloads' `[reporting]` changes to it
//! ([`crate::controller::reporting_reload`]), and the HTTP API on `[controller] api_listen`
//! with the token from `[api] token_file` (created on first start, [`crate::api::token`]).
//!
//! Wiring, as [`crate::cli::run`] does it:
//!
//! ```text
//! let readiness = Arc::new(Readiness::new());
//! let obs = launch::start(registry.clone(), store.clone(), readiness.clone(), None, token).await?;
//! let controller = Controller::start_observed(store, registry,
//!     ControllerOptions { samples: obs.samples.clone(), ..ControllerOptions::default() },
//!     obs.observations.clone())?;
//! readiness.set_openflow_listening(true);
//! ... on shutdown: token.cancel(); obs.join().await;
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::controller::offender_service::{
    OffenderService, OffenderServiceConfig, OffenderServiceError,
};
use crate::controller::policy_store::PolicyStore;
use crate::fleet::registry::Registry;
use crate::fleet::SwitchObservations;
use crate::offenders::OffenderConfig;
use crate::session::codec_bridge::PacketInSample;

use crate::api::token::{self, TokenError, TokenSource};
use crate::api::{bind, serve, ApiServeError, ApiState, Readiness};
use crate::controller::reporting_reload::{self, ReportOutputsError};
use crate::controller::tls_config::{self, TlsSetupErrors};

/// Why the observability side could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Api(#[from] ApiServeError),
    #[error(transparent)]
    Offenders(#[from] OffenderServiceError),
    #[error("cannot set up the abuse report outputs: {0}")]
    Report(#[from] ReportOutputsError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("cannot set up HTTPS for the API:\n{0}")]
    ApiTls(#[from] TlsSetupErrors),
    #[error("refusing to start: {0}")]
    ApiPlaintext(String),
}

/// What `run` keeps while the controller runs.
#[derive(Debug)]
pub struct Observability {
    /// Give to `ControllerOptions::samples` (always set: reporting may be turned on by a
    /// reload; with reporting off no flow samples, so nothing arrives).
    pub samples: Option<mpsc::Sender<PacketInSample>>,
    /// Give to every session: they record flow reads, desired flows and syncs here.
    pub observations: Arc<SwitchObservations>,
    /// The API's state (tests and tools read it directly).
    pub state: ApiState,
    /// Where the API listens.
    pub api_addr: SocketAddr,
    /// The API token's file.
    pub token_file: std::path::PathBuf,
    /// Send `()` to open the report file again by name (SIGHUP, after logrotate).
    pub reopen_reports: mpsc::Sender<()>,
    api: JoinHandle<Result<(), ApiServeError>>,
    offenders: JoinHandle<()>,
    reporting_reload: JoinHandle<()>,
}

impl Observability {
    /// Waits for the API and the offender service to stop (after `shutdown` was cancelled).
    pub async fn join(self) {
        match self.api.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "HTTP API stopped with an error"),
            Err(e) => warn!(error = %e, "HTTP API task failed"),
        }
        if let Err(e) = self.offenders.await {
            warn!(error = %e, "offender service task failed");
        }
        if let Err(e) = self.reporting_reload.await {
            warn!(error = %e, "[reporting] reload task failed");
        }
    }
}

/// Starts the offender service, the task that applies reloaded `[reporting]` settings to it,
/// and the API. `api_listen` overrides `[controller] api_listen`. Everything stops on
/// `shutdown`.
pub async fn start(
    registry: Arc<Registry>,
    store: Arc<PolicyStore>,
    readiness: Arc<Readiness>,
    api_listen: Option<SocketAddr>,
    shutdown: CancellationToken,
) -> Result<Observability, LaunchError> {
    let active = store.current();
    let config = active.config();
    let reporting = config.policy().reporting().clone();
    let addr = api_listen.unwrap_or(config.controller().api_listen);
    // `check` refused this for the file's address; `--api-listen` is checked here.
    if let Some(reason) = config.api().plaintext_refusal(addr) {
        return Err(LaunchError::ApiPlaintext(reason));
    }
    let api_tls = match &config.api().tls {
        Some(t) => Some(tls_config::api_server_config(&t.cert, &t.key)?),
        None => None,
    };
    let token_file = config.api().token_file_for(store.path());
    let (api_token, source) = token::load_or_create(&token_file)?;
    match source {
        TokenSource::Created => {
            info!(path = %token_file.display(), "API token created (mode 0600): `op25b status` and `op25b reload` read it");
        }
        TokenSource::Existing => info!(path = %token_file.display(), "API token read"),
    }

    if !reporting.enabled {
        info!("[reporting] enabled = false: blocked attempts are not sampled (a reload may turn it on)");
    }
    reporting_reload::warn_if_placeholder_sender(&reporting);
    let outputs = reporting_reload::report_outputs(&reporting)?;
    let service = OffenderService::spawn(
        OffenderServiceConfig {
            table: OffenderConfig::from(&reporting),
            ..OffenderServiceConfig::default()
        },
        outputs,
        shutdown.clone(),
    )?;
    let (reopen_reports, reopen_requests) = mpsc::channel(1);
    let reporting_reload = tokio::spawn(reporting_reload::follow(
        service.handle.clone(),
        store.subscribe(),
        reopen_requests,
        shutdown.clone(),
    ));

    // A forgotten switch's sample counts go with it (the registry holds this weakly).
    registry.forget_with(&service.handle.forgetter());
    let observations = Arc::new(SwitchObservations::new());
    let state = ApiState::new(
        registry,
        store,
        observations.clone(),
        Some(service.handle),
        readiness,
        api_token,
    );
    let listener = bind(addr).await?;
    let api_addr = listener
        .local_addr()
        .map_err(|source| ApiServeError::Bind { addr, source })?;
    let api = tokio::spawn(serve(listener, state.clone(), api_tls, shutdown));
    Ok(Observability {
        samples: Some(service.samples),
        observations,
        state,
        api_addr,
        token_file,
        reopen_reports,
        api,
        offenders: service.task,
        reporting_reload,
    })
}
