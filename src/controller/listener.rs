//! The OpenFlow listening sockets (plain TCP and mutual TLS alike): bound at once with a large backlog, so a burst of hundreds of
//! switches connecting together loses no SYN.

use super::tls_config::TlsSetupErrors;
use crate::policy::PlaintextRule;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpSocket};

/// Backlog passed to listen(2). The kernel silently caps it at `net.core.somaxconn` (per network
/// namespace; 4096 by default since Linux 5.4), so operators expecting reconnect storms of more
/// switches than that should raise the sysctl: the controller asks for the most listen(2) takes.
pub const LISTEN_BACKLOG: u32 = 65535;

/// Why the listener could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot create a socket for {addr}: {source}")]
    Socket {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up mutual TLS:\n{0}")]
    Tls(#[from] TlsSetupErrors),
    #[error("refusing to listen: {}", PlaintextRule::refusal(*addr))]
    PlaintextRefused { addr: SocketAddr },
    #[error("no OpenFlow listener configured: set [controller] tls_listen (with tls_cert, tls_key, tls_client_ca) or listen")]
    NoListener,
}

/// Binds `addr` with SO_REUSEADDR and a backlog of [`LISTEN_BACKLOG`].
pub fn bind(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|source| ListenError::Socket { addr, source })?;
    socket
        .set_reuseaddr(true)
        .map_err(|source| ListenError::Socket { addr, source })?;
    socket
        .bind(addr)
        .map_err(|source| ListenError::Bind { addr, source })?;
    socket
        .listen(LISTEN_BACKLOG)
        .map_err(|source| ListenError::Listen { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_an_ephemeral_port_and_accepts() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (_, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    }

    #[tokio::test]
    async fn a_port_in_use_is_a_bind_error_naming_the_address() {
        let first = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        // SO_REUSEADDR does not allow two listeners on one port on Linux.
        let err = bind(addr).unwrap_err();
        assert!(matches!(err, ListenError::Bind { .. }), "{err}");
        assert!(err.to_string().contains(&addr.to_string()));
    }
}
