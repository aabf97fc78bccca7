//! The status registry: what the API and metrics read about every switch (the policy and its
//! reloads are the policy store's).
//!
//! Lock-light: the map of switches is behind an `RwLock` taken for writing only when a switch is
//! first seen or forgotten; each switch has its own `Mutex` written by its own connection task
//! only. Readers take [`Registry::snapshot`] or [`Registry::switch`], plain serialisable copies.
//!
//! Bounded: a connected switch is never forgotten; a disconnected one stays listed (state
//! `disconnected`, its counters) for [`DISCONNECTED_RETENTION`], and at most
//! [`MAX_DISCONNECTED`] of them are kept (the longest-disconnected go first). Disconnects are
//! queued in the order they happen, so forgetting costs amortised O(1) per connect or disconnect
//! (no periodic task, no scan): a disconnect, a first connect of a dpid and a read each look at
//! the queue's front. Whatever else keeps state per dpid (the switch observations) forgets with
//! the registry through [`Registry::forget_with`].

use crate::policy::Dpid;
use parking_lot::{Mutex, MutexGuard, RwLock};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};
use tracing::{debug, warn};

/// Where a switch's sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Connected, handshake not finished yet (never listed: a switch enters the registry once its
    /// dpid is known), or connected and waiting for the first sync.
    Handshaking,
    /// Reading flows or applying a change plan.
    Syncing,
    /// The last batch was confirmed by a barrier reply with no error.
    InSync,
    /// The last sync failed; retrying after a back-off.
    RetryWait,
    /// No connection (flows stay on the switch).
    Disconnected,
}

impl SyncState {
    /// Every state, in lifecycle order (the metrics export one 0/1 series per state).
    pub const ALL: [SyncState; 5] = [
        SyncState::Handshaking,
        SyncState::Syncing,
        SyncState::InSync,
        SyncState::RetryWait,
        SyncState::Disconnected,
    ];

    /// The name used in JSON and metric labels (`in_sync`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Handshaking => "handshaking",
            SyncState::Syncing => "syncing",
            SyncState::InSync => "in_sync",
            SyncState::RetryWait => "retry_wait",
            SyncState::Disconnected => "disconnected",
        }
    }
}

/// Counters for one switch, accumulated over all its connections.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SwitchCounters {
    pub syncs_ok: u64,
    pub syncs_failed: u64,
    pub flow_mods_sent: u64,
    pub meter_mods_sent: u64,
    /// OpenFlow errors received, keyed "TYPE/CODE" by name (e.g. "FLOW_MOD_FAILED/TABLE_FULL").
    pub errors: BTreeMap<String, u64>,
    /// Connections after the first one.
    pub reconnects: u64,
    /// Audits that found drift and repaired it.
    pub audit_repairs: u64,
    pub packet_ins: u64,
    /// Packet-in samples dropped because the offender channel was full.
    pub packet_ins_dropped: u64,
}

/// One switch as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchStatus {
    pub dpid: u64,
    /// "00:00:00:00:00:00:00:01" form.
    pub dpid_str: String,
    pub name: Option<String>,
    pub peer: Option<SocketAddr>,
    /// Id of the connection speaking for this switch now (None when disconnected).
    pub connection: Option<u64>,
    pub connected: bool,
    /// RFC 3339 (UTC, milliseconds) in JSON.
    #[serde(serialize_with = "rfc3339")]
    pub connected_since: Option<SystemTime>,
    pub sync_state: SyncState,
    /// Policy generation last confirmed in sync on this switch.
    pub synced_generation: Option<u64>,
    /// RFC 3339 (UTC, milliseconds) in JSON.
    #[serde(serialize_with = "rfc3339")]
    pub last_sync: Option<SystemTime>,
    pub last_error: Option<String>,
    /// Our flows (by cookie) on the switch as of the last read.
    pub flow_count: usize,
    /// Flows the policy wants on this switch as of the last sync.
    pub desired_flows: usize,
    /// Meters are in use for reporting (false when off or rejected by the switch).
    pub meters_in_use: bool,
    pub counters: SwitchCounters,
}

impl SwitchStatus {
    fn new(dpid: u64) -> Self {
        Self {
            dpid,
            dpid_str: Dpid(dpid).to_string(),
            name: None,
            peer: None,
            connection: None,
            connected: false,
            connected_since: None,
            sync_state: SyncState::Disconnected,
            synced_generation: None,
            last_sync: None,
            last_error: None,
            flow_count: 0,
            desired_flows: 0,
            meters_in_use: false,
            counters: SwitchCounters::default(),
        }
    }
}

/// An optional `SystemTime` as an RFC 3339 string (serde's default is a
/// `{secs_since_epoch, nanos_since_epoch}` struct no API client expects).
fn rfc3339<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&crate::offenders::UnixMillis::from_system_time(*t)),
        None => s.serialize_none(),
    }
}

/// Every switch as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrySnapshot {
    /// Connections accepted that have not told their dpid yet.
    pub handshaking: u64,
    /// Sorted by dpid.
    pub switches: Vec<SwitchStatus>,
}

/// How long a disconnected switch stays listed (state `disconnected`, its counters, its
/// observations and dpid-labelled metric series) before it is forgotten. A week: a switch that
/// went down on a Friday evening is still there, marked disconnected, on Monday morning.
pub const DISCONNECTED_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// At most this many disconnected switches are kept; beyond it the ones disconnected longest ago
/// are forgotten first (before their retention ends). Bounds memory, `/api/switches` and
/// `/metrics` against a peer that reconnects with a new dpid every time. Connected switches do
/// not count and are never forgotten.
pub const MAX_DISCONNECTED: usize = 10_000;

/// Queue entries left behind by switches that reconnected are swept out once they outnumber
/// the disconnected switches by this many (amortises the sweep to O(1) per reconnect).
const COMPACT_SLACK: usize = 1024;

/// Something else that keeps state per dpid and forgets it when the registry forgets the
/// switch (see [`Registry::forget_with`]). Called with the registry's map locked for writing, so
/// a reconnect of a forgotten dpid (which needs that lock) only starts after the sink forgot.
/// Must not call back into the registry.
pub trait ForgetDpids: Send + Sync + std::fmt::Debug {
    fn forget_dpids(&self, dpids: &[u64]);
}

/// Why switches were forgotten, counted since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Forgotten {
    /// Disconnected for longer than [`DISCONNECTED_RETENTION`].
    pub retention: u64,
    /// Disconnected and pushed out by [`MAX_DISCONNECTED`] newer disconnected switches.
    pub cap: u64,
}

/// Where an entry stands in the forgetting book-keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracking {
    /// A connection owns the entry (`SwitchStatus::connection` is `Some`).
    Connected,
    /// No connection; queued as departure `seq`.
    Departed(u64),
    /// Removed from the map (a late write through an old handle changes nothing).
    Forgotten,
}

#[derive(Debug)]
struct Slot {
    status: SwitchStatus,
    tracking: Tracking,
}

/// One disconnect, in the order they happened.
#[derive(Debug, Clone, Copy)]
struct Departure {
    dpid: u64,
    seq: u64,
    at: Instant,
    /// False once the switch reconnected (a tombstone, dropped when it reaches the front).
    live: bool,
}

/// The disconnects, oldest first. Invariant: `disconnected` is the number of entries in
/// `Tracking::Departed`; each of them has its live departure in `queue`, unless a sweep holding
/// the map's write lock has just popped it.
#[derive(Debug, Default)]
struct Departures {
    /// Increasing `seq`.
    queue: VecDeque<Departure>,
    next_seq: u64,
    disconnected: usize,
    tombstones: usize,
}

impl Departures {
    fn push(&mut self, dpid: u64, at: Instant) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push_back(Departure {
            dpid,
            seq,
            at,
            live: true,
        });
        self.disconnected += 1;
        seq
    }

    /// The switch of departure `seq` is no longer disconnected (reconnected or forgotten).
    fn settle(&mut self, seq: u64) {
        self.disconnected = self.disconnected.saturating_sub(1);
        if let Ok(i) = self.queue.binary_search_by_key(&seq, |d| d.seq) {
            if let Some(d) = self.queue.get_mut(i) {
                if d.live {
                    d.live = false;
                    self.tombstones += 1;
                }
            }
        }
        self.drop_leading_tombstones();
        if self.tombstones > self.disconnected + COMPACT_SLACK {
            self.queue.retain(|d| d.live);
            self.tombstones = 0;
        }
    }

    fn drop_leading_tombstones(&mut self) {
        while self.queue.front().is_some_and(|d| !d.live) {
            self.queue.pop_front();
            self.tombstones = self.tombstones.saturating_sub(1);
        }
    }

    /// The oldest departure if it is due at `now` (over the cap, or past its retention).
    fn pop_due(&mut self, now: Instant, limits: Limits) -> Option<(Departure, Reason)> {
        self.drop_leading_tombstones();
        let front = self.queue.front()?;
        let reason = if self.disconnected > limits.max_disconnected {
            Reason::Cap
        } else if now.saturating_duration_since(front.at) >= limits.retention {
            Reason::Retention
        } else {
            return None;
        };
        self.queue.pop_front().map(|d| (d, reason))
    }

    fn anything_due(&mut self, now: Instant, limits: Limits) -> bool {
        self.drop_leading_tombstones();
        self.queue.front().is_some_and(|front| {
            self.disconnected > limits.max_disconnected
                || now.saturating_duration_since(front.at) >= limits.retention
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Reason {
    Retention,
    Cap,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    retention: Duration,
    max_disconnected: usize,
}

/// What the handles share with the registry: the map and the forgetting book-keeping.
#[derive(Debug)]
struct Shared {
    switches: RwLock<HashMap<u64, Arc<Mutex<Slot>>>>,
    departures: Mutex<Departures>,
    limits: Limits,
    sinks: Mutex<Vec<Weak<dyn ForgetDpids>>>,
    forgotten_retention: AtomicU64,
    forgotten_cap: AtomicU64,
}

// Lock order: `switches` -> a slot -> `departures`; `sinks` and the sinks' own locks only under
// `switches` (write), never under a slot or `departures`.

impl Shared {
    fn new(limits: Limits) -> Self {
        Self {
            switches: RwLock::new(HashMap::new()),
            departures: Mutex::new(Departures::default()),
            limits,
            sinks: Mutex::new(Vec::new()),
            forgotten_retention: AtomicU64::new(0),
            forgotten_cap: AtomicU64::new(0),
        }
    }

    fn departures(&self) -> MutexGuard<'_, Departures> {
        self.departures.lock()
    }

    /// Brings `slot.tracking` in line with `slot.status.connection` after a write. `now` is only
    /// read when the switch has just disconnected. True when it has.
    fn track(&self, slot: &mut Slot, now: impl FnOnce() -> Instant) -> bool {
        let connected = slot.status.connection.is_some();
        match (slot.tracking, connected) {
            (Tracking::Connected, false) => {
                let seq = self.departures().push(slot.status.dpid, now());
                slot.tracking = Tracking::Departed(seq);
                true
            }
            (Tracking::Departed(seq), true) => {
                self.departures().settle(seq);
                slot.tracking = Tracking::Connected;
                false
            }
            _ => false,
        }
    }

    /// Forgets what is due at `now`, taking the map's write lock only when something is.
    fn sweep_if_due(&self, now: Instant) -> usize {
        if !self.departures().anything_due(now, self.limits) {
            return 0;
        }
        let mut map = self.switches.write();
        self.sweep_locked(&mut map, now)
    }

    /// Forgets every disconnected switch past its retention, and the longest-disconnected ones
    /// beyond the cap. Holding the write lock, no connect can be half-way through marking an
    /// entry connected; an entry whose `connection` is `Some` is never removed.
    fn sweep_locked(&self, map: &mut HashMap<u64, Arc<Mutex<Slot>>>, now: Instant) -> usize {
        let mut forgotten = Vec::new();
        let (mut by_retention, mut by_cap) = (0u64, 0u64);
        loop {
            let due = self.departures().pop_due(now, self.limits);
            let Some((departure, reason)) = due else {
                break;
            };
            if !departure.live {
                continue;
            }
            let Some(entry) = map.get(&departure.dpid).cloned() else {
                continue;
            };
            let mut slot = entry.lock();
            if slot.tracking != Tracking::Departed(departure.seq)
                || slot.status.connection.is_some()
            {
                continue;
            }
            slot.tracking = Tracking::Forgotten;
            self.departures().settle(departure.seq);
            drop(slot);
            map.remove(&departure.dpid);
            forgotten.push(departure.dpid);
            match reason {
                Reason::Retention => by_retention += 1,
                Reason::Cap => by_cap += 1,
            }
        }
        if forgotten.is_empty() {
            return 0;
        }
        // Still under the write lock: a reconnect of one of these dpids waits until every sink
        // has forgotten it, so the sinks never drop what a newer connection recorded.
        let sinks: Vec<Arc<dyn ForgetDpids>> = {
            let mut sinks = self.sinks.lock();
            sinks.retain(|s| s.strong_count() > 0);
            sinks.iter().filter_map(Weak::upgrade).collect()
        };
        for sink in sinks {
            sink.forget_dpids(&forgotten);
        }
        self.forgotten_retention
            .fetch_add(by_retention, Ordering::Relaxed);
        let before = self.forgotten_cap.fetch_add(by_cap, Ordering::Relaxed);
        if by_cap > 0 && (before == 0 || before / 1000 != (before + by_cap) / 1000) {
            warn!(
                cap = self.limits.max_disconnected,
                forgotten_by_cap = before + by_cap,
                "more disconnected switches than the cap: the longest-disconnected are forgotten early (a peer reconnecting with a new dpid every time?)"
            );
        }
        if by_retention > 0 {
            debug!(
                forgotten = by_retention,
                "disconnected switches forgotten after the retention period"
            );
        }
        forgotten.len()
    }
}

/// A handle a connection task holds on its switch's entry.
#[derive(Debug, Clone)]
pub struct SwitchHandle {
    entry: Arc<Mutex<Slot>>,
    shared: Arc<Shared>,
}

impl SwitchHandle {
    /// Applies `f` to the switch's status (the only write path). Setting `connection` to `None`
    /// marks the switch disconnected (now): it is forgotten after [`DISCONNECTED_RETENTION`], or
    /// earlier beyond [`MAX_DISCONNECTED`].
    pub fn update(&self, f: impl FnOnce(&mut SwitchStatus)) {
        self.update_inner(f, Instant::now);
    }

    /// [`SwitchHandle::update`] with the time of a disconnect given (tests).
    pub fn update_at(&self, now: Instant, f: impl FnOnce(&mut SwitchStatus)) {
        self.update_inner(f, || now);
    }

    fn update_inner(&self, f: impl FnOnce(&mut SwitchStatus), now: impl FnOnce() -> Instant) {
        let mut at = None;
        {
            let mut slot = self.entry.lock();
            f(&mut slot.status);
            self.shared.track(&mut slot, || {
                let t = now();
                at = Some(t);
                t
            });
        }
        // Amortised: a disconnect is where the count of disconnected switches grows.
        if let Some(at) = at {
            self.shared.sweep_if_due(at);
        }
    }

    /// A copy of the switch's status.
    pub fn get(&self) -> SwitchStatus {
        self.entry.lock().status.clone()
    }
}

/// Shared by the listener, every connection task and the readers (API, metrics).
#[derive(Debug)]
pub struct Registry {
    shared: Arc<Shared>,
    handshaking: AtomicU64,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// Keeps disconnected switches for [`DISCONNECTED_RETENTION`], at most [`MAX_DISCONNECTED`].
    pub fn new() -> Self {
        Self::with_limits(DISCONNECTED_RETENTION, MAX_DISCONNECTED)
    }

    /// Keeps disconnected switches for `retention`, at most `max_disconnected` of them.
    pub fn with_limits(retention: Duration, max_disconnected: usize) -> Self {
        Self {
            shared: Arc::new(Shared::new(Limits {
                retention,
                max_disconnected,
            })),
            handshaking: AtomicU64::new(0),
        }
    }

    /// `sink` forgets a dpid whenever the registry does (held weakly; registering the same sink
    /// again changes nothing).
    pub fn forget_with(&self, sink: &Arc<dyn ForgetDpids>) {
        let mut sinks = self.shared.sinks.lock();
        sinks.retain(|s| s.strong_count() > 0);
        let weak = Arc::downgrade(sink);
        if !sinks.iter().any(|s| Weak::ptr_eq(s, &weak)) {
            sinks.push(weak);
        }
    }

    /// Forgets what is due at `now` (also done on every connect, disconnect and read); returns
    /// how many switches were forgotten.
    pub fn sweep(&self, now: Instant) -> usize {
        self.shared.sweep_if_due(now)
    }

    /// Switches listed now (connected or not).
    pub fn known(&self) -> usize {
        self.shared.switches.read().len()
    }

    /// Switches listed now without a connection.
    pub fn disconnected(&self) -> usize {
        self.shared.departures().disconnected
    }

    /// Switches forgotten since start, by reason.
    pub fn forgotten(&self) -> Forgotten {
        Forgotten {
            retention: self.shared.forgotten_retention.load(Ordering::Relaxed),
            cap: self.shared.forgotten_cap.load(Ordering::Relaxed),
        }
    }

    /// The entry for `dpid`, created on first sight (or after it was forgotten). Marks it
    /// connected through connection `conn` from `peer` and counts a reconnect when it had been
    /// connected before.
    pub fn connect(&self, dpid: u64, conn: u64, peer: SocketAddr, now: SystemTime) -> SwitchHandle {
        let mark = |entry: &Arc<Mutex<Slot>>| {
            let mut slot = entry.lock();
            let s = &mut slot.status;
            if s.connected_since.is_some() {
                s.counters.reconnects += 1;
            }
            s.peer = Some(peer);
            s.connection = Some(conn);
            s.connected = true;
            s.connected_since = Some(now);
            s.sync_state = SyncState::Handshaking;
            self.shared.track(&mut slot, Instant::now);
        };
        // The entry is marked connected while the map lock is still held, so a sweep (which
        // needs the write lock) either removed it before (a fresh entry is made below) or sees
        // it connected.
        {
            let read = self.shared.switches.read();
            if let Some(entry) = read.get(&dpid) {
                mark(entry);
                return self.handle(entry.clone());
            }
        }
        let mut write = self.shared.switches.write();
        let entry = write
            .entry(dpid)
            .or_insert_with(|| {
                Arc::new(Mutex::new(Slot {
                    status: SwitchStatus::new(dpid),
                    tracking: Tracking::Connected,
                }))
            })
            .clone();
        mark(&entry);
        // Amortised: a new dpid is where the map grows. Usually one look at the queue's front.
        self.shared.sweep_locked(&mut write, Instant::now());
        self.handle(entry)
    }

    fn handle(&self, entry: Arc<Mutex<Slot>>) -> SwitchHandle {
        SwitchHandle {
            entry,
            shared: self.shared.clone(),
        }
    }

    /// One of this switch's status, if it was ever seen.
    pub fn switch(&self, dpid: u64) -> Option<SwitchStatus> {
        self.shared.sweep_if_due(Instant::now());
        let read = self.shared.switches.read();
        let entry = read.get(&dpid)?.clone();
        drop(read);
        let s = entry.lock().status.clone();
        Some(s)
    }

    /// Everything, switches sorted by dpid.
    pub fn snapshot(&self) -> RegistrySnapshot {
        self.shared.sweep_if_due(Instant::now());
        let entries: Vec<_> = {
            let read = self.shared.switches.read();
            read.values().cloned().collect()
        };
        let mut switches: Vec<SwitchStatus> =
            entries.iter().map(|e| e.lock().status.clone()).collect();
        switches.sort_by_key(|s| s.dpid);
        RegistrySnapshot {
            handshaking: self.handshaking.load(Ordering::Relaxed),
            switches,
        }
    }

    /// Connections that have not told their dpid yet (+1 on accept, -1 when known or closed).
    pub fn handshaking_add(&self, delta: i64) {
        if delta >= 0 {
            self.handshaking.fetch_add(delta as u64, Ordering::Relaxed);
        } else {
            let _ = self
                .handshaking
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                    Some(v.saturating_sub(delta.unsigned_abs()))
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    /// What `Connection::finish` does: only the connection that owns the entry disconnects it.
    fn finish(h: &SwitchHandle, conn: u64) {
        h.update(|s| {
            if s.connection == Some(conn) {
                s.connected = false;
                s.connection = None;
                s.sync_state = SyncState::Disconnected;
            }
        });
    }

    /// A sink that remembers what it was told to forget.
    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<u64>>);

    impl ForgetDpids for Recorder {
        fn forget_dpids(&self, dpids: &[u64]) {
            self.0.lock().extend_from_slice(dpids);
        }
    }

    #[test]
    fn fifty_thousand_churning_dpids_stay_at_the_cap_oldest_forgotten_first() {
        let r = Registry::new();
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn ForgetDpids> = recorder.clone();
        r.forget_with(&sink);
        r.forget_with(&sink); // registering twice must not double the calls
        let steady = u64::MAX;
        let _steady = r.connect(steady, 0, peer(), SystemTime::now());
        let n = 50_000u64;
        for i in 1..=n {
            let h = r.connect(i, i, peer(), SystemTime::now());
            h.update(|s| s.counters.syncs_ok += 1);
            finish(&h, i);
            assert!(
                r.known() <= MAX_DISCONNECTED + 1,
                "after {i}: {}",
                r.known()
            );
        }
        assert_eq!(r.disconnected(), MAX_DISCONNECTED);
        assert_eq!(r.known(), MAX_DISCONNECTED + 1);
        let evicted = n - MAX_DISCONNECTED as u64;
        assert_eq!(
            r.forgotten(),
            Forgotten {
                retention: 0,
                cap: evicted
            }
        );
        let told = recorder.0.lock().clone();
        assert_eq!(
            told,
            (1..=evicted).collect::<Vec<_>>(),
            "oldest first, once each"
        );
        assert!(r.switch(evicted).is_none());
        let kept = r
            .switch(evicted + 1)
            .expect("the newest disconnected are kept");
        assert_eq!(kept.sync_state, SyncState::Disconnected);
        assert_eq!(kept.counters.syncs_ok, 1, "with their counters");
        let s = r
            .switch(steady)
            .expect("a connected switch is never forgotten");
        assert!(s.connected && s.connection == Some(0));
        assert_eq!(r.snapshot().switches.len(), MAX_DISCONNECTED + 1);
        // The queue holds no more than the disconnected switches.
        assert_eq!(r.shared.departures().queue.len(), MAX_DISCONNECTED);
    }

    #[test]
    fn retention_expiry_forgets_the_disconnected_and_only_them() {
        let r = Registry::with_limits(Duration::from_secs(60), 100);
        let t0 = Instant::now();
        let a = r.connect(1, 1, peer(), SystemTime::now());
        let _b = r.connect(2, 2, peer(), SystemTime::now());
        a.update_at(t0, |s| {
            s.connection = None;
            s.connected = false;
        });
        assert_eq!(r.disconnected(), 1);
        assert_eq!(r.sweep(t0 + Duration::from_secs(59)), 0);
        assert!(!r.switch(1).expect("kept during retention").connected);
        assert_eq!(r.sweep(t0 + Duration::from_secs(60)), 1);
        assert!(r.switch(1).is_none(), "forgotten after retention");
        assert_eq!(
            r.forgotten(),
            Forgotten {
                retention: 1,
                cap: 0
            }
        );
        assert_eq!(r.disconnected(), 0);
        assert_eq!(r.sweep(t0 + 1000 * DISCONNECTED_RETENTION), 0);
        assert!(r.switch(2).expect("connected stays").connected);
    }

    #[test]
    fn a_connected_switch_is_never_forgotten_even_with_no_room_at_all() {
        let r = Registry::with_limits(Duration::ZERO, 0);
        let far = Instant::now() + 1000 * DISCONNECTED_RETENTION;
        let _one = r.connect(1, 1, peer(), SystemTime::now());
        // Taken over: the old connection's end must not disconnect the newer one's entry.
        let old = r.connect(5, 10, peer(), SystemTime::now());
        let _new = r.connect(5, 11, peer(), SystemTime::now());
        finish(&old, 10);
        // A switch that disconnects with no room is forgotten at once.
        let gone = r.connect(9, 12, peer(), SystemTime::now());
        finish(&gone, 12);
        assert!(r.switch(9).is_none());
        r.sweep(far);
        assert_eq!(r.known(), 2);
        let s = r.switch(5).expect("still owned by connection 11");
        assert!(s.connected && s.connection == Some(11));
        assert_eq!(s.counters.reconnects, 1);
        assert!(r.switch(1).is_some_and(|s| s.connected));
    }

    #[test]
    fn a_reconnect_during_retention_keeps_counters_and_outlives_its_old_departure() {
        let r = Registry::with_limits(Duration::from_secs(60), 100);
        let t0 = Instant::now();
        let h = r.connect(1, 1, peer(), SystemTime::now());
        h.update(|s| s.counters.flow_mods_sent = 7);
        h.update_at(t0, |s| s.connection = None);
        let h2 = r.connect(1, 2, peer(), SystemTime::now());
        assert_eq!(r.disconnected(), 0);
        assert_eq!(r.sweep(t0 + Duration::from_secs(3600)), 0);
        let s = r.switch(1).expect("reconnected");
        assert_eq!((s.counters.flow_mods_sent, s.counters.reconnects), (7, 1));
        assert_eq!(s.connection, Some(2));
        // Disconnecting again starts a new retention period.
        let t1 = t0 + Duration::from_secs(3600);
        h2.update_at(t1, |s| s.connection = None);
        assert_eq!(r.sweep(t1 + Duration::from_secs(59)), 0);
        assert_eq!(r.sweep(t1 + Duration::from_secs(60)), 1);
        assert!(r.switch(1).is_none());
    }

    #[test]
    fn a_reconnect_after_eviction_gets_a_fresh_entry_old_handles_cannot_touch() {
        let r = Registry::with_limits(Duration::from_secs(60), 100);
        let t0 = Instant::now();
        let old = r.connect(1, 1, peer(), SystemTime::now());
        old.update(|s| s.counters.syncs_failed = 3);
        old.update_at(t0, |s| s.connection = None);
        assert_eq!(r.sweep(t0 + Duration::from_secs(61)), 1);
        let new = r.connect(1, 2, peer(), SystemTime::now());
        let s = r.switch(1).expect("listed again");
        assert_eq!((s.counters.syncs_failed, s.counters.reconnects), (0, 0));
        assert!(s.connected && s.connection == Some(2));
        // A late write through the forgotten entry's handle goes nowhere and queues nothing.
        old.update(|s| {
            s.counters.syncs_failed += 1;
            s.connection = None;
        });
        assert_eq!(r.switch(1).map(|s| s.counters.syncs_failed), Some(0));
        assert_eq!(r.disconnected(), 0);
        finish(&new, 2);
        assert_eq!(r.disconnected(), 1);
    }

    #[test]
    fn one_switch_flapping_forever_keeps_the_queue_small() {
        let r = Registry::new();
        for conn in 0..100_000u64 {
            let h = r.connect(7, conn, peer(), SystemTime::now());
            finish(&h, conn);
        }
        assert_eq!(r.known(), 1);
        assert_eq!(r.disconnected(), 1);
        assert!(r.shared.departures().queue.len() <= COMPACT_SLACK + 2);
        assert_eq!(r.switch(7).map(|s| s.counters.reconnects), Some(99_999));
    }

    #[test]
    fn a_sweep_racing_reconnects_never_orphans_a_connected_entry() {
        // The disconnects below are not due for this thread (retention not over at `t0`), but are
        // for the sweeper thread (sweeping far in the future): it removes an entry the moment it
        // is disconnected, while this thread reconnects the same dpid again and again (finding
        // the entry still listed, or not).
        let r = Arc::new(Registry::with_limits(Duration::from_secs(60), 1000));
        let t0 = Instant::now();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sweeper = {
            let (r, stop) = (r.clone(), stop.clone());
            std::thread::spawn(move || {
                let far = t0 + DISCONNECTED_RETENTION;
                let mut forgotten = 0;
                while !stop.load(Ordering::Relaxed) {
                    forgotten += r.sweep(far);
                }
                forgotten
            })
        };
        for conn in 0..100_000u64 {
            let h = r.connect(3, conn, peer(), SystemTime::now());
            h.update(|s| s.counters.packet_ins += 1);
            let s = r.switch(3).expect("a connected entry is listed");
            assert_eq!(s.connection, Some(conn));
            assert_eq!(h.get().counters.packet_ins, s.counters.packet_ins);
            h.update_at(t0, |s| {
                if s.connection == Some(conn) {
                    s.connected = false;
                    s.connection = None;
                }
            });
        }
        stop.store(true, Ordering::Relaxed);
        let swept = sweeper.join().unwrap();
        let last = r.sweep(t0 + DISCONNECTED_RETENTION);
        assert!(r.switch(3).is_none());
        assert_eq!(r.disconnected(), 0);
        assert!(swept > 0, "the sweeper raced the reconnects");
        assert_eq!(
            r.forgotten(),
            Forgotten {
                retention: (swept + last) as u64,
                cap: 0
            }
        );
    }

    #[test]
    fn connect_creates_then_counts_reconnects() {
        let r = Registry::new();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let h = r.connect(0x1, 1, peer, SystemTime::now());
        h.update(|s| s.connected = false);
        assert_eq!(r.switch(1).unwrap().counters.reconnects, 0);
        let _h2 = r.connect(0x1, 1, peer, SystemTime::now());
        let s = r.switch(1).unwrap();
        assert_eq!(s.counters.reconnects, 1);
        assert!(s.connected);
        assert_eq!(s.dpid_str, "00:00:00:00:00:00:00:01");
    }

    #[test]
    fn snapshot_is_sorted_and_counts_handshakes() {
        let r = Registry::new();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        r.connect(3, 1, peer, SystemTime::now());
        r.connect(1, 2, peer, SystemTime::now());
        r.handshaking_add(2);
        r.handshaking_add(-5);
        let snap = r.snapshot();
        assert_eq!(
            snap.switches.iter().map(|s| s.dpid).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(snap.handshaking, 0);
        assert!(serde_json::to_string(&snap)
            .unwrap()
            .contains("\"sync_state\":\"handshaking\""));
    }

    #[test]
    fn state_names_are_the_json_names() {
        for state in SyncState::ALL {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(state.name())
            );
        }
    }

    #[test]
    fn times_serialise_as_rfc3339_strings() {
        let r = Registry::new();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_816_800_250);
        let h = r.connect(1, 1, peer, at);
        let json = serde_json::to_value(r.snapshot()).unwrap();
        let s = &json["switches"][0];
        assert_eq!(s["connected_since"], "2026-11-27T22:00:00.250Z");
        assert_eq!(s["last_sync"], serde_json::Value::Null);
        h.update(|s| s.last_sync = Some(at));
        let json = serde_json::to_value(r.switch(1).unwrap()).unwrap();
        assert_eq!(json["last_sync"], "2026-11-27T22:00:00.250Z");
    }
}
