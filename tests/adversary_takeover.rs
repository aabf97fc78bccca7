//! Adversary: a host that can reach the OpenFlow port claims the dpid of a real switch, over
//! plain TCP. The real switch is a simulated switch at 127.0.0.1 (its home address); the
//! impostor speaks raw OpenFlow from 127.0.0.2. The rule under test is the takeover rule of
//! `src/fleet/dpid_claims.rs` (docs/operating.md, "Who speaks for a dpid").

use op25b::fleet::registry::{SwitchStatus, SyncState};
use op25b_proto::{Message, MultipartRequestBody};
use op25b_test_support::controller::*;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn impostor_ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 2])
}

fn home(s: &SwitchStatus) -> bool {
    s.peer
        .is_some_and(|p| p.ip() == IpAddr::from([127, 0, 0, 1]))
}

async fn synced_at_home(h: &Harness, dpid: u64, min_syncs: u64) -> SwitchStatus {
    h.wait_switch(dpid, "in sync from its home address", T, |s| {
        s.connected
            && home(s)
            && s.sync_state == SyncState::InSync
            && s.counters.syncs_ok >= min_syncs
    })
    .await
}

/// The impostor's claim: HELLO and FEATURES_REPLY with `dpid`, then everything the controller
/// sends until it closes. Panics if the controller keeps it open for 3 s.
async fn impostor_claims(h: &Harness, dpid: u64) -> Vec<op25b_proto::OfpMessage> {
    let mut imp = RawSwitch::connect_from(h.addr(), impostor_ip()).await;
    imp.hello_and_features(dpid).await;
    let (got, took) = imp.until_closed(Duration::from_secs(3)).await;
    assert!(
        took < Duration::from_secs(1),
        "impostor closed at once: {took:?}"
    );
    got
}

fn reveals_flows(m: &op25b_proto::OfpMessage) -> bool {
    match &m.body {
        Message::FlowMod(_) => true,
        Message::MultipartRequest(r) => matches!(r.body, MultipartRequestBody::Flow(_)),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impostor_claiming_a_live_switchs_dpid_is_refused_and_the_switch_is_undisturbed() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x81, 3);
    sw.connect(h.addr()).await.expect("real switch connects");
    let before = synced_at_home(&h, 0x81, 1).await;
    let flow_mods = sw.counters().flow_mods;

    let got = impostor_claims(&h, 0x81).await;
    assert!(
        !got.iter().any(reveals_flows),
        "the impostor learnt nothing of our flows: {got:?}"
    );
    // Give a wrongly closed session time to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        sw.is_connected(),
        "the real switch's session was not closed"
    );
    let after = h.registry.switch(0x81).expect("known");
    assert!(after.connected && home(&after), "{after:?}");
    assert_eq!(after.counters.reconnects, before.counters.reconnects);
    assert_eq!(after.connection, before.connection, "same session");
    assert_eq!(sw.counters().flow_mods, flow_mods, "no flow change");
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

/// The sequence of the issue: two impostor claims, then the real switch reconnecting. Before
/// the takeover rule, the third takeover within a minute started the conflict hold-down in the
/// impostor's favour and the real switch was refused for 120 s, again and again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_impostor_claims_then_the_real_switch_reconnecting_never_locks_it_out() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x82, 3);
    sw.connect(h.addr()).await.expect("real switch connects");
    let first = synced_at_home(&h, 0x82, 1).await;

    // The impostors keep their connections open (answering echoes like a switch would).
    let mut impostors = Vec::new();
    for _ in 0..2 {
        let mut imp = RawSwitch::connect_from(h.addr(), impostor_ip()).await;
        imp.hello_and_features(0x82).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        impostors.push(imp);
    }
    // The real switch reconnects (after a reboot, or because it was closed).
    let started = Instant::now();
    sw.disconnect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    sw.connect(h.addr()).await.expect("real switch reconnects");
    let s = synced_at_home(&h, 0x82, first.counters.syncs_ok + 1).await;
    println!("real switch back in sync after {:?}", started.elapsed());
    // And it stays: not closed a moment later by a hold-down.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sw.is_connected(), "the real switch was refused");
    let now = h.registry.switch(0x82).expect("known");
    assert!(now.connected && home(&now) && now.connection == s.connection);
    drop(impostors);
    h.controller.shutdown().await;
}

/// An impostor can take a dpid whose real switch is gone; the real switch coming back from its
/// home address gets it back at once, and the impostor trying again is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_switch_coming_back_takes_its_dpid_back_from_an_impostor() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x83, 3);
    sw.connect(h.addr()).await.expect("real switch connects");
    let first = synced_at_home(&h, 0x83, 1).await;
    sw.disconnect();
    h.wait_switch(0x83, "gone", T, |s| !s.connected).await;

    let mut imp = RawSwitch::connect_from(h.addr(), impostor_ip()).await;
    imp.handshake(0x83).await;
    h.wait_switch(0x83, "held by the impostor", T, |s| s.connected && !home(s))
        .await;
    let started = Instant::now();
    sw.connect(h.addr()).await.expect("real switch reconnects");
    synced_at_home(&h, 0x83, first.counters.syncs_ok + 1).await;
    println!("home took its dpid back after {:?}", started.elapsed());
    let (_, took) = imp.until_closed(Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    let got = impostor_claims(&h, 0x83).await;
    assert!(!got.iter().any(reveals_flows), "{got:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sw.is_connected());
    h.controller.shutdown().await;
}

/// The price of the rule: the real switch back at a *new* address, its old session half-open
/// (silent). It is refused while the old session lives, and gets its dpid once the keepalive
/// closes that session (`echo_timeout_secs`, 2 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_at_a_new_address_gets_its_dpid_once_the_old_session_times_out() {
    let h = Harness::start(&policy_text(60, ""));
    let old = sim_switch(0x84, 3);
    old.connect(h.addr()).await.expect("switch connects");
    synced_at_home(&h, 0x84, 1).await;
    old.go_silent();
    let mut cfg = op25b_sim::SimSwitchConfig::new(0x84, 3);
    cfg.local_ip = Some(IpAddr::from([127, 0, 0, 5]));
    let moved = op25b_sim::SimSwitch::new(cfg);
    let started = Instant::now();
    let retry = moved.spawn_reconnecting(h.addr(), Duration::from_millis(200));
    let s = h
        .wait_switch(0x84, "in sync from the new address", T, |s| {
            s.connected
                && s.sync_state == SyncState::InSync
                && s.peer
                    .is_some_and(|p| p.ip() == IpAddr::from([127, 0, 0, 5]))
        })
        .await;
    let took = started.elapsed();
    println!("switch at a new address in sync after {took:?} (echo timeout 2 s)");
    assert!(
        took >= Duration::from_secs(1),
        "not before the old session ended: {took:?}"
    );
    assert!(s.connected);
    retry.abort();
    h.controller.shutdown().await;
}
