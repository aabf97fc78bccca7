//! Pure: Open vSwitch bridge settings (and the policy) in, problems out, each with the
//! `ovs-vsctl` command that fixes it. Used by `op25b doctor` and by `run`'s continuous check
//! ([`crate::controller::ovsdb_monitor`]); the database is read by [`crate::ovsdb`].
//!
//! Every bridge with a controller is checked:
//! - `fail_mode` is `secure` (unset means `standalone`: about 15 s after losing its controller
//!   the bridge forwards everything, port 25 included);
//! - `protocols` includes OpenFlow13 (or is empty: then 1.0 to 1.5 are on);
//! - `other_config:datapath-id` is pinned;
//! - with a policy: the dpid is listed or `[defaults]` polices some port; every controller
//!   target reaches this controller's listen address; `max_backoff` is at most
//!   `echo_timeout_secs`; the inactivity probe is on and two probe intervals fit in
//!   `echo_timeout_secs`; `Open_vSwitch` `other_config:vlan-limit` is unset, 1 or 2.
//!
//! Details of each rule, and of how Open vSwitch reads the columns, are in `checks.rs`.
mod checks;
mod problem;
mod records;
mod target;

pub use checks::{diagnose, Expectations, Listeners, SKIPPED_WITHOUT_POLICY};
pub use problem::{CheckedBridge, Diagnosis, Problem, ProblemKind};
pub use records::{parse_pinned_dpid, BridgeRecord, ControllerRecord, SwitchDatabase};

#[cfg(test)]
mod tests;
