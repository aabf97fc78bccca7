//! The conflict hold-down. Two *different* switches configured with the same dpid
//! (faucetsdn/faucet#2086) would take over from each other forever. Rule: [`FLAP_TAKEOVERS`] or
//! more takeovers of one dpid within [`FLAP_WINDOW`] is a conflict. It is logged as an ERROR
//! naming both peer addresses, and for [`HOLD_DOWN`] the connection in place keeps the dpid while
//! every newer claimant is refused (closed right after the handshake). After the hold-down, the
//! next claim is accepted again.
//!
//! One dpid's history; [`super::dpid_claims`] keeps one per dpid, and keeps it after the holder
//! ends only while it can still matter ([`TakeoverHistory::ends`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Takeovers of one dpid within [`FLAP_WINDOW`] that make a conflict.
pub const FLAP_TAKEOVERS: usize = 3;
/// Window over which takeovers are counted.
pub const FLAP_WINDOW: Duration = Duration::from_secs(60);
/// How long newer claimants are refused once a conflict is detected.
pub const HOLD_DOWN: Duration = Duration::from_secs(120);

/// One dpid's takeovers within [`FLAP_WINDOW`] and its hold-down: what detects a conflict.
#[derive(Debug, Default)]
pub(super) struct TakeoverHistory {
    takeovers: VecDeque<Instant>,
    hold_down_until: Option<Instant>,
}

/// What a newer connection's claim on a held dpid may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Takeover {
    /// It takes over (the takeover is counted).
    Allowed,
    /// It is refused: the holder keeps the dpid until `until`. `detected`: this claim is the
    /// one that found the conflict and started the hold-down.
    Refused { until: Instant, detected: bool },
}

impl TakeoverHistory {
    /// Drops takeovers older than [`FLAP_WINDOW`] and a hold-down that is over.
    pub(super) fn prune(&mut self, now: Instant) {
        self.end_hold_down_if_over(now);
        self.drop_old_takeovers(now);
    }

    /// Ends a hold-down that is over at `now`, and the takeovers that led to it.
    pub(super) fn end_hold_down_if_over(&mut self, now: Instant) {
        if self.hold_down_until.is_some_and(|until| now >= until) {
            self.hold_down_until = None;
            self.takeovers.clear();
        }
    }

    fn drop_old_takeovers(&mut self, now: Instant) {
        while self
            .takeovers
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > FLAP_WINDOW)
        {
            self.takeovers.pop_front();
        }
    }

    /// A newer connection claims the held dpid at `now`: refused during a hold-down; a conflict
    /// (and the start of a hold-down) when it would be the [`FLAP_TAKEOVERS`]th takeover within
    /// [`FLAP_WINDOW`]; otherwise allowed and counted.
    pub(super) fn takeover(&mut self, now: Instant) -> Takeover {
        if let Some(until) = self.hold_down_until {
            return Takeover::Refused {
                until,
                detected: false,
            };
        }
        self.drop_old_takeovers(now);
        if self.takeovers.len() + 1 >= FLAP_TAKEOVERS {
            let until = now + HOLD_DOWN;
            self.hold_down_until = Some(until);
            return Takeover::Refused {
                until,
                detected: true,
            };
        }
        self.takeovers.push_back(now);
        Takeover::Allowed
    }

    /// When nothing of this history matters any more (`None`: already nothing does).
    pub(super) fn ends(&self) -> Option<Instant> {
        let takeovers = self.takeovers.back().map(|t| *t + FLAP_WINDOW);
        match (takeovers, self.hold_down_until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}
