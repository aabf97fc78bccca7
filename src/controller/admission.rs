//! Who may open an OpenFlow connection: decided right after accept, before any OpenFlow is read
//! and before anything is allocated for the connection beyond its socket. A connection from an
//! address outside `allowed_peers`, or over `max_connections` (in all) or
//! `max_connections_per_peer` (from one source address), is closed at once, counted in
//! [`GuardCounters`] and logged at most once per [`LOG_EVERY`] per reason (with the count since).
//!
//! An admitted connection holds a [`Permit`] for its life; dropping it frees its place. The
//! per-address counts live in a map with one entry per address that has a connection open
//! (at most `max_connections` entries), under a mutex taken twice per connection (admit and
//! end), never per message.
use crate::fleet::guard_counters::{ConnectionRejection, GuardCounters};
use crate::policy::ControllerSettings;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::warn;

/// At most one log line per reason this often.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
    /// Per reason: when it was last logged, and the count then.
    logged: [Option<(Instant, u64)>; ConnectionRejection::ALL.len()],
}

/// The open connections, by source address.
#[derive(Debug, Default)]
pub struct Admission {
    open: Arc<Mutex<Open>>,
}

/// One admitted connection's place; dropping it frees the place.
#[derive(Debug)]
pub struct Permit {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.open.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_peer.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_peer.remove(&self.ip);
            }
        }
    }
}

impl Admission {
    /// A place for a connection from `peer` under `settings`, or why not (counted in
    /// `counters`, logged rate-limited).
    pub fn admit(
        &self,
        peer: SocketAddr,
        settings: &ControllerSettings,
        counters: &GuardCounters,
        now: Instant,
    ) -> Result<Permit, ConnectionRejection> {
        let ip = peer.ip().to_canonical();
        let mut open = self.open.lock();
        let refused = if !settings.peer_allowed(ip) {
            Some(ConnectionRejection::PeerNotAllowed)
        } else if open.total >= settings.max_connections {
            Some(ConnectionRejection::TooManyConnections)
        } else if open.per_peer.get(&ip).copied().unwrap_or(0) >= settings.max_connections_per_peer
        {
            Some(ConnectionRejection::TooManyFromPeer)
        } else {
            None
        };
        if let Some(why) = refused {
            let count = counters.connection_rejected(why);
            let slot = &mut open.logged[why as usize];
            let due = slot.is_none_or(|(at, _)| now.saturating_duration_since(at) >= LOG_EVERY);
            if due {
                let since = count - slot.map_or(0, |(_, c)| c);
                *slot = Some((now, count));
                warn!(%peer, reason = why.name(), refused_since_last_line = since, total_refused = count, "OpenFlow connection refused at accept and closed");
            }
            return Err(why);
        }
        open.total += 1;
        *open.per_peer.entry(ip).or_insert(0) += 1;
        Ok(Permit {
            open: self.open.clone(),
            ip,
        })
    }

    /// Connections holding a place now.
    pub fn open(&self) -> usize {
        self.open.lock().total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(total: usize, per_peer: usize, allowed: Option<&str>) -> ControllerSettings {
        ControllerSettings {
            max_connections: total,
            max_connections_per_peer: per_peer,
            allowed_peers: allowed.map(|p| vec![crate::policy::IpPrefix::parse(p).unwrap()]),
            ..ControllerSettings::default()
        }
    }

    fn peer(last: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, last], port))
    }

    #[test]
    fn limits_per_peer_and_in_all_and_places_come_back_when_permits_drop() {
        let (a, g, now) = (
            Admission::default(),
            GuardCounters::default(),
            Instant::now(),
        );
        let s = settings(3, 2, None);
        let p1 = a.admit(peer(1, 1), &s, &g, now).unwrap();
        let _p2 = a.admit(peer(1, 2), &s, &g, now).unwrap();
        assert_eq!(
            a.admit(peer(1, 3), &s, &g, now).unwrap_err(),
            ConnectionRejection::TooManyFromPeer
        );
        let _p3 = a.admit(peer(2, 1), &s, &g, now).unwrap();
        assert_eq!(
            a.admit(peer(3, 1), &s, &g, now).unwrap_err(),
            ConnectionRejection::TooManyConnections
        );
        drop(p1);
        assert_eq!(a.open(), 2);
        assert!(a.admit(peer(1, 4), &s, &g, now).is_ok());
        assert_eq!(
            g.connections_rejected(ConnectionRejection::TooManyFromPeer),
            1
        );
        assert_eq!(
            g.connections_rejected(ConnectionRejection::TooManyConnections),
            1
        );
    }

    #[test]
    fn addresses_outside_allowed_peers_are_refused_and_take_no_place() {
        let (a, g, now) = (
            Admission::default(),
            GuardCounters::default(),
            Instant::now(),
        );
        let s = settings(10, 10, Some("192.0.2.0/31"));
        assert!(a.admit(peer(1, 1), &s, &g, now).is_ok());
        for i in 0..100 {
            assert_eq!(
                a.admit(peer(9, i), &s, &g, now).unwrap_err(),
                ConnectionRejection::PeerNotAllowed
            );
        }
        assert_eq!(a.open(), 0, "the permit above was dropped");
        assert_eq!(
            g.connections_rejected(ConnectionRejection::PeerNotAllowed),
            100
        );
        assert!(a.open.lock().per_peer.is_empty());
    }
}
