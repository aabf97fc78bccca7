//! Tests of the status registry: connects, reconnects, forgetting by retention and cap, races.

use super::*;
use crate::fleet::forget_sinks::Recorder;
use crate::fleet::retention::COMPACT_SLACK;

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
    assert_eq!(r.shared.departures().queued(), MAX_DISCONNECTED);
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
    assert!(r.shared.departures().queued() <= COMPACT_SLACK + 2);
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
fn times_serialise_as_rfc3339_strings() {
    let r = Registry::new();
    let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_816_800_250);
    let h = r.connect(1, 1, peer, at);
    let json = serde_json::to_value(r.snapshot()).unwrap();
    let s = &json["switches"][0];
    assert_eq!(s["connected_since"], "2026-11-27T22:00:00.250Z");
    assert_eq!(s["last_sync"], serde_json::Value::Null);
    h.update(|s| s.last_sync = Some(at));
    let json = serde_json::to_value(r.switch(1).unwrap()).unwrap();
    assert_eq!(json["last_sync"], "2026-11-27T22:00:00.250Z");
}

#[test]
fn visible_changes_are_pushed_in_order_and_counters_are_not() {
    let reg = Registry::new();
    let mut rx = reg.subscribe_changes();
    let h = reg.connect(7, 1, "127.0.0.1:1".parse().unwrap(), SystemTime::now());
    h.update(|s| s.counters.packet_ins += 1);
    h.update(|s| s.sync_state = SyncState::Syncing);
    h.update(|s| s.drifting_since = Some(SystemTime::now()));
    h.update(|s| {
        s.drifting_since = None;
        s.sync_state = SyncState::InSync;
    });
    let mut seen = Vec::new();
    while let Ok(s) = rx.try_recv() {
        seen.push((s.sync_state, s.drifting_since.is_some()));
    }
    assert_eq!(
        seen,
        vec![
            (SyncState::Handshaking, false),
            (SyncState::Syncing, false),
            (SyncState::Syncing, true),
            (SyncState::InSync, false),
        ]
    );
}
