//! `[cluster]`: the cluster's shared policy, watched in etcd and applied like a reload.
//!
//! The task reads `PREFIX/policy` (`cluster::policy_key`), then watches it. Every value is
//! validated on this instance exactly as a pushed file is (`policy::parse_shared`: the whole
//! parser, and no instance-local section), off the runtime like a file reload, and combined with
//! this instance's local settings ([`PolicyStore::install_shared`]): a new generation, every
//! connected switch re-synced without dropping a flow (the same path as SIGHUP). A value that
//! fails here (written past `op25b policy push`, or using a feature this instance does not know)
//! is rejected and counted like a failed reload (`op25b_policy_reloads{result="failed"}`,
//! `last_reload_error`, an error logged with trigger `etcd`); the policy in force stays. A
//! deleted key changes nothing. etcd unreachable: the policy in force stays; the task retries.

use super::policy_store::{PolicyStore, ReloadOutcome};
use crate::cluster::keys::Keys;
use crate::cluster::policy_key::{self, PolicyKeyError, StoredPolicy};
use crate::cluster::ClusterError;
use crate::policy::{parse_shared, ClusterSettings};
use etcd_client::{EventType, WatchOptions};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// Wait between attempts to reach etcd.
const RETRY: Duration = Duration::from_millis(500);

/// The running watch: `first_read` turns true once etcd has been read (a policy applied,
/// rejected, or none stored).
pub struct EtcdPolicy {
    pub first_read: watch::Receiver<bool>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Starts watching the shared policy until `shutdown`.
pub fn spawn(
    store: Arc<PolicyStore>,
    settings: &ClusterSettings,
    shutdown: CancellationToken,
) -> EtcdPolicy {
    let (tx, first_read) = watch::channel(false);
    let endpoints = settings.etcd.clone();
    let keys = Keys::new(&settings.key_prefix);
    let task = tokio::spawn(async move {
        loop {
            let result = tokio::select! {
                () = shutdown.cancelled() => return,
                r = follow(&store, &endpoints, &keys, &tx) => r,
            };
            if let Err(e) = result {
                warn!(error = %e, "cluster policy watch: etcd unavailable; the policy in force stays; retrying");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    });
    EtcdPolicy { first_read, task }
}

/// One connection: read, apply, then apply every change until the watch fails.
async fn follow(
    store: &Arc<PolicyStore>,
    endpoints: &[String],
    keys: &Keys,
    first_read: &watch::Sender<bool>,
) -> Result<(), PolicyKeyError> {
    let mut client = policy_key::connect(endpoints).await?;
    let (stored, rev) = policy_key::read(&mut client, keys).await?;
    let key = policy_key::policy_key(keys);
    match stored {
        Some(s) => apply(store, &key, s).await,
        None => {
            info!(key = %key, "no cluster policy in etcd yet; the local file's policy stays in force");
        }
    }
    first_read.send_replace(true);
    let mut events = client
        .watch(
            key.as_str(),
            Some(WatchOptions::new().with_start_revision(rev + 1)),
        )
        .await
        .map_err(ClusterError::etcd("watch the policy"))?;
    loop {
        let resp = events
            .message()
            .await
            .map_err(ClusterError::etcd("watch the policy"))?
            .ok_or_else(|| ClusterError::WatchEnded("policy watch closed".into()))?;
        if resp.canceled() {
            return Err(ClusterError::WatchEnded(resp.cancel_reason().to_owned()).into());
        }
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            if ev.event_type() == EventType::Delete {
                warn!(key = %key, revision = kv.mod_revision(), "the cluster policy was deleted from etcd; the policy in force stays");
                continue;
            }
            match policy_key::stored(&key, kv.value(), kv.mod_revision()) {
                Ok(s) => apply(store, &key, s).await,
                Err(e) => reject(store, kv.mod_revision(), &e.to_string()),
            }
        }
    }
}

/// Validates and installs one value of the key (on the blocking pool: a large policy takes
/// milliseconds to parse).
async fn apply(store: &Arc<PolicyStore>, key: &str, stored: StoredPolicy) {
    let origin = format!("etcd:{key}@{}", stored.mod_revision);
    let rev = stored.mod_revision;
    let st = store.clone();
    let done = tokio::task::spawn_blocking(move || match parse_shared(&stored.text, &origin) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                warn!(trigger = "etcd", "{w}");
            }
            Ok(st.install_shared(loaded.config, rev))
        }
        Err(errors) => Err(errors.to_string()),
    })
    .await;
    match done {
        Ok(Ok(ReloadOutcome::Installed { generation })) => info!(
            trigger = "etcd",
            etcd_revision = rev,
            generation,
            "cluster policy applied; re-syncing every connected switch"
        ),
        Ok(Ok(ReloadOutcome::Unchanged { generation })) => info!(
            trigger = "etcd",
            etcd_revision = rev,
            generation,
            "cluster policy read: unchanged"
        ),
        Ok(Err(errors)) => reject(store, rev, &errors),
        Err(e) => reject(store, rev, &format!("validation task failed: {e}")),
    }
}

fn reject(store: &PolicyStore, rev: i64, why: &str) {
    error!(
        trigger = "etcd",
        etcd_revision = rev,
        generation = store.current().generation(),
        error = %why,
        "cluster policy rejected on this instance; the policy in force stays"
    );
    store.record_rejection("etcd", format!("etcd revision {rev}: {why}"));
}
