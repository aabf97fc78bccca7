//! `GET /`: the status page, one small self-contained page embedded in the binary
//! (`page/index.html`, `page/app.css`, `page/app.js`, served at `/`, `/ui/app.css`,
//! `/ui/app.js`). No CDN, no inline script or style: the Content-Security-Policy ([`CSP`])
//! lets the page load only these files and talk only to this API.
//!
//! The page opens `GET /api/events` ([`super::events`]) with `fetch` (not `EventSource`, which
//! cannot send an `Authorization` header) and renders the fleet, the policy in force, the
//! reload history and, when the user pasted the API token, the top offenders. The token is
//! kept in `sessionStorage` (gone with the tab) and sent as `Authorization: Bearer`, never in
//! a URL. Switch states shown: `in sync`, `drifting` (repairing drift op25b found), `syncing`,
//! `sync failing` (retrying), `handshaking`, `disconnected`; a switch seen failing open is
//! marked so.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("page/index.html");
const STYLE: &str = include_str!("page/app.css");
const SCRIPT: &str = include_str!("page/app.js");

/// Only this API's own files and endpoints; no inline code, no frames, no forms elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

fn embedded(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, CSP),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (X_FRAME_OPTIONS, "DENY"),
            (REFERRER_POLICY, "no-referrer"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub async fn index() -> Response {
    embedded("text/html; charset=utf-8", INDEX)
}

pub async fn style() -> Response {
    embedded("text/css; charset=utf-8", STYLE)
}

pub async fn script() -> Response {
    embedded("text/javascript; charset=utf-8", SCRIPT)
}
