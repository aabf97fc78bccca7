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
//! HTTPS: a `https://` URL, or `--config` whose `[api]` has `tls_cert`; the server's certificate
//! must chain to `--ca-cert FILE` (PEM), and nothing else is trusted (no system roots: the API
//! sits on a management network with the ISP's own CA).
//!
//! The HTTP client is `ureq` without default features: blocking, HTTP/1.1, no async runtime;
//! its TLS is rustls with the controller's own ring provider.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use ureq::tls::{parse_pem, Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

use crate::api::token::{read_token, TokenError};
use crate::controller::tls_config;
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
    /// The CA certificate(s) (PEM) the API's HTTPS certificate must chain to.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
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
    #[error("{base} is HTTPS: pass --ca-cert FILE (the CA certificate that signed the API's [api] tls_cert)")]
    NoCa { base: String },
    #[error("--ca-cert {path}: {reason}")]
    Ca { path: PathBuf, reason: String },
}

/// `[controller] api_listen` and `[api] token_file` of a policy file, and whether `[api]` has
/// `tls_cert` (the API then serves HTTPS).
fn api_keys(
    path: &std::path::Path,
) -> Result<(Option<SocketAddr>, ApiSettings, bool), TargetError> {
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
    let https = table.get("api").and_then(|a| a.get("tls_cert")).is_some();
    Ok((
        listen,
        ApiSettings {
            token_file,
            ..ApiSettings::default()
        },
        https,
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
            (None, Some((Some(listen), _, https))) => {
                let host_port = reachable(*listen).to_string();
                if *https {
                    format!("https://{host_port}")
                } else {
                    base_url(&host_port)
                }
            }
            (None, _) => DEFAULT_API.to_owned(),
        };
        let token_file = match (&self.token_file, &config) {
            (Some(f), _) => Some(f.clone()),
            (None, Some((_, api, _))) => Some(api.token_file_for(self.config.as_deref())),
            (None, None) => None,
        };
        let token = token_file.map(|f| read_token(&f)).transpose()?;
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(self.timeout_secs.max(1))));
        if base.starts_with("https://") {
            let Some(ca) = &self.ca_cert else {
                return Err(TargetError::NoCa { base });
            };
            builder = builder.tls_config(https_config(ca)?);
        }
        Ok(Resolved {
            base,
            token,
            agent: builder.build().into(),
        })
    }
}

/// TLS trusting only the certificates in `ca` (PEM), with the controller's ring provider.
fn https_config(ca: &std::path::Path) -> Result<TlsConfig, TargetError> {
    let fail = |reason: String| TargetError::Ca {
        path: ca.to_owned(),
        reason,
    };
    let pem = std::fs::read(ca).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let roots = parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<Certificate<'static>>, _>>()
        .map_err(|e| fail(format!("not valid PEM: {e}")))?;
    if roots.is_empty() {
        return Err(fail(
            "no certificate in it (expected a PEM block -----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::new_with_certs(&roots))
        .unversioned_rustls_crypto_provider(tls_config::provider())
        .build())
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
