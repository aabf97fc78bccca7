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
//! queued in the order they happen (`retention.rs`), so forgetting costs amortised O(1) per
//! connect or disconnect (no periodic task, no scan): a disconnect, a first connect of a dpid and
//! a read each look at the queue's front. Whatever else keeps state per dpid (the switch
//! observations) forgets with the registry through [`Registry::forget_with`] (`forget_sinks.rs`).
//!
//! Changes are pushed too: [`Registry::subscribe_changes`] gets a copy of a switch's status
//! whenever what the status page shows of it changes (state, flows, sync, drift; not the
//! counters), in the order they happened. The channel is a bounded broadcast: a writer never
//! waits, a reader that falls [`CHANGE_BUFFER`] behind is told it lagged.

use parking_lot::{Mutex, MutexGuard, RwLock};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::broadcast;
use tracing::{debug, warn};

pub use super::forget_sinks::ForgetDpids;
use super::forget_sinks::ForgetSinks;
use super::retention::{Departures, Limits, Reason};
pub use super::retention::{Forgotten, DISCONNECTED_RETENTION, MAX_DISCONNECTED};
use super::switch_status::Visible;
pub use super::switch_status::{
    FailOpenEvidence, FailedOpen, SwitchCounters, SwitchStatus, SyncState,
};

/// Status changes a subscriber may fall behind by before it is told it lagged.
pub const CHANGE_BUFFER: usize = 256;

/// Every switch as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrySnapshot {
    /// Connections accepted that have not told their dpid yet.
    pub handshaking: u64,
    /// Sorted by dpid.
    pub switches: Vec<SwitchStatus>,
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

/// What the handles share with the registry: the map and the forgetting book-keeping.
#[derive(Debug)]
struct Shared {
    switches: RwLock<HashMap<u64, Arc<Mutex<Slot>>>>,
    departures: Mutex<Departures>,
    limits: Limits,
    sinks: ForgetSinks,
    forgotten_retention: AtomicU64,
    forgotten_cap: AtomicU64,
    changes: broadcast::Sender<SwitchStatus>,
}

// Lock order: `switches` -> a slot -> `departures`; `sinks` and the sinks' own locks only under
// `switches` (write), never under a slot or `departures`.

impl Shared {
    fn new(limits: Limits) -> Self {
        Self {
            switches: RwLock::new(HashMap::new()),
            departures: Mutex::new(Departures::default()),
            limits,
            sinks: ForgetSinks::default(),
            forgotten_retention: AtomicU64::new(0),
            forgotten_cap: AtomicU64::new(0),
            changes: broadcast::channel(CHANGE_BUFFER).0,
        }
    }

    /// Sends `status` to the change subscribers when `before` (taken before the write) differs
    /// from it. Called with the slot locked, so changes of one switch go out in order.
    fn announce(&self, before: Option<Visible>, status: &SwitchStatus) {
        if let Some(before) = before {
            if before != Visible::of(status) {
                // No subscriber left is not an error.
                let _ = self.changes.send(status.clone());
            }
        }
    }

    /// What a write must compare against, or `None` when nobody listens.
    fn before(&self, status: &SwitchStatus) -> Option<Visible> {
        (self.changes.receiver_count() > 0).then(|| Visible::of(status))
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
        self.sinks.forget(&forgotten);
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
            let before = self.shared.before(&slot.status);
            f(&mut slot.status);
            self.shared.announce(before, &slot.status);
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
    guards: super::guard_counters::GuardCounters,
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

    /// Connections and samples refused, by reason (not per switch: most have no dpid).
    pub fn guards(&self) -> &super::guard_counters::GuardCounters {
        &self.guards
    }

    /// Keeps disconnected switches for `retention`, at most `max_disconnected` of them.
    pub fn with_limits(retention: Duration, max_disconnected: usize) -> Self {
        Self {
            shared: Arc::new(Shared::new(Limits {
                retention,
                max_disconnected,
            })),
            handshaking: AtomicU64::new(0),
            guards: super::guard_counters::GuardCounters::default(),
        }
    }

    /// `sink` forgets a dpid whenever the registry does (held weakly; registering the same sink
    /// again changes nothing).
    pub fn forget_with(&self, sink: &Arc<dyn ForgetDpids>) {
        self.shared.sinks.add(sink);
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
        self.shared.departures().disconnected()
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
            let before = self.shared.before(&slot.status);
            let s = &mut slot.status;
            if s.connected_since.is_some() {
                s.counters.reconnects += 1;
            }
            s.peer = Some(peer);
            s.connection = Some(conn);
            s.connected = true;
            s.connected_since = Some(now);
            s.sync_state = SyncState::Handshaking;
            self.shared.announce(before, &slot.status);
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

    /// The dpids with a connection past its handshake (the switches this instance could be
    /// master of), without cloning their status.
    pub fn connected_dpids(&self) -> std::collections::BTreeSet<u64> {
        let entries: Vec<_> = {
            let read = self.shared.switches.read();
            read.iter().map(|(d, e)| (*d, e.clone())).collect()
        };
        entries
            .into_iter()
            .filter(|(_, e)| {
                let s = &e.lock().status;
                s.connected && s.sync_state != SyncState::Handshaking
            })
            .map(|(d, _)| d)
            .collect()
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

    /// A copy of a switch's status every time what the status page shows of it changes, from
    /// now on (see the module docs).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<SwitchStatus> {
        self.shared.changes.subscribe()
    }

    /// Connections that have not told their dpid yet (+1 on accept, -1 when known or closed).
    pub fn handshaking_add(&self, delta: i64) {
        if let Ok(delta) = u64::try_from(delta) {
            self.handshaking.fetch_add(delta, Ordering::Relaxed);
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
#[path = "registry_tests.rs"]
mod tests;
