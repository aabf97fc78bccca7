//! Who may ask what: the `Host` check on every request and the bearer token on the routes that
//! change things or show subscribers.
//!
//! - `Host` must name the API itself: the bound IP (with the bound port, if a port is given),
//!   any IP when bound to `0.0.0.0`/`[::]`, `localhost` when bound to loopback or to all
//!   addresses, or an `[api] allowed_hosts` entry. Anything else is 421 (a DNS-rebinding page
//!   in a browser sends its own host name); no `Host` at all is 400.
//! - `POST /api/reload` and `GET /api/offenders` need `Authorization: Bearer TOKEN`
//!   ([`super::token`]). A missing, malformed or wrong token gets the same 401 and body.
//!   `GET /api/events` takes the token optionally: only a stream opened with it carries
//!   offenders ([`super::events`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::token::ApiToken;
use super::ApiState;

/// The names the `Host` header may carry.
#[derive(Debug, Clone)]
pub struct HostCheck {
    bound: SocketAddr,
    allowed: Vec<String>,
}

impl HostCheck {
    /// For an API bound to `bound`, plus `allowed` names (lower case, optionally `:port`).
    pub fn new(bound: SocketAddr, allowed: Vec<String>) -> Self {
        Self { bound, allowed }
    }

    /// True when a `Host` header value names this API.
    pub fn accepts(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let (name, port) = split_host_port(&host);
        if let Some(p) = port {
            if p != self.bound.port() && !self.allowed.contains(&host) {
                return false;
            }
        }
        let name_ip = name.parse::<IpAddr>().ok();
        let bound_ip = self.bound.ip();
        match name_ip {
            Some(ip) if ip == bound_ip || bound_ip.is_unspecified() => return true,
            _ => {}
        }
        if name == "localhost" && (bound_ip.is_loopback() || bound_ip.is_unspecified()) {
            return true;
        }
        self.allowed
            .iter()
            .any(|a| *a == host || split_host_port(a) == (name, None))
    }
}

/// `"name:port"` -> (`"name"`, port); `"[v6]:port"` -> (`"v6"`, port); a bare IPv6 address
/// has no port.
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, tail)) => (ip, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (host, None),
        },
        _ => (host, None),
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Middleware: refuses a request whose `Host` does not name this API.
pub async fn check_host(
    State(check): State<Arc<HostCheck>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        None => refuse(StatusCode::BAD_REQUEST, "missing Host header"),
        Some(h) if check.accepts(&h) => next.run(request).await,
        Some(_) => refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "Host header does not name this API (see [api] allowed_hosts)",
        ),
    }
}

/// The answer to a missing or wrong token: always the same.
pub(super) fn unauthorized() -> Response {
    let mut r = refuse(
        StatusCode::UNAUTHORIZED,
        "this endpoint needs Authorization: Bearer <token from [api] token_file>",
    );
    r.headers_mut().insert(
        WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    r
}

/// True when `request` carries `token`.
pub(super) fn authorized(token: &ApiToken, request: &Request) -> bool {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .map(axum::http::HeaderValue::as_bytes)
        .and_then(|v| (v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ")).then(|| &v[7..]))
        .unwrap_or(b"");
    // Always compare (also for a missing header) so both paths take the same time.
    token.matches(presented) && !presented.is_empty()
}

/// Middleware: refuses a request without the API token.
pub async fn require_token(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&state.token, &request) {
        next.run(request).await
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_naming_the_api_are_accepted_and_others_refused() {
        let lo = HostCheck::new("127.0.0.1:9325".parse().unwrap(), vec!["op25b.mgmt".into()]);
        assert!(lo.accepts("127.0.0.1:9325"));
        assert!(lo.accepts("127.0.0.1"));
        assert!(lo.accepts("localhost:9325"));
        assert!(lo.accepts("op25b.mgmt:9325"));
        assert!(lo.accepts("OP25B.mgmt"));
        assert!(!lo.accepts("127.0.0.1:80"));
        assert!(!lo.accepts("10.0.0.1:9325"));
        assert!(!lo.accepts("evil.example:9325"));
        let any = HostCheck::new("[::]:9325".parse().unwrap(), vec![]);
        assert!(any.accepts("[2001:db8::1]:9325"));
        assert!(any.accepts("192.0.2.7:9325"));
        assert!(!any.accepts("rebind.evil.example:9325"));
    }
}
