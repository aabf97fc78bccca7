//! Which disconnected switches the registry forgets, and when: after [`DISCONNECTED_RETENTION`],
//! or beyond [`MAX_DISCONNECTED`] (the longest-disconnected first). Disconnects are queued in the
//! order they happen, so finding what is due is a look at the queue's front; a switch that
//! reconnects leaves a tombstone, dropped when it reaches the front or swept out in bulk.
//!
//! The queue knows dpids and times only; the registry decides what a departure means for its
//! entries (see `registry::Shared::sweep_locked`).

use serde::Serialize;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a disconnected switch stays listed (state `disconnected`, its counters, its
/// observations and dpid-labelled metric series) before it is forgotten. A week: a switch that
/// went down on a Friday evening is still there, marked disconnected, on Monday morning.
pub const DISCONNECTED_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// At most this many disconnected switches are kept; beyond it the ones disconnected longest ago
/// are forgotten first (before their retention ends). Bounds memory, `/api/switches` and
/// `/metrics` against a peer that reconnects with a new dpid every time. Connected switches do
/// not count and are never forgotten.
pub const MAX_DISCONNECTED: usize = 10_000;

/// Queue entries left behind by switches that reconnected are swept out once they outnumber
/// the disconnected switches by this many (amortises the sweep to O(1) per reconnect).
pub(super) const COMPACT_SLACK: usize = 1024;

/// Why switches were forgotten, counted since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Forgotten {
    /// Disconnected for longer than [`DISCONNECTED_RETENTION`].
    pub retention: u64,
    /// Disconnected and pushed out by [`MAX_DISCONNECTED`] newer disconnected switches.
    pub cap: u64,
}

/// One disconnect, in the order they happened.
#[derive(Debug, Clone, Copy)]
pub(super) struct Departure {
    pub(super) dpid: u64,
    pub(super) seq: u64,
    at: Instant,
    /// False once the switch reconnected (a tombstone, dropped when it reaches the front).
    pub(super) live: bool,
}

/// The disconnects, oldest first. Invariant (kept by the registry): `disconnected` is the number
/// of listed switches without a connection; each of them has its live departure in `queue`,
/// unless a sweep holding the registry map's write lock has just popped it.
#[derive(Debug, Default)]
pub(super) struct Departures {
    /// Increasing `seq`.
    queue: VecDeque<Departure>,
    next_seq: u64,
    disconnected: usize,
    tombstones: usize,
}

impl Departures {
    /// Switches disconnected now (pushed and not settled).
    pub(super) fn disconnected(&self) -> usize {
        self.disconnected
    }

    /// Entries in the queue, tombstones included (tests bound it).
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Switch `dpid` disconnected at `at`; returns the departure's `seq`.
    pub(super) fn push(&mut self, dpid: u64, at: Instant) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push_back(Departure {
            dpid,
            seq,
            at,
            live: true,
        });
        self.disconnected += 1;
        seq
    }

    /// The switch of departure `seq` is no longer disconnected (reconnected or forgotten).
    pub(super) fn settle(&mut self, seq: u64) {
        self.disconnected = self.disconnected.saturating_sub(1);
        if let Ok(i) = self.queue.binary_search_by_key(&seq, |d| d.seq) {
            if let Some(d) = self.queue.get_mut(i) {
                if d.live {
                    d.live = false;
                    self.tombstones += 1;
                }
            }
        }
        self.drop_leading_tombstones();
        if self.tombstones > self.disconnected + COMPACT_SLACK {
            self.queue.retain(|d| d.live);
            self.tombstones = 0;
        }
    }

    fn drop_leading_tombstones(&mut self) {
        while self.queue.front().is_some_and(|d| !d.live) {
            self.queue.pop_front();
            self.tombstones = self.tombstones.saturating_sub(1);
        }
    }

    /// The oldest departure if it is due at `now` (over the cap, or past its retention).
    pub(super) fn pop_due(&mut self, now: Instant, limits: Limits) -> Option<(Departure, Reason)> {
        self.drop_leading_tombstones();
        let front = self.queue.front()?;
        let reason = if self.disconnected > limits.max_disconnected {
            Reason::Cap
        } else if now.saturating_duration_since(front.at) >= limits.retention {
            Reason::Retention
        } else {
            return None;
        };
        self.queue.pop_front().map(|d| (d, reason))
    }

    /// Whether [`Departures::pop_due`] would return a departure at `now`.
    pub(super) fn anything_due(&mut self, now: Instant, limits: Limits) -> bool {
        self.drop_leading_tombstones();
        self.queue.front().is_some_and(|front| {
            self.disconnected > limits.max_disconnected
                || now.saturating_duration_since(front.at) >= limits.retention
        })
    }
}

/// Why a departure is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    Retention,
    Cap,
}

/// How long, and how many, disconnected switches are kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) retention: Duration,
    pub(super) max_disconnected: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(retention_secs: u64, max_disconnected: usize) -> Limits {
        Limits {
            retention: Duration::from_secs(retention_secs),
            max_disconnected,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// What the registry's sweep does with a due departure: forget the switch, settle it.
    fn forget_due(d: &mut Departures, now: Instant, limits: Limits) -> Option<(u64, Reason)> {
        let (departure, reason) = d.pop_due(now, limits)?;
        d.settle(departure.seq);
        Some((departure.dpid, reason))
    }

    #[test]
    fn a_departure_is_due_when_its_retention_is_over_and_not_before() {
        let (mut d, limits, t0) = (Departures::default(), limits(60, 10), Instant::now());
        d.push(1, t0);
        assert!(!d.anything_due(t0 + secs(59), limits));
        assert!(d.pop_due(t0 + secs(59), limits).is_none());
        assert!(d.anything_due(t0 + secs(60), limits));
        assert_eq!(
            forget_due(&mut d, t0 + secs(60), limits),
            Some((1, Reason::Retention))
        );
        assert_eq!((d.disconnected(), d.queued()), (0, 0));
    }

    #[test]
    fn beyond_the_cap_the_longest_disconnected_are_due_at_once_and_only_they() {
        let (mut d, limits, t0) = (Departures::default(), limits(3600, 2), Instant::now());
        for dpid in 1..=4 {
            d.push(dpid, t0 + secs(dpid));
        }
        let now = t0 + secs(5);
        assert!(d.anything_due(now, limits));
        assert_eq!(forget_due(&mut d, now, limits), Some((1, Reason::Cap)));
        assert_eq!(forget_due(&mut d, now, limits), Some((2, Reason::Cap)));
        assert!(!d.anything_due(now, limits), "at the cap, within retention");
        assert_eq!(forget_due(&mut d, now, limits), None);
        assert_eq!(d.disconnected(), 2);
        assert_eq!(
            forget_due(&mut d, t0 + secs(3603), limits),
            Some((3, Reason::Retention))
        );
    }

    #[test]
    fn a_switch_that_reconnected_is_never_due() {
        let (mut d, limits, t0) = (Departures::default(), limits(60, 10), Instant::now());
        let first = d.push(1, t0);
        d.push(2, t0 + secs(1));
        d.settle(first);
        assert_eq!(d.disconnected(), 1);
        assert_eq!(
            d.queued(),
            1,
            "the tombstone at the front is dropped at once"
        );
        let far = t0 + secs(3600);
        assert_eq!(
            forget_due(&mut d, far, limits),
            Some((2, Reason::Retention))
        );
        assert_eq!(forget_due(&mut d, far, limits), None);
    }

    #[test]
    fn tombstones_behind_a_long_disconnected_switch_are_swept_out() {
        let (mut d, t0) = (Departures::default(), Instant::now());
        d.push(1, t0);
        for _ in 0..100_000 {
            let seq = d.push(7, t0);
            d.settle(seq);
        }
        assert_eq!(d.disconnected(), 1);
        assert!(d.queued() <= 1 + COMPACT_SLACK + 1, "{}", d.queued());
    }
}
