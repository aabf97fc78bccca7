//! A throw-away PKI minted with the `openssl` binary in a directory: CAs, leaf certificates
//! (controller or switch; ECDSA P-256 or RSA-2048 keys), the `[controller] tls_*` policy keys
//! for them, and rustls client configurations that act as switches. Used by op25b's TLS tests
//! (`tests/tls_support`) and by op25b-swarm's `--tls` runs, so unlike the rest of this crate it
//! returns typed errors instead of panicking.
//!
//! The `openssl` command line, not a Rust certificate crate, because RSA-2048 keys are wanted
//! too (to measure them against P-256) and the pure-Rust generators on the *ring* backend make
//! ECDSA and Ed25519 keys only; `openssl` comes with Open vSwitch (`scripts/install-deps`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why minting or loading the PKI failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot run openssl {args:?} in {dir}: {source}")]
    Spawn {
        args: Vec<String>,
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("openssl {args:?} in {dir} failed: {stderr}")]
    Openssl {
        args: Vec<String>,
        dir: PathBuf,
        stderr: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Pem {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{path}: not a usable CA certificate: {source}")]
    BadCa {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot build the TLS client configuration: {0}")]
    Client(rustls::Error),
}

/// Key types the helpers can mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    P256,
    Rsa2048,
}

impl KeyType {
    fn newkey_args(self) -> &'static [&'static str] {
        match self {
            Self::P256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            Self::Rsa2048 => &["-newkey", "rsa:2048"],
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::P256 => "p256",
            Self::Rsa2048 => "rsa2048",
        })
    }
}

/// A key type named on a command line.
#[derive(Debug, thiserror::Error)]
#[error("unknown key type {0:?} (expected p256 or rsa2048)")]
pub struct UnknownKeyType(String);

impl FromStr for KeyType {
    type Err = UnknownKeyType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "p256" => Ok(Self::P256),
            "rsa2048" => Ok(Self::Rsa2048),
            other => Err(UnknownKeyType(other.to_string())),
        }
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), PkiError> {
    let owned = || args.iter().map(ToString::to_string).collect();
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|source| PkiError::Spawn {
            args: owned(),
            dir: dir.to_path_buf(),
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(PkiError::Openssl {
            args: owned(),
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A self-signed CA named `name` in `dir` (P-256, 30 days).
pub fn ca(dir: &Path, name: &str) -> Result<Pair, PkiError> {
    self_signed(dir, name, 30)
}

/// A self-signed CA named `name` in `dir` with a `key` key (30 days). `ovs-pki init` makes
/// RSA-2048 CAs, so [`KeyType::Rsa2048`] is what a fleet set up with it verifies against.
pub fn ca_with_key(dir: &Path, name: &str, key: KeyType) -> Result<Pair, PkiError> {
    self_signed_with_key(dir, name, 30, key)
}

/// A self-signed P-256 certificate `name` in `dir`, valid for `days` days from now (a CA, or a
/// controller certificate close to expiry).
pub fn self_signed(dir: &Path, name: &str, days: u32) -> Result<Pair, PkiError> {
    self_signed_with_key(dir, name, days, KeyType::P256)
}

fn self_signed_with_key(
    dir: &Path,
    name: &str,
    days: u32,
    key_type: KeyType,
) -> Result<Pair, PkiError> {
    let (cert, key) = (format!("{name}-cert.pem"), format!("{name}-key.pem"));
    let (subj, days) = (format!("/CN={name}"), days.to_string());
    let mut args = vec!["req", "-x509", "-nodes", "-days", &days, "-subj", &subj];
    args.extend_from_slice(key_type.newkey_args());
    args.extend(["-keyout", &key, "-out", &cert]);
    openssl(dir, &args)?;
    Ok(Pair {
        cert: dir.join(cert),
        key: dir.join(key),
    })
}

/// A leaf certificate `name` signed by `ca` (SAN DNS:`name` and IP:127.0.0.1, v3, 30 days),
/// with a `key` key.
pub fn leaf(dir: &Path, name: &str, ca: &Pair, key: KeyType) -> Result<Pair, PkiError> {
    let (cert, keyf, csr, ext) = (
        format!("{name}-cert.pem"),
        format!("{name}-key.pem"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    let ext_path = dir.join(&ext);
    std::fs::write(
        &ext_path,
        format!("basicConstraints=CA:FALSE\nsubjectAltName=DNS:{name},IP:127.0.0.1\n"),
    )
    .map_err(|source| PkiError::Write {
        path: ext_path,
        source,
    })?;
    let subj = format!("/CN={name}");
    let mut args = vec!["req", "-new", "-nodes", "-subj", &subj];
    args.extend_from_slice(key.newkey_args());
    args.extend(["-keyout", &keyf, "-out", &csr]);
    openssl(dir, &args)?;
    let (ca_cert, ca_key) = (ca.cert.to_string_lossy(), ca.key.to_string_lossy());
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "30",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    )?;
    Ok(Pair {
        cert: dir.join(cert),
        key: dir.join(keyf),
    })
}

/// The `[controller]` TLS keys for these files (TOML lines).
pub fn tls_keys(listen: &str, server: &Pair, client_ca: &Path) -> String {
    format!(
        "tls_listen = \"{listen}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n",
        server.cert.display(),
        server.key.display(),
        client_ca.display()
    )
}

/// Every certificate in a PEM file.
pub fn pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let pem = |source| PkiError::Pem {
        path: path.to_path_buf(),
        source,
    };
    CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<_, _>>()
        .map_err(pem)
}

/// A rustls client configuration (the ring provider, as the controller's) trusting the CA in
/// `server_ca`, presenting `client` (None: no certificate), offering only `versions`.
pub fn client_config(
    server_ca: &Path,
    client: Option<&Pair>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<rustls::ClientConfig>, PkiError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(server_ca)? {
        roots.add(c).map_err(|source| PkiError::BadCa {
            path: server_ca.to_path_buf(),
            source,
        })?;
    }
    let builder =
        rustls::ClientConfig::builder_with_provider(op25b::controller::tls_config::provider())
            .with_protocol_versions(versions)
            .map_err(PkiError::Client)?
            .with_root_certificates(roots);
    Ok(Arc::new(match client {
        None => builder.with_no_client_auth(),
        Some(p) => {
            let key = PrivateKeyDer::from_pem_file(&p.key).map_err(|source| PkiError::Pem {
                path: p.key.clone(),
                source,
            })?;
            builder
                .with_client_auth_cert(pem_certs(&p.cert)?, key)
                .map_err(PkiError::Client)?
        }
    }))
}
