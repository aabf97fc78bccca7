//! One switch's status as the API shows it: where its sync stands, its connection, its
//! counters.

use crate::policy::Dpid;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::SystemTime;

/// Where a switch's sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Connected, handshake not finished yet (never listed: a switch enters the registry once its
    /// dpid is known), or connected and waiting for the first sync.
    Handshaking,
    /// Reading flows or applying a change plan.
    Syncing,
    /// The last batch was confirmed by a barrier reply with no error.
    InSync,
    /// The last sync failed; retrying after a back-off.
    RetryWait,
    /// In a cluster, this instance is not the switch's master: the connection is kept warm,
    /// nothing is written.
    Standby,
    /// No connection (flows stay on the switch).
    Disconnected,
}

impl SyncState {
    /// Every state, in lifecycle order (the metrics export one 0/1 series per state).
    pub const ALL: [SyncState; 6] = [
        SyncState::Handshaking,
        SyncState::Syncing,
        SyncState::InSync,
        SyncState::RetryWait,
        SyncState::Standby,
        SyncState::Disconnected,
    ];

    /// The name used in JSON and metric labels (`in_sync`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Handshaking => "handshaking",
            SyncState::Syncing => "syncing",
            SyncState::InSync => "in_sync",
            SyncState::RetryWait => "retry_wait",
            SyncState::Standby => "standby",
            SyncState::Disconnected => "disconnected",
        }
    }
}

/// Counters for one switch, accumulated over all its connections.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SwitchCounters {
    pub syncs_ok: u64,
    pub syncs_failed: u64,
    pub flow_mods_sent: u64,
    pub meter_mods_sent: u64,
    /// OpenFlow errors received, keyed "TYPE/CODE" by name (e.g.
    /// "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL"), or "other" for every pair the spec does not
    /// name: at most about 150 keys whatever a switch sends.
    pub errors: BTreeMap<String, u64>,
    /// Connections after the first one.
    pub reconnects: u64,
    /// Audits that found drift and repaired it.
    pub audit_repairs: u64,
    pub packet_ins: u64,
    /// Packet-in samples dropped because the offender channel was full.
    pub packet_ins_dropped: u64,
    /// Times this instance stepped down because the switch fenced it off (a stale generation
    /// or a write refused as from a slave), keyed by `role::Fence::name`.
    pub stepped_down: BTreeMap<String, u64>,
}

/// How op25b learnt that a switch failed open (see `session::fail_open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailOpenEvidence {
    /// The switch sent Open vSwitch's fail-open probe PACKET_IN: it is failed open now.
    Probe,
    /// It came back after a long enough absence without any of the flows it held: flushed, most
    /// likely by failing open (or an `ovs-vswitchd` restart, or a `del-flows` meanwhile).
    FlowsWipedWhileAway,
}

/// A switch reported failed open (port 25 open for everyone while it was). Stays on the switch
/// until op25b restarts or forgets it: op25b cannot see `fail_mode` being fixed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedOpen {
    /// When op25b noticed (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339_at")]
    pub detected_at: SystemTime,
    pub evidence: FailOpenEvidence,
    /// For `flows_wiped_while_away`: how long the switch was without op25b, in seconds.
    pub away_secs: Option<u64>,
}

/// One switch as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchStatus {
    pub dpid: u64,
    /// "00:00:00:00:00:00:00:01" form.
    pub dpid_str: String,
    pub name: Option<String>,
    pub peer: Option<SocketAddr>,
    /// Id of the connection speaking for this switch now (None when disconnected).
    pub connection: Option<u64>,
    pub connected: bool,
    /// RFC 3339 (UTC, milliseconds) in JSON.
    #[serde(serialize_with = "rfc3339")]
    pub connected_since: Option<SystemTime>,
    pub sync_state: SyncState,
    /// Policy generation last confirmed in sync on this switch.
    pub synced_generation: Option<u64>,
    /// RFC 3339 (UTC, milliseconds) in JSON.
    #[serde(serialize_with = "rfc3339")]
    pub last_sync: Option<SystemTime>,
    pub last_error: Option<String>,
    /// Our flows (by cookie) on the switch as of the last read.
    pub flow_count: usize,
    /// Flows the policy wants on this switch as of the last sync.
    pub desired_flows: usize,
    /// Meters are in use for reporting (false when off or rejected by the switch).
    pub meters_in_use: bool,
    /// Reported failed open (`None`: never seen to, which does not prove it cannot).
    pub failed_open: Option<FailedOpen>,
    /// Set while a sync repairs drift it found (an audit or a FLOW_REMOVED found our flows
    /// differing from the policy's); cleared when a sync succeeds or the switch disconnects.
    #[serde(serialize_with = "rfc3339")]
    pub drifting_since: Option<SystemTime>,
    /// When drift was last found on this switch.
    #[serde(serialize_with = "rfc3339")]
    pub last_drift: Option<SystemTime>,
    /// When a message last came from the switch (at most a second behind while connected; how
    /// long a switch went without op25b is measured from it).
    #[serde(serialize_with = "rfc3339")]
    pub last_heard: Option<SystemTime>,
    /// This connection's OpenFlow role (`equal` without a cluster; `master`, `slave`,
    /// `asking_master`, ... in one) and the generation the switch confirmed it at.
    pub role: &'static str,
    pub role_generation: Option<u64>,
    pub counters: SwitchCounters,
}

impl SwitchStatus {
    pub(super) fn new(dpid: u64) -> Self {
        Self {
            dpid,
            dpid_str: Dpid(dpid).to_string(),
            name: None,
            peer: None,
            connection: None,
            connected: false,
            connected_since: None,
            sync_state: SyncState::Disconnected,
            synced_generation: None,
            last_sync: None,
            last_error: None,
            flow_count: 0,
            desired_flows: 0,
            meters_in_use: false,
            failed_open: None,
            drifting_since: None,
            last_drift: None,
            last_heard: None,
            role: "equal",
            role_generation: None,
            counters: SwitchCounters::default(),
        }
    }
}

/// The part of a [`SwitchStatus`] a change event is sent for (`Registry::subscribe_changes`):
/// state, flows, sync and drift times; not the counters or `last_heard`, which change with
/// every message.
#[derive(Debug, PartialEq)]
pub(super) struct Visible {
    name: Option<String>,
    peer: Option<SocketAddr>,
    connected: bool,
    sync_state: SyncState,
    synced_generation: Option<u64>,
    last_sync: Option<SystemTime>,
    last_error: Option<String>,
    flows: (usize, usize),
    meters_in_use: bool,
    failed_open: Option<SystemTime>,
    drift: (Option<SystemTime>, Option<SystemTime>),
}

impl Visible {
    pub(super) fn of(s: &SwitchStatus) -> Self {
        Self {
            name: s.name.clone(),
            peer: s.peer,
            connected: s.connected,
            sync_state: s.sync_state,
            synced_generation: s.synced_generation,
            last_sync: s.last_sync,
            last_error: s.last_error.clone(),
            flows: (s.flow_count, s.desired_flows),
            meters_in_use: s.meters_in_use,
            failed_open: s.failed_open.as_ref().map(|f| f.detected_at),
            drift: (s.drifting_since, s.last_drift),
        }
    }
}

/// An optional `SystemTime` as an RFC 3339 string (serde's default is a
/// `{secs_since_epoch, nanos_since_epoch}` struct no API client expects).
fn rfc3339<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&crate::offenders::UnixMillis::from_system_time(*t)),
        None => s.serialize_none(),
    }
}

fn rfc3339_at<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    Serialize::serialize(&crate::offenders::UnixMillis::from_system_time(*t), s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_the_json_names() {
        for state in SyncState::ALL {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(state.name())
            );
        }
    }
}
