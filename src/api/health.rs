//! `GET /healthz` (the process answers) and `GET /readyz` (the policy is loaded and the
//! OpenFlow listener is up; in a cluster, etcd answers).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::cluster::offender_share::PeerOffenders;
use crate::cluster::ClusterStatus;
use crate::mastership::MastershipView;
use tokio::sync::watch;

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::ApiState;

/// Set by `run` once the OpenFlow listener is bound. The policy is loaded before the API
/// starts (an [`ApiState`] needs the policy store), so this flag is the one thing left.
#[derive(Debug, Default)]
pub struct Readiness {
    openflow_listening: AtomicBool,
    /// Set by `run` when `[cluster]` is on.
    cluster: OnceLock<ClusterView>,
}

/// What the API reads of the cluster member: its status and the masterships it sees.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub status: Arc<parking_lot::Mutex<ClusterStatus>>,
    pub masterships: watch::Receiver<Arc<MastershipView>>,
    /// The other instances' offenders (`cluster::offender_share`), for `/api/offenders`.
    pub peer_offenders: PeerOffenders,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// The OpenFlow listener is bound (true) or stopped (false).
    pub fn set_openflow_listening(&self, up: bool) {
        self.openflow_listening.store(up, Ordering::Relaxed);
    }

    pub fn openflow_listening(&self) -> bool {
        self.openflow_listening.load(Ordering::Relaxed)
    }

    /// `[cluster]` is on: `/readyz` and `/api/cluster` report it (set once; later calls are
    /// ignored).
    pub fn set_cluster(&self, view: ClusterView) {
        let _ = self.cluster.set(view);
    }

    pub fn cluster(&self) -> Option<&ClusterView> {
        self.cluster.get()
    }
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Ready {
    pub status: &'static str,
    pub policy_generation: u64,
    pub openflow_listening: bool,
    /// In a cluster: whether etcd answers and the lease is confirmed (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etcd_ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ok: Option<bool>,
}

pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

pub async fn readyz(State(state): State<ApiState>) -> Result<Json<Ready>, ApiError> {
    let generation = state.store.current().generation();
    let listening = state.readiness.openflow_listening();
    if !listening {
        return Err(ApiError::Unavailable(
            "not ready: the OpenFlow listener is not up".to_owned(),
        ));
    }
    let cluster = state.readiness.cluster().map(|c| c.status.lock().clone());
    if let Some(c) = &cluster {
        if !c.etcd_ok {
            return Err(ApiError::Unavailable(format!(
                "not ready: etcd unreachable ({}); switches keep their flows, this instance writes nothing once its lease is unconfirmed",
                c.last_error.as_deref().unwrap_or("not connected yet")
            )));
        }
    }
    Ok(Json(Ready {
        status: "ready",
        policy_generation: generation,
        openflow_listening: listening,
        etcd_ok: cluster.as_ref().map(|c| c.etcd_ok),
        lease_ok: cluster.as_ref().map(|c| c.lease_ok),
    }))
}
