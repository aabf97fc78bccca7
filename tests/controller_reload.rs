//! Hot reload through the policy file (watched directory) against simulated switches: a valid
//! change is re-synced hitlessly, an invalid one changes nothing, and a switch that was away during
//! the reload gets it when it reconnects.

use op25b::controller::reload::run_reloader;
use op25b::fleet::registry::SyncState;
use op25b_test_support::controller::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn start_with_reloader(policy: &str) -> Harness {
    let h = Harness::start(policy);
    tokio::spawn(run_reloader(h.store.clone(), h.controller.shutdown_token()));
    h
}

/// Replaces the policy file the way editors do: write a temporary file, rename it over.
fn save(h: &Harness, text: &str) {
    let tmp = h.policy_path.with_file_name(".policy.toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &h.policy_path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_reload_is_synced_hitlessly_to_every_switch() {
    let h = start_with_reloader(&policy_text(60, ""));
    let (a, b) = (sim_switch(0x201, 4), sim_switch(0x202, 4));
    a.connect(h.addr()).await.unwrap();
    b.connect(h.addr()).await.unwrap();
    for d in [0x201, 0x202] {
        h.wait_switch(d, "first sync", T, |s| s.sync_state == SyncState::InSync)
            .await;
    }
    assert!(!tcp_forwarded(&a, 1, "10.0.0.5", "192.0.2.26", 25));
    tokio::time::sleep(Duration::from_millis(100)).await; // let the watch settle
    save(
        &h,
        &policy_text(60, "").replace("\"192.0.2.25/32\"", "\"192.0.2.25/32\", \"192.0.2.26/32\""),
    );
    for (d, sw) in [(0x201, &a), (0x202, &b)] {
        h.wait_switch(d, "generation 2", T, |s| {
            s.synced_generation == Some(2) && s.sync_state == SyncState::InSync
        })
        .await;
        assert!(
            tcp_forwarded(sw, 1, "10.0.0.5", "192.0.2.26", 25),
            "new relay open on {d:#x}"
        );
        assert!(!tcp_forwarded(sw, 1, "10.0.0.5", "198.51.100.7", 25));
        assert_hitless(sw);
    }
    let status = h.store.reload_status();
    assert_eq!(
        (
            h.store.current().generation(),
            status.reloads_ok,
            status.reloads_failed
        ),
        (2, 1, 0)
    );
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_reload_changes_nothing() {
    let h = start_with_reloader(&policy_text(60, ""));
    let sw = sim_switch(0x203, 4);
    sw.connect(h.addr()).await.unwrap();
    h.wait_switch(0x203, "first sync", T, |s| {
        s.sync_state == SyncState::InSync
    })
    .await;
    let flows_before = sw.flows().len();
    let messages_before = sw.counters().flow_mods;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A relay with host bits beyond its mask.
    save(
        &h,
        &policy_text(60, "").replace("192.0.2.25/32", "192.0.2.25/24"),
    );
    let start = std::time::Instant::now();
    while h.store.reload_status().reloads_failed == 0 {
        assert!(start.elapsed() < T, "the rejected reload is counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = h.store.reload_status();
    assert_eq!(h.store.current().generation(), 1);
    let err = status.last_reload_error.expect("error kept");
    assert!(err.contains("policy.toml"), "{err}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sw.counters().flow_mods, messages_before, "nothing sent");
    assert_eq!(sw.flows().len(), flows_before);
    assert!(tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25));
    assert_eq!(h.registry.switch(0x203).unwrap().synced_generation, Some(1));
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_away_during_a_reload_gets_it_on_reconnect() {
    let h = start_with_reloader(&policy_text(60, ""));
    let sw = sim_switch(0x204, 4);
    sw.connect(h.addr()).await.unwrap();
    h.wait_switch(0x204, "first sync", T, |s| {
        s.sync_state == SyncState::InSync
    })
    .await;
    sw.disconnect();
    h.wait_switch(0x204, "disconnected", T, |s| !s.connected)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    save(
        &h,
        &policy_text(60, "").replace("192.0.2.25/32", "192.0.2.27/32"),
    );
    let start = std::time::Instant::now();
    while h.store.current().generation() != 2 {
        assert!(start.elapsed() < T, "reload applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25),
        "disconnected switch untouched"
    );
    sw.connect(h.addr()).await.unwrap();
    h.wait_switch(0x204, "generation 2 after reconnect", T, |s| {
        s.connected && s.synced_generation == Some(2) && s.sync_state == SyncState::InSync
    })
    .await;
    assert!(tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.27", 25));
    assert!(!tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25));
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_to_fragments_drop_all_reconfigures_the_switch() {
    let h = start_with_reloader(&policy_text(60, ""));
    let sw = sim_switch(0x205, 4);
    sw.connect(h.addr()).await.unwrap();
    h.wait_switch(0x205, "first sync", T, |s| {
        s.sync_state == SyncState::InSync
    })
    .await;
    assert_eq!(
        sw.with_datapath(|d| d.switch_config().flags),
        0,
        "OFPC_FRAG_NORMAL"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let drop_all = policy_text(60, "").replace(
        "cookie = \"0x4f50323542000000\"",
        "cookie = \"0x4f50323542000000\"\nfragments = \"drop-all\"",
    );
    save(&h, &drop_all);
    h.wait_switch(0x205, "generation 2", T, |s| {
        s.synced_generation == Some(2) && s.sync_state == SyncState::InSync
    })
    .await;
    assert_eq!(
        sw.with_datapath(|d| d.switch_config().flags),
        1,
        "OFPC_FRAG_DROP"
    );
    assert_hitless(&sw);
    h.controller.shutdown().await;
}
