//! Prometheus metrics for `GET /metrics`, in the Prometheus text format (0.0.4) written by the
//! `prometheus-client` crate.
//!
//! - [`collector::FabricCollector`] reads the status registry, the policy store, the
//!   [`SwitchObservations`] and the offender service at scrape time (const metrics, nothing
//!   cached).
//! - [`SwitchObservations`] (in [`crate::fleet`]) holds what the registry does not: desired and
//!   actual flows, the blocking flows' packet and byte counters
//!   ([`crate::fleet::flow_readings`]), sync durations by result (a real `prometheus-client`
//!   histogram) and syncs by trigger.
//!
//! - [`switch_config::SwitchConfigCollector`] reads the bridge settings problems
//!   ([`crate::fleet::SwitchConfigProblems`]).
//!
//! - [`policy_info::PolicyInfoCollector`]: `op25b_policy_info{hash, generation}`, the policy in
//!   force; `op25b_build_info{version, profile}`, constant.
//! - [`tls_expiry::TlsExpiryCollector`]: when the `[controller] tls_*` certificates expire.
//! - [`process::ProcessCollector`]: the standard `process_*` metrics from `/proc`.
//! - [`cluster::ClusterCollector`]: `op25b_cluster_*`, this instance in a cluster (`[cluster]`
//!   only).
//!
//! Metric names and labels are listed in docs/operating.md ("Metrics"); the alerting rules in
//! deploy/prometheus/ and the dashboard in deploy/grafana/ use them, and tests/prometheus_real.rs
//! runs every panel's query against a real Prometheus scraping op25b.

pub mod cluster;
pub mod collector;
pub mod encode;
pub mod policy_info;
pub mod process;
pub mod switch_config;
pub mod tls_expiry;

use std::sync::Arc;

pub use collector::FabricCollector;

use crate::cluster::ClusterStatus;
use crate::controller::offender_service::OffenderHandle;
use crate::controller::policy_store::PolicyStore;
use crate::fleet::registry::Registry;
use crate::fleet::{SwitchConfigProblems, SwitchObservations};

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The metrics registry: built once, encoded on every scrape.
#[derive(Debug)]
pub struct Metrics {
    registry: prometheus_client::registry::Registry,
}

impl Metrics {
    /// Registers the collectors and the sync duration histogram.
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<PolicyStore>,
        observations: Arc<SwitchObservations>,
        offenders: Option<OffenderHandle>,
        switch_config: Arc<SwitchConfigProblems>,
        cluster: Option<Arc<parking_lot::Mutex<ClusterStatus>>>,
    ) -> Self {
        let mut metrics = prometheus_client::registry::Registry::default();
        metrics.register(
            "op25b_sync_duration_seconds",
            "Time from the flow read to the last barrier reply of a sync, by switch and result",
            observations.sync_durations(),
        );
        metrics.register(
            "op25b_build",
            "op25b's version and build profile; always 1",
            prometheus_client::metrics::info::Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION")),
                (
                    "profile",
                    if cfg!(debug_assertions) {
                        "debug"
                    } else {
                        "release"
                    },
                ),
            ]),
        );
        metrics.register_collector(Box::new(policy_info::PolicyInfoCollector::new(
            store.clone(),
        )));
        metrics.register_collector(Box::new(tls_expiry::TlsExpiryCollector::read(
            store.current().config().controller().tls.as_ref(),
        )));
        metrics.register_collector(Box::new(process::ProcessCollector));
        if let Some(status) = cluster {
            metrics.register_collector(Box::new(cluster::ClusterCollector {
                status,
                registry: registry.clone(),
                offenders: offenders.clone(),
            }));
        }
        metrics.register_collector(Box::new(FabricCollector {
            registry,
            store,
            observations,
            offenders,
        }));
        metrics.register_collector(Box::new(switch_config::SwitchConfigCollector {
            problems: switch_config,
        }));
        Self { registry: metrics }
    }

    /// The whole exposition, Prometheus text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
