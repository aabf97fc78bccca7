//! One thing wrong with a bridge's settings, the command that fixes it, and the result of
//! checking a whole database.
use crate::policy::Dpid;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// What is wrong. Its [`name`](ProblemKind::name) is the `problem` label of the
/// `op25b_switch_config_problems` metric and the `problem` field of the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// `fail_mode` is `standalone` or unset: the bridge forwards everything when the
    /// controller is away.
    FailMode,
    /// `protocols` leaves out OpenFlow13.
    Protocols,
    /// `other_config:datapath-id` is not pinned.
    DatapathIdUnpinned,
    /// The dpid is not in the policy and `[defaults]` polices no port.
    DpidNotInPolicy,
    /// A controller target that is not this controller.
    ControllerTarget,
    /// `max_backoff` longer than the policy's `echo_timeout_secs`.
    MaxBackoff,
    /// `inactivity_probe` off, or too long for the policy's `echo_timeout_secs`.
    InactivityProbe,
    /// `other_config:vlan-limit` of the `Open_vSwitch` table is not unset, 1 or 2.
    VlanLimit,
}

impl ProblemKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ProblemKind; 8] = [
        ProblemKind::FailMode,
        ProblemKind::Protocols,
        ProblemKind::DatapathIdUnpinned,
        ProblemKind::DpidNotInPolicy,
        ProblemKind::ControllerTarget,
        ProblemKind::MaxBackoff,
        ProblemKind::InactivityProbe,
        ProblemKind::VlanLimit,
    ];

    /// The stable name (snake case).
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::FailMode => "fail_mode",
            ProblemKind::Protocols => "protocols",
            ProblemKind::DatapathIdUnpinned => "datapath_id_unpinned",
            ProblemKind::DpidNotInPolicy => "dpid_not_in_policy",
            ProblemKind::ControllerTarget => "controller_target",
            ProblemKind::MaxBackoff => "max_backoff",
            ProblemKind::InactivityProbe => "inactivity_probe",
            ProblemKind::VlanLimit => "vlan_limit",
        }
    }
}

/// One problem of one bridge. Display: one line naming the bridge, the column, what it is, why
/// it matters and the fix, e.g.
/// `br0: fail_mode is standalone: ...; fix: ovs-vsctl set-fail-mode br0 secure` or
/// `br0: controller tcp:192.0.2.1:6653 max_backoff is 60000 ms: ...; fix: ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The bridge's name.
    pub bridge: String,
    /// Its dpid, when known (colon hex in JSON).
    #[serde(serialize_with = "dpid_text")]
    pub dpid: Option<Dpid>,
    /// What kind of problem.
    pub problem: ProblemKind,
    /// The controller's `target` for a column of the `Controller` table; `None` for the
    /// bridge's own columns.
    pub controller: Option<String>,
    /// The column as `ovs-vsctl` names it, e.g. `fail_mode`, `other_config:datapath-id`.
    pub column: String,
    /// What it is now, e.g. `standalone`, `unset (standalone)`, `[OpenFlow10]`.
    pub found: String,
    /// Why that is a problem.
    pub why: String,
    /// The command that fixes it (an `ovs-vsctl` command, or the policy change to make).
    pub fix: String,
}

fn dpid_text<S: Serializer>(dpid: &Option<Dpid>, s: S) -> Result<S::Ok, S::Error> {
    match dpid {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

impl Problem {
    /// What the line is about: the column, or `controller target`, or
    /// `controller TARGET COLUMN` for another column of a controller.
    pub fn subject(&self) -> String {
        match &self.controller {
            Some(_) if self.column == "target" => "controller target".to_owned(),
            Some(target) => format!("controller {target} {}", self.column),
            None => self.column.clone(),
        }
    }

    /// What identifies a problem across checks: a problem "appears" or "clears" by this key.
    pub fn key(&self) -> (&str, ProblemKind, Option<&str>) {
        (&self.bridge, self.problem, self.controller.as_deref())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} is {}: {}; fix: {}",
            self.bridge,
            self.subject(),
            self.found,
            self.why,
            self.fix
        )
    }
}

/// A bridge that was checked (it has at least one controller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedBridge {
    /// Its name.
    pub name: String,
    /// Its dpid, when known (colon hex in JSON).
    #[serde(serialize_with = "dpid_text")]
    pub dpid: Option<Dpid>,
}

/// The result of checking one database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The bridges with a controller, by name; bridges without one are not op25b's and are
    /// left alone.
    pub checked: Vec<CheckedBridge>,
    /// Every problem, by bridge, then kind.
    pub problems: Vec<Problem>,
    /// Checks that were not made, and why (e.g. no `--config`).
    pub skipped: Vec<String>,
}
