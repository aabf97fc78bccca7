//! The API's accept loop: HTTP/1.1 served by hyper over our own `accept`, because
//! `axum::serve` has neither a header-read timeout nor a connection cap.
//!
//! | limit | default ([`ApiLimits`]) | what happens |
//! |---|---|---|
//! | TLS handshake not complete (HTTPS) | the same 10 s | connection closed |
//! | request head (request line and headers) not complete | 10 s after the connection opens (after the handshake with HTTPS), or after the previous response | connection closed |
//! | handler running | 30 s ([`super::hardening::REQUEST_TIMEOUT`]) | 503 |
//! | connections open at once | 64 | further ones wait in the listen backlog until one closes |
//! | a connection's whole life | 120 s | closed (the client reconnects) |
//!
//! A half-sent request (a Slowloris client) holds one of the 64 slots for at most the
//! header-read timeout. On shutdown the listener closes, open connections finish their
//! current request, and stragglers are dropped after [`ApiLimits::shutdown_grace`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// The accept loop's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// A request's head must arrive within this.
    pub header_read_timeout: Duration,
    /// At most this many connections are served at once.
    pub max_connections: usize,
    /// A connection is closed after this long, whatever it does.
    pub connection_lifetime: Duration,
    /// How long shutdown waits for open connections.
    pub shutdown_grace: Duration,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 64,
            connection_lifetime: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Accepts and serves connections with `app` until `shutdown`; over TLS when `tls` is given
/// (a close_notify is sent when a TLS connection ends).
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: ApiLimits,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    loop {
        // A slot first: while every slot is taken, new clients wait in the backlog.
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    warn!(error = %e, "HTTP API accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let app = app.clone();
        let stop = shutdown.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _permit = permit;
            let Some(acceptor) = tls else {
                serve_connection(stream, app, limits, peer, stop).await;
                return;
            };
            match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve_connection(stream, app, limits, peer, stop).await,
                Ok(Err(e)) => debug!(%peer, error = %e, "HTTP API TLS handshake failed"),
                Err(_) => debug!(%peer, "HTTP API TLS handshake timed out: closed"),
            }
        });
    }
    drop(listener);
    let grace = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    });
    if grace.await.is_err() {
        debug!(
            open = connections.len(),
            "HTTP API connections still open after the grace period: dropped"
        );
        connections.abort_all();
    }
}

/// Serves one connection (plain or TLS) until it ends, its lifetime is up or `stop`.
async fn serve_connection<S>(
    stream: S,
    app: Router,
    limits: ApiLimits,
    peer: std::net::SocketAddr,
    stop: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    let mut conn = std::pin::pin!(conn);
    let lifetime = tokio::time::sleep(limits.connection_lifetime);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                debug!(%peer, error = %e, "HTTP API connection ended with an error");
            }
            return;
        }
        () = lifetime => debug!(%peer, "HTTP API connection closed: lifetime reached"),
        () = stop.cancelled() => {}
    }
    conn.as_mut().graceful_shutdown();
    if let Err(e) = conn.await {
        debug!(%peer, error = %e, "HTTP API connection ended with an error");
    }
}
