//! `GET /api/offenders?flagged=true&limit=N`: the worst subscribers, flagged first.
//!
//! In a cluster the list is the whole cluster's: this instance's table merged with the other
//! instances' published snapshots (`cluster::offender_share`, at most
//! `offenders::cluster_share::PUBLISH_MAX` entries each, at most `PUBLISH_EVERY` old) by
//! `offenders::cluster_share::merge`; every entry names its `instance`, `tracked` and `flagged`
//! add up every instance's, and `instances` says what each contributed. etcd unavailable: only
//! this instance's entries (and `instances` lists only it).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::controller::offender_service::OffenderSummary;
use crate::offenders::cluster_share::merge;
use crate::offenders::OffenderView;

use super::error::ApiError;
use super::ApiState;

/// Entries returned when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffendersQuery {
    /// Only flagged (likely infected) subscribers.
    #[serde(default)]
    pub flagged: bool,
    /// At most this many entries (1..=10000, default 100).
    pub limit: Option<usize>,
}

/// `GET /api/offenders`; `op25b status` reads the same type.
#[derive(Debug, Serialize, Deserialize)]
pub struct OffendersResponse {
    /// False when `[reporting] enabled = false`: nothing is sampled.
    pub enabled: bool,
    /// Subscribers tracked and flagged now.
    pub tracked: usize,
    pub flagged: usize,
    pub offenders: Vec<OffenderView>,
    /// In a cluster: each instance's part (this one first); absent without `[cluster]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<InstanceOffenders>,
}

/// One instance's contribution to a cluster's `/api/offenders`.
#[derive(Debug, Serialize, Deserialize)]
pub struct InstanceOffenders {
    pub instance: String,
    pub tracked: usize,
    pub flagged: usize,
    /// Entries of its table it did not publish (past the bound); 0 for this instance.
    pub left_out: usize,
    /// When its snapshot was taken (absent for this instance: live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<crate::offenders::UnixMillis>,
}

pub async fn get(
    State(state): State<ApiState>,
    query: Result<Query<OffendersQuery>, QueryRejection>,
) -> Result<Json<OffendersResponse>, ApiError> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let enabled = state.store.current().config().policy().reporting().enabled;
    let Some(handle) = &state.offenders else {
        return Ok(Json(OffendersResponse {
            enabled: false,
            tracked: 0,
            flagged: 0,
            offenders: Vec::new(),
            instances: Vec::new(),
        }));
    };
    let handle = handle.clone();
    // `top` sorts the whole table (up to max_offenders entries): off the async threads.
    let (summary, offenders): (OffenderSummary, Vec<OffenderView>) =
        tokio::task::spawn_blocking(move || (handle.summary(), handle.top(limit, q.flagged)))
            .await
            .map_err(|e| ApiError::Internal(format!("offender query failed: {e}")))?;
    let Some(cluster) = state.readiness.cluster() else {
        return Ok(Json(OffendersResponse {
            enabled,
            tracked: summary.tracked,
            flagged: summary.flagged,
            offenders,
            instances: Vec::new(),
        }));
    };
    let me = cluster.status.lock().name.clone();
    let peers = cluster.peer_offenders.lock().clone();
    let mut instances = vec![InstanceOffenders {
        instance: me.clone(),
        tracked: summary.tracked,
        flagged: summary.flagged,
        left_out: 0,
        at: None,
    }];
    instances.extend(
        peers
            .iter()
            .filter(|p| p.instance != me)
            .map(|p| InstanceOffenders {
                instance: p.instance.clone(),
                tracked: p.tracked,
                flagged: p.flagged,
                left_out: p.left_out,
                at: Some(p.at),
            }),
    );
    Ok(Json(OffendersResponse {
        enabled,
        tracked: instances.iter().map(|i| i.tracked).sum(),
        flagged: instances.iter().map(|i| i.flagged).sum(),
        offenders: merge(&me, offenders, &peers, limit, q.flagged),
        instances,
    }))
}
