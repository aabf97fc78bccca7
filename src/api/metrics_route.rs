//! `GET /metrics`: the Prometheus text exposition.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::ApiState;

pub async fn get(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let metrics = state.metrics.clone();
    let text = tokio::task::spawn_blocking(move || metrics.encode())
        .await
        .map_err(|e| ApiError::Internal(format!("metrics task failed: {e}")))?
        .map_err(|_| ApiError::Internal("cannot encode metrics".to_owned()))?;
    Ok(([(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}
