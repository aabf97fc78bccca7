//! The `[api]` section: who may use the HTTP API (`[controller] api_listen` stays its address).
use super::raw::RawApi;
use super::validation_context::Ctx;
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
}

impl ApiSettings {
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

/// Validates the `[api]` section (absent: every default).
pub(super) fn validate(cx: &mut Ctx, raw: Option<&RawApi>) -> ApiSettings {
    let Some(r) = raw else {
        return ApiSettings::default();
    };
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
    ApiSettings {
        token_file,
        allowed_hosts,
    }
}
