//! A reload's `[reporting]` changes, applied to the running offender service.
//!
//! The offender service runs whatever `enabled` says at start, so turning reporting on by a
//! reload has somewhere to send samples. On every new policy generation this task compares
//! the new `[reporting]` with the one applied before and:
//! - thresholds, window or `max_offenders` changed: the offender table is rebuilt with them
//!   (its tracked subscribers are forgotten, logged at WARN with the count);
//! - `report_path`, `reported_from`, `reporter_org`, `enabled`, `report_max_bytes`,
//!   `report_keep` or any `report_command*` key changed: new report outputs are set up (the
//!   file or stdout sink, and the command runner; none when reporting is off). A sink that
//!   cannot be opened, or a `report_command` whose program is missing or not executable
//!   ([`report_command::check_program`]), is logged at ERROR and the previous outputs stay.
//!
//! A message on the `reopen` channel (the controller sends one on every SIGHUP) opens the
//! report file again by name, so logrotate can rename it away without `copytruncate`.
//!
//! Flows, meters and the sample rate are the sessions' business (they re-sync on reload).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::controller::offender_service::{OffenderHandle, ReportOutputs};
use crate::controller::report_command::{self, CommandSpec, ReportCommandProblem};
use crate::offenders::{
    ContactInfo, OffenderConfig, ReportConfig, ReportError, ReportSink, Rotation,
};
use crate::policy::{ReportPath, Reporting};
use crate::session::active_policy::ActivePolicy;

/// The report settings for `reporting`: `reported_from` as contact, its domain, and
/// `reporter_org` (default that domain) as the X-ARF `reporter` and `sender`.
pub fn report_config(reporting: &Reporting) -> ReportConfig {
    ReportConfig {
        reporter: ContactInfo::from_mailbox(
            &reporting.reported_from,
            reporting.reporter_org.as_deref(),
        ),
        ..ReportConfig::default()
    }
}

/// The sink `reporting` asks for: none when reporting is off or no `report_path` is set.
pub fn report_sink(reporting: &Reporting) -> Result<Option<ReportSink>, ReportError> {
    match (&reporting.report_path, reporting.enabled) {
        (Some(path), true) => {
            ReportSink::for_report_path(path, Rotation::from(reporting)).map(Some)
        }
        _ => Ok(None),
    }
}

/// Why the report outputs `[reporting]` names cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ReportOutputsError {
    #[error(transparent)]
    Sink(#[from] ReportError),
    #[error(transparent)]
    Command(#[from] ReportCommandProblem),
}

/// Everything `reporting` asks for: sender, sink and command (none of them when reporting
/// is off). The command's program is checked here.
pub fn report_outputs(reporting: &Reporting) -> Result<ReportOutputs, ReportOutputsError> {
    let command = match (&reporting.report_command, reporting.enabled) {
        (Some(command), true) => {
            report_command::check_program(command)?;
            CommandSpec::from_reporting(reporting)
        }
        _ => None,
    };
    Ok(ReportOutputs {
        config: report_config(reporting),
        sink: report_sink(reporting)?,
        command,
    })
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
        } else if reporting.report_path.is_some() || reporting.report_command.is_some() {
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
            "[reporting] reported_from is the placeholder (no report_path or report_command set, so no report is made with it)"
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
                || old.reporter_org != new.reporter_org
                || old.report_max_bytes != new.report_max_bytes
                || old.report_keep != new.report_keep
                || old.report_command != new.report_command
                || old.report_command_timeout_secs != new.report_command_timeout_secs
                || old.report_command_queue != new.report_command_queue,
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
        match report_outputs(new) {
            Ok(outputs) => {
                let target = outputs.sink.as_ref().map(|s| s.target().to_owned());
                let command = outputs.command.as_ref().map(|c| c.argv[0].clone());
                match handle.set_outputs(outputs) {
                    Ok(()) => info!(
                        generation,
                        target = target.as_deref().unwrap_or("none"),
                        command = command.as_deref().unwrap_or("none"),
                        "abuse report outputs set by reload"
                    ),
                    Err(e) => {
                        error!(generation, error = %e, "cannot start the new report writer; the previous sink stays");
                    }
                }
            }
            Err(e) => error!(
                generation,
                error = %e,
                "cannot set up the report outputs named by the reload; the previous ones stay"
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
    match report_outputs(reporting) {
        Ok(outputs) => {
            let target = outputs.sink.as_ref().map(|s| s.target().to_owned());
            match handle.set_outputs(outputs) {
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
        let command_only = Reporting {
            report_command: Some(crate::policy::ReportCommand {
                argv: vec!["/usr/local/bin/ticket".to_owned()],
                location: crate::policy::Location {
                    origin: "p.toml".to_owned(),
                    line: 1,
                    column: 1,
                },
            }),
            ..Reporting::default()
        };
        assert_eq!(
            PlaceholderSender::of(&command_only),
            PlaceholderSender::ReportsWritten,
            "reports handed to report_command name the placeholder too"
        );
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
        let command = Reporting {
            report_command: Some(crate::policy::ReportCommand {
                argv: vec!["/usr/local/bin/ticket".to_owned()],
                location: crate::policy::Location {
                    origin: "p.toml".to_owned(),
                    line: 1,
                    column: 1,
                },
            }),
            ..d.clone()
        };
        for changed in [
            command.clone(),
            Reporting {
                report_command_timeout_secs: 3,
                ..command.clone()
            },
            Reporting {
                report_command_queue: 3,
                ..command.clone()
            },
            Reporting {
                reporter_org: Some("Example ISP".to_owned()),
                ..command.clone()
            },
        ] {
            let from = if changed == command { &d } else { &command };
            assert_eq!(
                ReportingChange::between(from, &changed),
                ReportingChange {
                    table: false,
                    sink: true
                },
                "{changed:?}"
            );
        }
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
