//! The bridge settings problems `run` currently sees, per OVSDB endpoint (`[ovsdb] endpoints`):
//! written by the monitor task ([`crate::controller::ovsdb_monitor`]), read by `/api/switches`,
//! the metrics and, through the API, `op25b status`.
//!
//! One `RwLock` over a map with one entry per configured endpoint, written when a database
//! changes or the policy is reloaded, never held across an `await`. Bounded by the policy: an
//! endpoint the policy no longer lists is dropped ([`SwitchConfigProblems::set_endpoints`]); each
//! entry holds its database's bridges with a controller and their problems (at most a few per
//! bridge).
use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;

use serde::Serialize;

use crate::doctor::{CheckedBridge, Diagnosis, Problem};
use crate::offenders::UnixMillis;

/// What is known about one endpoint's bridges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EndpointReport {
    /// The endpoint, e.g. `unix:/var/run/openvswitch/db.sock`.
    pub endpoint: String,
    /// Whether the monitor is connected now. While it is not, the bridges and problems are
    /// the last ones seen.
    pub connected: bool,
    /// Why the last connection failed or ended.
    pub last_error: Option<String>,
    /// When the problems were last computed.
    pub checked_at: Option<UnixMillis>,
    /// The bridges with a controller.
    pub bridges: Vec<CheckedBridge>,
    /// Their problems.
    pub problems: Vec<Problem>,
}

/// What changed between two checks of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemChanges {
    /// Problems that were not there before.
    pub appeared: Vec<Problem>,
    /// Problems that are gone (as they were last seen).
    pub cleared: Vec<Problem>,
}

/// The shared problem set. `Default` is empty (no `[ovsdb]` endpoints).
#[derive(Debug, Default)]
pub struct SwitchConfigProblems {
    endpoints: RwLock<BTreeMap<String, EndpointReport>>,
}

impl SwitchConfigProblems {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists exactly `endpoints` (the policy's `[ovsdb] endpoints`): new ones are added, not
    /// connected yet; those no longer listed are dropped with their problems. Only listed
    /// endpoints are written: a check that finishes after its endpoint was dropped is ignored.
    pub fn set_endpoints(&self, endpoints: &[String]) {
        let mut map = self
            .endpoints
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|k, _| endpoints.contains(k));
        for e in endpoints {
            map.entry(e.clone()).or_insert_with(|| EndpointReport {
                endpoint: e.clone(),
                ..EndpointReport::default()
            });
        }
    }

    /// Records a fresh check of `endpoint` (connected now) and returns what changed: a
    /// problem appears or clears by its key (bridge, kind, controller). Nothing when the
    /// endpoint is not listed.
    pub fn publish(&self, endpoint: &str, diagnosis: Diagnosis) -> ProblemChanges {
        let mut map = self
            .endpoints
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(entry) = map.get_mut(endpoint) else {
            return ProblemChanges::default();
        };
        let before: BTreeSet<_> = entry.problems.iter().map(Problem::key).collect();
        let after: BTreeSet<_> = diagnosis.problems.iter().map(Problem::key).collect();
        let changes = ProblemChanges {
            appeared: diagnosis
                .problems
                .iter()
                .filter(|p| !before.contains(&p.key()))
                .cloned()
                .collect(),
            cleared: entry
                .problems
                .iter()
                .filter(|p| !after.contains(&p.key()))
                .cloned()
                .collect(),
        };
        entry.connected = true;
        entry.last_error = None;
        entry.checked_at = Some(UnixMillis::now());
        entry.bridges = diagnosis.checked;
        entry.problems = diagnosis.problems;
        changes
    }

    /// Marks `endpoint` unreachable (its last problems stay); nothing when it is not listed.
    pub fn unreachable(&self, endpoint: &str, error: &str) {
        let mut map = self
            .endpoints
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = map.get_mut(endpoint) {
            entry.connected = false;
            entry.last_error = Some(error.to_owned());
        }
    }

    /// Every endpoint's report, by endpoint.
    pub fn snapshot(&self) -> Vec<EndpointReport> {
        let map = self
            .endpoints
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::ProblemKind;

    fn problem(bridge: &str, kind: ProblemKind, found: &str) -> Problem {
        Problem {
            bridge: bridge.to_owned(),
            dpid: None,
            problem: kind,
            controller: None,
            column: "fail_mode".to_owned(),
            found: found.to_owned(),
            why: String::new(),
            fix: String::new(),
        }
    }

    fn diagnosis(problems: Vec<Problem>) -> Diagnosis {
        Diagnosis {
            problems,
            ..Diagnosis::default()
        }
    }

    #[test]
    fn problems_appear_and_clear_by_bridge_kind_and_controller() {
        let s = SwitchConfigProblems::new();
        s.set_endpoints(&["unix:/db".to_owned()]);
        assert!(!s.snapshot()[0].connected, "listed, not connected yet");
        let a = problem("br0", ProblemKind::FailMode, "standalone");
        let changes = s.publish("unix:/db", diagnosis(vec![a.clone()]));
        assert_eq!(changes.appeared, vec![a.clone()]);
        assert!(changes.cleared.is_empty());
        let same_key = problem("br0", ProblemKind::FailMode, "unset (standalone)");
        assert_eq!(
            s.publish("unix:/db", diagnosis(vec![same_key.clone()])),
            ProblemChanges::default(),
            "the same problem, described differently, neither appears nor clears"
        );
        let b = problem("br1", ProblemKind::FailMode, "standalone");
        let changes = s.publish("unix:/db", diagnosis(vec![b.clone()]));
        assert_eq!(changes.appeared, vec![b]);
        assert_eq!(changes.cleared, vec![same_key]);
        assert!(s.snapshot()[0].connected);
    }

    #[test]
    fn an_unreachable_endpoint_keeps_its_problems_and_unlisted_ones_are_not_written() {
        let s = SwitchConfigProblems::new();
        s.set_endpoints(&["unix:/a".to_owned(), "unix:/b".to_owned()]);
        s.publish(
            "unix:/a",
            diagnosis(vec![problem("br0", ProblemKind::Protocols, "x")]),
        );
        s.unreachable("unix:/a", "closed");
        let snap = s.snapshot();
        assert_eq!(snap[0].problems.len(), 1);
        assert!(!snap[0].connected);
        assert_eq!(snap[0].last_error.as_deref(), Some("closed"));
        s.set_endpoints(&["unix:/b".to_owned()]);
        // A check of a dropped endpoint that finishes late changes nothing.
        let late = s.publish(
            "unix:/a",
            diagnosis(vec![problem("br0", ProblemKind::Protocols, "x")]),
        );
        assert_eq!(late, ProblemChanges::default());
        s.unreachable("unix:/a", "closed");
        let names: Vec<String> = s.snapshot().into_iter().map(|e| e.endpoint).collect();
        assert_eq!(names, ["unix:/b"]);
    }
}
