//! The PKI of a `--tls` run, minted fresh into the work directory with
//! `op25b_test_support::pki` (the `openssl` binary): a controller CA and the controller's
//! certificate (P-256 or RSA-2048, the key type under test), a switch CA, and one P-256 client
//! certificate that every simulated switch presents. Both CAs are RSA-2048, as `ovs-pki init`
//! makes them: what a real fleet's handshakes verify against (an RSA signature is several times
//! cheaper to verify than a P-256 one; the CA signs once, offline). One shared client certificate is enough
//! for a storm: the controller verifies each switch's chain all the same, and the swarm's
//! policy pins no `[[switch]] cert_sha256`. Each switch keeps its own TLS session store, so a
//! reconnect resumes that switch's own session -- unless the run says `--tls-full` (no
//! resumption: every reconnect a full handshake, as Open vSwitch 3.1 does).
use std::path::{Path, PathBuf};

use op25b_sim::SwitchTls;
use op25b_test_support::pki::{self, KeyType, PkiError};
use tokio_rustls::rustls::pki_types::ServerName;

use crate::error::SwarmError;

/// The name in the controller's certificate (its SAN), which the switches verify.
pub const CONTROLLER_NAME: &str = "op25b-controller";

/// The controller's side: the files the policy's `[controller] tls_*` keys name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerTlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
}

/// Both sides of a run's TLS.
#[derive(Debug, Clone)]
pub struct RunPki {
    pub key_type: KeyType,
    pub controller: ControllerTlsFiles,
    /// What every switch is built with (each then gets its own session store).
    pub switch: SwitchTls,
    /// Whether switches resume their sessions on reconnect.
    pub resume: bool,
}

/// Mints the PKI under `dir/pki-KEYTYPE` (replacing an earlier one). Without `resume` the
/// switches never resume a session, as Open vSwitch 3.1.
pub fn mint(dir: &Path, key_type: KeyType, resume: bool) -> Result<RunPki, SwarmError> {
    let dir = dir.join(format!("pki-{key_type}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|source| SwarmError::WorkDir {
        path: dir.clone(),
        source,
    })?;
    // Absolute paths: the controller reads them from its own working directory.
    let dir = std::fs::canonicalize(&dir).map_err(|source| SwarmError::WorkDir {
        path: dir.clone(),
        source,
    })?;
    let controller_ca = pki::ca_with_key(&dir, "swarm-controller-ca", KeyType::Rsa2048)?;
    let controller = pki::leaf(&dir, CONTROLLER_NAME, &controller_ca, key_type)?;
    let switch_ca = pki::ca_with_key(&dir, "swarm-switch-ca", KeyType::Rsa2048)?;
    let switch = pki::leaf(&dir, "swarm-switch", &switch_ca, KeyType::P256)?;
    let config = pki::client_config(
        &controller_ca.cert,
        Some(&switch),
        &[
            &tokio_rustls::rustls::version::TLS13,
            &tokio_rustls::rustls::version::TLS12,
        ],
    )?;
    let server_name = ServerName::try_from(CONTROLLER_NAME).map_err(|e| {
        SwarmError::Pki(PkiError::Client(tokio_rustls::rustls::Error::General(
            e.to_string(),
        )))
    })?;
    let switch = SwitchTls {
        config,
        server_name,
    };
    Ok(RunPki {
        key_type,
        controller: ControllerTlsFiles {
            cert: controller.cert,
            key: controller.key,
            client_ca: switch_ca.cert,
        },
        switch: if resume {
            switch
        } else {
            switch.without_resumption()
        },
        resume,
    })
}
