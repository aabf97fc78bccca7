//! Keepalive: a switch silent for the echo timeout is gone; after the handshake, one silent for
//! the echo interval gets an ECHO_REQUEST. Any message from the switch (its own ECHO_REQUEST
//! included) proves it alive, so a chatty switch is never probed.

use std::time::{Duration, Instant};

/// What the keepalive wants on a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// Send an ECHO_REQUEST (then call [`Keepalive::probed`]).
    Probe,
    /// Nothing came for this long: the connection is dead.
    Silent(Duration),
}

/// When the switch last spoke and when we last probed it.
#[derive(Debug, Clone)]
pub struct Keepalive {
    last_rx: Instant,
    last_probe: Instant,
}

impl Keepalive {
    /// A connection that started at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            last_rx: now,
            last_probe: now,
        }
    }

    /// The switch sent something at `now`.
    pub fn heard(&mut self, now: Instant) {
        self.last_rx = now;
    }

    /// We sent an ECHO_REQUEST at `now`.
    pub fn probed(&mut self, now: Instant) {
        self.last_probe = now;
    }

    /// On a tick at `now`: silent for `echo_timeout`, or (when `probing`) due for a probe
    /// `echo_interval` after the later of its last message and our last probe.
    pub fn check(
        &self,
        now: Instant,
        echo_interval: Duration,
        echo_timeout: Duration,
        probing: bool,
    ) -> Liveness {
        let silent = now.saturating_duration_since(self.last_rx);
        if silent >= echo_timeout {
            return Liveness::Silent(silent);
        }
        if probing && now.saturating_duration_since(self.probe_from()) >= echo_interval {
            return Liveness::Probe;
        }
        Liveness::Alive
    }

    /// When [`Keepalive::check`] next has something to say.
    pub fn next_deadline(
        &self,
        echo_interval: Duration,
        echo_timeout: Duration,
        probing: bool,
    ) -> Instant {
        let dead = self.last_rx + echo_timeout;
        if probing {
            dead.min(self.probe_from() + echo_interval)
        } else {
            dead
        }
    }

    /// The later of the switch's last message and our last probe.
    fn probe_from(&self) -> Instant {
        self.last_rx.max(self.last_probe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(5);
    const TIMEOUT: Duration = Duration::from_secs(15);

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn probes_after_an_interval_of_silence_and_not_again_before_the_next() {
        let t0 = Instant::now();
        let mut k = Keepalive::new(t0);
        assert_eq!(k.next_deadline(INTERVAL, TIMEOUT, true), at(t0, 5));
        assert_eq!(k.check(at(t0, 4), INTERVAL, TIMEOUT, true), Liveness::Alive);
        assert_eq!(k.check(at(t0, 5), INTERVAL, TIMEOUT, true), Liveness::Probe);
        k.probed(at(t0, 5));
        assert_eq!(k.check(at(t0, 6), INTERVAL, TIMEOUT, true), Liveness::Alive);
        assert_eq!(k.next_deadline(INTERVAL, TIMEOUT, true), at(t0, 10));
        // The switch speaking pushes the next probe back.
        k.heard(at(t0, 8));
        assert_eq!(k.next_deadline(INTERVAL, TIMEOUT, true), at(t0, 13));
        assert_eq!(
            k.check(at(t0, 12), INTERVAL, TIMEOUT, true),
            Liveness::Alive
        );
    }

    #[test]
    fn silence_for_the_timeout_is_death_probing_or_not() {
        let t0 = Instant::now();
        let k = Keepalive::new(t0);
        assert_eq!(
            k.check(at(t0, 9), INTERVAL, TIMEOUT, false),
            Liveness::Alive,
            "no probes while not probing"
        );
        assert_eq!(k.next_deadline(INTERVAL, TIMEOUT, false), at(t0, 15));
        assert_eq!(
            k.check(at(t0, 15), INTERVAL, TIMEOUT, false),
            Liveness::Silent(TIMEOUT)
        );
        assert_eq!(
            k.check(at(t0, 16), INTERVAL, TIMEOUT, true),
            Liveness::Silent(Duration::from_secs(16))
        );
    }
}
