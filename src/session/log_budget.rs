//! A rate limit for one peer's repeated warnings: the first [`LogBudget::limit`] in each window
//! are logged one by one, the rest are only counted, and the count is logged once the window is
//! over (or the connection ends). A peer sending 20,000 ERRORs wrote 8.4 MB of log before;
//! now it writes a few lines a minute whatever it sends. Pure: time comes in as a value.

use std::time::{Duration, Instant};

/// Warnings of one kind from one peer: how many went out in the current window, how many were
/// held back.
#[derive(Debug, Clone)]
pub struct LogBudget {
    limit: u32,
    window: Duration,
    /// When the current window opened (`None` before the first warning).
    opened: Option<Instant>,
    logged: u32,
    held_back: u64,
}

/// What to do with one warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Log it. `held_back` warnings of the window that just ended were not logged: say so first.
    Log { held_back: u64 },
    /// Over the limit: count it, do not log it.
    HoldBack,
}

impl LogBudget {
    /// At most `limit` warnings logged per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            opened: None,
            logged: 0,
            held_back: 0,
        }
    }

    /// How many warnings a window logs.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// One more warning at `now`.
    pub fn admit(&mut self, now: Instant) -> Admit {
        let held_back = self.roll(now).unwrap_or(0);
        if self.logged < self.limit {
            self.logged += 1;
            Admit::Log { held_back }
        } else {
            self.held_back += 1;
            Admit::HoldBack
        }
    }

    /// The warnings held back in a window that has ended by `now`, once (`None`: none, or the
    /// window is still open). For a periodic check, so a count is logged even when the peer
    /// stopped.
    pub fn roll(&mut self, now: Instant) -> Option<u64> {
        let opened = *self.opened.get_or_insert(now);
        if now.saturating_duration_since(opened) < self.window {
            return None;
        }
        self.opened = Some(now);
        self.logged = 0;
        Some(std::mem::take(&mut self.held_back)).filter(|&n| n > 0)
    }

    /// The warnings held back and not reported yet, forgotten (the connection ends).
    pub fn take_held_back(&mut self) -> u64 {
        std::mem::take(&mut self.held_back)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_n_per_window_then_a_count() {
        let t0 = Instant::now();
        let mut b = LogBudget::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(b.admit(t0), Admit::Log { held_back: 0 });
        }
        for _ in 0..1000 {
            assert_eq!(b.admit(t0 + Duration::from_secs(1)), Admit::HoldBack);
        }
        assert_eq!(
            b.roll(t0 + Duration::from_secs(59)),
            None,
            "window still open"
        );
        // The next window's first warning carries the count of the last one.
        assert_eq!(
            b.admit(t0 + Duration::from_secs(60)),
            Admit::Log { held_back: 1000 }
        );
        assert_eq!(b.take_held_back(), 0);
    }

    #[test]
    fn a_periodic_roll_reports_once_and_the_end_takes_the_rest() {
        let t0 = Instant::now();
        let mut b = LogBudget::new(1, Duration::from_secs(10));
        b.admit(t0);
        b.admit(t0);
        b.admit(t0);
        assert_eq!(b.roll(t0 + Duration::from_secs(10)), Some(2));
        assert_eq!(b.roll(t0 + Duration::from_secs(30)), None, "reported once");
        b.admit(t0 + Duration::from_secs(31));
        b.admit(t0 + Duration::from_secs(31));
        assert_eq!(b.take_held_back(), 1);
    }
}
