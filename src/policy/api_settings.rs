//! The `[api]` section: who may use the HTTP API (`[controller] api_listen` stays its address).
//!
//! Secure by default: the bearer token and subscriber data must not cross a network in clear,
//! so an API bound to a non-loopback address needs `tls_cert` and `tls_key` (HTTPS), or an
//! explicit `plaintext = "allow"`.
use super::controller_settings::{PlaintextRule, TlsFile};
use super::raw::RawApi;
use super::validation_context::Ctx;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The file name of the API token when `[api] token_file` is not set: it lives next to the
/// policy file.
pub const DEFAULT_TOKEN_FILE_NAME: &str = "api-token";

/// Validated `[api]` settings (all have defaults; the section may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiSettings {
    /// The bearer token's file as written (`None`: `api-token` next to the policy file).
    /// A relative path is relative to the policy file's directory ([`Self::token_file_for`]).
    pub token_file: Option<PathBuf>,
    /// Extra names accepted in the `Host` header (lower case, e.g. `op25b.mgmt.example` or
    /// `op25b.mgmt.example:9325`), besides the bound address itself (and `localhost` when
    /// bound to loopback).
    pub allowed_hosts: Vec<String>,
    /// `tls_cert` and `tls_key`: serve HTTPS (no client certificate is asked for; the token
    /// says who the client is). `None`: plain HTTP.
    pub tls: Option<ApiTls>,
    /// `plaintext`: whether plain HTTP may listen on a non-loopback address.
    pub plaintext: PlaintextRule,
}

/// The API's certificate chain and key (PEM), each with where the policy named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTls {
    /// `api.tls_cert`: the certificate chain, leaf first.
    pub cert: TlsFile,
    /// `api.tls_key`: its private key (PKCS#8, SEC1 or PKCS#1).
    pub key: TlsFile,
}

impl ApiSettings {
    /// Why plain HTTP on `addr` is refused (`None`: it is allowed: TLS is on, the address is
    /// loopback, or `plaintext = "allow"`). `op25b run --api-listen` is checked with this too.
    pub fn plaintext_refusal(&self, addr: SocketAddr) -> Option<String> {
        if self.tls.is_some() || self.plaintext.permits(addr) {
            return None;
        }
        Some(format!(
            "a plain-HTTP API on {addr} (not a loopback address) sends its bearer token and \
             subscriber addresses in clear to anyone on the path: set tls_cert and tls_key in \
             [api] (see docs/operating.md, section \"The HTTP API\"), or, knowingly, set \
             plaintext = \"allow\" in [api]"
        ))
    }

    /// Where the token file is for a policy file at `policy` (`None`: the policy did not come
    /// from a file, so a relative or default path resolves against the current directory).
    pub fn token_file_for(&self, policy: Option<&Path>) -> PathBuf {
        let dir = policy
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        match &self.token_file {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => dir.join(p),
            None => dir.join(DEFAULT_TOKEN_FILE_NAME),
        }
    }
}

/// Checks one `allowed_hosts` entry: a host name or address, optionally `:port`; returns it
/// in lower case, or why it is wrong.
fn allowed_host(entry: &str) -> Result<String, String> {
    let e = entry.trim().to_ascii_lowercase();
    let ok = !e.is_empty()
        && e.len() <= 260
        && e.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok {
        Ok(e)
    } else {
        Err(format!(
            "{entry:?} is not a host name like \"op25b.mgmt.example\" or \"op25b.mgmt.example:9325\""
        ))
    }
}

/// Validates the `[api]` section (absent: every default); `api_listen` is the API's address
/// with the span of `[controller] api_listen` (`None`: the default loopback address).
pub(super) fn validate(
    cx: &mut Ctx,
    raw: Option<&RawApi>,
    api_listen: (SocketAddr, Option<Range<usize>>),
) -> ApiSettings {
    let settings = raw.map_or_else(ApiSettings::default, |r| section(cx, r));
    if let Some(reason) = settings.plaintext_refusal(api_listen.0) {
        let span = api_listen.1.unwrap_or(0..0);
        cx.invalid(&span, "controller.api_listen", reason);
    }
    settings
}

fn section(cx: &mut Ctx, r: &RawApi) -> ApiSettings {
    let token_file = r.token_file.as_ref().and_then(|p| {
        if p.get_ref().trim().is_empty() {
            cx.invalid(&p.span(), "api.token_file", "empty: expected a file path");
            None
        } else {
            Some(PathBuf::from(p.get_ref()))
        }
    });
    let mut allowed_hosts = Vec::new();
    for (i, h) in r.allowed_hosts.iter().flatten().enumerate() {
        match allowed_host(h.get_ref()) {
            Ok(host) => allowed_hosts.push(host),
            Err(reason) => cx.invalid(&h.span(), &format!("api.allowed_hosts[{i}]"), reason),
        }
    }
    let plaintext = match &r.plaintext {
        None => PlaintextRule::LoopbackOnly,
        Some(p) => PlaintextRule::parse(p.get_ref()).unwrap_or_else(|| {
            cx.invalid(
                &p.span(),
                "api.plaintext",
                format!(
                    "{:?} is not a plaintext rule: expected \"loopback\" (the default: plain \
                     HTTP only on loopback addresses) or \"allow\"",
                    p.get_ref()
                ),
            );
            PlaintextRule::LoopbackOnly
        }),
    };
    ApiSettings {
        token_file,
        allowed_hosts,
        tls: tls(cx, r),
        plaintext,
    }
}

/// `tls_cert` and `tls_key`, both or neither.
fn tls(cx: &mut Ctx, r: &RawApi) -> Option<ApiTls> {
    let mut file = |v: &Option<toml::Spanned<String>>, field: &'static str| {
        let s = v.as_ref()?;
        if s.get_ref().trim().is_empty() {
            cx.invalid(&s.span(), field, "empty: expected the path of a PEM file");
            return None;
        }
        Some(TlsFile {
            field,
            path: PathBuf::from(s.get_ref()),
            location: cx.loc(&s.span()),
        })
    };
    let cert = file(&r.tls_cert, "api.tls_cert");
    let key = file(&r.tls_key, "api.tls_key");
    match (cert, key, &r.tls_cert, &r.tls_key) {
        (Some(cert), Some(key), _, _) => Some(ApiTls { cert, key }),
        (_, _, Some(given), None) | (_, _, None, Some(given)) => {
            cx.invalid(
                &given.span(),
                "api",
                "HTTPS needs tls_cert and tls_key together; one of them is missing",
            );
            None
        }
        _ => None,
    }
}
