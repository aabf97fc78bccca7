//! Which connection speaks for each datapath id.
//!
//! The same dpid connecting again while an old connection lingers (a half-open TCP session the
//! switch already gave up on): the new connection wins and the old one is closed. Two *different*
//! switches with the same dpid taking over from each other are a conflict, held down (see
//! `takeover_history.rs`).
//!
//! Touched only when a connection learns its dpid or ends, never per message.
//!
//! Bounded: a dpid is tracked while a connection holds it. When its holder ends, its takeover
//! history and hold-down are kept only while they can still matter (a takeover within
//! [`FLAP_WINDOW`], a hold-down not over yet), for at most [`MAX_RELEASED`] dpids (the ones
//! released longest ago are dropped first), then the dpid is forgotten. A dpid with a holder is
//! never dropped, so a claimant refused during a hold-down is refused for the whole hold-down.
//! Released dpids are queued in release order: amortised O(1) per claim or release, no scan.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

use super::takeover_history::{Takeover, TakeoverHistory};
pub use super::takeover_history::{FLAP_TAKEOVERS, FLAP_WINDOW, HOLD_DOWN};

/// At most this many dpids without a holder keep their takeover history or hold-down; beyond
/// it the ones released longest ago are forgotten (their next claim starts a fresh history).
pub const MAX_RELEASED: usize = 10_000;
/// Queue entries of dpids claimed again are swept out once they outnumber the released dpids by
/// this many (amortises the sweep).
const COMPACT_SLACK: usize = 1024;

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
    history: TakeoverHistory,
    /// Without a holder and kept for its history: the `seq` of its entry in `Inner::released`.
    released: Option<u64>,
}

/// A dpid that lost its holder, in release order.
#[derive(Debug, Clone, Copy)]
struct Released {
    dpid: u64,
    seq: u64,
    /// Its history matters until then (inclusive).
    until: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<u64, DpidState>,
    /// Oldest first; entries whose dpid was claimed again (its `released` differs) are stale.
    released: VecDeque<Released>,
    next_seq: u64,
    /// Dpids in `map` without a holder (each has `released` set).
    lingering: usize,
}

impl Inner {
    /// `dpid` has no holder: forget it, or keep it until its history ends.
    fn linger_or_forget(&mut self, dpid: u64, now: Instant) {
        let Some(state) = self.map.get_mut(&dpid) else {
            return;
        };
        if state.holder.is_some() || state.released.is_some() {
            return;
        }
        state.history.prune(now);
        match state.history.ends() {
            None => {
                self.map.remove(&dpid);
            }
            Some(until) => {
                let seq = self.next_seq;
                self.next_seq += 1;
                state.released = Some(seq);
                self.released.push_back(Released { dpid, seq, until });
                self.lingering += 1;
            }
        }
    }

    /// `state` has a holder again.
    fn claimed(&mut self, dpid: u64) {
        if let Some(state) = self.map.get_mut(&dpid) {
            if state.released.take().is_some() {
                self.lingering = self.lingering.saturating_sub(1);
            }
        }
    }

    /// Forgets released dpids whose history is over at `now`, and the longest-released beyond
    /// [`MAX_RELEASED`].
    fn sweep(&mut self, now: Instant, max_released: usize) {
        while let Some(front) = self.released.front().copied() {
            let Some(state) = self
                .map
                .get_mut(&front.dpid)
                .filter(|s| s.released == Some(front.seq) && s.holder.is_none())
            else {
                // Stale: the dpid was claimed again (or forgotten) since.
                self.released.pop_front();
                continue;
            };
            let over_cap = self.lingering > max_released;
            // A takeover exactly FLAP_WINDOW old still counts (see `prune`).
            if !over_cap && now <= front.until {
                break;
            }
            self.released.pop_front();
            state.history.prune(now);
            match state.history.ends() {
                // Still matters at `now` (a clock that went back): queue it again.
                Some(until) if !over_cap && now <= until => {
                    let seq = self.next_seq;
                    self.next_seq += 1;
                    state.released = Some(seq);
                    self.released.push_back(Released {
                        dpid: front.dpid,
                        seq,
                        until,
                    });
                }
                _ => {
                    self.map.remove(&front.dpid);
                    self.lingering = self.lingering.saturating_sub(1);
                }
            }
        }
        if self.released.len() > 2 * self.lingering + COMPACT_SLACK {
            let map = &self.map;
            self.released.retain(|r| {
                map.get(&r.dpid)
                    .is_some_and(|s| s.released == Some(r.seq) && s.holder.is_none())
            });
        }
    }
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
#[derive(Debug)]
pub struct DpidClaims {
    inner: Mutex<Inner>,
    max_released: usize,
}

impl Default for DpidClaims {
    fn default() -> Self {
        Self::new()
    }
}

impl DpidClaims {
    /// Keeps the history of at most [`MAX_RELEASED`] dpids without a holder.
    pub fn new() -> Self {
        Self::with_max_released(MAX_RELEASED)
    }

    /// Keeps the history of at most `max_released` dpids without a holder.
    pub fn with_max_released(max_released: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_released,
        }
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
        let mut inner = self.inner.lock();
        inner.sweep(now, self.max_released);
        // Whatever follows, the dpid has a holder again (a refusal needs one).
        inner.claimed(dpid);
        let state = inner.map.entry(dpid).or_default();
        state.history.end_hold_down_if_over(now);
        let Some(old) = state.holder.take() else {
            state.holder = Some(Holder { conn, peer, close });
            return ClaimOutcome::Accepted;
        };
        if old.conn == conn {
            state.holder = Some(old);
            return ClaimOutcome::Accepted;
        }
        match state.history.takeover(now) {
            Takeover::Refused { until, detected } => {
                let holder_peer = old.peer;
                state.holder = Some(old);
                ClaimOutcome::Refused {
                    holder_peer,
                    until,
                    conflict_detected: detected,
                }
            }
            Takeover::Allowed => {
                old.close.cancel();
                let previous_peer = old.peer;
                state.holder = Some(Holder { conn, peer, close });
                ClaimOutcome::TookOver { previous_peer }
            }
        }
    }

    /// Connection `conn` ended; frees `dpid` if `conn` still held it.
    pub fn release(&self, dpid: u64, conn: ConnId) {
        self.release_at(dpid, conn, Instant::now());
    }

    /// [`DpidClaims::release`] at `now`.
    pub fn release_at(&self, dpid: u64, conn: ConnId, now: Instant) {
        let mut inner = self.inner.lock();
        if let Some(state) = inner.map.get_mut(&dpid) {
            if state.holder.as_ref().is_some_and(|h| h.conn == conn) {
                state.holder = None;
            }
            if state.holder.is_none() {
                inner.linger_or_forget(dpid, now);
            }
        }
        inner.sweep(now, self.max_released);
    }

    /// The connection holding `dpid`, if any.
    pub fn holder(&self, dpid: u64) -> Option<(ConnId, SocketAddr)> {
        let inner = self.inner.lock();
        inner
            .map
            .get(&dpid)
            .and_then(|s| s.holder.as_ref().map(|h| (h.conn, h.peer)))
    }

    /// Forgets released dpids whose history is over at `now` (also done on every claim and
    /// release).
    pub fn sweep(&self, now: Instant) {
        let mut inner = self.inner.lock();
        inner.sweep(now, self.max_released);
    }

    /// Dpids tracked now: held ones plus released ones whose history still matters.
    pub fn tracked(&self) -> usize {
        self.inner.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn takeover(claims: &DpidClaims, dpid: u64, conn: ConnId, now: Instant) -> ClaimOutcome {
        claims.claim(dpid, conn, addr(conn as u16), CancellationToken::new(), now)
    }

    /// Drives `dpid` into a hold-down at `t0` (+1 s): holder is connection 3 at `addr(3)`.
    fn hold_down(claims: &DpidClaims, dpid: u64, t0: Instant) {
        takeover(claims, dpid, 1, t0);
        takeover(claims, dpid, 2, t0);
        takeover(claims, dpid, 3, t0);
        let out = takeover(claims, dpid, 4, t0 + Duration::from_secs(1));
        assert!(
            matches!(
                out,
                ClaimOutcome::Refused {
                    conflict_detected: true,
                    ..
                }
            ),
            "{out:?}"
        );
    }

    fn has_history(claims: &DpidClaims, dpid: u64) -> bool {
        claims.inner.lock().map.contains_key(&dpid)
    }

    #[test]
    fn fifty_thousand_dpids_connecting_once_leave_nothing_behind() {
        let claims = DpidClaims::new();
        let now = Instant::now();
        for dpid in 0..50_000u64 {
            assert_eq!(takeover(&claims, dpid, dpid, now), ClaimOutcome::Accepted);
            claims.release_at(dpid, dpid, now);
        }
        assert_eq!(claims.tracked(), 0);
    }

    #[test]
    fn fifty_thousand_dpids_with_takeovers_stay_at_the_cap_oldest_dropped_first() {
        let claims = DpidClaims::new();
        let now = Instant::now();
        let n = 50_000u64;
        for dpid in 0..n {
            // Two connections with the same dpid: a takeover, then both end.
            takeover(&claims, dpid, 2 * dpid, now);
            assert!(matches!(
                takeover(&claims, dpid, 2 * dpid + 1, now),
                ClaimOutcome::TookOver { .. }
            ));
            claims.release_at(dpid, 2 * dpid, now);
            claims.release_at(dpid, 2 * dpid + 1, now);
            assert!(claims.tracked() <= MAX_RELEASED, "after {dpid}");
        }
        assert_eq!(claims.tracked(), MAX_RELEASED);
        let oldest_kept = n - MAX_RELEASED as u64;
        assert!(!has_history(&claims, oldest_kept - 1));
        assert!(has_history(&claims, oldest_kept));
        assert!(claims.inner.lock().released.len() <= MAX_RELEASED);
        // Once the flap window is over, everything released is forgotten.
        claims.sweep(now + FLAP_WINDOW + Duration::from_secs(1));
        assert_eq!(claims.tracked(), 0);
    }

    #[test]
    fn a_released_history_is_kept_while_it_matters_then_forgotten() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        takeover(&claims, 9, 1, t0);
        takeover(&claims, 9, 2, t0);
        claims.release_at(9, 1, t0);
        claims.release_at(9, 2, t0);
        claims.sweep(t0 + FLAP_WINDOW);
        assert!(has_history(&claims, 9), "the takeover still counts");
        // Two more takeovers within the window are the conflict: the history was kept.
        takeover(&claims, 9, 3, t0 + Duration::from_secs(10));
        takeover(&claims, 9, 4, t0 + Duration::from_secs(10));
        assert!(matches!(
            takeover(&claims, 9, 5, t0 + Duration::from_secs(11)),
            ClaimOutcome::Refused {
                conflict_detected: true,
                ..
            }
        ));
        claims.release_at(9, 4, t0 + Duration::from_secs(12));
        // Released during the hold-down: kept until the hold-down is over.
        let end = t0 + Duration::from_secs(11) + HOLD_DOWN;
        claims.sweep(end - Duration::from_secs(1));
        assert!(has_history(&claims, 9));
        claims.sweep(end);
        assert!(has_history(&claims, 9));
        claims.sweep(end + Duration::from_millis(1));
        assert!(!has_history(&claims, 9));
        assert_eq!(claims.tracked(), 0);
    }

    #[test]
    fn the_hold_down_still_refuses_under_heavy_churn() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        hold_down(&claims, 7, t0);
        // 50,000 other dpids taking over from themselves and going away: far beyond the cap.
        for dpid in 100..50_100u64 {
            takeover(&claims, dpid, 10 * dpid, t0 + Duration::from_secs(2));
            takeover(&claims, dpid, 10 * dpid + 1, t0 + Duration::from_secs(2));
            claims.release_at(dpid, 10 * dpid, t0 + Duration::from_secs(2));
            claims.release_at(dpid, 10 * dpid + 1, t0 + Duration::from_secs(2));
        }
        assert!(claims.tracked() <= MAX_RELEASED + 1);
        let out = takeover(&claims, 7, 5, t0 + Duration::from_secs(100));
        assert!(
            matches!(
                out,
                ClaimOutcome::Refused {
                    conflict_detected: false,
                    ..
                }
            ),
            "{out:?}"
        );
        assert_eq!(claims.holder(7), Some((3, addr(3))));
        // The holder ends during the hold-down: the next claimant gets the dpid, the one after
        // it is still refused until the hold-down is over.
        claims.release_at(7, 3, t0 + Duration::from_secs(101));
        assert_eq!(
            takeover(&claims, 7, 6, t0 + Duration::from_secs(102)),
            ClaimOutcome::Accepted
        );
        assert!(matches!(
            takeover(&claims, 7, 7, t0 + Duration::from_secs(103)),
            ClaimOutcome::Refused { .. }
        ));
        assert_eq!(claims.holder(7), Some((6, addr(6))));
    }

    #[test]
    fn one_dpid_flapping_forever_keeps_the_queue_small() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        for i in 0..100_000u64 {
            // A takeover each time, spread so that no hold-down starts.
            let now = t0 + FLAP_WINDOW * (i as u32);
            takeover(&claims, 1, 2 * i, now);
            takeover(&claims, 1, 2 * i + 1, now);
            claims.release_at(1, 2 * i, now);
            claims.release_at(1, 2 * i + 1, now);
        }
        assert_eq!(claims.tracked(), 1);
        assert!(claims.inner.lock().released.len() <= COMPACT_SLACK + 2);
    }

    #[test]
    fn without_room_a_released_hold_down_is_forgotten_and_the_next_claim_starts_afresh() {
        let claims = DpidClaims::with_max_released(0);
        let t0 = Instant::now();
        hold_down(&claims, 7, t0);
        // While held, it is kept whatever the cap.
        claims.sweep(t0 + Duration::from_secs(2));
        assert!(matches!(
            takeover(&claims, 7, 5, t0 + Duration::from_secs(2)),
            ClaimOutcome::Refused { .. }
        ));
        claims.release_at(7, 3, t0 + Duration::from_secs(3));
        assert_eq!(claims.tracked(), 0);
        assert_eq!(
            takeover(&claims, 7, 8, t0 + Duration::from_secs(4)),
            ClaimOutcome::Accepted
        );
        assert!(matches!(
            takeover(&claims, 7, 9, t0 + Duration::from_secs(4)),
            ClaimOutcome::TookOver { .. }
        ));
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
