//! Which connection speaks for each datapath id.
//!
//! Claims are judged by the takeover rule (`takeover_rule.rs`, the rule written out there and
//! in docs/operating.md): a dpid pinned to a certificate goes only to that certificate; a live
//! holder is displaced only by its own host, its own key, or the dpid's home address (the
//! address of the first connection that held it); anyone else is refused and the holder is
//! not touched. Takeovers by the same host or key that flap (two switches configured with one
//! dpid) are a conflict, held down (see `takeover_history.rs`); a takeover from home is never
//! refused by the hold-down and never counts towards it.
//!
//! Touched only when a connection learns its dpid or ends, never per message.
//!
//! Bounded: a dpid is tracked while a connection holds it. When its holder ends, its home
//! address, takeover history and hold-down are kept only while they can still matter (the home
//! for [`HOME_MEMORY`], a takeover within [`FLAP_WINDOW`], a hold-down not over yet), for at
//! most [`MAX_RELEASED`] dpids (the ones released longest ago are dropped first), then the dpid
//! is forgotten. A dpid with a holder is never dropped, so a claimant refused during a
//! hold-down is refused for the whole hold-down. Released dpids are queued in release order:
//! amortised O(1) per claim or release, no scan.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::peer_identity::PeerIdentity;
use super::takeover_history::{Takeover, TakeoverHistory};
pub use super::takeover_history::{FLAP_TAKEOVERS, FLAP_WINDOW, HOLD_DOWN};
pub use super::takeover_rule::Entitlement;
use super::takeover_rule::{judge, Judgement};
use crate::policy::CertSha256;

/// How long a released dpid remembers its home address: a real switch away for less than this
/// takes its dpid back from whoever holds it when it returns from home.
pub const HOME_MEMORY: Duration = Duration::from_secs(24 * 3600);

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
    peer: PeerIdentity,
    close: CancellationToken,
}

#[derive(Debug, Default)]
struct DpidState {
    holder: Option<Holder>,
    history: TakeoverHistory,
    /// The IP address of the first connection that held the dpid (unpinned dpids only).
    home: Option<IpAddr>,
    /// Without a holder: the home is forgotten after this.
    home_until: Option<Instant>,
    /// Without a holder and kept for its history: the `seq` of its entry in `Inner::released`.
    released: Option<u64>,
}

impl DpidState {
    /// When nothing of this dpid's state matters any more (`None`: already nothing does).
    fn ends(&self, now: Instant) -> Option<Instant> {
        let home = self.home_until.filter(|t| *t >= now);
        match (self.history.ends(), home) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
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
        if state.home.is_some() && state.home_until.is_none() {
            state.home_until = Some(now + HOME_MEMORY);
        }
        match state.ends(now) {
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
            state.home_until = None;
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
            // A takeover exactly FLAP_WINDOW old still counts (see `prune`), a home exactly
            // HOME_MEMORY old is still remembered.
            if !over_cap && now <= front.until {
                break;
            }
            self.released.pop_front();
            state.history.prune(now);
            match state.ends(now) {
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
    TookOver {
        previous_peer: SocketAddr,
        why: Entitlement,
    },
    /// The claimant is refused; nothing changed.
    Refused(Refusal),
}

/// Why a claim was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The dpid is pinned to `pinned`; the claimant presented `presented` (None: plain TCP).
    Unbound {
        pinned: CertSha256,
        presented: Option<CertSha256>,
        /// The connection holding the dpid, if any (it is not disturbed).
        holder_peer: Option<SocketAddr>,
    },
    /// A live session from another address holds the (unpinned) dpid.
    HolderAlive { holder_peer: SocketAddr },
    /// The conflict hold-down: `holder_peer` keeps the dpid until `until`.
    HoldDown {
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

    /// Connection `conn` from `peer` has learned it is `dpid`, which the policy pins to the
    /// certificate `pin` (if any). `close` is cancelled if it later loses the dpid to a newer
    /// connection. The takeover rule (module docs) decides.
    pub fn claim(
        &self,
        dpid: u64,
        conn: ConnId,
        peer: PeerIdentity,
        pin: Option<CertSha256>,
        close: CancellationToken,
        now: Instant,
    ) -> ClaimOutcome {
        let mut inner = self.inner.lock();
        inner.sweep(now, self.max_released);
        let held = inner.map.get(&dpid).and_then(|s| s.holder.as_ref());
        if held.is_some_and(|h| h.conn == conn) {
            return ClaimOutcome::Accepted;
        }
        let holder = held.map(|h| h.peer);
        let home = inner.map.get(&dpid).and_then(|s| s.home);
        let entitlement = match judge(&peer, pin, holder.as_ref(), home) {
            Judgement::Unbound { pinned, presented } => {
                return ClaimOutcome::Refused(Refusal::Unbound {
                    pinned,
                    presented,
                    holder_peer: holder.map(|h| h.addr),
                });
            }
            Judgement::HolderStays => {
                let holder_peer = holder.map_or(peer.addr, |h| h.addr);
                return ClaimOutcome::Refused(Refusal::HolderAlive { holder_peer });
            }
            Judgement::Free => None,
            Judgement::Entitled(why) => Some(why),
        };
        // The dpid has a holder again from here on.
        inner.claimed(dpid);
        let state = inner.map.entry(dpid).or_default();
        state.history.end_hold_down_if_over(now);
        if state.home.is_none() && pin.is_none() {
            state.home = Some(peer.addr.ip());
        }
        let new = Holder { conn, peer, close };
        let (Some(why), Some(old)) = (entitlement, state.holder.take()) else {
            state.holder = Some(new);
            return ClaimOutcome::Accepted;
        };
        if why.counts_for_hold_down() {
            if let Takeover::Refused { until, detected } = state.history.takeover(now) {
                let holder_peer = old.peer.addr;
                state.holder = Some(old);
                return ClaimOutcome::Refused(Refusal::HoldDown {
                    holder_peer,
                    until,
                    conflict_detected: detected,
                });
            }
        }
        old.close.cancel();
        state.holder = Some(new);
        ClaimOutcome::TookOver {
            previous_peer: old.peer.addr,
            why,
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
            .and_then(|s| s.holder.as_ref().map(|h| (h.conn, h.peer.addr)))
    }

    /// Forgets released dpids whose history is over at `now` (also done on every claim and
    /// release).
    pub fn sweep(&self, now: Instant) {
        let mut inner = self.inner.lock();
        inner.sweep(now, self.max_released);
    }

    /// The home address of `dpid`, if known.
    pub fn home(&self, dpid: u64) -> Option<IpAddr> {
        self.inner.lock().map.get(&dpid).and_then(|s| s.home)
    }

    /// Dpids tracked now: held ones plus released ones whose history still matters.
    pub fn tracked(&self) -> usize {
        self.inner.lock().map.len()
    }
}

#[cfg(test)]
#[path = "dpid_claims_tests.rs"]
mod tests;
