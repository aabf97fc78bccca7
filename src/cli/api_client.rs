//! Finding and calling a running controller's API from the command line (`status`, `reload`).
//!
//! The address: `--api` (`127.0.0.1:9325`, the form `api_listen` is written in, or a URL),
//! else `[controller] api_listen` of `--config FILE` (an all-addresses bind is reached over
//! loopback), else `http://127.0.0.1:9325`. The token: `--token-file`, else the `[api]
//! token_file` of `--config FILE` (default `api-token` next to it).
//!
//! Only those two keys are read from `--config`, without validating the rest: `op25b reload
//! --config F` must reach the controller to hear what is wrong with an edited F.
//!
//! The HTTP client is `ureq` without default features: blocking, HTTP/1.1, no TLS and no async
//! runtime (the API listens on plain HTTP on a management address).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::api::token::{read_token, TokenError};
use crate::policy::ApiSettings;

/// The API address used when neither `--api` nor `--config` is given.
pub const DEFAULT_API: &str = "http://127.0.0.1:9325";

/// Where the API is and how to prove who we are.
#[derive(Debug, Args, Clone, Default)]
pub struct ApiTarget {
    /// The controller's API: `HOST:PORT` as in `[controller] api_listen`, or a URL
    /// (default: from --config, else http://127.0.0.1:9325).
    #[arg(long)]
    pub api: Option<String>,
    /// The policy file the controller runs with: gives the API address and token file.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The API token's file (default: `[api] token_file` of --config).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 5)]
    pub timeout_secs: u64,
}

/// Why the API could not be found or asked.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot read policy file {path}: {source}")]
    Policy {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: [controller] api_listen {value:?} is not an address:port")]
    ApiListen { path: PathBuf, value: String },
    #[error("{0}")]
    Token(#[from] TokenError),
}

/// `[controller] api_listen` and `[api] token_file` of a policy file, nothing else checked.
fn api_keys(path: &std::path::Path) -> Result<(Option<SocketAddr>, ApiSettings), TargetError> {
    let text = std::fs::read_to_string(path).map_err(|source| TargetError::Policy {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).unwrap_or_default();
    let listen = match table
        .get("controller")
        .and_then(|c| c.get("api_listen"))
        .and_then(toml::Value::as_str)
    {
        Some(v) => Some(v.parse().map_err(|_| TargetError::ApiListen {
            path: path.to_owned(),
            value: v.to_owned(),
        })?),
        None => None,
    };
    let token_file = table
        .get("api")
        .and_then(|a| a.get("token_file"))
        .and_then(toml::Value::as_str)
        .map(PathBuf::from);
    Ok((
        listen,
        ApiSettings {
            token_file,
            ..ApiSettings::default()
        },
    ))
}

/// A resolved target: base URL and the token, if one was found.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub base: String,
    pub token: Option<String>,
    pub agent: ureq::Agent,
}

/// `host:port` -> `http://host:port`; a URL stays as it is (without a trailing `/`).
pub fn base_url(api: &str) -> String {
    let api = api.trim().trim_end_matches('/');
    if api.contains("://") {
        api.to_owned()
    } else {
        format!("http://{api}")
    }
}

/// The address a client uses for a server bound to `addr`.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    }
}

impl ApiTarget {
    /// Reads `--config` (if given) and the token file (if any is named) and builds the client.
    pub fn resolve(&self) -> Result<Resolved, TargetError> {
        let config = match &self.config {
            Some(path) => Some(api_keys(path)?),
            None => None,
        };
        let base = match (&self.api, &config) {
            (Some(api), _) => base_url(api),
            (None, Some((Some(listen), _))) => base_url(&reachable(*listen).to_string()),
            (None, _) => DEFAULT_API.to_owned(),
        };
        let token_file = match (&self.token_file, &config) {
            (Some(f), _) => Some(f.clone()),
            (None, Some((_, api))) => Some(api.token_file_for(self.config.as_deref())),
            (None, None) => None,
        };
        let token = token_file.map(|f| read_token(&f)).transpose()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(self.timeout_secs.max(1))))
            .build()
            .into();
        Ok(Resolved { base, token, agent })
    }
}

impl Resolved {
    /// `GET base+path` (with the token when there is one): status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        let mut response = request.call()?;
        let status = response.status().as_u16();
        Ok((status, response.body_mut().read_to_string()?))
    }

    /// `POST base+path` with an empty body (with the token when there is one).
    pub fn post(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        let mut response = request.send_empty()?;
        let status = response.status().as_u16();
        Ok((status, response.body_mut().read_to_string()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_becomes_a_url_and_urls_stay() {
        assert_eq!(base_url("127.0.0.1:19325"), "http://127.0.0.1:19325");
        assert_eq!(base_url("[::1]:9325"), "http://[::1]:9325");
        assert_eq!(base_url("http://127.0.0.1:9325/"), "http://127.0.0.1:9325");
        assert_eq!(
            reachable("0.0.0.0:9325".parse().expect("addr")),
            "127.0.0.1:9325".parse().expect("addr")
        );
    }
}
