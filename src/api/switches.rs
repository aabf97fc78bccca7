//! `GET /api/switches` and `GET /api/switches/{dpid}`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::fleet::registry::{
    FailOpenEvidence, FailedOpen, SwitchCounters, SwitchStatus, SyncState,
};
use crate::fleet::{EndpointReport, FlowReading, OfctlFlow};
use crate::offenders::UnixMillis;
use crate::policy::Dpid;

use super::error::ApiError;
use super::ApiState;

/// One switch in `/api/switches`. Times are RFC 3339 (UTC).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SwitchSummary {
    /// Colon hex, e.g. `00:00:00:00:00:00:00:01`.
    pub dpid: String,
    /// The same as an integer.
    pub dpid_int: u64,
    pub name: Option<String>,
    pub peer: Option<SocketAddr>,
    pub connected: bool,
    pub connected_since: Option<UnixMillis>,
    pub sync_state: SyncState,
    pub synced_generation: Option<u64>,
    pub last_sync: Option<UnixMillis>,
    pub last_error: Option<String>,
    /// op25b's flows on the switch as of the last read.
    pub flow_count: usize,
    /// Flows the policy wants there as of the last sync.
    pub desired_flow_count: usize,
    pub meters_in_use: bool,
    /// Packets and bytes dropped by the blocking flows (from their counters).
    #[serde(default)] // `op25b status` reads an answer without it as 0
    pub blocked_packets: u64,
    pub blocked_bytes: u64,
    /// Set when op25b saw the switch fail open (port 25 open for everyone while it was);
    /// `null` when it never did, which does not prove the switch cannot.
    #[serde(default)] // `op25b status` reads an answer without it as never
    pub failed_open: Option<FailedOpenReport>,
    /// This instance's OpenFlow role on the switch: `equal` without a cluster; `master`,
    /// `slave`, `asking_master`, `fenced`, ... in one.
    #[serde(default)] // older answers: no role
    pub role: String,
    /// The generation the switch confirmed the role at.
    #[serde(default)]
    pub role_generation: Option<u64>,
    /// Set while op25b repairs drift it found (an audit or a removed flow showed the switch's
    /// flows differing from the policy's).
    #[serde(default)] // `op25b status` reads an answer without it as not drifting
    pub drifting_since: Option<UnixMillis>,
    /// When drift was last found on this switch.
    #[serde(default)]
    pub last_drift: Option<UnixMillis>,
}

/// How and when op25b saw a switch fail open.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailedOpenReport {
    pub detected_at: UnixMillis,
    /// `probe` (the switch is failed open now) or `flows_wiped_while_away`.
    pub evidence: FailOpenEvidence,
    /// For `flows_wiped_while_away`: seconds the switch was without op25b.
    pub away_secs: Option<u64>,
}

impl From<&FailedOpen> for FailedOpenReport {
    fn from(f: &FailedOpen) -> Self {
        Self {
            detected_at: UnixMillis::from_system_time(f.detected_at),
            evidence: f.evidence,
            away_secs: f.away_secs,
        }
    }
}

/// `GET /api/switches`; `op25b status` reads the same type.
#[derive(Debug, Serialize, Deserialize)]
pub struct SwitchList {
    pub policy_generation: u64,
    /// Connections that have not told their dpid yet.
    #[serde(default)] // `op25b status` reads an answer without it as 0
    pub handshaking: u64,
    pub switches: Vec<SwitchSummary>,
    /// Bridge settings problems per Open vSwitch database (`[ovsdb] endpoints`; empty when
    /// none is monitored), bridges that never connected included.
    #[serde(default)] // `op25b status` reads an answer without it as none monitored
    pub switch_config: Vec<EndpointReport>,
}

/// `GET /api/switches/{dpid}`: the summary, counters, and the flows.
#[derive(Debug, Serialize)]
pub struct SwitchDetail {
    #[serde(flatten)]
    pub summary: SwitchSummary,
    pub counters: SwitchCounters,
    /// Finished syncs by trigger and result, e.g. `{"audit": {"ok": 3}}`.
    pub syncs_by_reason: BTreeMap<String, BTreeMap<&'static str, u64>>,
    pub desired_flows_at: Option<UnixMillis>,
    /// What the policy wants, in `ovs-ofctl` syntax.
    pub desired_flows: Vec<OfctlFlow>,
    pub actual_flows_read_at: Option<UnixMillis>,
    /// What the switch reported (our cookie), with counters.
    pub actual_flows: Vec<FlowReading>,
}

/// The API's view of one switch's status (also sent by `GET /api/events`).
pub(super) fn summary(status: &SwitchStatus, state: &ApiState) -> SwitchSummary {
    let blocked = state.observations.blocked(status.dpid);
    SwitchSummary {
        dpid: status.dpid_str.clone(),
        dpid_int: status.dpid,
        name: status.name.clone(),
        peer: status.peer,
        connected: status.connected,
        connected_since: status.connected_since.map(UnixMillis::from_system_time),
        sync_state: status.sync_state,
        synced_generation: status.synced_generation,
        last_sync: status.last_sync.map(UnixMillis::from_system_time),
        last_error: status.last_error.clone(),
        flow_count: status.flow_count,
        desired_flow_count: status.desired_flows,
        meters_in_use: status.meters_in_use,
        blocked_packets: blocked.map_or(0, |(packets, _)| packets),
        blocked_bytes: blocked.map_or(0, |(_, bytes)| bytes),
        failed_open: status.failed_open.as_ref().map(FailedOpenReport::from),
        role: status.role.to_owned(),
        role_generation: status.role_generation,
        drifting_since: status.drifting_since.map(UnixMillis::from_system_time),
        last_drift: status.last_drift.map(UnixMillis::from_system_time),
    }
}

/// Every switch now, as `GET /api/switches` answers (also the first event of
/// `GET /api/events`).
pub(super) fn switch_list(state: &ApiState) -> SwitchList {
    let snap = state.registry.snapshot();
    SwitchList {
        policy_generation: state.store.current().generation(),
        handshaking: snap.handshaking,
        switches: snap.switches.iter().map(|s| summary(s, state)).collect(),
        switch_config: state.switch_config.snapshot(),
    }
}

pub async fn list(State(state): State<ApiState>) -> Json<SwitchList> {
    Json(switch_list(&state))
}

pub async fn one(
    State(state): State<ApiState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<SwitchDetail>, ApiError> {
    let Path(text) = path?;
    let dpid: Dpid = text
        .parse()
        .map_err(|e: crate::policy::DpidParseError| ApiError::BadRequest(e.to_string()))?;
    let status = state
        .registry
        .switch(dpid.0)
        .ok_or_else(|| ApiError::NotFound(format!("no switch with dpid {dpid} has connected")))?;
    let observed = state.observations.get(dpid.0).unwrap_or_default();
    let mut syncs_by_reason: BTreeMap<String, BTreeMap<&'static str, u64>> = BTreeMap::new();
    for ((reason, ok), n) in &observed.syncs {
        let result = if *ok { "ok" } else { "failed" };
        *syncs_by_reason
            .entry(reason.clone())
            .or_default()
            .entry(result)
            .or_default() += n;
    }
    Ok(Json(SwitchDetail {
        summary: summary(&status, &state),
        counters: status.counters.clone(),
        syncs_by_reason,
        desired_flows_at: observed.desired_at,
        desired_flows: observed.desired_flows.to_vec(),
        actual_flows_read_at: observed.flows_read_at,
        actual_flows: observed.actual_flows.to_vec(),
    }))
}
