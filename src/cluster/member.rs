//! This instance as a member of the cluster: the one task that talks to etcd.
//!
//! It keeps one lease alive (a keep-alive every third of `lease_secs`), registers the instance
//! under it, reads and then watches every key under the prefix, and every [`ROUND`] plans with
//! `mastership::plan` which switches to campaign for (a transaction creating the switch's key,
//! attached to our lease, only if it does not exist) and which to release (deleting our key).
//! The masterships it sees go to every connection over a `watch` channel
//! ([`MastershipView`]); the connections ask their switches for the role it implies.
//!
//! The lease is trusted only until `deadline` = the time the last successful keep-alive was
//! *sent* + `lease_secs` (etcd counts its TTL from when it received that keep-alive, which is
//! later): past it, `lease_ok` turns false and every connection asks SLAVE, so a master that
//! cannot reach etcd stops writing within `lease_secs`. Nothing is ever removed from a switch on
//! an outage. When etcd answers again the lease is kept alive if it still exists, else a new one
//! is granted (our keys went with the old one) and the switches are campaigned for again.

use super::error::ClusterError;
use super::keys::{KeyKind, Keys};
use super::status::ClusterStatus;
use crate::fleet::registry::Registry;
use crate::mastership::{plan, Holder, MastershipView, PlanInput};
use crate::policy::ClusterSettings;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, KeyValue, PutOptions, Txn,
    TxnOp, WatchOptions,
};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// How often masterships are planned (and the view published when it changed).
pub const ROUND: Duration = Duration::from_millis(250);
/// How long an unheld switch waits for its preferred instance before anyone may take it.
pub const GRACE: Duration = Duration::from_secs(1);
/// How long after winning a switch it is kept before being handed to its preferred instance.
pub const SETTLE: Duration = Duration::from_secs(10);
/// Campaign transactions in flight at once.
const CAMPAIGN_CONCURRENCY: usize = 256;
/// Wait between attempts to reach etcd.
const RETRY: Duration = Duration::from_millis(500);

/// What the rest of op25b holds of the cluster task.
#[derive(Debug)]
pub struct ClusterHandle {
    /// The masterships, for the connections.
    pub masterships: watch::Receiver<Arc<MastershipView>>,
    /// This instance's lease and etcd health, for the API and metrics.
    pub status: Arc<Mutex<ClusterStatus>>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Starts the cluster task; it runs until `shutdown`, then revokes its lease (its switches go
/// to the other instances at once instead of after `lease_secs`).
pub fn start(
    settings: ClusterSettings,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> ClusterHandle {
    let view = MastershipView::new(&settings.name);
    let (tx, masterships) = watch::channel(Arc::new(view.clone()));
    let mut first = ClusterStatus::new(&settings.name);
    first.lease_secs = settings.lease_secs;
    let status = Arc::new(Mutex::new(first));
    let member = Member {
        keys: Keys::new(&settings.key_prefix),
        ttl: Duration::from_secs(settings.lease_secs),
        settings,
        registry,
        tx,
        status: status.clone(),
        view,
        live: BTreeSet::new(),
        lease: None,
        unheld_since: HashMap::new(),
        won_at: HashMap::new(),
        dirty: true,
    };
    let task = tokio::spawn(member.run(shutdown));
    ClusterHandle {
        masterships,
        status,
        task,
    }
}

#[derive(Debug, Clone, Copy)]
struct Lease {
    id: i64,
    /// Until when it is surely alive in etcd.
    deadline: Instant,
}

struct Member {
    settings: ClusterSettings,
    keys: Keys,
    ttl: Duration,
    registry: Arc<Registry>,
    tx: watch::Sender<Arc<MastershipView>>,
    status: Arc<Mutex<ClusterStatus>>,
    view: MastershipView,
    live: BTreeSet<String>,
    lease: Option<Lease>,
    unheld_since: HashMap<u64, Instant>,
    won_at: HashMap<u64, Instant>,
    /// The view changed since it was last published.
    dirty: bool,
}

impl Member {
    async fn run(mut self, shutdown: CancellationToken) {
        info!(name = %self.settings.name, etcd = ?self.settings.etcd, lease_secs = self.settings.lease_secs, "cluster member starting");
        loop {
            let served = match self.connect().await {
                Ok(mut client) => {
                    let r = self.serve(&mut client, &shutdown).await;
                    if r.is_ok() {
                        self.resign(&mut client).await;
                        return;
                    }
                    r
                }
                Err(e) => Err(e),
            };
            if let Err(e) = served {
                self.outage(&e);
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }

    async fn connect(&self) -> Result<Client, ClusterError> {
        let options = ConnectOptions::new()
            .with_connect_timeout(self.ttl.min(Duration::from_secs(2)))
            .with_timeout(self.ttl.min(Duration::from_secs(2)));
        Client::connect(&self.settings.etcd, Some(options))
            .await
            .map_err(|source| ClusterError::Connect {
                endpoints: self.settings.etcd.clone(),
                source,
            })
    }

    /// etcd cannot be used: keep everything, note it, and stop trusting the lease past its
    /// deadline.
    fn outage(&mut self, e: &ClusterError) {
        warn!(error = %e, "etcd unavailable; switches keep their flows; retrying");
        {
            let mut s = self.status.lock();
            s.etcd_ok = false;
            s.etcd_errors += 1;
            s.last_error = Some(e.to_string());
            if matches!(e, ClusterError::LeaseLost { .. }) {
                s.lease_losses += 1;
            }
        }
        if matches!(e, ClusterError::LeaseLost { .. }) {
            self.lease = None;
        }
        self.check_lease(Instant::now());
        self.publish();
    }

    /// Sets `lease_ok` from the deadline.
    fn check_lease(&mut self, now: Instant) {
        let ok = self.lease.is_some_and(|l| now < l.deadline);
        if ok != self.view.lease_ok {
            if ok {
                info!("lease confirmed; masterships in force");
            } else {
                warn!("lease not confirmed within lease_secs; every switch asked SLAVE (no writes) until etcd answers");
            }
            self.view.lease_ok = ok;
            self.dirty = true;
        }
        let mut s = self.status.lock();
        s.lease_ok = ok;
        s.lease_id = self.lease.map(|l| format!("{:x}", l.id));
    }

    fn publish(&mut self) {
        if self.dirty {
            self.dirty = false;
            let mut s = self.status.lock();
            s.live_instances = self.live.iter().cloned().collect();
            s.masters_total = self.view.holders.len();
            s.masters_held = self
                .view
                .holders
                .values()
                .filter(|h| h.instance == self.settings.name)
                .count();
            drop(s);
            self.tx.send_replace(Arc::new(self.view.clone()));
        }
    }

    /// One connection to etcd, until shutdown (`Ok`) or a failure.
    async fn serve(
        &mut self,
        client: &mut Client,
        shutdown: &CancellationToken,
    ) -> Result<(), ClusterError> {
        self.ensure_lease(client).await?;
        let rev = self.load(client).await?;
        let mut events = client
            .watch(
                self.keys.all(),
                Some(
                    WatchOptions::new()
                        .with_prefix()
                        .with_start_revision(rev + 1),
                ),
            )
            .await
            .map_err(ClusterError::etcd("watch the prefix"))?;
        {
            let mut s = self.status.lock();
            s.etcd_ok = true;
            s.last_error = None;
        }
        self.publish();
        let mut keep = tokio::time::interval((self.ttl / 3).max(Duration::from_millis(300)));
        let mut round = tokio::time::interval(ROUND);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = keep.tick() => self.keep_alive(client).await?,
                msg = events.message() => {
                    let resp = msg
                        .map_err(ClusterError::etcd("watch"))?
                        .ok_or_else(|| ClusterError::WatchEnded("stream closed".into()))?;
                    if resp.canceled() {
                        return Err(ClusterError::WatchEnded(resp.cancel_reason().to_owned()));
                    }
                    for ev in resp.events() {
                        if let Some(kv) = ev.kv() {
                            self.apply(kv, ev.event_type() == EventType::Delete);
                        }
                    }
                }
                _ = round.tick() => self.round(client).await?,
            }
        }
    }

    /// Keeps the lease we have if etcd still has it, else grants a new one; registers us.
    async fn ensure_lease(&mut self, client: &mut Client) -> Result<(), ClusterError> {
        if self.lease.is_some() {
            match self.keep_alive(client).await {
                Ok(()) => {}
                Err(ClusterError::LeaseLost { lease }) => {
                    warn!(lease = format!("{lease:x}"), "our lease expired meanwhile; granting a new one (our masterships went with it)");
                    self.status.lock().lease_losses += 1;
                    self.lease = None;
                }
                Err(e) => return Err(e),
            }
        }
        if self.lease.is_none() {
            let sent = Instant::now();
            let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(60);
            let granted = client
                .lease_grant(ttl, None)
                .await
                .map_err(ClusterError::etcd("grant a lease"))?;
            self.lease = Some(Lease {
                id: granted.id(),
                deadline: sent + self.ttl,
            });
            info!(lease = format!("{:x}", granted.id()), ttl, "lease granted");
        }
        let id = self.lease.map_or(0, |l| l.id);
        client
            .put(
                self.keys.instance(&self.settings.name),
                self.settings.name.as_bytes(),
                Some(PutOptions::new().with_lease(id)),
            )
            .await
            .map_err(ClusterError::etcd("register the instance"))?;
        self.check_lease(Instant::now());
        Ok(())
    }

    async fn keep_alive(&mut self, client: &mut Client) -> Result<(), ClusterError> {
        let Some(lease) = self.lease else {
            return Err(ClusterError::LeaseLost { lease: 0 });
        };
        let sent = Instant::now();
        let answer = tokio::time::timeout(
            (self.ttl / 3).max(Duration::from_millis(300)),
            client.lease_keep_alive(lease.id),
        )
        .await;
        let result = match answer {
            Ok(Ok(_)) => {
                self.lease = Some(Lease {
                    id: lease.id,
                    deadline: sent + self.ttl,
                });
                Ok(())
            }
            Ok(Err(etcd_client::Error::LeaseKeepAliveError(_))) => {
                self.lease = None;
                Err(ClusterError::LeaseLost { lease: lease.id })
            }
            Ok(Err(source)) => Err(ClusterError::Etcd {
                what: "keep the lease alive",
                source,
            }),
            Err(_) => Err(ClusterError::WatchEnded("keep-alive timed out".into())),
        };
        self.check_lease(Instant::now());
        self.publish();
        result
    }

    /// Everything under the prefix, read afresh: the view is rebuilt from it. Returns the
    /// revision read at (the watch starts after it).
    async fn load(&mut self, client: &mut Client) -> Result<i64, ClusterError> {
        let resp = client
            .get(self.keys.all(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(ClusterError::etcd("read the prefix"))?;
        self.view.holders.clear();
        self.live.clear();
        for kv in resp.kvs() {
            self.apply(kv, false);
        }
        self.dirty = true;
        Ok(resp
            .header()
            .map_or(0, etcd_client::ResponseHeader::revision))
    }

    /// One key put (or deleted) in etcd.
    fn apply(&mut self, kv: &KeyValue, deleted: bool) {
        match self.keys.parse(kv.key()) {
            KeyKind::Instance(name) if deleted => {
                info!(instance = %name, "instance left the cluster (lease gone)");
                self.live.remove(&name);
            }
            KeyKind::Instance(name) => {
                if self.live.insert(name.clone()) {
                    info!(instance = %name, "instance in the cluster");
                }
            }
            KeyKind::Master(dpid) if deleted => {
                self.view.holders.remove(&dpid);
                self.won_at.remove(&dpid);
            }
            KeyKind::Master(dpid) => {
                let instance = String::from_utf8_lossy(kv.value()).into_owned();
                let generation = u64::try_from(kv.create_revision()).unwrap_or(0);
                self.view.hold(
                    dpid,
                    Holder {
                        instance,
                        generation,
                    },
                );
            }
            KeyKind::Other => return,
        }
        self.dirty = true;
    }

    /// One planning round: campaign, release, publish.
    async fn round(&mut self, client: &mut Client) -> Result<(), ClusterError> {
        let now = Instant::now();
        self.check_lease(now);
        let connected = self.registry.connected_dpids();
        self.status.lock().unmastered = connected
            .iter()
            .filter(|d| !self.view.holders.contains_key(d))
            .count();
        let Some(lease) = self.lease.filter(|_| self.view.lease_ok) else {
            self.publish();
            return Ok(());
        };
        self.unheld_since.retain(|d, _| connected.contains(d));
        for d in &connected {
            if self.view.holders.contains_key(d) {
                self.unheld_since.remove(d);
            } else {
                self.unheld_since.entry(*d).or_insert(now);
            }
        }
        let held = self
            .view
            .holders
            .values()
            .filter(|h| h.instance == self.settings.name)
            .count();
        let p = plan(&PlanInput {
            me: &self.settings.name,
            live: &self.live,
            holders: &self.view.holders,
            connected: &connected,
            unheld_since: &self.unheld_since,
            won_at: &self.won_at,
            now,
            grace: GRACE,
            settle: SETTLE,
            // A tenth of what we hold per round at most (at least one).
            max_release: (held / 10).max(1),
        });
        self.campaign(client, lease.id, &p.campaign).await?;
        for dpid in p.release {
            self.release(client, dpid).await?;
        }
        self.publish();
        Ok(())
    }

    /// Creates each switch's key attached to our lease, if nobody holds it.
    async fn campaign(
        &mut self,
        client: &Client,
        lease: i64,
        dpids: &[u64],
    ) -> Result<(), ClusterError> {
        for chunk in dpids.chunks(CAMPAIGN_CONCURRENCY) {
            let mut set = JoinSet::new();
            for &dpid in chunk {
                let mut kv = client.kv_client();
                let key = self.keys.master(dpid);
                let name = self.settings.name.clone();
                set.spawn(async move {
                    let txn = Txn::new()
                        .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(
                            key,
                            name,
                            Some(PutOptions::new().with_lease(lease)),
                        )]);
                    (dpid, kv.txn(txn).await)
                });
            }
            while let Some(joined) = set.join_next().await {
                let Ok((dpid, result)) = joined else {
                    continue;
                };
                let resp = result.map_err(ClusterError::etcd("campaign for a switch"))?;
                if resp.succeeded() {
                    let generation = resp
                        .header()
                        .map_or(0, etcd_client::ResponseHeader::revision);
                    let generation = u64::try_from(generation).unwrap_or(0);
                    debug!(dpid = format!("{dpid:016x}"), generation, "mastership won");
                    self.view.hold(
                        dpid,
                        Holder {
                            instance: self.settings.name.clone(),
                            generation,
                        },
                    );
                    self.won_at.insert(dpid, Instant::now());
                    self.status.lock().campaigns_won += 1;
                    self.dirty = true;
                }
            }
        }
        Ok(())
    }

    /// Deletes our key of `dpid` (only if still ours): its preferred instance takes it.
    async fn release(&mut self, client: &mut Client, dpid: u64) -> Result<(), ClusterError> {
        let key = self.keys.master(dpid);
        let txn = Txn::new()
            .when([Compare::value(
                key.clone(),
                CompareOp::Equal,
                self.settings.name.as_bytes(),
            )])
            .and_then([TxnOp::delete(key, None)]);
        let resp = client
            .txn(txn)
            .await
            .map_err(ClusterError::etcd("release a switch"))?;
        if resp.succeeded() {
            debug!(
                dpid = format!("{dpid:016x}"),
                "mastership released to its preferred instance"
            );
            self.view.holders.remove(&dpid);
            self.won_at.remove(&dpid);
            self.status.lock().released += 1;
            self.dirty = true;
        }
        Ok(())
    }

    /// Shutting down: revoke the lease so our switches move at once.
    async fn resign(&mut self, client: &mut Client) {
        if let Some(lease) = self.lease.take() {
            let revoked =
                tokio::time::timeout(Duration::from_secs(1), client.lease_revoke(lease.id)).await;
            match revoked {
                Ok(Ok(_)) => info!("lease revoked; our switches go to the other instances now"),
                _ => warn!("could not revoke the lease; our switches move when it expires"),
            }
        }
    }
}
