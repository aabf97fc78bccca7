//! When syncs run: never two at once (a trigger during a sync marks the session dirty and the
//! sync re-runs after it), a failed sync retried after an exponential back-off, an audit every
//! `audit_interval` after the last success.

use super::backoff::Backoff;
use super::phase::Phase;
use super::session_policy::SessionTimers;
use super::sync_reason::SyncReason;
use std::time::{Duration, Instant};
use tracing::debug;

/// A sync the clock asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The back-off after a failure ran out: re-run, for the pending trigger's reason.
    Retry(SyncReason),
    /// The audit interval since the last success ran out.
    Audit,
}

/// The back-off, the pending trigger and the next audit.
#[derive(Debug, Clone)]
pub struct SyncSchedule {
    backoff: Backoff,
    /// A trigger that came while a sync ran or waited to retry.
    dirty: Option<SyncReason>,
    next_audit: Option<Instant>,
}

impl SyncSchedule {
    pub fn new(timers: &SessionTimers) -> Self {
        Self {
            backoff: Backoff::new(timers.retry_base, timers.retry_cap),
            dirty: None,
            next_audit: None,
        }
    }

    /// A new policy: its back-off, starting over.
    pub fn policy_changed(&mut self, timers: &SessionTimers) {
        self.backoff = Backoff::new(timers.retry_base, timers.retry_cap);
    }

    /// Something asks for a sync while the session is in `phase`: the reason to start one with
    /// now, or `None` (one runs or waits to retry: it re-runs after; or the handshake is not
    /// done).
    pub fn request(&mut self, phase: Phase, reason: SyncReason) -> Option<SyncReason> {
        match phase {
            Phase::Syncing => {
                debug!(reason = reason.name(), "sync running; marked dirty");
                // A policy change outranks other reasons in the log of the re-run.
                if self.dirty != Some(SyncReason::PolicyChange) {
                    self.dirty = Some(reason);
                }
                None
            }
            Phase::InSync => Some(reason),
            Phase::RetryWait { .. } if reason == SyncReason::PolicyChange => Some(reason),
            Phase::RetryWait { .. } => {
                self.dirty = Some(reason);
                None
            }
            _ => None,
        }
    }

    /// The sync the clock asks for at `now` in `phase`, if any.
    pub fn due(&mut self, phase: Phase, now: Instant) -> Option<Due> {
        match phase {
            Phase::RetryWait { until } if now >= until => {
                Some(Due::Retry(self.dirty.take().unwrap_or(SyncReason::Retry)))
            }
            Phase::InSync if self.next_audit.is_some_and(|a| now >= a) => Some(Due::Audit),
            _ => None,
        }
    }

    /// A sync succeeded at `now`: the back-off starts over, the next audit is an interval away.
    /// Returns the reason of a trigger that came meanwhile (re-run now).
    pub fn succeeded(&mut self, now: Instant, audit_interval: Duration) -> Option<SyncReason> {
        self.backoff.reset();
        self.next_audit = Some(now + audit_interval);
        self.dirty.take()
    }

    /// A sync failed: how long to wait before the retry.
    pub fn failed(&mut self) -> Duration {
        let retry_in = self.backoff.next_delay();
        if self.dirty.is_none() {
            self.dirty = Some(SyncReason::Retry);
        }
        retry_in
    }

    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// When [`SyncSchedule::due`] next asks for a sync in `phase`.
    pub fn next_deadline(&self, phase: Phase) -> Option<Instant> {
        match phase {
            Phase::RetryWait { until } => Some(until),
            Phase::InSync => self.next_audit,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers() -> SessionTimers {
        super::super::fake_policy::TIMERS
    }

    #[test]
    fn a_trigger_during_a_sync_is_kept_a_policy_change_outranking_others() {
        let mut s = SyncSchedule::new(&timers());
        assert_eq!(
            s.request(Phase::InSync, SyncReason::FlowRemoved),
            Some(SyncReason::FlowRemoved)
        );
        assert_eq!(s.request(Phase::Syncing, SyncReason::PolicyChange), None);
        assert_eq!(s.request(Phase::Syncing, SyncReason::PortStatus), None);
        let now = Instant::now();
        assert_eq!(
            s.succeeded(now, Duration::from_secs(60)),
            Some(SyncReason::PolicyChange)
        );
        assert_eq!(s.succeeded(now, Duration::from_secs(60)), None);
        assert_eq!(
            s.request(Phase::AwaitPortDesc, SyncReason::PortStatus),
            None
        );
    }

    #[test]
    fn failures_back_off_and_retry_only_a_policy_change_cuts_the_wait() {
        let mut s = SyncSchedule::new(&timers());
        let t0 = Instant::now();
        let delays: Vec<u64> = (0..5).map(|_| s.failed().as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 8]);
        assert_eq!(s.failures(), 5);
        let wait = Phase::RetryWait {
            until: t0 + Duration::from_secs(8),
        };
        assert_eq!(s.request(wait, SyncReason::PortStatus), None);
        assert_eq!(
            s.request(wait, SyncReason::PolicyChange),
            Some(SyncReason::PolicyChange)
        );
        assert_eq!(s.next_deadline(wait), Some(t0 + Duration::from_secs(8)));
        assert_eq!(s.due(wait, t0 + Duration::from_secs(7)), None);
        assert_eq!(
            s.due(wait, t0 + Duration::from_secs(8)),
            Some(Due::Retry(SyncReason::PortStatus)),
            "the retry runs for the trigger that came meanwhile"
        );
        assert_eq!(
            s.due(wait, t0 + Duration::from_secs(8)),
            Some(Due::Retry(SyncReason::Retry))
        );
        s.succeeded(t0, Duration::from_secs(60));
        assert_eq!(s.failed(), Duration::from_secs(1), "a success resets");
        s.policy_changed(&SessionTimers {
            retry_base: Duration::from_secs(3),
            ..timers()
        });
        assert_eq!(s.failed(), Duration::from_secs(3));
    }

    #[test]
    fn an_audit_is_due_an_interval_after_the_last_success_and_only_in_sync() {
        let mut s = SyncSchedule::new(&timers());
        let t0 = Instant::now();
        assert_eq!(s.next_deadline(Phase::InSync), None);
        assert_eq!(s.due(Phase::InSync, t0 + Duration::from_secs(600)), None);
        s.succeeded(t0, Duration::from_secs(60));
        let at = t0 + Duration::from_secs(60);
        assert_eq!(s.next_deadline(Phase::InSync), Some(at));
        assert_eq!(s.next_deadline(Phase::Syncing), None);
        assert_eq!(
            s.due(
                Phase::InSync,
                at.checked_sub(Duration::from_secs(1)).unwrap()
            ),
            None
        );
        assert_eq!(s.due(Phase::Syncing, at), None);
        assert_eq!(s.due(Phase::InSync, at), Some(Due::Audit));
    }
}
