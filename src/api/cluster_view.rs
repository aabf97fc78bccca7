//! `GET /api/cluster`: this instance's lease and etcd health, and who is master of each switch as
//! this instance sees it (404 without `[cluster]`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::ApiState;
use crate::cluster::ClusterStatus;
use crate::policy::Dpid;

/// The answer of `/api/cluster`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClusterReport {
    #[serde(flatten)]
    pub status: ClusterStatus,
    /// Per switch (colon hex dpid): the instance holding its mastership and the generation.
    pub masters: BTreeMap<String, MasterOf>,
}

/// Who holds one switch.
#[derive(Debug, Serialize, Deserialize)]
pub struct MasterOf {
    pub instance: String,
    pub generation: u64,
}

pub async fn get(State(state): State<ApiState>) -> Result<Json<ClusterReport>, ApiError> {
    let cluster = state.readiness.cluster().ok_or_else(|| {
        ApiError::NotFound("no [cluster] in this instance's file: one process, no roles".into())
    })?;
    let status = cluster.status.lock().clone();
    let view = cluster.masterships.borrow().clone();
    let masters = view
        .holders
        .iter()
        .map(|(dpid, h)| {
            (
                Dpid(*dpid).to_string(),
                MasterOf {
                    instance: h.instance.clone(),
                    generation: h.generation,
                },
            )
        })
        .collect();
    Ok(Json(ClusterReport { status, masters }))
}
