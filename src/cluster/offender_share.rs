//! Every instance's offenders, visible on every instance: the task that writes this instance's
//! snapshot (`offenders::cluster_share::PublishedOffenders`, at most `PUBLISH_MAX` entries) to
//! `PREFIX/offenders/NAME` and reads the other instances' back, every [`PUBLISH_EVERY`].
//!
//! Bounded whatever the outbreak: one lease grant, one put (tens of KB at most) and one prefix
//! read per instance per period. Each put is attached to a fresh lease of TTL [`LEASE`], so an
//! instance that stops publishing (dead, or cut from etcd) disappears from the others' lists
//! within [`LEASE`] without anyone deleting its key. The peers' snapshots go to
//! [`PeerOffenders`], which `/api/offenders` merges with the local table
//! (`offenders::cluster_share::merge`).
//!
//! etcd unavailable: the peers' list is emptied (the API then shows this instance's own
//! offenders only and says how many peers it read: none), the failure is logged once per outage
//! and counted in `ClusterStatus::etcd_errors`; the task retries every period. Nothing here
//! decides a report: that is `report_claims`.

use super::error::ClusterError;
use super::keys::Keys;
use super::status::ClusterStatus;
use crate::offenders::cluster_share::PublishedOffenders;
use crate::policy::ClusterSettings;
use etcd_client::{Client, ConnectOptions, GetOptions, PutOptions};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// How often the snapshot is written and the peers' read.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);
/// TTL of each snapshot's lease: three periods.
pub const LEASE: Duration = Duration::from_secs(15);

/// The other instances' latest snapshots (ours excluded), by instance name.
pub type PeerOffenders = Arc<Mutex<Vec<PublishedOffenders>>>;

/// Starts the task until `shutdown`. `snapshot` gives this instance's current share (called on
/// the blocking pool: it ranks the whole table).
pub fn spawn<F>(
    settings: &ClusterSettings,
    status: Arc<Mutex<ClusterStatus>>,
    peers: PeerOffenders,
    snapshot: F,
    shutdown: CancellationToken,
) -> JoinHandle<()>
where
    F: Fn() -> PublishedOffenders + Send + Sync + 'static,
{
    let share = Share {
        name: settings.name.clone(),
        endpoints: settings.etcd.clone(),
        keys: Keys::new(&settings.key_prefix),
        status,
        peers,
        client: None,
        failing: false,
    };
    tokio::spawn(share.run(Arc::new(snapshot), shutdown))
}

struct Share {
    name: String,
    endpoints: Vec<String>,
    keys: Keys,
    status: Arc<Mutex<ClusterStatus>>,
    peers: PeerOffenders,
    client: Option<Client>,
    /// The last round failed (log the next failure at debug only).
    failing: bool,
}

impl Share {
    async fn run<F>(mut self, snapshot: Arc<F>, shutdown: CancellationToken)
    where
        F: Fn() -> PublishedOffenders + Send + Sync + 'static,
    {
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let take = snapshot.clone();
            let Ok(mine) = tokio::task::spawn_blocking(move || take()).await else {
                continue;
            };
            let round = tokio::time::timeout(PUBLISH_EVERY, self.round(&mine)).await;
            let result = round.unwrap_or(Err(ClusterError::Timeout {
                what: "share offenders",
                after: PUBLISH_EVERY,
            }));
            match result {
                Ok(()) => {
                    if self.failing {
                        info!("offenders shared through etcd again");
                    }
                    self.failing = false;
                }
                Err(e) => {
                    if self.failing {
                        debug!(error = %e, "offenders not shared (etcd still unavailable)");
                    } else {
                        warn!(error = %e, "offenders not shared: /api/offenders shows this instance's only until etcd answers");
                    }
                    self.failing = true;
                    self.client = None;
                    self.peers.lock().clear();
                    let mut s = self.status.lock();
                    s.etcd_errors += 1;
                    s.offenders.peers = 0;
                }
            }
        }
    }

    /// Writes our snapshot and reads the others'.
    async fn round(&mut self, mine: &PublishedOffenders) -> Result<(), ClusterError> {
        if self.client.is_none() {
            let options = ConnectOptions::new()
                .with_connect_timeout(Duration::from_secs(2))
                .with_timeout(Duration::from_secs(2));
            let client = Client::connect(&self.endpoints, Some(options))
                .await
                .map_err(|source| ClusterError::Connect {
                    endpoints: self.endpoints.clone(),
                    source,
                })?;
            self.client = Some(client);
        }
        let Some(client) = self.client.as_mut() else {
            return Err(ClusterError::Skipped);
        };
        let value = serde_json::to_vec(mine).map_err(|source| ClusterError::Json {
            what: "encode our offenders",
            source,
        })?;
        let ttl = i64::try_from(LEASE.as_secs()).unwrap_or(15);
        let lease = client
            .lease_grant(ttl, None)
            .await
            .map_err(ClusterError::etcd("grant an offenders lease"))?;
        client
            .put(
                self.keys.offenders(&self.name),
                value,
                Some(PutOptions::new().with_lease(lease.id())),
            )
            .await
            .map_err(ClusterError::etcd("publish our offenders"))?;
        let resp = client
            .get(
                self.keys.offenders_all(),
                Some(GetOptions::new().with_prefix()),
            )
            .await
            .map_err(ClusterError::etcd("read the instances' offenders"))?;
        let mut peers = Vec::new();
        for kv in resp.kvs() {
            match serde_json::from_slice::<PublishedOffenders>(kv.value()) {
                Ok(p) if p.instance != self.name => peers.push(p),
                Ok(_) => {}
                Err(e) => {
                    debug!(key = %String::from_utf8_lossy(kv.key()), error = %e, "offenders value not understood; ignored");
                }
            }
        }
        let n = peers.len();
        *self.peers.lock() = peers;
        let mut s = self.status.lock();
        s.offenders.published += 1;
        s.offenders.left_out = mine.left_out;
        s.offenders.peers = n;
        Ok(())
    }
}
