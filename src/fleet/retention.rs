//! Which disconnected switches the registry forgets, and when: after [`DISCONNECTED_RETENTION`],
//! or beyond [`MAX_DISCONNECTED`] (the longest-disconnected first). Disconnects are queued in the
//! order they happen, so finding what is due is a look at the queue's front.

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

/// The disconnects, oldest first. Invariant: `disconnected` is the number of entries in
/// `Tracking::Departed`; each of them has its live departure in `queue`, unless a sweep holding
/// the map's write lock has just popped it.
#[derive(Debug, Default)]
pub(super) struct Departures {
    /// Increasing `seq`.
    pub(super) queue: VecDeque<Departure>,
    next_seq: u64,
    pub(super) disconnected: usize,
    tombstones: usize,
}

impl Departures {
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

    pub(super) fn anything_due(&mut self, now: Instant, limits: Limits) -> bool {
        self.drop_leading_tombstones();
        self.queue.front().is_some_and(|front| {
            self.disconnected > limits.max_disconnected
                || now.saturating_duration_since(front.at) >= limits.retention
        })
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Reason {
    Retention,
    Cap,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) retention: Duration,
    pub(super) max_disconnected: usize,
}
