//! `op25b_tls_cert_not_after_seconds{role}`: when the `[controller] tls_*` certificates expire
//! (Unix seconds; the earliest `notAfter` of the file), `role` `server` (`tls_cert`) or
//! `client_ca` (`tls_client_ca`). Read once when the metrics are built, from the same files
//! the listener loaded at start ([`crate::controller::tls_expiry`]); `tls_*` changes take effect
//! at the next restart, and so does this metric. No series without `tls_listen`, nor for a file
//! that cannot be read or parsed then (logged as a warning).

use std::fmt::Error as FmtError;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use tracing::warn;

use crate::controller::tls_expiry::{certificate_expiry, CertExpiry};
use crate::policy::TlsSettings;

/// The expiry read at start.
#[derive(Debug)]
pub struct TlsExpiryCollector {
    expiry: Vec<CertExpiry>,
}

impl TlsExpiryCollector {
    /// Reads the certificate files of `tls` (nothing when `None`).
    pub fn read(tls: Option<&TlsSettings>) -> Self {
        let Some(tls) = tls else {
            return Self { expiry: Vec::new() };
        };
        let (expiry, problems) = certificate_expiry(tls);
        for p in &problems {
            warn!("no op25b_tls_cert_not_after_seconds for {p}");
        }
        Self { expiry }
    }
}

impl Collector for TlsExpiryCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), FmtError> {
        if self.expiry.is_empty() {
            return Ok(());
        }
        let mut m = enc.encode_descriptor(
            "op25b_tls_cert_not_after_seconds",
            "When the TLS certificates expire, Unix seconds (earliest notAfter in the file): role server (tls_cert) or client_ca (tls_client_ca); read at start",
            None,
            MetricType::Gauge,
        )?;
        for e in &self.expiry {
            let secs = i64::try_from(e.not_after_unix).unwrap_or(i64::MAX);
            let labels = [("role", e.role.name())];
            ConstGauge::new(secs).encode(m.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
