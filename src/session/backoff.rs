//! Exponential back-off for failed syncs: base, doubled per consecutive failure, capped.

use std::time::Duration;

/// Delay before the next sync attempt after consecutive failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// `base` after the first failure, doubling up to `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// Records one more failure and returns how long to wait before retrying.
    pub fn next_delay(&mut self) -> Duration {
        let shift = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let factor = 1u32 << shift;
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_then_caps_then_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let got: Vec<_> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 500, 500]);
        assert_eq!(b.failures(), 5);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }

    proptest! {
        #[test]
        fn never_exceeds_cap_and_never_decreases(base in 1u64..10_000, cap in 1u64..100_000, n in 1usize..200) {
            let mut b = Backoff::new(Duration::from_millis(base), Duration::from_millis(cap));
            let mut last = Duration::ZERO;
            for _ in 0..n {
                let d = b.next_delay();
                prop_assert!(d <= Duration::from_millis(cap.max(base)));
                prop_assert!(d >= last);
                last = d;
            }
        }
    }
}
