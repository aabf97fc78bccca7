//! `POST /api/reload`: the same reload as SIGHUP ([`crate::controller::policy_store::PolicyStore::reload`]).
//!
//! 200 `{"outcome": "installed" | "unchanged", "generation": N}`; 422 with the validation
//! error (file:line:column) and the generation still in force when the file is rejected;
//! 500 when the file cannot be read. API reloads are serialised with each other.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::controller::policy_store::ReloadOutcome;
use crate::policy::LoadError;

use super::error::ApiError;
use super::ApiState;

#[derive(Debug, Serialize)]
pub struct ReloadResponse {
    pub outcome: &'static str,
    pub generation: u64,
}

pub async fn post(State(state): State<ApiState>) -> Result<Json<ReloadResponse>, ApiError> {
    let _one_at_a_time = state.reload_lock.lock().await;
    let store = state.store.clone();
    // Reading and validating the file is blocking I/O.
    let result = tokio::task::spawn_blocking(move || store.reload("API"))
        .await
        .map_err(|e| ApiError::Internal(format!("reload task failed: {e}")))?;
    match result {
        Ok(ReloadOutcome::Installed { generation }) => Ok(Json(ReloadResponse {
            outcome: "installed",
            generation,
        })),
        Ok(ReloadOutcome::Unchanged { generation }) => Ok(Json(ReloadResponse {
            outcome: "unchanged",
            generation,
        })),
        Err(e @ LoadError::Invalid(_)) => Err(ApiError::PolicyRejected {
            message: e.to_string(),
            generation: state.store.current().generation(),
        }),
        Err(e @ LoadError::Read { .. }) => Err(ApiError::Internal(format!(
            "{e} (the policy in force stays, generation {})",
            state.store.current().generation()
        ))),
    }
}
