//! Waiting from a blocking test for something another thread or process makes true: call a
//! probe every 100 ms until it yields a value, and fail the test, naming what it waited for,
//! when it does not in time.

use std::time::{Duration, Instant};

/// What `probe` yields first, called every 100 ms; fails the test after `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = probe() {
            return t;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
