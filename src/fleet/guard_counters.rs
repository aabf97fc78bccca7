//! What the controller refused to trust, counted by a bounded reason: connections closed at
//! accept (`allowed_peers`, `max_connections`, `max_connections_per_peer`) and PACKET_IN
//! samples dropped before the offender table; and samples shed because the offender service
//! was behind (its queue full). Lock-free counters; the metrics read them as
//! `op25b_connections_rejected_total{reason}`, `op25b_samples_rejected_total{reason}` and
//! `op25b_samples_shed_total`.
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a connection was closed right after accept, before any OpenFlow was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRejection {
    /// Its address is outside `allowed_peers`.
    PeerNotAllowed,
    /// `max_connections` were open.
    TooManyConnections,
    /// `max_connections_per_peer` were open from its address.
    TooManyFromPeer,
}

impl ConnectionRejection {
    pub const ALL: [ConnectionRejection; 3] = [
        ConnectionRejection::PeerNotAllowed,
        ConnectionRejection::TooManyConnections,
        ConnectionRejection::TooManyFromPeer,
    ];

    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionRejection::PeerNotAllowed => "peer_not_allowed",
            ConnectionRejection::TooManyConnections => "max_connections",
            ConnectionRejection::TooManyFromPeer => "max_connections_per_peer",
        }
    }
}

/// Why a PACKET_IN was not trusted as a sample of one of our drop flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleRejection {
    /// The connection does not hold its dpid (never claimed, refused, or taken over).
    Unclaimed,
    /// Not our cookie.
    Cookie,
    /// Not from op25b's table.
    Table,
    /// Not sent by an action (our flows send by an output action, OFPR_ACTION).
    Reason,
    /// No `in_port` in its match.
    NoInPort,
    /// Its `in_port` is not one the policy polices on that switch.
    PortNotPoliced,
    /// The frame is not an IP/TCP packet that can be read.
    Unreadable,
    /// Not a TCP connection opening (SYN without ACK/RST).
    NotSyn,
    /// A SYN, but not to a blocked port.
    NotBlockedPort,
    /// A SYN our flows would have forwarded (to a relay, or from an exempt source).
    Allowed,
}

impl SampleRejection {
    pub const ALL: [SampleRejection; 10] = [
        SampleRejection::Unclaimed,
        SampleRejection::Cookie,
        SampleRejection::Table,
        SampleRejection::Reason,
        SampleRejection::NoInPort,
        SampleRejection::PortNotPoliced,
        SampleRejection::Unreadable,
        SampleRejection::NotSyn,
        SampleRejection::NotBlockedPort,
        SampleRejection::Allowed,
    ];

    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            SampleRejection::Unclaimed => "unclaimed",
            SampleRejection::Cookie => "cookie",
            SampleRejection::Table => "table",
            SampleRejection::Reason => "reason",
            SampleRejection::NoInPort => "no_in_port",
            SampleRejection::PortNotPoliced => "port_not_policed",
            SampleRejection::Unreadable => "unreadable",
            SampleRejection::NotSyn => "not_syn",
            SampleRejection::NotBlockedPort => "not_blocked_port",
            SampleRejection::Allowed => "allowed_by_policy",
        }
    }
}

/// The counters, shared by the accept loop, every session and the metrics.
#[derive(Debug, Default)]
pub struct GuardCounters {
    connections: [AtomicU64; ConnectionRejection::ALL.len()],
    samples: [AtomicU64; SampleRejection::ALL.len()],
    shed: AtomicU64,
}

impl GuardCounters {
    /// Counts one rejected connection; returns the count so far for that reason.
    pub fn connection_rejected(&self, why: ConnectionRejection) -> u64 {
        self.connections[why as usize].fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts one rejected sample.
    pub fn sample_rejected(&self, why: SampleRejection) {
        self.samples[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one sample shed: the offender service's queue was full, so the session dropped
    /// it, judged or not, rather than wait (a session never blocks on the offender table).
    pub fn sample_shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// Samples shed so far (all switches, forgotten ones included).
    pub fn samples_shed(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// Connections rejected for `why` so far.
    pub fn connections_rejected(&self, why: ConnectionRejection) -> u64 {
        self.connections[why as usize].load(Ordering::Relaxed)
    }

    /// Samples rejected for `why` so far.
    pub fn samples_rejected(&self, why: SampleRejection) -> u64 {
        self.samples[why as usize].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_counter_and_label() {
        let g = GuardCounters::default();
        for (i, why) in SampleRejection::ALL.into_iter().enumerate() {
            assert_eq!(why as usize, i);
            for _ in 0..=i {
                g.sample_rejected(why);
            }
        }
        for (i, why) in SampleRejection::ALL.into_iter().enumerate() {
            assert_eq!(g.samples_rejected(why), i as u64 + 1, "{}", why.name());
        }
        for (i, why) in ConnectionRejection::ALL.into_iter().enumerate() {
            assert_eq!(why as usize, i);
            assert_eq!(g.connection_rejected(why), 1);
        }
        let mut names: Vec<_> = SampleRejection::ALL.iter().map(|w| w.name()).collect();
        names.extend(ConnectionRejection::ALL.iter().map(|w| w.name()));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 13);
    }
}
