//! Which connection speaks for each datapath id.
//!
//! The same dpid connecting again while an old connection lingers (a half-open TCP session the
//! switch already gave up on): the new connection wins and the old one is closed.
//!
//! Two *different* switches configured with the same dpid (faucetsdn/faucet#2086) would take over
//! from each other forever. Rule: [`FLAP_TAKEOVERS`] or more takeovers of one dpid within
//! [`FLAP_WINDOW`] is a conflict. It is logged as an ERROR naming both peer addresses, and for
//! [`HOLD_DOWN`] the connection in place keeps the dpid while every newer claimant is refused
//! (closed right after the handshake). After the hold-down, the next claim is accepted again.
//!
//! Touched only when a connection learns its dpid or ends, never per message.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Takeovers of one dpid within [`FLAP_WINDOW`] that make a conflict.
pub const FLAP_TAKEOVERS: usize = 3;
/// Window over which takeovers are counted.
pub const FLAP_WINDOW: Duration = Duration::from_secs(60);
/// How long newer claimants are refused once a conflict is detected.
pub const HOLD_DOWN: Duration = Duration::from_secs(120);

/// Identity of one TCP connection for the life of the process.
pub type ConnId = u64;

#[derive(Debug)]
struct Holder {
    conn: ConnId,
    peer: SocketAddr,
    close: CancellationToken,
}

#[derive(Debug, Default)]
struct DpidState {
    holder: Option<Holder>,
    takeovers: VecDeque<Instant>,
    hold_down_until: Option<Instant>,
}

/// What a claim resulted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The claimant now holds the dpid; no one held it.
    Accepted,
    /// The claimant holds the dpid; the previous holder (at `previous_peer`) was told to close.
    TookOver { previous_peer: SocketAddr },
    /// The claimant is refused: `holder_peer` keeps the dpid until `until`.
    Refused {
        holder_peer: SocketAddr,
        until: Instant,
        /// True when this claim is the one that detected the conflict (log it as an ERROR once).
        conflict_detected: bool,
    },
}

/// dpid -> the connection that speaks for it.
#[derive(Debug, Default)]
pub struct DpidClaims {
    inner: Mutex<HashMap<u64, DpidState>>,
}

impl DpidClaims {
    pub fn new() -> Self {
        Self::default()
    }

    /// Connection `conn` from `peer` has learned it is `dpid`. `close` is cancelled if it later loses
    /// the dpid to a newer connection.
    pub fn claim(
        &self,
        dpid: u64,
        conn: ConnId,
        peer: SocketAddr,
        close: CancellationToken,
        now: Instant,
    ) -> ClaimOutcome {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let state = map.entry(dpid).or_default();
        if let Some(until) = state.hold_down_until {
            if now >= until {
                state.hold_down_until = None;
                state.takeovers.clear();
            }
        }
        let Some(old) = state.holder.take() else {
            state.holder = Some(Holder { conn, peer, close });
            return ClaimOutcome::Accepted;
        };
        if old.conn == conn {
            state.holder = Some(old);
            return ClaimOutcome::Accepted;
        }
        if let Some(until) = state.hold_down_until {
            let holder_peer = old.peer;
            state.holder = Some(old);
            return ClaimOutcome::Refused {
                holder_peer,
                until,
                conflict_detected: false,
            };
        }
        while state
            .takeovers
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > FLAP_WINDOW)
        {
            state.takeovers.pop_front();
        }
        if state.takeovers.len() + 1 >= FLAP_TAKEOVERS {
            let until = now + HOLD_DOWN;
            state.hold_down_until = Some(until);
            let holder_peer = old.peer;
            state.holder = Some(old);
            return ClaimOutcome::Refused {
                holder_peer,
                until,
                conflict_detected: true,
            };
        }
        state.takeovers.push_back(now);
        old.close.cancel();
        let previous_peer = old.peer;
        state.holder = Some(Holder { conn, peer, close });
        ClaimOutcome::TookOver { previous_peer }
    }

    /// Connection `conn` ended; frees `dpid` if `conn` still held it.
    pub fn release(&self, dpid: u64, conn: ConnId) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(state) = map.get_mut(&dpid) {
            if state.holder.as_ref().is_some_and(|h| h.conn == conn) {
                state.holder = None;
            }
            if state.holder.is_none()
                && state.hold_down_until.is_none()
                && state.takeovers.is_empty()
            {
                map.remove(&dpid);
            }
        }
    }

    /// The connection holding `dpid`, if any.
    pub fn holder(&self, dpid: u64) -> Option<(ConnId, SocketAddr)> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&dpid)
            .and_then(|s| s.holder.as_ref().map(|h| (h.conn, h.peer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn first_claim_is_accepted_and_release_frees_it() {
        let claims = DpidClaims::new();
        let now = Instant::now();
        let t = CancellationToken::new();
        assert_eq!(
            claims.claim(1, 10, addr(1000), t.clone(), now),
            ClaimOutcome::Accepted
        );
        assert_eq!(claims.holder(1), Some((10, addr(1000))));
        claims.release(1, 10);
        assert_eq!(claims.holder(1), None);
        assert!(!t.is_cancelled());
    }

    #[test]
    fn a_newer_connection_takes_over_and_the_old_one_is_cancelled() {
        let claims = DpidClaims::new();
        let now = Instant::now();
        let old = CancellationToken::new();
        claims.claim(1, 10, addr(1000), old.clone(), now);
        let out = claims.claim(1, 11, addr(1001), CancellationToken::new(), now);
        assert_eq!(
            out,
            ClaimOutcome::TookOver {
                previous_peer: addr(1000)
            }
        );
        assert!(old.is_cancelled());
        // The old connection's release must not free the new holder.
        claims.release(1, 10);
        assert_eq!(claims.holder(1), Some((11, addr(1001))));
    }

    #[test]
    fn flapping_between_two_switches_is_detected_and_held_down() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        claims.claim(7, 1, addr(1), CancellationToken::new(), t0);
        // takeovers 1 and 2 are allowed
        assert!(matches!(
            claims.claim(7, 2, addr(2), CancellationToken::new(), t0),
            ClaimOutcome::TookOver { .. }
        ));
        assert!(matches!(
            claims.claim(7, 3, addr(3), CancellationToken::new(), t0),
            ClaimOutcome::TookOver { .. }
        ));
        // the third within the window is the conflict: refused, holder stays
        let third = CancellationToken::new();
        let out = claims.claim(7, 4, addr(4), third.clone(), t0 + Duration::from_secs(1));
        match out {
            ClaimOutcome::Refused {
                holder_peer,
                conflict_detected,
                ..
            } => {
                assert_eq!(holder_peer, addr(3));
                assert!(conflict_detected);
            }
            other => panic!("expected refusal, got {other:?}"),
        }
        assert_eq!(claims.holder(7), Some((3, addr(3))));
        // further claims during hold-down are refused without a new detection
        let out = claims.claim(
            7,
            5,
            addr(5),
            CancellationToken::new(),
            t0 + Duration::from_secs(2),
        );
        assert!(matches!(
            out,
            ClaimOutcome::Refused {
                conflict_detected: false,
                ..
            }
        ));
        // after the hold-down the next claim takes over again
        let later = t0 + Duration::from_secs(1) + HOLD_DOWN;
        let out = claims.claim(7, 6, addr(6), CancellationToken::new(), later);
        assert!(matches!(out, ClaimOutcome::TookOver { .. }));
    }

    #[test]
    fn takeovers_spread_beyond_the_window_are_not_a_conflict() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        claims.claim(7, 0, addr(1), CancellationToken::new(), t0);
        for i in 1..10u64 {
            let now = t0 + FLAP_WINDOW * (i as u32);
            let out = claims.claim(7, i, addr(i as u16), CancellationToken::new(), now);
            assert!(
                matches!(out, ClaimOutcome::TookOver { .. }),
                "claim {i}: {out:?}"
            );
        }
    }
}
