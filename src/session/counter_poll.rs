//! Counter poll: between syncs, every `counters_interval` the session reads our flows again (the
//! same cookie-filtered FLOW stats request, its own xid) only to observe the blocking flows'
//! packet and byte counters. It never starts a sync, is skipped while one runs (the sync reads
//! the flows itself, which also counts as a poll), and an ERROR, a refused or oversized reply
//! or a missing one only drops that one poll.

use super::phase::Phase;
use op25b_proto::AssemblyError;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// A poll waiting for its FLOW stats reply.
#[derive(Debug, Clone, Copy)]
struct Outstanding {
    xid: u32,
    deadline: Instant,
    /// How long the reply may take (for the log of a dropped poll).
    timeout: Duration,
}

/// When the next poll is due and the one waiting for its reply.
#[derive(Debug, Clone, Default)]
pub struct CounterPoll {
    /// Set once the handshake is done.
    next_due: Option<Instant>,
    outstanding: Option<Outstanding>,
}

impl CounterPoll {
    /// The handshake is done at `now`: the first poll is an interval away.
    pub fn start(&mut self, now: Instant, interval: Duration) {
        self.next_due = Some(now + interval);
    }

    /// A new interval is in force: a shorter one applies from `now`, not after the old one ran
    /// out.
    pub fn interval_changed(&mut self, now: Instant, interval: Duration) {
        if let Some(due) = self.next_due {
            self.next_due = Some(due.min(now + interval));
        }
    }

    /// A sync read our flows at `now`: that refreshed the counters, the next poll is an
    /// interval from now.
    pub fn refreshed(&mut self, now: Instant, interval: Duration) {
        if self.next_due.is_some() {
            self.next_due = Some(now + interval);
        }
    }

    /// On a tick at `now` in `phase`: drops a poll unanswered past its deadline, and says
    /// whether to send one now (then call [`CounterPoll::sent`]).
    pub fn tick(&mut self, now: Instant, phase: Phase, interval: Duration) -> bool {
        if phase.is_handshake() || phase == Phase::Closed {
            return false;
        }
        if let Some(poll) = self.outstanding {
            if now < poll.deadline {
                return false;
            }
            warn!(
                xid = poll.xid,
                waited = ?poll.timeout,
                "no complete reply to the counter poll; dropped, the next poll retries"
            );
            self.outstanding = None;
        }
        let Some(due) = self.next_due else {
            return false;
        };
        if now < due {
            return false;
        }
        self.next_due = Some(now + interval);
        // While a sync runs, it reads the flows (and their counters) itself.
        phase != Phase::Syncing
    }

    /// The poll went out with `xid` at `now`; its reply is due within `timeout`.
    pub fn sent(&mut self, xid: u32, now: Instant, timeout: Duration) {
        self.outstanding = Some(Outstanding {
            xid,
            deadline: now + timeout,
            timeout,
        });
    }

    /// `xid` is the poll waiting for its reply.
    pub fn asked(&self, xid: u32) -> bool {
        self.outstanding.is_some_and(|p| p.xid == xid)
    }

    /// No poll waits for its reply.
    pub fn is_idle(&self) -> bool {
        self.outstanding.is_none()
    }

    /// The poll's whole reply: the entries to observe, `None` when it listed more than `cap`
    /// (the policy's [`ReadCaps::flows`](super::read_cap::ReadCaps); dropped). Call only when
    /// [`CounterPoll::asked`] the xid.
    pub fn on_reply<F>(&mut self, entries: Vec<F>, cap: usize) -> Option<Vec<F>> {
        self.outstanding = None;
        if entries.len() > cap {
            warn!(
                entries = entries.len(),
                "switch reported more than {cap} flows with our cookie to a counter poll; poll dropped"
            );
            return None;
        }
        debug!(entries = entries.len(), "counter poll read our flows");
        Some(entries)
    }

    /// The switch answered the poll with an ERROR (`names`): dropped, the next poll retries.
    pub fn rejected(&mut self, names: &str) {
        self.outstanding = None;
        warn!(error = %names, "switch rejected the counter poll; the next poll retries");
    }

    /// The codec bridge refused the poll's reply: dropped.
    pub fn refused(&mut self, error: &AssemblyError) {
        self.outstanding = None;
        warn!(%error, "counter poll reply refused; poll dropped");
    }

    /// The connection closes: no poll waits any more.
    pub fn stop(&mut self) {
        self.outstanding = None;
    }

    /// When [`CounterPoll::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.outstanding {
            Some(poll) => Some(poll.deadline),
            None => self.next_due,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(10);

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn polls_every_interval_after_the_handshake_never_during_a_sync() {
        let t0 = Instant::now();
        let mut p = CounterPoll::default();
        assert!(!p.tick(at(t0, 100), Phase::InSync, INTERVAL), "not started");
        assert_eq!(p.next_deadline(), None);
        p.start(t0, INTERVAL);
        assert!(!p.tick(at(t0, 10), Phase::AwaitPortDesc, INTERVAL));
        assert!(!p.tick(at(t0, 9), Phase::InSync, INTERVAL));
        assert!(p.tick(at(t0, 10), Phase::InSync, INTERVAL));
        p.sent(5, t0, Duration::from_secs(25));
        assert!(p.asked(5) && !p.is_idle());
        assert_eq!(p.next_deadline(), Some(at(t0, 25)));
        assert_eq!(p.on_reply(vec!["a"], 1), Some(vec!["a"]));
        assert!(p.is_idle());
        assert_eq!(p.next_deadline(), Some(at(t0, 20)));
        // Due while a sync runs: skipped, and the next one an interval later.
        assert!(!p.tick(at(t0, 20), Phase::Syncing, INTERVAL));
        assert_eq!(p.next_deadline(), Some(at(t0, 30)));
    }

    #[test]
    fn a_sync_read_or_a_shorter_interval_moves_the_next_poll() {
        let t0 = Instant::now();
        let mut p = CounterPoll::default();
        p.refreshed(t0, INTERVAL);
        assert_eq!(p.next_deadline(), None, "not before the handshake");
        p.start(t0, INTERVAL);
        p.refreshed(at(t0, 5), INTERVAL);
        assert_eq!(p.next_deadline(), Some(at(t0, 15)));
        p.interval_changed(at(t0, 6), Duration::from_secs(60));
        assert_eq!(p.next_deadline(), Some(at(t0, 15)), "a longer one waits");
        p.interval_changed(at(t0, 6), Duration::from_secs(2));
        assert_eq!(p.next_deadline(), Some(at(t0, 8)));
    }

    #[test]
    fn an_unanswered_oversized_or_failed_poll_is_dropped() {
        let t0 = Instant::now();
        let mut p = CounterPoll::default();
        p.start(t0, INTERVAL);
        assert!(p.tick(at(t0, 10), Phase::InSync, INTERVAL));
        p.sent(1, t0, Duration::from_secs(25));
        assert!(!p.tick(at(t0, 24), Phase::InSync, INTERVAL));
        assert!(
            p.tick(at(t0, 25), Phase::InSync, INTERVAL),
            "dropped, re-polled"
        );
        p.sent(2, t0, Duration::from_secs(40));
        assert!(!p.asked(1) && p.asked(2));
        assert_eq!(p.on_reply(vec![0u8; 3], 2), None);
        assert!(p.is_idle());
        p.sent(3, t0, Duration::from_secs(50));
        p.rejected("OFPET_BAD_REQUEST/OFPBRC_BAD_STAT");
        assert!(p.is_idle());
        p.sent(4, t0, Duration::from_secs(50));
        p.refused(&AssemblyError::TooManyParts {
            xid: 4,
            max_parts: 1,
        });
        assert!(p.is_idle());
        p.sent(4, t0, Duration::from_secs(50));
        p.stop();
        assert!(p.is_idle());
    }
}
