//! The running controller: the listener's accept loop, one task per connection, shutdown.
//!
//! Start-up binds the listener before anything else (well under 50 ms), so switches that connect
//! at once are queued in the listen backlog (65535 asked, clamped by `net.core.somaxconn`). Nothing on the per-message path is shared between
//! switches except the registry entry of the switch itself.

use super::listener::{self, ListenError};
use super::policy_store::PolicyStore;
use crate::fleet::dpid_claims::DpidClaims;
use crate::fleet::peer_identity::PeerIdentity;
use crate::fleet::registry::{ForgetDpids, Registry};
use crate::fleet::SwitchObservations;
use crate::session::codec_bridge::PacketInSample;
use crate::session::connection::{run_connection, ConnectionContext};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

/// How long shutdown waits for sessions to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Options that are not in the policy file.
#[derive(Debug, Default)]
pub struct ControllerOptions {
    /// Listen here instead of `[controller] listen` (tests use 127.0.0.1:0).
    pub listen: Option<SocketAddr>,
    /// Where packet-in samples go (the offender table); None drops and counts them.
    pub samples: Option<mpsc::Sender<PacketInSample>>,
}

/// A running controller. Dropping it does not stop it: call [`Controller::shutdown`].
#[derive(Debug)]
pub struct Controller {
    local_addr: SocketAddr,
    registry: Arc<Registry>,
    store: Arc<PolicyStore>,
    claims: Arc<DpidClaims>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    accept: JoinHandle<()>,
}

impl Controller {
    /// Binds the listener and starts accepting switches; observations go to a private
    /// [`SwitchObservations`] (use [`Controller::start_observed`] to share one with the API).
    pub fn start(
        store: Arc<PolicyStore>,
        registry: Arc<Registry>,
        options: ControllerOptions,
    ) -> Result<Self, ListenError> {
        Self::start_observed(
            store,
            registry,
            options,
            Arc::new(SwitchObservations::new()),
        )
    }

    /// Like [`Controller::start`], with every session recording its flow reads, desired flows
    /// and sync durations into `observations` (the API and metrics read them).
    pub fn start_observed(
        store: Arc<PolicyStore>,
        registry: Arc<Registry>,
        options: ControllerOptions,
        observations: Arc<SwitchObservations>,
    ) -> Result<Self, ListenError> {
        let addr = options
            .listen
            .unwrap_or_else(|| store.current().config().controller().listen);
        let listener = listener::bind(addr)?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ListenError::Listen { addr, source })?;
        info!(%local_addr, backlog = listener::LISTEN_BACKLOG, "OpenFlow listener ready");
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let claims = Arc::new(DpidClaims::new());
        // Observations are forgotten with the registry's disconnected switches.
        let forget: Arc<dyn ForgetDpids> = observations.clone();
        registry.forget_with(&forget);
        let accept = tokio::spawn(accept_loop(
            listener,
            AcceptContext {
                registry: registry.clone(),
                store: store.clone(),
                claims: claims.clone(),
                samples: options.samples,
                observations,
                shutdown: shutdown.clone(),
                tracker: tracker.clone(),
            },
        ));
        Ok(Self {
            local_addr,
            registry,
            store,
            claims,
            shutdown,
            tracker,
            accept,
        })
    }

    /// The OpenFlow address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub fn store(&self) -> &Arc<PolicyStore> {
        &self.store
    }

    pub fn claims(&self) -> &Arc<DpidClaims> {
        &self.claims
    }

    /// A token cancelled when the controller shuts down (for companion tasks).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, closes every session cleanly (flows stay on the switches), and waits up to
    /// [`SHUTDOWN_GRACE`] for them.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.accept.await;
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            warn!(
                remaining = self.tracker.len(),
                "sessions still closing after the grace period"
            );
        }
        info!("controller stopped; flows left in place on the switches");
    }
}

struct AcceptContext {
    registry: Arc<Registry>,
    store: Arc<PolicyStore>,
    claims: Arc<DpidClaims>,
    samples: Option<mpsc::Sender<PacketInSample>>,
    observations: Arc<SwitchObservations>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

async fn accept_loop(listener: TcpListener, ctx: AcceptContext) {
    let next_id = AtomicU64::new(1);
    // One cancellation future for the loop's lifetime (creating one per accept takes a lock).
    let cancelled = ctx.shutdown.cancelled();
    tokio::pin!(cancelled);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut cancelled => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                if let Err(e) = stream.set_nodelay(true) {
                    warn!(%peer, error = %e, "cannot set TCP_NODELAY");
                }
                let conn = ConnectionContext {
                    conn_id: next_id.fetch_add(1, Ordering::Relaxed),
                    peer: PeerIdentity::plain(peer),
                    registry: ctx.registry.clone(),
                    claims: ctx.claims.clone(),
                    policy: ctx.store.subscribe(),
                    samples: ctx.samples.clone(),
                    observations: ctx.observations.clone(),
                    shutdown: ctx.shutdown.clone(),
                };
                ctx.tracker.spawn(run_connection(stream, conn));
            }
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
