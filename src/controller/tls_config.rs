//! The `[controller] tls_*` files turned into a rustls server configuration: the controller's
//! certificate chain and key, and the CA every switch certificate must chain to (mutual TLS:
//! a switch without a certificate, or with one from another CA, fails the handshake).
//!
//! Every problem is reported against the key that named the file, at its `file:line:column` in
//! the policy, and all of them at once (`op25b check` shows them; `op25b run` refuses to start).
//!
//! TLS 1.3 and 1.2 are offered, with ring's cipher suites: ECDHE key exchange only, AES-GCM or
//! ChaCha20-Poly1305, the controller's order first: AES-128-GCM with SHA-256 (see [`provider`]
//! for why), which Open vSwitch 3.1 with OpenSSL 3 then uses with either version.
//!
//! Sessions resume: after each full handshake the switch gets one stateless session ticket
//! (encrypted with a key of this process's, ChaCha20-Poly1305, rotated every 6 hours, valid up
//! to 12), and a switch that presents it on reconnect skips the certificate exchange and both
//! signatures (TLS 1.3 PSK with a fresh ECDHE exchange, so the traffic keys stay forward
//! secret). The ticket carries the switch's certificate chain, so a resumed session has the
//! same peer certificate (and `[[switch]] cert_sha256` pin) as the full handshake it resumes;
//! a restart (which new `tls_*` files need anyway) makes every ticket useless. Stateless, so a
//! reconnect storm of 10,000 switches costs no controller memory for a session cache.
//! TLS 1.2 clients resume through rustls's default 256-entry session-id cache.
use crate::policy::{CertSha256, TlsFile, TlsSettings};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// What is wrong with one of the TLS files.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileProblem {
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("not valid PEM: {0}")]
    Pem(rustls::pki_types::pem::Error),
    #[error("no certificate in it (expected a PEM block -----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    #[error("no private key in it (expected a PEM block -----BEGIN PRIVATE KEY-----, -----BEGIN EC PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)")]
    NoKey,
    #[error("the private key cannot be used: {0}")]
    KeyUnusable(rustls::Error),
    #[error("the private key does not belong to the certificate in {cert}")]
    KeyMismatch { cert: String },
    #[error("certificate {index} is not a usable CA certificate: {error}")]
    BadCa { index: usize, error: rustls::Error },
    #[error("cannot build the switch certificate verifier: {0}")]
    Verifier(rustls::server::VerifierBuilderError),
    #[error("certificate {index} is not a valid X.509 certificate: {error}")]
    BadCertificate {
        index: usize,
        error: x509_cert::der::Error,
    },
    #[error("cannot make the session-ticket key: {0}")]
    Ticketer(rustls::Error),
}

/// A problem with one file, located at the policy key that named it.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct TlsSetupError {
    pub file: TlsFile,
    pub problem: TlsFileProblem,
}

/// Every problem found with the TLS files (at least one). Display: one per line.
#[derive(Debug)]
pub struct TlsSetupErrors(pub Vec<TlsSetupError>);

impl fmt::Display for TlsSetupErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TlsSetupErrors {}

/// The SHA-256 of a certificate's DER bytes (what `[[switch]] cert_sha256` pins).
pub fn fingerprint(der: &[u8]) -> CertSha256 {
    CertSha256(Sha256::digest(der).into())
}

/// The crypto provider: ring, with its default (ECDHE, AEAD-only) cipher suites, and key
/// exchange over X25519 or P-256 only. rustls 0.23.48's ring defaults list P-384 first, and
/// ring's P-384 is generic bignum code: with it a TLS handshake cost about 1 ms of CPU on each
/// side (measured with `perf` on a swarm storm: `bn_mul_mont_nohw` and the `nistz384`
/// functions were half of all cycles), full or resumed alike, since every handshake makes a
/// fresh exchange. Both groups left have 128-bit security; Open vSwitch 3.1's OpenSSL 3 sends
/// an X25519 key share, and a client that offers only a P-384 share is asked (TLS 1.3
/// HelloRetryRequest) for one of these.
///
/// The cipher suites are ring's, AES-128-GCM first in each protocol version (the server's order
/// wins: `ignore_client_order` in [`server_config`]). The AEAD strength is not the point -- both
/// AES-GCM sizes are far beyond the 128-bit security of the key exchange -- the hash is: the
/// AES-256 suites run the TLS 1.3 key schedule and the transcript on SHA-384, which has no
/// hardware instructions on x86-64 and cost 4% of the controller's CPU in a TLS storm
/// (`sha512_block_data_order_nohw` in `perf`), while SHA-256 runs on the SHA extensions.
/// Open vSwitch 3.1's OpenSSL offers both and then takes `TLS13_AES_128_GCM_SHA256`.
#[allow(
    deprecated,
    reason = "ring is the chosen backend (aws-lc-rs's C build is too slow here); its lack of \
              post-quantum key exchange costs nothing with Open vSwitch 3.1, which offers none"
)]
pub fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::kx_group;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.kx_groups = vec![kx_group::X25519, kx_group::SECP256R1];
    // A stable sort: within each version, the 128-bit AES-GCM suites move to the front and the
    // rest keep ring's order.
    provider.cipher_suites.sort_by_key(|suite| {
        (
            suite.version().version != rustls::ProtocolVersion::TLSv1_3,
            !is_aes128_gcm(*suite),
        )
    });
    Arc::new(provider)
}

fn is_aes128_gcm(suite: rustls::SupportedCipherSuite) -> bool {
    use rustls::CipherSuite as C;
    matches!(
        suite.suite(),
        C::TLS13_AES_128_GCM_SHA256
            | C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    )
}

/// Reads the three files and builds the server configuration, or reports every problem.
pub fn server_config(tls: &TlsSettings) -> Result<Arc<ServerConfig>, TlsSetupErrors> {
    let provider = provider();
    let mut errors = Vec::new();
    let mut fail = |file: &TlsFile, problem| {
        errors.push(TlsSetupError {
            file: file.clone(),
            problem,
        });
    };
    let chain = certificates(&tls.cert).map_err(|p| fail(&tls.cert, p)).ok();
    let key = private_key(&tls.key).map_err(|p| fail(&tls.key, p)).ok();
    let verifier = client_verifier(&tls.client_ca, &provider)
        .map_err(|p| fail(&tls.client_ca, p))
        .ok();
    let certified = match (chain, key) {
        (Some(chain), Some(key)) => certified_key(chain, key, &tls.cert, &provider)
            .map_err(|p| fail(&tls.key, p))
            .ok(),
        _ => None,
    };
    let (Some(certified), Some(verifier)) = (certified, verifier) else {
        return Err(TlsSetupErrors(errors));
    };
    let ticketer = ticketer().map_err(|problem| {
        TlsSetupErrors(vec![TlsSetupError {
            file: tls.cert.clone(),
            problem,
        }])
    })?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| {
            // Only reachable if the provider offered no suite for these versions: not ring's.
            TlsSetupErrors(vec![TlsSetupError {
                file: tls.cert.clone(),
                problem: TlsFileProblem::KeyUnusable(e),
            }])
        })?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.ticketer = ticketer;
    // Our order of cipher suites, not the switch's (see `provider`).
    config.ignore_client_order = true;
    // One ticket per handshake (rustls's default is 2): a switch reconnects one at a time.
    config.send_tls13_tickets = 1;
    Ok(Arc::new(config))
}

/// The HTTP API's HTTPS configuration (`[api] tls_cert`, `tls_key`): no client certificate is
/// asked for (the bearer token identifies the client), HTTP/1.1 offered by ALPN.
pub fn api_server_config(
    cert: &TlsFile,
    key: &TlsFile,
) -> Result<Arc<ServerConfig>, TlsSetupErrors> {
    let provider = provider();
    let mut errors = Vec::new();
    let chain = certificates(cert)
        .map_err(|problem| {
            errors.push(TlsSetupError {
                file: cert.clone(),
                problem,
            });
        })
        .ok();
    let private = private_key(key)
        .map_err(|problem| {
            errors.push(TlsSetupError {
                file: key.clone(),
                problem,
            });
        })
        .ok();
    let (Some(chain), Some(private)) = (chain, private) else {
        return Err(TlsSetupErrors(errors));
    };
    let certified = certified_key(chain, private, cert, &provider).map_err(|problem| {
        TlsSetupErrors(vec![TlsSetupError {
            file: key.clone(),
            problem,
        }])
    })?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| {
            TlsSetupErrors(vec![TlsSetupError {
                file: cert.clone(),
                problem: TlsFileProblem::KeyUnusable(e),
            }])
        })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// Stateless TLS 1.3 session tickets (see the module docs).
#[allow(deprecated, reason = "the ring backend, as in `provider`")]
fn ticketer() -> Result<Arc<dyn rustls::server::ProducesTickets>, TlsFileProblem> {
    rustls::crypto::ring::Ticketer::new().map_err(TlsFileProblem::Ticketer)
}

fn read(file: &TlsFile) -> Result<Vec<u8>, TlsFileProblem> {
    std::fs::read(&file.path).map_err(TlsFileProblem::Read)
}

/// Every certificate in a PEM file (text around the blocks, as `ovs-pki` writes, is skipped).
pub(super) fn certificates(file: &TlsFile) -> Result<Vec<CertificateDer<'static>>, TlsFileProblem> {
    let bytes = read(file)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsFileProblem::Pem)?;
    if certs.is_empty() {
        return Err(TlsFileProblem::NoCertificate);
    }
    Ok(certs)
}

fn private_key(file: &TlsFile) -> Result<PrivateKeyDer<'static>, TlsFileProblem> {
    let bytes = read(file)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsFileProblem::NoKey,
        other => TlsFileProblem::Pem(other),
    })
}

fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert: &TlsFile,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsFileProblem> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(TlsFileProblem::KeyUnusable)?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsFileProblem::KeyMismatch {
                cert: cert.to_string(),
            })
        }
        Err(e) => Err(TlsFileProblem::KeyUnusable(e)),
    }
}

fn client_verifier(
    file: &TlsFile,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsFileProblem> {
    let mut roots = RootCertStore::empty();
    for (index, ca) in certificates(file)?.into_iter().enumerate() {
        roots
            .add(ca)
            .map_err(|error| TlsFileProblem::BadCa { index, error })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(TlsFileProblem::Verifier)
}
