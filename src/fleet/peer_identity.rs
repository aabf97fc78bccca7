//! Who is at the other end of an OpenFlow connection, as far as the transport proves it: the
//! address it connected from and, over mutual TLS, the certificate it presented. Claims of a
//! dpid are judged against this (a dpid pinned to a certificate is only ever given to a peer
//! presenting that certificate), and so is whether its samples are trusted.
use crate::policy::CertSha256;
use std::fmt;
use std::net::SocketAddr;

/// How the peer reached us, and what that proves about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP: nothing beyond the source address.
    Plain,
    /// Mutual TLS: the peer's certificate chained to the configured CA; `cert` is the SHA-256 of
    /// its DER encoding.
    Tls { cert: CertSha256 },
}

/// The peer of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIdentity {
    pub addr: SocketAddr,
    pub transport: Transport,
}

impl PeerIdentity {
    /// A plain-TCP peer.
    pub fn plain(addr: SocketAddr) -> Self {
        Self {
            addr,
            transport: Transport::Plain,
        }
    }

    /// A mutual-TLS peer that presented the certificate whose SHA-256 is `cert`.
    pub fn tls(addr: SocketAddr, cert: CertSha256) -> Self {
        Self {
            addr,
            transport: Transport::Tls { cert },
        }
    }

    /// The certificate's fingerprint, over TLS.
    pub fn cert(&self) -> Option<CertSha256> {
        match self.transport {
            Transport::Plain => None,
            Transport::Tls { cert } => Some(cert),
        }
    }
}

impl fmt::Display for PeerIdentity {
    /// `192.0.2.7:40000` for plain TCP, `192.0.2.7:40000 (TLS, cert AB:CD:...)` over TLS.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.transport {
            Transport::Plain => write!(f, "{}", self.addr),
            Transport::Tls { cert } => write!(f, "{} (TLS, cert {cert})", self.addr),
        }
    }
}
