//! The policy file's `[reporting]` section, mapped onto the offender table and the report sink.

use std::time::Duration;

use crate::policy::{ReportPath, Reporting};

use super::report::{ReportError, ReportSink};
use super::report_file::Rotation;
use super::table::OffenderConfig;

impl From<&Reporting> for OffenderConfig {
    /// Thresholds, window and bound come from the policy; the retransmission window and the
    /// per-entry destination cap keep their defaults (the policy has no keys for them).
    fn from(reporting: &Reporting) -> Self {
        Self {
            max_offenders: reporting.max_offenders,
            flag_attempts: usize::try_from(reporting.threshold_attempts).unwrap_or(usize::MAX),
            flag_distinct_destinations: usize::try_from(reporting.threshold_destinations)
                .unwrap_or(usize::MAX),
            window: Duration::from_secs(reporting.window_secs),
            ipv6_prefix_len: reporting.ipv6_prefix_len,
            ..OffenderConfig::default()
        }
    }
}

impl ReportSink {
    /// Opens the sink the policy names: standard output for `"-"`, else the file (appended,
    /// rotated by `report_max_bytes` / `report_keep`).
    pub fn for_report_path(path: &ReportPath, rotation: Rotation) -> Result<Self, ReportError> {
        match path {
            ReportPath::Stdout => Ok(Self::stdout()),
            ReportPath::File(file) => Self::rotating_file(file, rotation),
        }
    }
}

impl From<&Reporting> for Rotation {
    fn from(reporting: &Reporting) -> Self {
        Self {
            max_bytes: reporting.report_max_bytes,
            keep: reporting.report_keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offenders::table::{OffenderConfigError, OffenderTable};

    #[test]
    fn policy_defaults_give_table_defaults() {
        assert_eq!(
            OffenderConfig::from(&Reporting::default()),
            OffenderConfig::default()
        );
    }

    #[test]
    fn policy_thresholds_are_carried_over() {
        let reporting = Reporting {
            max_offenders: 7,
            threshold_attempts: 12,
            threshold_destinations: 3,
            window_secs: 60,
            ipv6_prefix_len: 56,
            ..Reporting::default()
        };
        let config = OffenderConfig::from(&reporting);
        assert_eq!(config.ipv6_prefix_len, 56);
        assert_eq!(config.max_offenders, 7);
        assert_eq!(config.flag_attempts, 12);
        assert_eq!(config.flag_distinct_destinations, 3);
        assert_eq!(config.window, Duration::from_secs(60));
        assert!(OffenderTable::new(config).is_ok());
    }

    #[test]
    fn a_policy_asking_for_more_hosts_than_attempts_is_refused_by_the_table() {
        let reporting = Reporting {
            threshold_attempts: 3,
            threshold_destinations: 5,
            ..Reporting::default()
        };
        assert!(matches!(
            OffenderTable::new(OffenderConfig::from(&reporting)).err(),
            Some(OffenderConfigError::DistinctAboveAttempts { .. })
        ));
    }

    #[test]
    fn report_path_stdout_and_file() {
        let sink =
            ReportSink::for_report_path(&ReportPath::Stdout, Rotation::default()).expect("stdout");
        assert_eq!(sink.target(), "stdout");
        let missing = std::path::PathBuf::from("/nonexistent-op25b-dir/reports.jsonl");
        assert!(matches!(
            ReportSink::for_report_path(&ReportPath::File(missing), Rotation::default()),
            Err(ReportError::Open { .. })
        ));
    }
}
