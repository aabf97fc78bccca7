//! Handshake, version mismatch, timeouts, echo, malformed bytes: an in-process controller and raw
//! OpenFlow clients over loopback TCP.

use op25b::fleet::registry::SyncState;
use op25b_proto::{Hello, Message, OfpMessage};
use op25b_test_support::controller::*;
use std::time::Duration;

#[tokio::test]
async fn an_openflow_10_switch_gets_hello_failed_and_is_closed() {
    let h = Harness::start(&policy_text(60, ""));
    let mut sw = RawSwitch::connect(h.addr()).await;
    sw.send_raw(&[1, 0, 0, 8, 0, 0, 0, 1]).await; // OF1.0 HELLO, no bitmap
    let (got, _) = sw.until_closed(Duration::from_secs(5)).await;
    assert!(
        matches!(got.first().map(|m| &m.body), Some(Message::Hello(_))),
        "{got:?}"
    );
    let err = got
        .iter()
        .find_map(|m| match &m.body {
            Message::Error(e) => Some((m.version, e.clone())),
            _ => None,
        })
        .expect("an ERROR before the close");
    assert_eq!(err.0, 1, "sent in the switch's version so it can read it");
    assert_eq!(
        (err.1.err_type, err.1.code),
        (0, 0),
        "HELLO_FAILED/INCOMPATIBLE"
    );
    assert!(String::from_utf8_lossy(&err.1.data).contains("1.3"));
    assert!(h.registry.snapshot().switches.is_empty());
    h.controller.shutdown().await;
}

#[tokio::test]
async fn a_switch_that_never_finishes_the_handshake_is_closed_after_the_timeout() {
    let h = Harness::start(&policy_text(60, ""));
    let mut sw = RawSwitch::connect(h.addr()).await;
    sw.send(OfpMessage::new(
        1,
        Message::Hello(Hello::with_versions(&[4])),
    ))
    .await;
    // Never answers FEATURES_REQUEST.
    let (got, took) = sw.until_closed(Duration::from_secs(5)).await;
    assert!(got
        .iter()
        .any(|m| matches!(m.body, Message::FeaturesRequest)));
    assert!(
        took >= Duration::from_millis(900),
        "closed too early: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "closed too late: {took:?}");
    assert_eq!(h.registry.snapshot().handshaking, 0);
    h.controller.shutdown().await;
}

#[tokio::test]
async fn echo_requests_are_answered_with_the_same_xid_and_data() {
    let h = Harness::start(&policy_text(60, ""));
    let mut sw = RawSwitch::connect(h.addr()).await;
    sw.handshake(0x51).await;
    sw.send(OfpMessage::new(
        0xabcd,
        Message::EchoRequest(bytes::Bytes::from_static(b"ping")),
    ))
    .await;
    let data = sw
        .recv_until(Duration::from_secs(2), |m| match &m.body {
            Message::EchoReply(d) if m.xid == 0xabcd => Some(d.clone()),
            _ => None,
        })
        .await;
    assert_eq!(&data[..], b"ping");
    h.controller.shutdown().await;
}

#[tokio::test]
async fn a_silent_half_open_connection_is_closed_after_the_echo_timeout() {
    let h = Harness::start(&policy_text(60, ""));
    let mut sw = RawSwitch::connect(h.addr()).await;
    sw.handshake(0x52).await;
    h.wait_switch(0x52, "registered", Duration::from_secs(2), |s| s.connected)
        .await;
    // From now on the switch answers nothing (a half-open connection looks like this).
    let (got, took) = sw.until_closed(Duration::from_secs(6)).await;
    assert!(
        got.iter()
            .any(|m| matches!(m.body, Message::EchoRequest(_))),
        "we probed before giving up"
    );
    assert!(
        took >= Duration::from_millis(1500),
        "closed too early: {took:?}"
    );
    let s = h
        .wait_switch(0x52, "disconnected", Duration::from_secs(2), |s| {
            !s.connected
        })
        .await;
    assert_eq!(s.sync_state, SyncState::Disconnected);
    h.controller.shutdown().await;
}

#[tokio::test]
async fn malformed_bytes_close_that_switch_only() {
    let h = Harness::start(&policy_text(60, ""));
    let mut good = RawSwitch::connect(h.addr()).await;
    good.handshake(0x61).await;
    let mut bad = RawSwitch::connect(h.addr()).await;
    bad.handshake(0x62).await;
    // A header whose length (4) is below the 8-byte minimum.
    bad.send_raw(&[4, 2, 0, 4, 0, 0, 0, 9]).await;
    let (_, took) = bad.until_closed(Duration::from_secs(3)).await;
    assert!(
        took < Duration::from_secs(1),
        "closed at once, not by a timeout: {took:?}"
    );
    h.wait_switch(0x62, "bad one disconnected", Duration::from_secs(2), |s| {
        !s.connected
    })
    .await;
    // The other switch still gets answers.
    good.send(OfpMessage::new(
        0x77,
        Message::EchoRequest(bytes::Bytes::new()),
    ))
    .await;
    good.recv_until(Duration::from_secs(2), |m| {
        (matches!(m.body, Message::EchoReply(_)) && m.xid == 0x77).then_some(())
    })
    .await;
    assert!(h.registry.switch(0x61).expect("good switch").connected);
    h.controller.shutdown().await;
}

#[tokio::test]
async fn a_body_the_codec_rejects_closes_the_connection_with_the_reason() {
    let h = Harness::start(&policy_text(60, ""));
    let mut sw = RawSwitch::connect(h.addr()).await;
    sw.handshake(0x63).await;
    // A FEATURES_REPLY one byte short of its fixed body.
    let mut frame = vec![4u8, 6, 0, 31, 0, 0, 0, 5];
    frame.extend_from_slice(&[0; 23]);
    sw.send_raw(&frame).await;
    let (_, took) = sw.until_closed(Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    h.controller.shutdown().await;
}

#[tokio::test]
async fn the_listener_accepts_a_burst_of_connections() {
    let h = Harness::start(&policy_text(60, ""));
    let addr = h.addr();
    let mut tasks = Vec::new();
    for _ in 0..300 {
        tasks.push(tokio::spawn(async move {
            let mut sw = RawSwitch::connect(addr).await;
            sw.recv_until(Duration::from_secs(10), |m| {
                matches!(m.body, Message::Hello(_)).then_some(())
            })
            .await;
        }));
    }
    for t in tasks {
        t.await.expect("every connection got our HELLO");
    }
    h.controller.shutdown().await;
}

#[tokio::test]
async fn a_simulated_openflow_10_switch_is_refused_and_never_registered() {
    let h = Harness::start(&policy_text(60, ""));
    let mut cfg = op25b_sim::SimSwitchConfig::new(0x81, 2);
    cfg.versions = vec![1];
    let sw = op25b_sim::SimSwitch::new(cfg);
    sw.connect(h.addr()).await.unwrap();
    sw.wait_until(Duration::from_secs(5), "disconnect", |v| !v.is_connected())
        .await
        .unwrap();
    assert!(h.registry.switch(0x81).is_none());
    assert_eq!(sw.counters().flow_mods, 0);
    h.controller.shutdown().await;
}

#[tokio::test]
async fn a_simulated_switch_gone_silent_is_closed_by_the_keepalive() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x82, 2);
    sw.connect(h.addr()).await.unwrap();
    h.wait_switch(0x82, "in sync", Duration::from_secs(5), |s| {
        s.sync_state == SyncState::InSync
    })
    .await;
    let start = std::time::Instant::now();
    sw.go_silent();
    let s = h
        .wait_switch(0x82, "closed for silence", Duration::from_secs(6), |s| {
            !s.connected
        })
        .await;
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert_eq!(s.sync_state, SyncState::Disconnected);
    // Flows stay on the switch.
    assert_eq!(flows_with_cookie(&sw, COOKIE), s.desired_flows);
    h.controller.shutdown().await;
}
