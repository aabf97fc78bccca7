//! `GET /api/offenders?flagged=true&limit=N`: the worst subscribers, flagged first.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::controller::offender_service::OffenderSummary;
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
        }));
    };
    let handle = handle.clone();
    // `top` sorts the whole table (up to max_offenders entries): off the async threads.
    let (summary, offenders): (OffenderSummary, Vec<OffenderView>) =
        tokio::task::spawn_blocking(move || (handle.summary(), handle.top(limit, q.flagged)))
            .await
            .map_err(|e| ApiError::Internal(format!("offender query failed: {e}")))?;
    Ok(Json(OffendersResponse {
        enabled,
        tracked: summary.tracked,
        flagged: summary.flagged,
        offenders,
    }))
}
