//! One switch's TLS handshake on the mutual-TLS listener, before any OpenFlow: bounded by the
//! handshake timeout, cancelled by shutdown, and ending with who the peer proved to be.
//!
//! A failed handshake (no client certificate, one from another CA, garbage, a timeout) is one
//! WARNING line with the peer's address; it runs in the connection's own task, so it never
//! delays the accept loop or any other switch. A successful one is logged at INFO with the
//! negotiated protocol version and cipher suite, whether it was a full handshake or resumed a
//! session (`handshake = "Full"`, `"Resumed"`), and the certificate's SHA-256.
use super::tls_config::fingerprint;
use crate::fleet::peer_identity::PeerIdentity;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Why a TLS handshake did not give a session.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeFailure {
    #[error("TLS handshake not finished after {0:?}")]
    TimedOut(Duration),
    #[error("{0}")]
    Tls(std::io::Error),
    /// Cannot happen with a verifier that demands a certificate; refused all the same.
    #[error("the peer presented no certificate")]
    NoCertificate,
    #[error("controller shutting down")]
    Cancelled,
}

/// Runs the server side of the handshake on `stream` within `timeout`; on success returns the
/// TLS stream and the peer's identity (its address and certificate fingerprint).
pub async fn handshake<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    addr: SocketAddr,
    timeout: Duration,
    shutdown: &CancellationToken,
) -> Result<(TlsStream<S>, PeerIdentity), HandshakeFailure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let tls = tokio::select! {
        biased;
        () = shutdown.cancelled() => return Err(HandshakeFailure::Cancelled),
        r = tokio::time::timeout(timeout, acceptor.accept(stream)) => match r {
            Err(_) => return Err(HandshakeFailure::TimedOut(timeout)),
            Ok(Err(e)) => return Err(HandshakeFailure::Tls(e)),
            Ok(Ok(tls)) => tls,
        },
    };
    let session = tls.get_ref().1;
    let cert = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|leaf| fingerprint(leaf.as_ref()))
        .ok_or(HandshakeFailure::NoCertificate)?;
    let peer = PeerIdentity::tls(addr, cert);
    let version = session
        .protocol_version()
        .map_or_else(|| "unknown".to_string(), |v| format!("{v:?}"));
    let suite = session
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".to_string(), |s| format!("{:?}", s.suite()));
    let kind = session
        .handshake_kind()
        .map_or_else(|| "unknown".to_string(), |k| format!("{k:?}"));
    info!(peer = %addr, %cert, %version, %suite, handshake = %kind, "TLS session established");
    Ok((tls, peer))
}

/// [`handshake`], logging a failure once at WARNING (shutdown is not a failure) and giving
/// None for it.
pub async fn accept<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    addr: SocketAddr,
    timeout: Duration,
    shutdown: &CancellationToken,
) -> Option<(TlsStream<S>, PeerIdentity)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match handshake(acceptor, stream, addr, timeout, shutdown).await {
        Ok(done) => Some(done),
        Err(HandshakeFailure::Cancelled) => None,
        Err(e) => {
            warn!(peer = %addr, error = %e, "TLS handshake failed; connection closed");
            None
        }
    }
}
