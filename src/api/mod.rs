//! The HTTP API: one listener (`[controller] api_listen`, default `127.0.0.1:9325`) serving
//! JSON and the Prometheus metrics, with axum 0.8.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the status page ([`page`]; `/ui/app.css`, `/ui/app.js`) |
//! | `GET /api/events` | server-sent events: switch changes, reloads, offenders with the token ([`events`]) |
//! | `GET /metrics` | Prometheus text format ([`crate::metrics`]) |
//! | `GET /api/switches` | every switch seen: state, peer, flow counts, blocked traffic |
//! | `GET /api/switches/{dpid}` | one switch with counters, desired and actual flows; 400 bad dpid, 404 unknown |
//! | `GET /api/policy` | the policy in force and its generation |
//! | `POST /api/reload` | reload the policy file (like SIGHUP); 422 with the error when rejected; **token** |
//! | `GET /api/offenders?flagged=true&limit=N` | the worst subscribers, flagged first; **token** |
//! | `GET /healthz`, `GET /readyz` | liveness; readiness (policy loaded and OpenFlow listener up) |
//!
//! **token**: `Authorization: Bearer TOKEN` with the token from `[api] token_file`, else 401
//! ([`access`], [`token`]). Every request's `Host` must name the API (else 421). Connections
//! are served by our own accept loop ([`server`]): header-read timeout, connection cap.
//!
//! Every error is JSON `{"error": "..."}` with the right status ([`error::ApiError`]):
//! unknown path 404, wrong method 405, bad parameters 400, body too large 413, a handler
//! slower than 30 s 503, a handler panic 500 ([`hardening`]). Handlers only read shared state
//! and never panic on input.
//!
//! Start it with [`bind`] then [`serve`]; `run` wires it (see docs/operating.md ("The HTTP API")).

pub mod access;
pub mod cluster_view;
pub mod error;
pub mod events;
pub mod hardening;
pub mod health;
pub mod metrics_route;
pub mod offenders;
pub mod page;
pub mod policy_view;
pub mod reload;
pub mod server;
pub mod switches;
pub mod token;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::controller::offender_service::OffenderHandle;
use crate::controller::policy_store::PolicyStore;
use crate::fleet::registry::Registry;
use crate::fleet::{SwitchConfigProblems, SwitchObservations};
use crate::metrics::Metrics;

pub use error::ApiError;
pub use events::EventLimits;
pub use health::Readiness;
pub use server::ApiLimits;
pub use token::ApiToken;

/// Everything the handlers read. Cheap to clone (all `Arc`s).
#[derive(Clone, Debug)]
pub struct ApiState {
    pub registry: Arc<Registry>,
    pub store: Arc<PolicyStore>,
    pub observations: Arc<SwitchObservations>,
    /// `None` when reporting is off.
    pub offenders: Option<OffenderHandle>,
    pub readiness: Arc<Readiness>,
    /// Bridge settings problems seen in Open vSwitch's database (`[ovsdb] endpoints`): hand it
    /// to `controller::ovsdb_monitor::spawn`; empty when nothing is monitored.
    pub switch_config: Arc<SwitchConfigProblems>,
    token: ApiToken,
    events: events::EventStreams,
    metrics: Arc<Metrics>,
    reload_lock: Arc<tokio::sync::Mutex<()>>,
}

impl ApiState {
    /// Builds the state and the metrics registry over the same sources; `token` guards
    /// reloads and subscriber data.
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<PolicyStore>,
        observations: Arc<SwitchObservations>,
        offenders: Option<OffenderHandle>,
        readiness: Arc<Readiness>,
        token: ApiToken,
    ) -> Self {
        let switch_config = Arc::new(SwitchConfigProblems::new());
        let metrics = Arc::new(Metrics::new(
            registry.clone(),
            store.clone(),
            observations.clone(),
            offenders.clone(),
            switch_config.clone(),
            readiness.cluster().map(|c| c.status.clone()),
        ));
        Self {
            registry,
            store,
            observations,
            offenders,
            readiness,
            switch_config,
            token,
            events: events::EventStreams::new(EventLimits::default()),
            metrics,
            reload_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

impl ApiState {
    /// The same state with other limits for `GET /api/events`.
    #[must_use]
    pub fn with_event_limits(mut self, limits: EventLimits) -> Self {
        self.events = events::EventStreams::new(limits);
        self
    }
}

/// Why the API could not run.
#[derive(Debug, thiserror::Error)]
pub enum ApiServeError {
    #[error("cannot listen for the HTTP API on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP API server on {addr} failed")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The routes, with JSON 404/405 fallbacks, behind the [`hardening`] layers (timeout, body
/// limit, panic catcher).
pub fn router(state: ApiState) -> Router {
    hardening::harden(
        routes(state),
        hardening::REQUEST_TIMEOUT,
        hardening::MAX_BODY_BYTES,
    )
}

/// The routes alone: the token-guarded ones, then the open ones.
fn routes(state: ApiState) -> Router {
    let guarded = Router::new()
        .route("/api/reload", post(reload::post))
        .route("/api/offenders", get(offenders::get))
        .route_layer(from_fn_with_state(state.clone(), access::require_token));
    Router::new()
        .route("/", get(page::index))
        .route("/ui/app.css", get(page::style))
        .route("/ui/app.js", get(page::script))
        .route("/api/events", get(events::get))
        .route("/metrics", get(metrics_route::get))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/switches", get(switches::list))
        .route("/api/switches/{dpid}", get(switches::one))
        .route("/api/policy", get(policy_view::get))
        .route("/api/cluster", get(cluster_view::get))
        .merge(guarded)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
}

/// Binds the API listener (`127.0.0.1:0` in tests).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ApiServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ApiServeError::Bind { addr, source })
}

/// [`serve_with`] with the default [`ApiLimits`]; HTTPS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> Result<(), ApiServeError> {
    serve_with(listener, state, ApiLimits::default(), tls, shutdown).await
}

/// Serves until `shutdown` is cancelled, then finishes in-flight requests and returns. The
/// `Host` check uses the bound address and the `[api] allowed_hosts` in force at start.
pub async fn serve_with(
    listener: TcpListener,
    mut state: ApiState,
    limits: ApiLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> Result<(), ApiServeError> {
    let addr = listener
        .local_addr()
        .map_err(|source| ApiServeError::Bind {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
    info!(%addr, https = tls.is_some(), "HTTP API listening");
    let allowed = state.store.current().config().api().allowed_hosts.clone();
    let hosts = Arc::new(access::HostCheck::new(addr, allowed));
    state.events.stop_with(shutdown.child_token());
    let app = router(state).layer(from_fn_with_state(hosts, access::check_host));
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    server::accept_loop(listener, app, limits, tls, shutdown).await;
    Ok(())
}
