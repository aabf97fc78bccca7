//! Adversary: a host floods the OpenFlow port with connections, or connects from outside
//! `allowed_peers`. Connections over `max_connections_per_peer` / `max_connections`, and from
//! outside `allowed_peers`, are closed before any OpenFlow is read (not even our HELLO), and
//! real switches keep being served.

use op25b::fleet::guard_counters::ConnectionRejection;
use op25b::fleet::registry::SyncState;
use op25b_test_support::controller::*;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const T: Duration = Duration::from_secs(10);

fn with_controller_keys(keys: &str) -> String {
    policy_text(60, "").replacen("[controller]\n", &format!("[controller]\n{keys}\n"), 1)
}

fn ip(c: u8, d: u8) -> IpAddr {
    IpAddr::from([127, 0, c, d])
}

/// Whether the controller closed `sw` without sending anything (a HELLO means it was admitted).
async fn closed_unread(sw: &mut RawSwitch) -> bool {
    let (got, _) = sw.until_closed(Duration::from_millis(900)).await;
    got.is_empty()
}

async fn in_sync(h: &Harness, dpid: u64) {
    h.wait_switch(dpid, "in sync", T, |s| {
        s.connected && s.sync_state == SyncState::InSync
    })
    .await;
}

/// Opens `n` connections from `from` and keeps them; returns them with the time it took.
async fn flood(h: &Harness, from: impl Fn(usize) -> IpAddr, n: usize) -> Vec<RawSwitch> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(RawSwitch::connect_from(h.addr(), from(i)).await);
    }
    out
}

/// Of `conns`, how many were closed at accept (nothing read) and how many got our HELLO.
async fn split(conns: &mut [RawSwitch]) -> (usize, usize) {
    let mut refused = 0;
    for c in conns.iter_mut() {
        let t = Duration::from_millis(300);
        match tokio::time::timeout(t, c.recv(T)).await {
            Ok(Received::Closed) => refused += 1,
            Ok(Received::Msg(_)) | Err(_) => {}
        }
    }
    (refused, conns.len() - refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_from_one_address_is_cut_at_the_per_peer_limit() {
    let h = Harness::start(&with_controller_keys("max_connections_per_peer = 5"));
    let sw = sim_switch(0x91, 3);
    sw.connect(h.addr()).await.expect("real switch connects");
    in_sync(&h, 0x91).await;
    let started = Instant::now();
    let mut conns = flood(&h, |_| ip(0, 2), 200).await;
    let (refused, admitted) = split(&mut conns).await;
    println!(
        "200 connections from one address in {:?}: {admitted} admitted, {refused} refused at accept",
        started.elapsed()
    );
    assert_eq!(admitted, 5);
    assert_eq!(refused, 195);
    let g = h.registry.guards();
    assert_eq!(
        g.connections_rejected(ConnectionRejection::TooManyFromPeer),
        195
    );
    // The real switch was not disturbed, and another one still gets in.
    assert!(sw.is_connected());
    let other = sim_switch(0x92, 3);
    other.connect(h.addr()).await.expect("second real switch");
    in_sync(&h, 0x92).await;
    drop(conns);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_over_max_connections_is_refused_and_real_switches_keep_being_served() {
    let h = Harness::start(&with_controller_keys("max_connections = 20"));
    let sw = sim_switch(0x93, 3);
    sw.connect(h.addr()).await.expect("real switch connects");
    in_sync(&h, 0x93).await;
    let syncs = h.registry.switch(0x93).expect("known").counters.syncs_ok;
    let mut conns = flood(
        &h,
        |i| {
            ip(
                1 + u8::try_from(i / 200).expect("few"),
                2 + u8::try_from(i % 200).expect("below 200"),
            )
        },
        100,
    )
    .await;
    let (refused, admitted) = split(&mut conns).await;
    println!("100 connections from 100 addresses: {admitted} admitted, {refused} refused");
    assert_eq!(admitted, 19, "20 in all, the real switch included");
    assert_eq!(refused, 81);
    assert_eq!(
        h.registry
            .guards()
            .connections_rejected(ConnectionRejection::TooManyConnections),
        81
    );
    // The flood's idle connections end at the handshake timeout (1 s here); a real switch
    // retrying gets in, and the first one is still served (its audit runs, it stays in sync).
    drop(conns);
    let other = sim_switch(0x94, 3);
    let retry = other.spawn_reconnecting(h.addr(), Duration::from_millis(200));
    in_sync(&h, 0x94).await;
    retry.abort();
    assert!(sw.is_connected());
    let s = h.registry.switch(0x93).expect("known");
    assert!(s.connected && s.sync_state == SyncState::InSync && s.counters.syncs_ok >= syncs);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_from_outside_allowed_peers_are_closed_before_any_openflow() {
    let h = Harness::start(&with_controller_keys("allowed_peers = [\"127.0.0.1/32\"]"));
    for d in 2..12 {
        let mut stranger = RawSwitch::connect_from(h.addr(), ip(0, d)).await;
        // Sends a HELLO: it is never read.
        let _ = stranger.stream.write_all(&[4, 0, 0, 8, 0, 0, 0, 1]).await;
        assert!(closed_unread(&mut stranger).await, "not even our HELLO");
    }
    assert_eq!(
        h.registry
            .guards()
            .connections_rejected(ConnectionRejection::PeerNotAllowed),
        10
    );
    assert_eq!(h.registry.snapshot().handshaking, 0);
    let sw = sim_switch(0x95, 3);
    sw.connect(h.addr()).await.expect("allowed switch connects");
    in_sync(&h, 0x95).await;
    h.controller.shutdown().await;
}
