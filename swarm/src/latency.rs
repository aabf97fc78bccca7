//! Per-switch times summarised: p50, p99, max (nearest-rank percentiles).
use serde::Serialize;
use std::time::Duration;

/// A summary of per-switch durations, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentile `q` (0 < q <= 100) of sorted `v`; `None` when empty.
pub fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "an f64 `as` usize saturates (NaN and negatives give 0); clamped to 1..=len next"
    )]
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50/p99/max of `times`; `None` when empty.
pub fn summarise(mut times: Vec<Duration>) -> Option<Latency> {
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Some(Latency {
        p50_ms: ms(percentile(&times, 50.0)?),
        p99_ms: ms(percentile(&times, 99.0)?),
        max_ms: ms(*times.last()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = summarise(v).unwrap();
        assert_eq!((s.p50_ms, s.p99_ms, s.max_ms), (50.0, 99.0, 100.0));
        assert_eq!(summarise(vec![]), None);
        let one = summarise(vec![Duration::from_millis(7)]).unwrap();
        assert_eq!((one.p50_ms, one.p99_ms), (7.0, 7.0));
    }

    proptest! {
        #[test]
        fn ordered_and_within_the_data(v in proptest::collection::vec(0u64..1_000_000, 1..300)) {
            let times: Vec<Duration> = v.iter().map(|&u| Duration::from_micros(u)).collect();
            let s = summarise(times).unwrap();
            let ms = |u: u64| Duration::from_micros(u).as_secs_f64() * 1000.0;
            let lo = ms(*v.iter().min().unwrap());
            prop_assert!(lo <= s.p50_ms && s.p50_ms <= s.p99_ms && s.p99_ms <= s.max_ms);
            prop_assert_eq!(s.max_ms, ms(*v.iter().max().unwrap()));
        }
    }
}
