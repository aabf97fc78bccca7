//! The same dpid on several connections: the newest wins; two switches flapping over one dpid are
//! detected and held down.

use op25b_test_support::controller::*;
use std::time::Duration;

#[tokio::test]
async fn the_same_dpid_connecting_again_takes_over_and_the_old_connection_is_closed() {
    let h = Harness::start(&policy_text(60, ""));
    let mut old = RawSwitch::connect(h.addr()).await;
    old.handshake(0x71).await;
    let first = h
        .wait_switch(0x71, "first connection", Duration::from_secs(2), |s| {
            s.connected
        })
        .await;
    let mut new = RawSwitch::connect(h.addr()).await;
    let new_local = new.stream.local_addr().expect("local addr");
    new.handshake(0x71).await;
    let (_, took) = old.until_closed(Duration::from_secs(3)).await;
    assert!(
        took < Duration::from_secs(1),
        "old connection closed at once: {took:?}"
    );
    let s = h
        .wait_switch(
            0x71,
            "new connection registered",
            Duration::from_secs(2),
            |s| s.peer == Some(new_local) && s.connected,
        )
        .await;
    assert_eq!(s.counters.reconnects, first.counters.reconnects + 1);
    // The old connection's close did not mark the switch disconnected.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h.registry.switch(0x71).expect("known").connected);
    h.controller.shutdown().await;
}

#[tokio::test]
async fn two_switches_flapping_over_one_dpid_are_held_down() {
    let h = Harness::start(&policy_text(60, ""));
    let mut a = RawSwitch::connect(h.addr()).await;
    a.handshake(0x72).await;
    let mut b = RawSwitch::connect(h.addr()).await;
    b.handshake(0x72).await; // takeover 1
    a.until_closed(Duration::from_secs(3)).await;
    let mut c = RawSwitch::connect(h.addr()).await;
    let c_local = c.stream.local_addr().expect("local addr");
    c.handshake(0x72).await; // takeover 2
    b.until_closed(Duration::from_secs(3)).await;
    // The third takeover within a minute is the conflict: refused, the holder stays.
    let mut d = RawSwitch::connect(h.addr()).await;
    d.hello_and_features(0x72).await;
    let (_, took) = d.until_closed(Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    let s = h.registry.switch(0x72).expect("known");
    assert_eq!(s.peer, Some(c_local));
    assert!(s.connected);
    // c is still served.
    c.send(op25b_proto::OfpMessage::new(
        9,
        op25b_proto::Message::EchoRequest(bytes::Bytes::new()),
    ))
    .await;
    c.recv_until(Duration::from_secs(2), |m| {
        (m.xid == 9 && matches!(m.body, op25b_proto::Message::EchoReply(_))).then_some(())
    })
    .await;
    h.controller.shutdown().await;
}
