//! One connection's watch for a switch that failed open: applies the recognitions of
//! [`super::fail_open`] to what the connection sees, reports a switch failed open (ERROR log,
//! the registry's `failed_open`, which the API and metrics read) and remembers, when the
//! connection ends, when the switch was last heard.

use super::fail_open::{flows_wiped_while_away, FAIL_OPEN_MIN_ABSENCE};
use crate::fleet::registry::{FailOpenEvidence, FailedOpen, SwitchHandle};
use std::time::{Instant, SystemTime};
use tracing::error;

/// What one connection knows for the watch.
#[derive(Debug, Default)]
pub struct FailOpenWatch {
    /// Our flows the switch held, by the registry, when this connection claimed it (`None`:
    /// no earlier connection of this op25b had synced it).
    prior_flows: Option<usize>,
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
        let Some(away) = flows_wiped_while_away(prior, handle.get().last_heard, now, flows_now)
        else {
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
            })
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
                })
            });
        }
    }

    /// The connection ended; the switch was last heard on it at `last_rx` (monotonic).
    pub fn on_end(&self, handle: &SwitchHandle, last_rx: Instant) {
        let heard = SystemTime::now()
            .checked_sub(last_rx.elapsed())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // Also after a takeover: the newer connection is still open, so this is the latest.
        handle.update(|s| s.last_heard = Some(s.last_heard.map_or(heard, |t| t.max(heard))));
    }
}
