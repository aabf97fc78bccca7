//! The running controller: the listeners' accept loops, one task per connection, shutdown.
//!
//! Start-up binds the listeners before anything else (well under 50 ms), so switches that connect
//! at once are queued in the listen backlog (65535 asked, clamped by `net.core.somaxconn`). Nothing on the per-message path is shared between
//! switches except the registry entry of the switch itself.
//!
//! Two listeners, either or both: plain TCP (`[controller] listen`, a peer is only its address)
//! and mutual TLS (`tls_listen`, a peer is its address and certificate). A TLS connection's
//! handshake runs in its own task (see [`super::tls_accept`]) before the OpenFlow session.

use super::admission::Admission;
use super::listener::{self, ListenError};
use super::policy_store::PolicyStore;
use super::tls_accept;
use super::tls_config;
use crate::fleet::dpid_claims::DpidClaims;
use crate::fleet::peer_identity::PeerIdentity;
use crate::fleet::registry::{ForgetDpids, Registry};
use crate::fleet::SwitchObservations;
use crate::mastership::MastershipView;
use crate::session::codec_bridge::PacketInSample;
use crate::session::connection::{run_connection, ConnectionContext};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

/// How long shutdown waits for sessions to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Options that are not in the policy file.
#[derive(Debug, Default)]
pub struct ControllerOptions {
    /// Listen for plain TCP here instead of `[controller] listen` (tests use 127.0.0.1:0); the
    /// `plaintext` rule applies to it too.
    pub listen: Option<SocketAddr>,
    /// Listen for mutual TLS here instead of `[controller] tls_listen` (only when the policy
    /// configures TLS).
    pub tls_listen: Option<SocketAddr>,
    /// Where packet-in samples go (the offender table); None drops and counts them.
    pub samples: Option<mpsc::Sender<PacketInSample>>,
    /// In a cluster, the masterships the cluster task publishes (`None`: one process; every
    /// connection stays EQUAL).
    pub masterships: Option<watch::Receiver<Arc<MastershipView>>>,
}

/// A running controller. Dropping it does not stop it: call [`Controller::shutdown`].
#[derive(Debug)]
pub struct Controller {
    local_addr: SocketAddr,
    plain_addr: Option<SocketAddr>,
    tls_addr: Option<SocketAddr>,
    registry: Arc<Registry>,
    store: Arc<PolicyStore>,
    claims: Arc<DpidClaims>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    accept: Vec<JoinHandle<()>>,
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
        let settings = store.current().config().controller().clone();
        if let Some(addr) = options.listen {
            if !settings.plaintext.permits(addr) {
                return Err(ListenError::PlaintextRefused { addr });
            }
        }
        // TLS files first: a mistake in them must not leave a plaintext listener half started.
        let tls = match &settings.tls {
            Some(t) => Some((
                options.tls_listen.unwrap_or(t.listen),
                TlsAcceptor::from(tls_config::server_config(t)?),
            )),
            None => None,
        };
        let plain = match options.listen.or(settings.listen) {
            Some(addr) => Some(bound(addr)?),
            None => None,
        };
        let tls = match tls {
            Some((addr, acceptor)) => Some((bound(addr)?, acceptor)),
            None => None,
        };
        if let Some((_, addr)) = &plain {
            info!(local_addr = %addr, backlog = listener::LISTEN_BACKLOG, "OpenFlow listener ready (plain TCP)");
        }
        if let Some(((_, addr), _)) = &tls {
            info!(local_addr = %addr, backlog = listener::LISTEN_BACKLOG, "OpenFlow listener ready (mutual TLS)");
        }
        let tls_addr = tls.as_ref().map(|((_, addr), _)| *addr);
        let plain_addr = plain.as_ref().map(|(_, a)| *a);
        let local_addr = plain_addr.or(tls_addr).ok_or(ListenError::NoListener)?;
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let claims = Arc::new(DpidClaims::new());
        // Observations are forgotten with the registry's disconnected switches.
        let forget: Arc<dyn ForgetDpids> = observations.clone();
        registry.forget_with(&forget);
        let ctx = Arc::new(AcceptContext {
            registry: registry.clone(),
            store: store.clone(),
            claims: claims.clone(),
            samples: options.samples,
            masterships: options.masterships,
            observations,
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
            next_id: AtomicU64::new(1),
            admission: Admission::default(),
        });
        let mut accept = Vec::new();
        if let Some((listener, _)) = plain {
            accept.push(tokio::spawn(accept_loop(listener, ctx.clone(), None)));
        }
        if let Some(((listener, _), acceptor)) = tls {
            accept.push(tokio::spawn(accept_loop(listener, ctx, Some(acceptor))));
        }
        Ok(Self {
            local_addr,
            plain_addr,
            tls_addr,
            registry,
            store,
            claims,
            shutdown,
            tracker,
            accept,
        })
    }

    /// The OpenFlow address actually bound: the plain-TCP listener's, or the TLS listener's
    /// when there is no plain one.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The plain-TCP listener's address actually bound, if there is one.
    pub fn plain_addr(&self) -> Option<SocketAddr> {
        self.plain_addr
    }

    /// The mutual-TLS listener's address actually bound, if there is one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
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
        for accept in self.accept {
            let _ = accept.await;
        }
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
    masterships: Option<watch::Receiver<Arc<MastershipView>>>,
    observations: Arc<SwitchObservations>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    /// Connection ids, unique across both listeners.
    next_id: AtomicU64,
    /// Who may connect and how many at once, across both listeners.
    admission: Admission,
}

impl AcceptContext {
    fn connection(&self, peer: PeerIdentity) -> ConnectionContext {
        ConnectionContext {
            conn_id: self.next_id.fetch_add(1, Ordering::Relaxed),
            peer,
            registry: self.registry.clone(),
            claims: self.claims.clone(),
            policy: self.store.subscribe(),
            samples: self.samples.clone(),
            masterships: self.masterships.clone(),
            observations: self.observations.clone(),
            shutdown: self.shutdown.clone(),
        }
    }
}

/// Binds `addr`, returning the listener and the address actually bound.
fn bound(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ListenError> {
    let listener = listener::bind(addr)?;
    let local = listener
        .local_addr()
        .map_err(|source| ListenError::Listen { addr, source })?;
    Ok((listener, local))
}

/// Accepts connections until shutdown; over TLS (`tls` set) each one's handshake runs in the
/// connection's task before its session.
async fn accept_loop(listener: TcpListener, ctx: Arc<AcceptContext>, tls: Option<TlsAcceptor>) {
    let admission = &ctx.admission;
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
                let settings = ctx.store.current();
                let admitted = admission.admit(
                    peer,
                    settings.config().controller(),
                    ctx.registry.guards(),
                    std::time::Instant::now(),
                );
                let Ok(permit) = admitted else {
                    // Closed before any OpenFlow is read (see `admission`).
                    drop(stream);
                    continue;
                };
                if let Err(e) = stream.set_nodelay(true) {
                    warn!(%peer, error = %e, "cannot set TCP_NODELAY");
                }
                match &tls {
                    None => {
                        let conn = ctx.connection(PeerIdentity::plain(peer));
                        ctx.tracker.spawn(async move {
                            run_connection(stream, conn).await;
                            drop(permit);
                        });
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        let ctx2 = ctx.clone();
                        ctx.tracker.spawn(async move {
                            let timeout =
                                ctx2.store.current().config().controller().handshake_timeout;
                            let Some((stream, identity)) = tls_accept::accept(
                                &acceptor,
                                stream,
                                peer,
                                timeout,
                                &ctx2.shutdown,
                            )
                            .await
                            else {
                                return;
                            };
                            run_connection(stream, ctx2.connection(identity)).await;
                            drop(permit);
                        });
                    }
                }
            }
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
