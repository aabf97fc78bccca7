//! The conflict hold-down. Two *different* switches configured with the same dpid
//! (faucetsdn/faucet#2086) would take over from each other forever. Rule: [`FLAP_TAKEOVERS`] or
//! more takeovers of one dpid within [`FLAP_WINDOW`] is a conflict. Only takeovers an attacker
//! cannot make are counted (from the holder's own host, or with the pinned certificate: see
//! `takeover_rule.rs`); a takeover from the dpid's home address is never counted and never
//! refused, so the side that held the dpid first is never the one locked out. It is logged as an ERROR
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

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_third_takeover_within_the_window_starts_a_hold_down_that_refuses_the_next() {
        let (mut h, t0) = (TakeoverHistory::default(), Instant::now());
        assert_eq!(h.takeover(t0), Takeover::Allowed);
        assert_eq!(h.takeover(t0 + secs(1)), Takeover::Allowed);
        let until = t0 + secs(2) + HOLD_DOWN;
        assert_eq!(
            h.takeover(t0 + secs(2)),
            Takeover::Refused {
                until,
                detected: true
            }
        );
        assert_eq!(
            h.takeover(t0 + secs(3)),
            Takeover::Refused {
                until,
                detected: false
            },
            "detected once"
        );
        assert_eq!(
            h.ends(),
            Some(until),
            "the hold-down outlasts the takeovers"
        );
    }

    #[test]
    fn a_takeover_counts_for_exactly_the_window() {
        let (mut h, t0) = (TakeoverHistory::default(), Instant::now());
        h.takeover(t0);
        h.takeover(t0 + secs(1));
        assert_eq!(h.ends(), Some(t0 + secs(1) + FLAP_WINDOW));
        // The first is older than the window, the second exactly as old: it still counts.
        let now = t0 + secs(1) + FLAP_WINDOW;
        assert_eq!(h.takeover(now), Takeover::Allowed);
        assert!(matches!(
            h.takeover(now),
            Takeover::Refused { detected: true, .. }
        ));
    }

    #[test]
    fn when_the_hold_down_is_over_its_takeovers_are_forgotten_too() {
        let (mut h, t0) = (TakeoverHistory::default(), Instant::now());
        h.takeover(t0);
        h.takeover(t0);
        h.takeover(t0);
        h.end_hold_down_if_over((t0 + HOLD_DOWN).checked_sub(secs(1)).unwrap());
        assert!(matches!(h.takeover(t0), Takeover::Refused { .. }));
        h.end_hold_down_if_over(t0 + HOLD_DOWN);
        assert_eq!(h.ends(), None, "nothing left that matters");
        assert_eq!(h.takeover(t0 + HOLD_DOWN), Takeover::Allowed);
        assert_eq!(h.takeover(t0 + HOLD_DOWN), Takeover::Allowed);
        h.prune(t0 + HOLD_DOWN + FLAP_WINDOW + secs(1));
        assert_eq!(h.ends(), None);
    }
}
