//! The status registry: what the API and metrics read about every switch and the policy.
//!
//! Lock-light: the map of switches is behind an `RwLock` taken for writing only when a switch is
//! first seen; each switch has its own `Mutex` written by its own connection task only. Readers
//! take [`Registry::snapshot`] or [`Registry::switch`], plain serialisable copies.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

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
            dpid_str: format_dpid(dpid),
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

/// Formats a datapath id as eight colon-separated hex bytes.
pub fn format_dpid(dpid: u64) -> String {
    crate::policy::Dpid(dpid).to_string()
}

/// The whole controller as the API shows it.
/// An optional `SystemTime` as an RFC 3339 string (serde's default is a
/// `{secs_since_epoch, nanos_since_epoch}` struct no API client expects).
fn rfc3339<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&crate::offenders::UnixMillis::from_system_time(*t)),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RegistrySnapshot {
    pub policy_generation: u64,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    pub last_reload_error: Option<String>,
    /// Connections accepted that have not told their dpid yet.
    pub handshaking: u64,
    /// Sorted by dpid.
    pub switches: Vec<SwitchStatus>,
}

/// A handle a connection task holds on its switch's entry.
#[derive(Debug, Clone)]
pub struct SwitchHandle {
    entry: Arc<Mutex<SwitchStatus>>,
}

impl SwitchHandle {
    /// Applies `f` to the switch's status (the only write path).
    pub fn update(&self, f: impl FnOnce(&mut SwitchStatus)) {
        let mut guard = self.entry.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    /// A copy of the switch's status.
    pub fn get(&self) -> SwitchStatus {
        self.entry.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Shared by the listener, every connection task, the reloader and the API.
#[derive(Debug, Default)]
pub struct Registry {
    switches: RwLock<HashMap<u64, Arc<Mutex<SwitchStatus>>>>,
    policy_generation: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    handshaking: AtomicU64,
    last_reload_error: Mutex<Option<String>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The entry for `dpid`, created on first sight. Marks it connected through connection `conn`
    /// from `peer` and counts a reconnect when it had been connected before.
    pub fn connect(&self, dpid: u64, conn: u64, peer: SocketAddr, now: SystemTime) -> SwitchHandle {
        let entry = {
            let read = self.switches.read().unwrap_or_else(|p| p.into_inner());
            read.get(&dpid).cloned()
        };
        let entry = match entry {
            Some(e) => e,
            None => {
                let mut write = self.switches.write().unwrap_or_else(|p| p.into_inner());
                write
                    .entry(dpid)
                    .or_insert_with(|| Arc::new(Mutex::new(SwitchStatus::new(dpid))))
                    .clone()
            }
        };
        let handle = SwitchHandle { entry };
        handle.update(|s| {
            if s.connected_since.is_some() {
                s.counters.reconnects += 1;
            }
            s.peer = Some(peer);
            s.connection = Some(conn);
            s.connected = true;
            s.connected_since = Some(now);
            s.sync_state = SyncState::Handshaking;
        });
        handle
    }

    /// One of this switch's status, if it was ever seen.
    pub fn switch(&self, dpid: u64) -> Option<SwitchStatus> {
        let read = self.switches.read().unwrap_or_else(|p| p.into_inner());
        let entry = read.get(&dpid)?.clone();
        drop(read);
        let s = entry.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Some(s)
    }

    /// Everything, switches sorted by dpid.
    pub fn snapshot(&self) -> RegistrySnapshot {
        let entries: Vec<_> = {
            let read = self.switches.read().unwrap_or_else(|p| p.into_inner());
            read.values().cloned().collect()
        };
        let mut switches: Vec<SwitchStatus> = entries
            .iter()
            .map(|e| e.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect();
        switches.sort_by_key(|s| s.dpid);
        RegistrySnapshot {
            policy_generation: self.policy_generation.load(Ordering::Relaxed),
            reloads_ok: self.reloads_ok.load(Ordering::Relaxed),
            reloads_failed: self.reloads_failed.load(Ordering::Relaxed),
            last_reload_error: self
                .last_reload_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            handshaking: self.handshaking.load(Ordering::Relaxed),
            switches,
        }
    }

    /// Policy generation in force.
    pub fn policy_generation(&self) -> u64 {
        self.policy_generation.load(Ordering::Relaxed)
    }

    /// Sets the generation in force without counting a reload (start-up).
    pub fn set_policy_generation(&self, generation: u64) {
        self.policy_generation.store(generation, Ordering::Relaxed);
    }

    /// A reload that installed `generation`.
    pub fn reload_succeeded(&self, generation: u64) {
        self.policy_generation.store(generation, Ordering::Relaxed);
        self.reloads_ok.fetch_add(1, Ordering::Relaxed);
        *self
            .last_reload_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// A reload rejected with `error`; the policy in force stays.
    pub fn reload_failed(&self, error: String) {
        self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        *self
            .last_reload_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(error);
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
    fn snapshot_is_sorted_and_carries_reload_counters() {
        let r = Registry::new();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        r.connect(3, 1, peer, SystemTime::now());
        r.connect(1, 2, peer, SystemTime::now());
        r.reload_failed("line 3: bad prefix".into());
        r.reload_succeeded(2);
        r.handshaking_add(2);
        r.handshaking_add(-5);
        let snap = r.snapshot();
        assert_eq!(
            snap.switches.iter().map(|s| s.dpid).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(
            (snap.reloads_ok, snap.reloads_failed, snap.policy_generation),
            (1, 1, 2)
        );
        assert_eq!(snap.last_reload_error, None);
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
