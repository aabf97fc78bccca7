//! A reload's `[reporting]` changes, applied to the running offender service.
//!
//! The offender service runs whatever `enabled` says at start, so turning reporting on by a
//! reload has somewhere to send samples. On every new policy generation this task compares
//! the new `[reporting]` with the one applied before and:
//! - thresholds, window or `max_offenders` changed: the offender table is rebuilt with them
//!   (its tracked subscribers are forgotten, logged at WARN with the count);
//! - `report_path`, `reported_from`, `enabled`, `report_max_bytes` or `report_keep` changed:
//!   a new report sink is opened (or none when reporting is off or no path is set). A sink that
//!   cannot be opened is logged at ERROR and the previous sink stays.
//!
//! A message on the `reopen` channel (the controller sends one on every SIGHUP) opens the
//! report file again by name, so logrotate can rename it away without `copytruncate`.
//!
//! Flows, meters and the sample rate are the sessions' business (they re-sync on reload).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::controller::offender_service::OffenderHandle;
use crate::offenders::{OffenderConfig, ReportConfig, ReportError, ReportSink, Rotation};
use crate::policy::{ReportPath, Reporting};
use crate::session::active_policy::ActivePolicy;

/// The report settings for `reporting` (the sender from the policy, the rest defaults).
pub fn report_config(reporting: &Reporting) -> ReportConfig {
    ReportConfig {
        reported_from: reporting.reported_from.clone(),
        ..ReportConfig::default()
    }
}

/// The sink `reporting` asks for: none when reporting is off or no `report_path` is set.
pub fn report_sink(reporting: &Reporting) -> Result<Option<ReportSink>, ReportError> {
    match (&reporting.report_path, reporting.enabled) {
        (Some(path), true) => {
            ReportSink::for_report_path(path, Rotation::from(reporting), report_config(reporting))
                .map(Some)
        }
        _ => Ok(None),
    }
}

/// How loudly to flag the placeholder sender: reports would be written with it (WARN), or it
/// is in force but nothing is written (INFO), or it is not in use (nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderSender {
    ReportsWritten,
    NotWritten,
    NotInUse,
}

impl PlaceholderSender {
    pub fn of(reporting: &Reporting) -> Self {
        if !reporting.enabled || !reporting.uses_placeholder_sender() {
            PlaceholderSender::NotInUse
        } else if reporting.report_path.is_some() {
            PlaceholderSender::ReportsWritten
        } else {
            PlaceholderSender::NotWritten
        }
    }
}

/// Logs the one `[reporting]` setting that is valid but almost certainly unintended: reports
/// going out with the placeholder sender (at start and at every reload that changes the sink).
pub fn warn_if_placeholder_sender(reporting: &Reporting) {
    match PlaceholderSender::of(reporting) {
        PlaceholderSender::ReportsWritten => warn!(
            reported_from = %reporting.reported_from,
            "[reporting] reported_from is the placeholder: abuse reports will name a mailbox nobody reads; set it to the ISP's abuse address"
        ),
        PlaceholderSender::NotWritten => info!(
            reported_from = %reporting.reported_from,
            "[reporting] reported_from is the placeholder (no report_path set, so no report is written with it)"
        ),
        PlaceholderSender::NotInUse => {}
    }
}

/// What changed between two `[reporting]` sections, as far as the service is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportingChange {
    pub table: bool,
    pub sink: bool,
}

impl ReportingChange {
    pub fn between(old: &Reporting, new: &Reporting) -> Self {
        Self {
            table: OffenderConfig::from(old) != OffenderConfig::from(new),
            sink: old.enabled != new.enabled
                || old.report_path != new.report_path
                || old.reported_from != new.reported_from
                || old.report_max_bytes != new.report_max_bytes
                || old.report_keep != new.report_keep,
        }
    }
}

/// Applies `new` (compared with `old`) to the service; logs what it did.
pub fn apply(handle: &OffenderHandle, old: &Reporting, new: &Reporting, generation: u64) {
    let change = ReportingChange::between(old, new);
    if old.enabled != new.enabled {
        info!(
            generation,
            enabled = new.enabled,
            "[reporting] enabled changed by reload: sampling follows with the re-sync"
        );
    }
    if change.table {
        match handle.reconfigure(OffenderConfig::from(new)) {
            Ok(Some(forgotten)) => warn!(
                generation,
                forgotten,
                threshold_attempts = new.threshold_attempts,
                threshold_destinations = new.threshold_destinations,
                window_secs = new.window_secs,
                max_offenders = new.max_offenders,
                "[reporting] thresholds changed by reload: offender table rebuilt, tracked subscribers forgotten"
            ),
            Ok(None) => {}
            Err(e) => error!(generation, error = %e, "[reporting] thresholds from the reload refused; the table in force stays"),
        }
    }
    if change.sink {
        warn_if_placeholder_sender(new);
        match report_sink(new) {
            Ok(sink) => {
                let target = sink.as_ref().map(|s| s.target().to_owned());
                match handle.set_sink(sink) {
                    Ok(()) => info!(
                        generation,
                        target = target.as_deref().unwrap_or("none"),
                        "abuse report sink set by reload"
                    ),
                    Err(e) => {
                        error!(generation, error = %e, "cannot start the new report writer; the previous sink stays");
                    }
                }
            }
            Err(e) => error!(
                generation,
                error = %e,
                "cannot open the report sink named by the reload; the previous sink stays"
            ),
        }
    }
}

/// Opens `reporting`'s report file again by name (after logrotate renamed it). Nothing to do
/// when no file is written.
pub fn reopen(handle: &OffenderHandle, reporting: &Reporting) {
    if !matches!(reporting.report_path, Some(ReportPath::File(_))) || !reporting.enabled {
        return;
    }
    match report_sink(reporting) {
        Ok(sink) => {
            let target = sink.as_ref().map(|s| s.target().to_owned());
            match handle.set_sink(sink) {
                Ok(()) => info!(
                    target = target.as_deref().unwrap_or("none"),
                    "abuse report file reopened"
                ),
                Err(e) => error!(error = %e, "cannot start the reopened report writer"),
            }
        }
        Err(e) => error!(
            error = %e,
            "cannot reopen the report file; reports keep going to the file open before"
        ),
    }
}

/// Follows the policy channel until `shutdown`, applying each generation's `[reporting]`, and
/// reopens the report file on each message on `reopen_requests`.
pub async fn follow(
    handle: OffenderHandle,
    mut policies: watch::Receiver<Arc<ActivePolicy>>,
    mut reopen_requests: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) {
    let mut applied = policies
        .borrow_and_update()
        .config()
        .policy()
        .reporting()
        .clone();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = policies.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            Some(()) = reopen_requests.recv() => {
                let handle = handle.clone();
                let reporting = applied.clone();
                // Opening a file is blocking I/O.
                if let Err(e) = tokio::task::spawn_blocking(move || reopen(&handle, &reporting)).await {
                    error!(error = %e, "report file reopen task failed");
                }
                continue;
            }
        }
        let active = policies.borrow_and_update().clone();
        let new = active.config().policy().reporting().clone();
        if new != applied {
            apply(&handle, &applied, &new, active.generation());
            applied = new;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_sender_is_flagged_only_when_reports_use_it() {
        let on = Reporting {
            report_path: Some(ReportPath::Stdout),
            ..Reporting::default()
        };
        assert_eq!(
            PlaceholderSender::of(&on),
            PlaceholderSender::ReportsWritten
        );
        assert_eq!(
            PlaceholderSender::of(&Reporting::default()),
            PlaceholderSender::NotWritten
        );
        let off = Reporting {
            enabled: false,
            ..on.clone()
        };
        assert_eq!(PlaceholderSender::of(&off), PlaceholderSender::NotInUse);
        let real = Reporting {
            reported_from: "abuse@isp.example".to_owned(),
            ..on.clone()
        };
        assert_eq!(PlaceholderSender::of(&real), PlaceholderSender::NotInUse);
    }

    #[test]
    fn changes_are_classified_for_the_table_and_the_sink() {
        let d = Reporting::default();
        let thresholds = Reporting {
            threshold_attempts: 10,
            ..d.clone()
        };
        assert_eq!(
            ReportingChange::between(&d, &thresholds),
            ReportingChange {
                table: true,
                sink: false
            }
        );
        let sender = Reporting {
            reported_from: "abuse@isp.example".to_owned(),
            ..d.clone()
        };
        assert_eq!(
            ReportingChange::between(&d, &sender),
            ReportingChange {
                table: false,
                sink: true
            }
        );
        let rate = Reporting {
            sample_rate_pps: 5,
            counters_interval_secs: 3,
            ..d.clone()
        };
        assert_eq!(
            ReportingChange::between(&d, &rate),
            ReportingChange {
                table: false,
                sink: false
            },
            "the meter rate and counter poll are the sessions' business"
        );
    }
}
