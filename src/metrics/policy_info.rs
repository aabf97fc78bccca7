//! `op25b_policy_info{hash, generation} 1`: which policy is in force, for comparing
//! controllers and spotting a change across restarts (the generation starts at 1 again on
//! every start; the hash does not).
//!
//! `hash` is the SHA-256 (hex) of op25b's canonical form of the validated policy (its `Debug`
//! rendering, which lists every setting; maps are ordered), not of the file's bytes: an edit
//! that only changes comments or layout is no new generation and keeps the hash. Two
//! controllers of the same op25b version with the same hash enforce the same policy. It is
//! computed once per generation (a 100,000-prefix policy renders to a few MB).

use std::fmt::Error as FmtError;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use sha2::{Digest, Sha256};

use crate::controller::policy_store::PolicyStore;
use crate::policy::Config;

/// The hash of a validated policy (see the module docs).
pub fn policy_hash(config: &Config) -> String {
    hex::encode(Sha256::digest(format!("{config:?}").as_bytes()))
}

/// Reads the policy in force at scrape time; hashes each generation once.
#[derive(Debug)]
pub struct PolicyInfoCollector {
    store: Arc<PolicyStore>,
    /// (generation, hash) of the last policy hashed.
    last: Mutex<Option<(u64, String)>>,
}

impl PolicyInfoCollector {
    pub fn new(store: Arc<PolicyStore>) -> Self {
        Self {
            store,
            last: Mutex::new(None),
        }
    }

    fn current(&self) -> (u64, String) {
        let policy = self.store.current();
        let generation = policy.generation();
        let mut last = self.last.lock();
        match &*last {
            Some((g, hash)) if *g == generation => (generation, hash.clone()),
            _ => {
                let hash = policy_hash(policy.config());
                *last = Some((generation, hash.clone()));
                (generation, hash)
            }
        }
    }
}

impl Collector for PolicyInfoCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), FmtError> {
        let (generation, hash) = self.current();
        let mut m = enc.encode_descriptor(
            "op25b_policy_info",
            "The policy in force: hash (SHA-256 of the validated policy, unchanged by comment-only edits) and generation; always 1",
            None,
            MetricType::Gauge,
        )?;
        let generation = generation.to_string();
        let labels = [("hash", hash.as_str()), ("generation", generation.as_str())];
        ConstGauge::new(1).encode(m.encode_family(&labels)?)
    }
}
