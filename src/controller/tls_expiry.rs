//! When the `[controller] tls_*` certificates expire: the earliest `notAfter` of the
//! controller's chain (`tls_cert`: the listener stops completing handshakes when any of it
//! expires) and of the switch CA bundle (`tls_client_ca`: switch certificates chaining to an
//! expired CA are refused). Read from the same PEM files as [`super::tls_config`], once, at
//! start: `tls_*` changes take effect at the next restart, so what was read then is what is in
//! force. The metrics export it as `op25b_tls_cert_not_after_seconds`.
use std::fmt;
use std::time::Duration;

use x509_cert::der::Decode;
use x509_cert::Certificate;

use super::tls_config::{certificates, TlsFileProblem, TlsSetupError};
use crate::policy::{TlsFile, TlsSettings};

/// Which of the configured certificate files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRole {
    /// `tls_cert`: the controller's own chain.
    Server,
    /// `tls_client_ca`: the CA(s) switch certificates must chain to.
    ClientCa,
}

impl CertRole {
    /// The metric label value.
    pub fn name(self) -> &'static str {
        match self {
            CertRole::Server => "server",
            CertRole::ClientCa => "client_ca",
        }
    }
}

impl fmt::Display for CertRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The earliest `notAfter` among the certificates of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertExpiry {
    pub role: CertRole,
    /// Seconds since the Unix epoch.
    pub not_after_unix: u64,
}

/// The `notAfter` of one DER certificate, as a duration since the Unix epoch.
pub fn not_after(der: &[u8]) -> Result<Duration, x509_cert::der::Error> {
    let cert = Certificate::from_der(der)?;
    Ok(cert
        .tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration())
}

/// The earliest `notAfter` of every certificate in `file`.
pub fn earliest_not_after(file: &TlsFile) -> Result<u64, TlsFileProblem> {
    let mut earliest: Option<u64> = None;
    for (index, der) in certificates(file)?.iter().enumerate() {
        let secs = not_after(der)
            .map_err(|error| TlsFileProblem::BadCertificate { index, error })?
            .as_secs();
        earliest = Some(earliest.map_or(secs, |e| e.min(secs)));
    }
    // `certificates` never returns an empty list.
    earliest.ok_or(TlsFileProblem::NoCertificate)
}

/// The expiry of `tls_cert` and `tls_client_ca`, and every problem reading them (a file that
/// cannot be read now has no entry; the caller logs the problem).
pub fn certificate_expiry(tls: &TlsSettings) -> (Vec<CertExpiry>, Vec<TlsSetupError>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (role, file) in [
        (CertRole::Server, &tls.cert),
        (CertRole::ClientCa, &tls.client_ca),
    ] {
        match earliest_not_after(file) {
            Ok(not_after_unix) => found.push(CertExpiry {
                role,
                not_after_unix,
            }),
            Err(problem) => problems.push(TlsSetupError {
                file: file.clone(),
                problem,
            }),
        }
    }
    (found, problems)
}

#[cfg(test)]
#[path = "tls_expiry_tests.rs"]
mod tests;
