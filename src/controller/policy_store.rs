//! The policy in force and its generation, distributed to every session through a
//! `tokio::sync::watch` channel, and how the reloads went ([`ReloadStatus`]). The one owner of
//! the policy state: the API, the metrics and the readiness check read it here.
//!
//! A new policy that fails validation is rejected and logged; the policy in force stays and
//! nothing is removed from any switch. A valid one gets the next generation; every connected
//! session re-syncs to it, and a switch that is disconnected at the time gets it when it
//! reconnects (it always syncs to the latest value of the channel).

use super::reload_history::{PolicyOrigin, ReloadHistory, ReloadRecord, ReloadResult};
use crate::offenders::UnixMillis;
use crate::policy::{Config, LoadError};
use crate::session::active_policy::ActivePolicy;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::{broadcast, watch};
use tracing::{error, info, warn};

/// What a reload did.
#[derive(Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// A new generation is in force.
    Installed { generation: u64 },
    /// The file is valid and identical to the policy in force: nothing to do.
    Unchanged { generation: u64 },
}

/// How the reloads went since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadStatus {
    /// Installs of a new generation (a reload of a changed file, or [`PolicyStore::install`]).
    pub reloads_ok: u64,
    /// Reloads rejected (file unreadable or invalid); the policy in force stayed.
    pub reloads_failed: u64,
    /// Why the last reload was rejected; cleared when a new generation is installed.
    pub last_reload_error: Option<String>,
    /// The etcd revision of the cluster's shared policy in force (`[cluster]` only; `None`:
    /// the local file's policy).
    pub etcd_revision: Option<i64>,
}

/// Holds the sender side of the policy channel and the reload status.
#[derive(Debug)]
pub struct PolicyStore {
    path: Option<PathBuf>,
    tx: watch::Sender<Arc<ActivePolicy>>,
    status: Mutex<ReloadStatus>,
    /// Held from reading the policy in force to publishing the next one, so two reloads at once
    /// (API and SIGHUP/file watch) never compute the same generation.
    install_lock: Mutex<()>,
    /// The policy in force: hash, when, trigger (written with `tx`, under `install_lock`).
    origin: Mutex<PolicyOrigin>,
    history: Mutex<ReloadHistory>,
    /// Every reload, to whoever listens (nobody listening is fine; never blocks).
    reloads: broadcast::Sender<ReloadRecord>,
    /// The cluster's shared policy last accepted from etcd and its revision: while set, it
    /// replaces the policy sections of the local file at every reload (`etcd_policy`).
    shared: Mutex<Option<(Config, i64)>>,
}

/// Reload records a slow subscriber may fall behind by before it misses some.
const RELOAD_BUFFER: usize = 16;

impl PolicyStore {
    /// Generation 1 is `config`; `path` is where reloads read from (None: no file, tests).
    pub fn new(config: Config, path: Option<PathBuf>) -> Self {
        let first = Arc::new(ActivePolicy::new(1, config));
        let (tx, _rx) = watch::channel(first);
        Self {
            path,
            tx,
            status: Mutex::new(ReloadStatus::default()),
            install_lock: Mutex::new(()),
            origin: Mutex::new(PolicyOrigin {
                generation: 1,
                sha256: None,
                loaded_at: UnixMillis::now(),
                trigger: "start".to_owned(),
            }),
            history: Mutex::new(ReloadHistory::default()),
            reloads: broadcast::channel(RELOAD_BUFFER).0,
            shared: Mutex::new(None),
        }
    }

    /// Records the hash of the file generation 1 was read from (`Loaded::source_sha256`).
    #[must_use]
    pub fn with_source_sha256(self, sha256: String) -> Self {
        self.origin.lock().sha256 = Some(sha256);
        self
    }

    /// The policy in force: generation, hash, when and why it was installed.
    pub fn origin(&self) -> PolicyOrigin {
        self.origin.lock().clone()
    }

    /// The last reloads, oldest first (at most [`super::reload_history::HISTORY_LEN`]).
    pub fn reload_history(&self) -> Vec<ReloadRecord> {
        self.history.lock().to_vec()
    }

    /// Every reload from now on. A receiver that falls more than a few reloads behind gets
    /// `Lagged` (it is never waited for).
    pub fn subscribe_reloads(&self) -> broadcast::Receiver<ReloadRecord> {
        self.reloads.subscribe()
    }

    fn record(&self, trigger: &str, result: ReloadResult) {
        let record = ReloadRecord::new(SystemTime::now(), trigger, result);
        self.history.lock().push(record.clone());
        // No subscriber is not an error.
        let _ = self.reloads.send(record);
    }

    /// A receiver for a new session (sees the latest policy at once).
    pub fn subscribe(&self) -> watch::Receiver<Arc<ActivePolicy>> {
        self.tx.subscribe()
    }

    /// The policy in force.
    pub fn current(&self) -> Arc<ActivePolicy> {
        self.tx.borrow().clone()
    }

    /// How the reloads went since start.
    pub fn reload_status(&self) -> ReloadStatus {
        self.status.lock().clone()
    }

    /// The policy file this store reloads from.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Installs `config` as the next generation (or does nothing when it equals the current).
    pub fn install(&self, config: Config) -> ReloadOutcome {
        self.install_from(config, None, "install")
    }

    /// [`PolicyStore::install`] of a file with hash `sha256`, installed because of `trigger`.
    fn install_from(&self, config: Config, sha256: Option<String>, trigger: &str) -> ReloadOutcome {
        let _serialised = self.install_lock.lock();
        let current = self.current();
        if *current.config() == config {
            return ReloadOutcome::Unchanged {
                generation: current.generation(),
            };
        }
        let (old, new) = (current.config().controller(), config.controller());
        if old.listen != new.listen || old.tls != new.tls || old.plaintext != new.plaintext {
            warn!(
                old_listen = ?old.listen,
                new_listen = ?new.listen,
                old_tls_listen = ?old.tls.as_ref().map(|t| t.listen),
                new_tls_listen = ?new.tls.as_ref().map(|t| t.listen),
                "[controller] listen, plaintext or tls_* changed: takes effect at the next restart"
            );
        }
        let next = current.next(config);
        let generation = next.generation();
        *self.origin.lock() = PolicyOrigin {
            generation,
            sha256: sha256.clone(),
            loaded_at: UnixMillis::now(),
            trigger: trigger.to_owned(),
        };
        self.tx.send_replace(Arc::new(next));
        {
            let mut status = self.status.lock();
            status.reloads_ok += 1;
            status.last_reload_error = None;
        }
        self.record(trigger, ReloadResult::Installed { generation, sha256 });
        ReloadOutcome::Installed { generation }
    }

    /// Installs the cluster's shared policy (from etcd, at `revision`) with this instance's
    /// local settings; it stays in force over the local file's policy sections until the next.
    pub fn install_shared(&self, shared: Config, revision: i64) -> ReloadOutcome {
        let mut slot = self.shared.lock();
        let config = self.current().config().with_policy_of(&shared);
        *slot = Some((shared, revision));
        let outcome = self.install_from(config, None, "etcd");
        self.status.lock().etcd_revision = Some(revision);
        outcome
    }

    /// Counts a rejected policy (the one in force stays), keeps why for the API/metrics and
    /// records it in the reload history under `trigger`.
    pub fn record_rejection(&self, trigger: &str, error: String) {
        {
            let mut status = self.status.lock();
            status.reloads_failed += 1;
            status.last_reload_error = Some(error.clone());
        }
        self.record(
            trigger,
            ReloadResult::Rejected {
                generation: self.current().generation(),
                error,
            },
        );
    }

    /// Reads and validates the policy file again; on error the policy in force stays.
    pub fn reload(&self, why: &str) -> Result<ReloadOutcome, LoadError> {
        let Some(path) = self.path.clone() else {
            return Ok(ReloadOutcome::Unchanged {
                generation: self.current().generation(),
            });
        };
        // Held until installed, so an etcd policy arriving meanwhile is not overwritten.
        let shared = self.shared.lock();
        match Config::load(&path) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    warn!(path = %path.display(), "{w}");
                }
                let (config, sha256) = match &*shared {
                    Some((policy, revision)) => {
                        if loaded.config.policy() != policy.policy() {
                            warn!(path = %path.display(), etcd_revision = revision, "the local file's policy sections differ from the cluster's policy, which stays in force: change the policy with `op25b policy push`");
                        }
                        // The file's hash is not the policy's here: the policy came from etcd.
                        (loaded.config.with_policy_of(policy), None)
                    }
                    None => (loaded.config, Some(loaded.source_sha256)),
                };
                let outcome = self.install_from(config, sha256, why);
                match &outcome {
                    ReloadOutcome::Installed { generation } => info!(
                        path = %path.display(),
                        generation,
                        trigger = why,
                        "policy reloaded; re-syncing every connected switch"
                    ),
                    ReloadOutcome::Unchanged { generation } => {
                        info!(
                            path = %path.display(),
                            generation,
                            trigger = why,
                            "policy file re-read: unchanged"
                        );
                        self.record(
                            why,
                            ReloadResult::Unchanged {
                                generation: *generation,
                            },
                        );
                    }
                }
                Ok(outcome)
            }
            Err(e) => {
                error!(
                    path = %path.display(),
                    trigger = why,
                    error = %e,
                    generation = self.current().generation(),
                    "policy reload rejected; the policy in force stays"
                );
                self.record_rejection(why, e.to_string());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn config(n: u32) -> Config {
        let text = format!(
            "[policy]\nrelays = [\"10.{}.{}.{}\"]\n",
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff
        );
        match Config::parse(&text, "p.toml") {
            Ok(l) => l.config,
            Err(e) => panic!("test policy {n} is invalid: {e}"),
        }
    }

    /// API reloads and SIGHUP/file-watch reloads run on different threads: every install of a
    /// different policy must get its own generation, in order.
    #[test]
    fn concurrent_installs_get_distinct_increasing_generations() {
        const THREADS: u32 = 8;
        const EACH: u32 = 200;
        let store = Arc::new(PolicyStore::new(config(0), None));
        let barrier = Arc::new(std::sync::Barrier::new(THREADS as usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = store.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let configs: Vec<Config> =
                        (0..EACH).map(|i| config(1 + t * EACH + i)).collect();
                    barrier.wait();
                    let mut got = Vec::new();
                    for c in configs {
                        match store.install(c) {
                            ReloadOutcome::Installed { generation } => got.push(generation),
                            ReloadOutcome::Unchanged { generation } => {
                                panic!("a new policy reported unchanged at {generation}")
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            let got = h.join().expect("installer thread");
            assert!(
                got.windows(2).all(|w| w[0] < w[1]),
                "one thread's generations increase"
            );
            all.extend(got);
        }
        let distinct: BTreeSet<u64> = all.iter().copied().collect();
        let n = u64::from(THREADS * EACH);
        assert_eq!(distinct.len() as u64, n, "every install its own generation");
        assert_eq!(distinct.first(), Some(&2));
        assert_eq!(distinct.last(), Some(&(n + 1)));
        assert_eq!(store.current().generation(), n + 1);
        assert_eq!(store.reload_status().reloads_ok, n, "every install counted");
    }
}
