//! [`SwitchTls`]: what a simulated switch needs to speak OpenFlow over mutual TLS, as Open
//! vSwitch does with `ssl:` targets -- a rustls client configuration (the CA it verifies the
//! controller's certificate against, the certificate it presents) and the name it expects in
//! the controller's certificate. The handshake runs in [`crate::SimSwitch::connect`] right
//! after TCP connects; closing the connection sends TLS `close_notify`.
//!
//! Session resumption is the client configuration's business: rustls keeps an in-memory store
//! per configuration, so switches that should each resume their own session each need their
//! own store (see [`SwitchTls::with_own_session_store`]).

use std::sync::Arc;

use tokio_rustls::rustls::client::{ClientSessionMemoryCache, Resumption};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::ClientConfig;

/// TLS settings of one simulated switch.
#[derive(Debug, Clone)]
pub struct SwitchTls {
    /// Roots (the controller CA), client certificate and key, versions, resumption.
    pub config: Arc<ClientConfig>,
    /// The name the controller's certificate must carry (its SAN).
    pub server_name: ServerName<'static>,
}

impl SwitchTls {
    /// These settings with a session store of the switch's own (a few tickets), so that its
    /// reconnects resume its own session instead of competing for a shared store's tickets
    /// (TLS 1.3 tickets are single-use; rustls keeps up to 8 per server name and store).
    pub fn with_own_session_store(&self) -> Self {
        let mut config = (*self.config).clone();
        config.resumption = Resumption::store(Arc::new(ClientSessionMemoryCache::new(1)));
        Self {
            config: Arc::new(config),
            server_name: self.server_name.clone(),
        }
    }

    /// These settings without session resumption: every connection a full handshake, as
    /// Open vSwitch 3.1 does (it makes a fresh OpenSSL session per connection).
    pub fn without_resumption(&self) -> Self {
        let mut config = (*self.config).clone();
        config.resumption = Resumption::disabled();
        Self {
            config: Arc::new(config),
            server_name: self.server_name.clone(),
        }
    }
}
