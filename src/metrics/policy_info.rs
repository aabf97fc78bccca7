//! `op25b_policy_info{hash, generation} 1`: which policy is in force, for comparing
//! controllers and spotting a change across restarts (the generation starts at 1 again on
//! every start; the hash does not).
//!
//! `hash` is the SHA-256 (hex) of op25b's canonical form of the validated policy (its `Debug`
//! rendering, which lists every setting, maps ordered, without where the TLS file keys were
//! written), not of the file's bytes: an edit that only changes comments or layout is no new
//! generation and keeps the hash. Two controllers of the same op25b version with the same hash
//! enforce the same policy. It is computed once per generation (a 100,000-prefix policy renders
//! to a few MB).

use std::fmt::Error as FmtError;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use sha2::{Digest, Sha256};

use crate::controller::policy_store::PolicyStore;
use crate::policy::{Config, Location, TlsFile};

/// The hash of a validated policy (see the module docs): the `Debug` rendering of its
/// parts, with where each TLS file key was written left out (not policy: `TlsFile`'s equality
/// ignores it too, so moving the line is no new generation and must not change the hash).
pub fn policy_hash(config: &Config) -> String {
    hex::encode(Sha256::digest(canonical(config).as_bytes()))
}

fn canonical(config: &Config) -> String {
    let mut controller = config.controller().clone();
    if let Some(tls) = &mut controller.tls {
        for file in [&mut tls.cert, &mut tls.key, &mut tls.client_ca] {
            unlocated(file);
        }
    }
    let mut api = config.api().clone();
    if let Some(tls) = &mut api.tls {
        for file in [&mut tls.cert, &mut tls.key] {
            unlocated(file);
        }
    }
    format!(
        "Config {{ controller: {controller:?}, api: {api:?}, cluster: {:?}, policy: {:?}, ovsdb: {:?} }}",
        config.cluster(),
        config.policy(),
        config.ovsdb()
    )
}

fn unlocated(file: &mut TlsFile) {
    file.location = Location {
        origin: String::new(),
        line: 0,
        column: 0,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, "p.toml").expect("valid policy").config
    }

    const TLS: &str = "tls_listen = \"127.0.0.1:6653\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\ntls_client_ca = \"ca.pem\"\n";
    const API_TLS: &str = "[api]\ntls_cert = \"a.pem\"\ntls_key = \"ak.pem\"\n";

    #[test]
    fn the_hash_follows_the_policy_not_the_comments_or_layout() {
        let a = config(&format!(
            "[controller]\n{TLS}{API_TLS}[policy]\nrelays = [\"192.0.2.25\"]\n"
        ));
        let moved = config(&format!(
            "# edge policy\n\n[controller]\n\n{TLS}\n{API_TLS}\n[policy]\nrelays = [ \"192.0.2.25\" ]  # relay\n"
        ));
        let other = config(&format!(
            "[controller]\n{TLS}{API_TLS}[policy]\nrelays = [\"192.0.2.26\"]\n"
        ));
        assert_eq!(a, moved, "the store sees no change");
        assert_eq!(policy_hash(&a), policy_hash(&moved));
        assert_ne!(policy_hash(&a), policy_hash(&other));
        let h = policy_hash(&a);
        assert!(
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()),
            "{h}"
        );
    }

    /// A part added to `Config` must be added to the hash: the canonical form must stay its
    /// `Debug` rendering but for the TLS locations.
    #[test]
    fn the_canonical_form_covers_every_part_of_the_config() {
        let plain = config("[policy]\nrelays = [\"192.0.2.25\"]\n");
        assert_eq!(canonical(&plain), format!("{plain:?}"));
    }

    #[test]
    fn the_collector_hashes_the_policy_in_force_and_follows_reloads() {
        let store = Arc::new(PolicyStore::new(
            config("[policy]\nrelays = [\"192.0.2.25\"]\n"),
            None,
        ));
        let c = PolicyInfoCollector::new(store.clone());
        let first = c.current();
        assert_eq!(first, (1, policy_hash(store.current().config())));
        store.install(config("[policy]\nrelays = [\"192.0.2.26\"]\n"));
        let second = c.current();
        assert_eq!(second.0, 2);
        assert_ne!(second.1, first.1);
        assert_eq!(second.1, policy_hash(store.current().config()));
    }
}
