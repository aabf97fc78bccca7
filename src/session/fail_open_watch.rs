//! One connection's watch for a switch that failed open: applies the recognitions of
//! [`super::fail_open`] to what the connection sees, reports a switch failed open (ERROR log,
//! the registry's `failed_open`, which the API and metrics read) and keeps the registry's
//! `last_heard` up to date (at most [`HEARD_EVERY`] behind, and exact when the connection ends).
//!
//! The absence is measured from the `last_heard` the registry held when this connection claimed
//! the switch, so it does not depend on whether the connection it replaced has ended yet (on a
//! frozen-then-resumed op25b, the switch's new connection can claim the dpid before the old one
//! has read its end). Messages the connection reads right after the process itself stood still
//! (woken more than `STALL_SLACK` after its timer was due, e.g. SIGSTOP) are not heard: they may
//! have waited in the socket all along (seen in the Mininet scenario: the switch's buffered echo
//! request, read on SIGCONT, made a 17 s absence look like 0.2 s).

use super::fail_open::{flows_wiped_while_away, FAIL_OPEN_MIN_ABSENCE};
use crate::fleet::registry::{FailOpenEvidence, FailedOpen, SwitchHandle};
use std::time::{Duration, Instant, SystemTime};
use tracing::error;

/// How often, at most, a connection writes `last_heard` into the registry.
pub const HEARD_EVERY: Duration = Duration::from_secs(1);

/// What one connection knows for the watch.
#[derive(Debug, Default)]
pub struct FailOpenWatch {
    /// Our flows the switch held, by the registry, when this connection claimed it (`None`:
    /// no earlier connection of this op25b had synced it).
    prior_flows: Option<usize>,
    /// The registry's `last_heard` when this connection claimed the switch.
    prior_heard: Option<SystemTime>,
    /// When this connection last wrote `last_heard`.
    heard_written: Option<Instant>,
    /// The first FLOW stats read of this connection has been judged.
    read_judged: bool,
    /// Probes received on this connection.
    probes: u64,
    /// A probe of this connection is in the registry.
    probe_recorded: bool,
}

impl FailOpenWatch {
    /// The connection claimed the switch whose entry is `handle` (before its first sync).
    pub fn on_claim(&mut self, handle: &SwitchHandle) {
        let s = handle.get();
        self.prior_flows = s.synced_generation.map(|_| s.flow_count);
        self.prior_heard = s.last_heard;
    }

    /// A message came from the switch at `now`: `last_heard` is written at most every
    /// [`HEARD_EVERY`].
    pub fn heard(&mut self, handle: &SwitchHandle, now: Instant) {
        if self.heard_written.is_some_and(|t| now < t + HEARD_EVERY) {
            return;
        }
        self.heard_written = Some(now);
        self.on_end(handle, now);
    }

    /// A complete read of our flows (`flows_now` of them); only the connection's first counts.
    pub fn on_flows_read(&mut self, handle: &SwitchHandle, flows_now: usize) {
        if std::mem::replace(&mut self.read_judged, true) {
            return;
        }
        let Some(prior) = self.prior_flows else {
            return;
        };
        let now = SystemTime::now();
        let Some(away) = flows_wiped_while_away(prior, self.prior_heard, now, flows_now) else {
            return;
        };
        error!(
            away_secs = away.as_secs(),
            flows_before = prior,
            "switch came back after {}s without a controller with none of our {prior} flows: it most likely failed open (fail_mode standalone: Open vSwitch flushes every flow and forwards everything, port 25 included, after {}s without a controller); set fail_mode=secure (or it was restarted, or its flows deleted, meanwhile)",
            away.as_secs(),
            FAIL_OPEN_MIN_ABSENCE.as_secs()
        );
        handle.update(|s| {
            s.failed_open = Some(FailedOpen {
                detected_at: now,
                evidence: FailOpenEvidence::FlowsWipedWhileAway,
                away_secs: Some(away.as_secs()),
            });
        });
    }

    /// The switch sent a fail-open probe (`handle`: its entry, once the dpid is known).
    pub fn on_probe(&mut self, handle: Option<&SwitchHandle>) {
        self.probes += 1;
        if self.probes == 1 {
            error!(
                "switch sent Open vSwitch's fail-open probe: it is failed open (fail_mode standalone, no controller had admitted it for 3 x its inactivity probe), forwarding everything with NORMAL, port 25 included; set fail_mode=secure"
            );
        }
        if let (false, Some(h)) = (self.probe_recorded, handle) {
            self.probe_recorded = true;
            h.update(|s| {
                s.failed_open = Some(FailedOpen {
                    detected_at: SystemTime::now(),
                    evidence: FailOpenEvidence::Probe,
                    away_secs: None,
                });
            });
        }
    }

    /// The connection ended (or, from [`FailOpenWatch::heard`], goes on); the switch was last
    /// heard on it at `last_rx` (monotonic).
    pub fn on_end(&self, handle: &SwitchHandle, last_rx: Instant) {
        let heard = SystemTime::now()
            .checked_sub(last_rx.elapsed())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // Never backwards: after a takeover, the older connection's end may come late.
        handle.update(|s| s.last_heard = Some(s.last_heard.map_or(heard, |t| t.max(heard))));
    }
}
