//! Test PKI minted with the `openssl` binary in a temp dir: CAs, a controller certificate
//! (ECDSA P-256 or RSA-2048) and switch certificates; rustls clients that act as switches.
#![allow(dead_code, reason = "each test file uses a different part")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// Key types the helpers can mint.
#[derive(Debug, Clone, Copy)]
pub enum KeyType {
    P256,
    Rsa2048,
}

fn newkey_args(key: KeyType) -> Vec<&'static str> {
    match key {
        KeyType::P256 => vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        KeyType::Rsa2048 => vec!["-newkey", "rsa:2048"],
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A self-signed CA named `name` in `dir`.
pub fn ca(dir: &Path, name: &str) -> Pair {
    let (cert, key) = (format!("{name}-cert.pem"), format!("{name}-key.pem"));
    let mut args = vec!["req", "-x509", "-nodes", "-days", "30", "-subj"];
    let subj = format!("/CN={name}");
    args.push(&subj);
    args.extend(newkey_args(KeyType::P256));
    args.extend(["-keyout", &key, "-out", &cert]);
    openssl(dir, &args);
    Pair {
        cert: dir.join(cert),
        key: dir.join(key),
    }
}

/// A leaf certificate `name` signed by `ca` (SAN DNS:`name` and IP:127.0.0.1, v3).
pub fn leaf(dir: &Path, name: &str, ca: &Pair, key: KeyType) -> Pair {
    let (cert, keyf, csr, ext) = (
        format!("{name}-cert.pem"),
        format!("{name}-key.pem"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    std::fs::write(
        dir.join(&ext),
        format!("basicConstraints=CA:FALSE\nsubjectAltName=DNS:{name},IP:127.0.0.1\n"),
    )
    .expect("write ext");
    let subj = format!("/CN={name}");
    let mut args = vec!["req", "-new", "-nodes", "-subj", &subj];
    args.extend(newkey_args(key));
    args.extend(["-keyout", &keyf, "-out", &csr]);
    openssl(dir, &args);
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
    );
    Pair {
        cert: dir.join(cert),
        key: dir.join(keyf),
    }
}

/// A self-signed P-256 certificate `name` valid for `days` days from now (a controller
/// certificate close to expiry).
pub fn self_signed(dir: &Path, name: &str, days: u32) -> Pair {
    let (cert, key) = (format!("{name}-cert.pem"), format!("{name}-key.pem"));
    let (subj, days) = (format!("/CN={name}"), days.to_string());
    let mut args = vec!["req", "-x509", "-nodes", "-days", &days, "-subj", &subj];
    args.extend(newkey_args(KeyType::P256));
    args.extend(["-keyout", &key, "-out", &cert]);
    openssl(dir, &args);
    Pair {
        cert: dir.join(cert),
        key: dir.join(key),
    }
}

pub use op25b_test_support::temp::temp_dir;

/// The `[controller]` TLS keys for these files.
pub fn tls_keys(listen: &str, server: &Pair, client_ca: &Path) -> String {
    format!(
        "tls_listen = \"{listen}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n",
        server.cert.display(),
        server.key.display(),
        client_ca.display()
    )
}

pub fn pem_certs(path: &Path) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_file_iter(path)
        .expect("read certs")
        .collect::<Result<_, _>>()
        .expect("parse certs")
}

/// A rustls client config trusting `server_ca`, presenting `client` (None: no certificate),
/// offering only `versions`.
pub fn client_config(
    server_ca: &Path,
    client: Option<&Pair>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(server_ca) {
        roots.add(c).expect("CA");
    }
    #[allow(deprecated, reason = "the ring provider, as the controller uses")]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots);
    Arc::new(match client {
        None => builder.with_no_client_auth(),
        Some(p) => builder
            .with_client_auth_cert(
                pem_certs(&p.cert),
                rustls::pki_types::PrivateKeyDer::from_pem_file(&p.key).expect("key"),
            )
            .expect("client cert"),
    })
}
