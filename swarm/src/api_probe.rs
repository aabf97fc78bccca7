//! The controller's own view, as the other half of every verdict (`judge`): `GET /api/switches`
//! over plain HTTP/1.0, polled one request at a time until it confirms the switches.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Deserialize;

use crate::error::SwarmError;

#[derive(Debug, Deserialize)]
struct SwitchList {
    policy_generation: u64,
    switches: Vec<SwitchSummary>,
}

#[derive(Debug, Deserialize)]
struct SwitchSummary {
    #[serde(default)]
    dpid_int: u64,
    connected: bool,
    sync_state: String,
    synced_generation: Option<u64>,
    #[serde(default)]
    last_error: Option<String>,
}

impl SwitchSummary {
    fn in_sync_at(&self, generation: u64) -> bool {
        self.connected && self.sync_state == "in_sync" && self.synced_generation == Some(generation)
    }
}

/// Which switches the controller confirms, by dpid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmations {
    pub view: ControllerView,
    /// Connected, `in_sync`, at the current policy generation.
    pub in_sync: std::collections::HashSet<u64>,
    /// The others' `last_error`, by dpid (those that have one).
    pub errors: Vec<(u64, String)>,
}

/// Who is confirmed, from the JSON body of `/api/switches`.
pub fn parse_confirmations(body: &str) -> Result<Confirmations, String> {
    let list: SwitchList = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let view = view_of(&list);
    let g = list.policy_generation;
    let (ok, not): (Vec<&SwitchSummary>, Vec<&SwitchSummary>) =
        list.switches.iter().partition(|s| s.in_sync_at(g));
    Ok(Confirmations {
        view,
        in_sync: ok.iter().map(|s| s.dpid_int).collect(),
        errors: not
            .iter()
            .filter_map(|s| Some((s.dpid_int, s.last_error.clone()?)))
            .collect(),
    })
}

/// What the controller says about its switches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ControllerView {
    pub policy_generation: u64,
    pub connected: usize,
    /// Connected, `in_sync`, at the current policy generation.
    pub in_sync_current: usize,
}

/// Counts from the JSON body of `/api/switches`.
pub fn parse_switch_list(body: &str) -> Result<ControllerView, String> {
    let list: SwitchList = serde_json::from_str(body).map_err(|e| e.to_string())?;
    Ok(view_of(&list))
}

fn view_of(list: &SwitchList) -> ControllerView {
    let g = list.policy_generation;
    ControllerView {
        policy_generation: g,
        connected: list.switches.iter().filter(|s| s.connected).count(),
        in_sync_current: list.switches.iter().filter(|s| s.in_sync_at(g)).count(),
    }
}

/// The body of an HTTP/1.x response, if its status is 200.
pub fn http_body(response: &[u8]) -> Result<&[u8], String> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let status_line = response[..end].split(|&b| b == b'\r').next().unwrap_or(&[]);
    let status = String::from_utf8_lossy(status_line);
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("HTTP status line {status:?}"));
    }
    Ok(&response[end + 4..])
}

/// `GET /api/switches` from `api` (blocking; call from a blocking thread).
pub fn fetch(api: SocketAddr) -> Result<ControllerView, SwarmError> {
    let body = get(api, "/api/switches")?;
    parse_switch_list(&body).map_err(|detail| SwarmError::Api { addr: api, detail })
}

/// `GET /api/switches` from `api`, as [`Confirmations`] (blocking; call from a blocking
/// thread).
pub fn fetch_confirmations(api: SocketAddr) -> Result<Confirmations, SwarmError> {
    let body = get(api, "/api/switches")?;
    parse_confirmations(&body).map_err(|detail| SwarmError::Api { addr: api, detail })
}

/// The body of `GET path` from `api` over HTTP/1.0 (blocking; call from a blocking thread).
pub fn get(api: SocketAddr, path: &str) -> Result<String, SwarmError> {
    request(api, "GET", path, None)
}

/// The body of `method path` from `api` over HTTP/1.0, with `Authorization: Bearer token` when
/// given (the token-guarded routes: `POST /api/reload`, `GET /api/offenders`); an answer other
/// than 200 is an error naming its status line (blocking; call from a blocking thread).
pub fn request(
    api: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> Result<String, SwarmError> {
    let err = |detail: String| SwarmError::Api { addr: api, detail };
    let mut s =
        TcpStream::connect_timeout(&api, Duration::from_secs(5)).map_err(|e| err(e.to_string()))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| err(e.to_string()))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let length = if method == "GET" {
        ""
    } else {
        "Content-Length: 0\r\n"
    };
    // The API answers only a Host that names it (DNS-rebinding guard): its own address.
    s.write_all(
        format!("{method} {path} HTTP/1.0\r\nHost: {api}\r\n{auth}{length}\r\n").as_bytes(),
    )
    .map_err(|e| err(e.to_string()))?;
    let mut response = Vec::new();
    s.read_to_end(&mut response)
        .map_err(|e| err(e.to_string()))?;
    let body = http_body(&response).map_err(|e| err(format!("{method} {path}: {e}")))?;
    Ok(String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_connected_in_sync_at_the_current_generation() {
        let body = r#"{"policy_generation":2,"handshaking":0,"switches":[
            {"connected":true,"sync_state":"in_sync","synced_generation":2,"dpid":"x"},
            {"connected":true,"sync_state":"in_sync","synced_generation":1},
            {"connected":true,"sync_state":"syncing","synced_generation":2},
            {"connected":false,"sync_state":"disconnected","synced_generation":2}]}"#;
        let v = parse_switch_list(body).unwrap();
        assert_eq!(
            v,
            ControllerView {
                policy_generation: 2,
                connected: 3,
                in_sync_current: 1
            }
        );
        assert!(parse_switch_list("{").is_err());
    }

    #[test]
    fn confirmations_name_the_switches_in_sync_and_the_others_errors() {
        let body = r#"{"policy_generation":2,"switches":[
            {"dpid_int":10,"connected":true,"sync_state":"in_sync","synced_generation":2},
            {"dpid_int":11,"connected":true,"sync_state":"failed","synced_generation":null,
             "last_error":"switch rejected FLOW_MOD: OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL"},
            {"dpid_int":12,"connected":true,"sync_state":"in_sync","synced_generation":1}]}"#;
        let c = parse_confirmations(body).unwrap();
        assert_eq!(c.in_sync, [10].into_iter().collect());
        assert_eq!(c.view.in_sync_current, 1);
        assert_eq!(c.errors.len(), 1);
        assert!(c.errors[0].1.contains("TABLE_FULL"));
    }

    #[test]
    fn body_after_headers_only_for_200() {
        assert_eq!(
            http_body(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").unwrap(),
            b"{}"
        );
        assert!(http_body(b"HTTP/1.1 500 Oops\r\n\r\n{}").is_err());
        assert!(http_body(b"garbage").is_err());
    }
}
