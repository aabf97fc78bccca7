//! Where a session stands: its connection phases, from the HELLO to the close.

use std::fmt;
use std::time::Instant;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    AwaitHello,
    AwaitFeatures,
    AwaitPortDesc,
    Syncing,
    InSync,
    RetryWait {
        until: Instant,
    },
    /// Handshake done; in a cluster this instance is not (yet) the switch's confirmed master:
    /// no syncs, no writes, no samples; the connection is kept warm for a failover.
    Standby,
    Closed,
}

impl Phase {
    /// Still in the handshake (the handshake timeout applies).
    pub fn is_handshake(self) -> bool {
        matches!(
            self,
            Phase::AwaitHello | Phase::AwaitFeatures | Phase::AwaitPortDesc
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::AwaitHello => "await_hello",
            Phase::AwaitFeatures => "await_features",
            Phase::AwaitPortDesc => "await_port_desc",
            Phase::Syncing => "syncing",
            Phase::InSync => "in_sync",
            Phase::RetryWait { .. } => "retry_wait",
            Phase::Standby => "standby",
            Phase::Closed => "closed",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
