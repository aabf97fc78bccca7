//! The layers every API request goes through (tower-http's, not hand-written): a request
//! timeout, a request body size limit, and a panic catcher, with every error they produce
//! answered as the API's usual JSON `{"error": "..."}`.
//!
//! | what | status |
//! |---|---|
//! | the handler did not finish within the timeout ([`REQUEST_TIMEOUT`]) | 503 |
//! | the body is larger than the limit ([`MAX_BODY_BYTES`]; by `Content-Length` before the body is read) | 413 |
//! | the handler panicked (a bug: logged at ERROR; the server keeps serving) | 500 |

use std::any::Any;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::error;

use super::error::ApiError;

/// Longest a request may take. `POST /api/reload` reads and validates the policy file, the
/// slowest thing the API does; a few seconds is already abnormal.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body accepted. No endpoint reads a body today (`POST /api/reload` takes
/// none), so anything beyond a small JSON object is refused.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `router` with the timeout, body limit and panic catcher, all answering JSON.
pub fn harden(router: Router, timeout: Duration, max_body: usize) -> Router {
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(axum::middleware::map_response(move |r| {
            json_errors(r, timeout, max_body)
        }))
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "tower-http's CatchPanicLayer::custom hands the panic payload over by value"
)]
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned());
    error!(panic = %what, "an API handler panicked (a bug); answered 500");
    ApiError::Internal(format!("internal error while handling the request: {what}")).into_response()
}

/// The timeout's and the body limit's own answers have an empty or plain-text body: give
/// them the API's JSON error body. Everything else passes untouched.
async fn json_errors(response: Response, timeout: Duration, max_body: usize) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    match response.status() {
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable(format!(
            "the request did not finish within {} s",
            timeout.as_secs_f64()
        ))
        .into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            let body = ApiError::BadRequest(format!("request body larger than {max_body} bytes"))
                .into_response()
                .into_body();
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        _ => response,
    }
}
