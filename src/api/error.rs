//! Every error the API returns: a status code and a JSON body `{"error": "..."}`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An API error. Converting it into a response never fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the request itself is wrong (a bad dpid, a bad query parameter).
    #[error("{0}")]
    BadRequest(String),
    /// 404: nothing at this path, or no such switch.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 422: a policy reload rejected the file; `generation` is the one still in force.
    #[error("{message}")]
    PolicyRejected { message: String, generation: u64 },
    /// 503: not ready (readiness probe) or a feature turned off.
    #[error("{0}")]
    Unavailable(String),
    /// 500: something on our side failed.
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<u64>,
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PolicyRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let generation = match &self {
            ApiError::PolicyRejected { generation, .. } => Some(*generation),
            _ => None,
        };
        let body = ErrorBody {
            error: &message,
            generation,
        };
        (self.status(), Json(body)).into_response()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

/// Unknown paths.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}

/// Known paths with the wrong method.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
