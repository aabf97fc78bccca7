//! `GET /healthz` (the process answers) and `GET /readyz` (the policy is loaded and the
//! OpenFlow listener is up).

use std::sync::atomic::{AtomicBool, Ordering};

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
    Ok(Json(Ready {
        status: "ready",
        policy_generation: generation,
        openflow_listening: listening,
    }))
}
