//! The API's bearer token: made on first start, kept in a file only its owner can read, and
//! checked without a timing difference between a wrong and a missing token.
//!
//! `[api] token_file` (default `api-token` next to the policy file) holds one line: 64 hex
//! digits from `/dev/urandom`, written with mode 0600 when the file does not exist. An
//! existing file that its group or others may read is refused (the controller does not start):
//! the token guards subscribers' addresses and policy reloads. The file is opened without
//! following a symlink.
//!
//! A presented token and the expected one are compared as SHA-256 digests (same length
//! whatever was sent) with a fold that looks at every byte.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bytes of randomness in a new token (written as twice as many hex digits).
pub const TOKEN_BYTES: usize = 32;
/// Shortest token accepted from a file.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Why the token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("API token file {path} is readable by its group or others (mode {mode:03o}); it guards subscriber data and reloads: run `chmod 600 {path}`")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("API token file {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot read API token file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot create API token file {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The expected token, kept only as its digest.
#[derive(Clone)]
pub struct ApiToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl ApiToken {
    /// A token from its text (tests; [`load_or_create`] for files).
    pub fn new(token: &str) -> Self {
        Self {
            digest: digest(token.as_bytes()),
        }
    }

    /// True when `presented` is the token. Time does not depend on where they differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let other = digest(presented);
        self.digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// What [`load_or_create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Created,
    Existing,
}

/// A fresh random token: 64 hex digits.
fn random_token() -> io::Result<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Reads the token from `path` (no symlink followed), refusing a file its group or others may
/// read. Used by the controller; clients use [`read_token`].
pub fn load(path: &Path) -> Result<ApiToken, TokenError> {
    read_checked(path, true).map(|t| ApiToken::new(&t))
}

/// The token text in `path`, for clients (`op25b status`, `op25b reload`).
pub fn read_token(path: &Path) -> Result<String, TokenError> {
    read_checked(path, false)
}

fn read_checked(path: &Path, strict_mode: bool) -> Result<String, TokenError> {
    let read_err = |source| TokenError::Read {
        path: path.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(TokenError::Invalid {
            path: path.to_owned(),
            reason: "not a regular file".to_owned(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if strict_mode && mode & 0o077 != 0 {
        return Err(TokenError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    let token = text.trim();
    if token.len() < MIN_TOKEN_CHARS || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TokenError::Invalid {
            path: path.to_owned(),
            reason: format!(
                "expected one token of at least {MIN_TOKEN_CHARS} characters without spaces"
            ),
        });
    }
    Ok(token.to_owned())
}

/// The token in `path`; when the file does not exist, a new random one written there with
/// mode 0600 (never over an existing file).
pub fn load_or_create(path: &Path) -> Result<(ApiToken, TokenSource), TokenError> {
    match load(path) {
        Ok(t) => return Ok((t, TokenSource::Existing)),
        Err(TokenError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let create_err = |source| TokenError::Create {
        path: path.to_owned(),
        source,
    };
    let token = random_token().map_err(create_err)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(create_err)?;
    file.write_all(format!("{token}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(create_err)?;
    Ok((ApiToken::new(&token), TokenSource::Created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_token_matches() {
        let t = ApiToken::new("0123456789abcdef0123");
        assert!(t.matches(b"0123456789abcdef0123"));
        assert!(!t.matches(b"0123456789abcdef0124"));
        assert!(!t.matches(b""));
        assert!(!t.matches(b"0123456789abcdef01230"));
    }
}
