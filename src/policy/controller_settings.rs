//! The `[controller]` section: listening addresses and timers for the runtime.
use std::net::SocketAddr;
use std::time::Duration;

/// Validated `[controller]` settings (all have defaults; the section may be omitted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerSettings {
    /// OpenFlow listen address (default `0.0.0.0:6653`).
    pub listen: SocketAddr,
    /// Send ECHO_REQUEST after this much silence (default 5 s).
    pub echo_interval: Duration,
    /// Drop a switch that stays silent this long (default 15 s, > echo_interval).
    pub echo_timeout: Duration,
    /// Re-read and re-reconcile every switch's flows this often (default 60 s).
    pub audit_interval: Duration,
    /// HELLO + FEATURES + PORT_DESC must complete within this (default 10 s).
    pub handshake_timeout: Duration,
    /// Metrics and JSON API address (default `127.0.0.1:9325`).
    pub api_listen: SocketAddr,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        ControllerSettings {
            listen: SocketAddr::from(([0, 0, 0, 0], 6653)),
            echo_interval: Duration::from_secs(5),
            echo_timeout: Duration::from_secs(15),
            audit_interval: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
            api_listen: SocketAddr::from(([127, 0, 0, 1], 9325)),
        }
    }
}
