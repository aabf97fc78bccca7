//! The test PKI of `op25b_test_support::pki` (minted with the `openssl` binary in a temp dir),
//! with every failure a failed test.
#![allow(dead_code, reason = "each test file uses a different part")]

use std::path::Path;
use std::sync::Arc;

use op25b_test_support::pki;
#[allow(unused_imports, reason = "each test file uses a different part")]
pub use op25b_test_support::pki::{tls_keys, KeyType, Pair};
pub use op25b_test_support::temp::temp_dir;

/// A self-signed CA named `name` in `dir`.
pub fn ca(dir: &Path, name: &str) -> Pair {
    pki::ca(dir, name).expect("mint a CA")
}

/// A leaf certificate `name` signed by `ca` (SAN DNS:`name` and IP:127.0.0.1, v3).
pub fn leaf(dir: &Path, name: &str, ca: &Pair, key: KeyType) -> Pair {
    pki::leaf(dir, name, ca, key).expect("mint a leaf certificate")
}

/// A self-signed P-256 certificate `name` valid for `days` days from now (a controller
/// certificate close to expiry).
pub fn self_signed(dir: &Path, name: &str, days: u32) -> Pair {
    pki::self_signed(dir, name, days).expect("mint a self-signed certificate")
}

pub fn pem_certs(path: &Path) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    pki::pem_certs(path).expect("read certs")
}

/// A rustls client config trusting `server_ca`, presenting `client` (None: no certificate),
/// offering only `versions`.
pub fn client_config(
    server_ca: &Path,
    client: Option<&Pair>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    pki::client_config(server_ca, client, versions).expect("client config")
}
