//! A policy for tests, its messages strings: flows are their names, "add x" / "del x" change
//! them, "meter add N" adds meter N, "flows?" and "meters?" read them.

use super::read_cap::{read_caps, ReadCaps};
use super::session_policy::{SessionPolicy, SessionTimers, SyncPlan};
use crate::flows::SwitchView;
use op25b_proto::MeterConfig;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// The timers every test session runs with.
pub(super) const TIMERS: SessionTimers = SessionTimers {
    echo_interval: Duration::from_secs(5),
    echo_timeout: Duration::from_secs(15),
    handshake_timeout: Duration::from_secs(10),
    audit_interval: Duration::from_secs(60),
    counters_interval: Duration::from_secs(10),
    retry_base: Duration::from_secs(1),
    retry_cap: Duration::from_secs(8),
};

/// The test policy (see the module doc).
#[derive(Debug)]
pub struct FakePolicy {
    pub generation: u64,
    pub desired: Vec<String>,
    pub meters: Vec<String>,
    pub frag_flags: u16,
}

impl FakePolicy {
    /// Generation `generation` wanting `desired`, no meters, fragment flags 1.
    pub fn new(generation: u64, desired: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            generation,
            desired: desired.iter().map(ToString::to_string).collect(),
            meters: vec![],
            frag_flags: 1,
        })
    }

    /// Wants flow "a" and meter 1 ("meter add 1"); with the meter also "sample-with-meter".
    pub fn metered(generation: u64) -> Arc<Self> {
        Arc::new(Self {
            generation,
            desired: vec!["a".into()],
            meters: vec!["meter add 1".into()],
            frag_flags: 1,
        })
    }
}

/// The cookie of our flows.
pub const COOKIE: u64 = 0x4f50;

impl SessionPolicy for FakePolicy {
    type Msg = String;
    type FlowEntry = String;
    type Desired = Vec<String>;
    fn generation(&self) -> u64 {
        self.generation
    }
    fn describe(&self, msg: &String) -> String {
        format!("MSG<{msg}>")
    }
    fn timers(&self) -> SessionTimers {
        TIMERS
    }
    fn switch_config(&self) -> (u16, u16) {
        (self.frag_flags, 128)
    }
    fn switch_name(&self, _dpid: u64) -> Option<String> {
        None
    }
    fn cookie(&self) -> u64 {
        COOKIE
    }
    fn flows_request(&self) -> String {
        "flows?".into()
    }
    /// Sized by the desired flows (plus the metered one), as op25b's own policy is.
    fn read_caps(&self) -> ReadCaps {
        read_caps(self.desired.len() + 1, ReadCaps::default().reply_bytes)
    }
    fn meter_adds(&self, _view: &SwitchView) -> Vec<String> {
        self.meters.clone()
    }
    fn meter_modify(&self, add: &String) -> Option<String> {
        Some(add.replace("add", "modify"))
    }
    fn meters_request(&self) -> String {
        "meters?".into()
    }
    /// Meter "meter add N" is as desired when the switch reports meter N with flags 1.
    fn meter_plan(&self, _view: &SwitchView, actual: &[MeterConfig]) -> Vec<String> {
        self.meters
            .iter()
            .filter_map(|m| {
                let id: u32 = m.rsplit(' ').next()?.parse().ok()?;
                match actual.iter().find(|c| c.meter_id == id) {
                    None => Some(m.clone()),
                    Some(c) if c.flags == 1 => None,
                    Some(_) => self.meter_modify(m),
                }
            })
            .collect()
    }
    fn plan(&self, view: &SwitchView, actual: &[String]) -> SyncPlan<String, Vec<String>> {
        let mut desired = self.desired.clone();
        if view.meters_supported {
            desired.push("sample-with-meter".into());
        }
        let have: HashSet<&String> = actual.iter().collect();
        let want: HashSet<&String> = desired.iter().collect();
        let adds: Vec<String> = desired
            .iter()
            .filter(|d| !have.contains(d))
            .map(|d| format!("add {d}"))
            .collect();
        let dels: Vec<String> = actual
            .iter()
            .filter(|a| !want.contains(a))
            .map(|a| format!("del {a}"))
            .collect();
        SyncPlan {
            added: adds.len(),
            removed: dels.len(),
            modified: 0,
            desired: desired.len(),
            batches: vec![adds, dels],
            desired_flows: desired,
        }
    }
}
