//! Fault injection, reconnects and the invariant hook, against a scripted controller over
//! real loopback TCP.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use op25b_proto::consts::*;
use op25b_proto::error_codes::{BadRequestCode, ErrorType, FlowModFailedCode};
use op25b_proto::{
    Action, FlowMod, FlowStatsRequest, Instruction, Match, Message, MultipartReplyBody,
    MultipartRequest, MultipartRequestBody, Oxm,
};
use op25b_sim::{
    Datapath, HandshakeBehaviour, PacketHeaders, SimSwitch, SimSwitchConfig, SwitchEvent,
};
use op25b_test_support::scripted::{Listener, STEP};

fn tcp25(priority: u16, instructions: Vec<Instruction>) -> FlowMod {
    let f = vec![
        Oxm::EthType(ETH_TYPE_IPV4),
        Oxm::IpProto(IP_PROTO_TCP),
        Oxm::TcpDst(25),
    ];
    FlowMod::add(0, priority, Match::new(f), instructions)
}

fn catch_all() -> FlowMod {
    FlowMod::add(
        0,
        0,
        Match::all(),
        vec![Instruction::ApplyActions(vec![Action::output(OFPP_NORMAL)])],
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

#[tokio::test]
async fn nth_flow_mod_and_predicate_faults_answer_with_the_given_error() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(1, 1));
    let table_full = (
        ErrorType::FlowModFailed as u16,
        FlowModFailedCode::TableFull as u16,
    );
    sw.fail_nth_flow_mod(2, table_full.0, table_full.1);
    sw.fail_flow_mod_when(
        |fm| fm.priority == 300,
        ErrorType::FlowModFailed as u16,
        FlowModFailedCode::Eperm as u16,
    );
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    c.send_body(Message::FlowMod(catch_all())).await;
    let second = c.send_body(Message::FlowMod(tcp25(200, vec![]))).await;
    let third = c.send_body(Message::FlowMod(tcp25(300, vec![]))).await;
    c.send_body(Message::FlowMod(tcp25(300, vec![]))).await; // one-shot: applied this time
    let got = c.barrier().await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].xid, second);
    let Message::Error(e) = &got[0].body else {
        panic!("{got:?}")
    };
    assert_eq!((e.err_type, e.code), table_full);
    assert_eq!(e.data[1], OFPT_FLOW_MOD);
    assert_eq!(got[1].xid, third);
    assert!(matches!(&got[1].body, Message::Error(e) if e.code == FlowModFailedCode::Eperm as u16));
    let prios: Vec<u16> = sw.flows().iter().map(|f| f.priority).collect();
    assert_eq!(prios, vec![300, 0], "refused FLOW_MODs were not applied");
    assert_eq!(sw.counters().flow_mods, 4);
    assert_eq!(sw.counters().flow_mod_errors, 2);
}

#[tokio::test]
async fn reconnect_keeps_flows_and_stale_or_foreign_flows_show_in_stats() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(2, 2));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    let mut ours = tcp25(200, vec![]);
    ours.cookie = 0x0b25;
    c.send_body(Message::FlowMod(ours)).await;
    c.barrier().await;
    // The controller goes away; the switch keeps its flows (fail_mode=secure).
    drop(c);
    sw.wait_until(STEP, "disconnect", |v| !v.is_connected())
        .await
        .expect("sees EOF");
    assert_eq!(sw.flows().len(), 1);
    // Meanwhile someone else adds a flow with a foreign cookie.
    let mut foreign = catch_all();
    foreign.cookie = 0xf0f0;
    sw.install(&foreign).expect("local install");
    sw.connect(ctl.addr()).await.expect("reconnect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    c.send_body(Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Flow(FlowStatsRequest::all()),
    }))
    .await;
    let m = c.recv().await;
    let Message::MultipartReply(r) = m.body else {
        panic!("{m:?}")
    };
    let MultipartReplyBody::Flow(stats) = r.body else {
        panic!("not FLOW")
    };
    let mut cookies: Vec<u64> = stats.iter().map(|s| s.cookie).collect();
    cookies.sort();
    assert_eq!(cookies, vec![0x0b25, 0xf0f0]);
    assert_eq!(sw.counters().connections, 2);
    let connects = sw
        .events()
        .iter()
        .filter(|e| matches!(e, SwitchEvent::Connected { .. }))
        .count();
    assert_eq!(connects, 2);
    sw.wipe_flows();
    assert!(sw.flows().is_empty());
}

#[tokio::test]
async fn a_silent_switch_keeps_the_socket_open_and_answers_nothing() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(3, 1));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    sw.go_silent();
    let xid = c.send_body(Message::EchoRequest(bytes::Bytes::new())).await;
    assert!(
        c.silent_for(Duration::from_millis(300)).await,
        "no reply while silent"
    );
    assert!(sw.is_connected());
    sw.resume();
    let m = c.recv().await;
    assert_eq!(m.xid, xid);
    assert!(matches!(m.body, Message::EchoReply(_)));
}

#[tokio::test]
async fn handshake_faults() {
    let ctl = Listener::bind().await;
    let mut cfg = SimSwitchConfig::new(4, 1);
    cfg.handshake = HandshakeBehaviour::NoFeaturesReply;
    let sw = SimSwitch::new(cfg);
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.hello().await;
    c.send_body(Message::FeaturesRequest).await;
    assert!(
        c.silent_for(Duration::from_millis(300)).await,
        "FEATURES_REQUEST unanswered"
    );
    assert!(!sw.events().contains(&SwitchEvent::HandshakeDone));

    let mut cfg = SimSwitchConfig::new(5, 1);
    cfg.handshake = HandshakeBehaviour::NoHello;
    let mute = SimSwitch::new(cfg);
    mute.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    assert!(c.silent_for(Duration::from_millis(300)).await, "no HELLO");
    c.send_body(Message::FeaturesRequest).await;
    assert!(
        c.silent_for(Duration::from_millis(200)).await,
        "nothing answered"
    );
    mute.wait_until(STEP, "the request to be counted", |v| {
        v.counters().messages == 1
    })
    .await
    .expect("read");
}

#[tokio::test]
async fn malformed_bytes_both_ways() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(6, 1));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    // A BARRIER_REQUEST with a 4-byte body it must not have: OFPBRC_BAD_LEN, connection kept.
    c.send_raw(&[4, OFPT_BARRIER_REQUEST, 0, 12, 0, 0, 0, 99, 1, 2, 3, 4])
        .await;
    let e = c.recv().await;
    assert_eq!(e.xid, 99);
    assert!(matches!(e.body, Message::Error(ref m)
        if (m.err_type, m.code) == (ErrorType::BadRequest as u16, BadRequestCode::BadLen as u16)));
    assert_eq!(sw.counters().undecodable, 1);
    // The switch sends garbage on request: the controller sees exactly those bytes, and a
    // framer rejects them (header length 4 < 8).
    let garbage = [4u8, 0, 0, 4, 0, 0, 0, 9];
    assert!(sw.send_raw(garbage.to_vec()));
    let got = c.recv_exact(garbage.len()).await;
    assert_eq!(got, garbage);
    let mut buf = bytes::BytesMut::from(&got[..]);
    assert!(op25b_proto::framer::next_frame(&mut buf).is_err());
    // A header length below 8 cannot be framed: the switch closes.
    let ctl2 = Listener::bind().await;
    let sw2 = SimSwitch::new(SimSwitchConfig::new(7, 1));
    sw2.connect(ctl2.addr()).await.expect("connect");
    let mut c2 = ctl2.accept().await;
    c2.hello().await;
    c2.send_raw(&[4, 0, 0, 0, 0, 0, 0, 1]).await;
    sw2.wait_until(STEP, "close on an unframeable stream", |v| {
        !v.is_connected()
    })
    .await
    .expect("closes");
    let reason = sw2.events().into_iter().find_map(|e| match e {
        SwitchEvent::Disconnected { reason } => Some(reason),
        _ => None,
    });
    assert!(reason.is_some_and(|r| r.contains("unframeable")));
}

#[tokio::test]
async fn disconnect_and_the_reconnect_loop() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(8, 1));
    let task = sw.spawn_reconnecting(ctl.addr(), Duration::from_millis(20));
    let mut c = ctl.accept().await;
    c.handshake().await;
    sw.disconnect();
    assert!(c.expect_close().await.is_empty(), "the controller sees EOF");
    let mut c = ctl.accept().await;
    c.handshake().await;
    assert_eq!(sw.counters().connections, 2);
    task.abort();
    sw.disconnect();
}

/// The invariant op25b cares about: TCP/25 from a subscriber port to an outside host is
/// never forwarded.
fn blocks_smtp(d: &Datapath) -> Result<(), String> {
    let pkt = PacketHeaders::tcp(
        1,
        ip("10.0.0.5"),
        40000,
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
        25,
    );
    let v = d.classify(&pkt);
    if v.is_blocked() {
        Ok(())
    } else {
        Err(format!("TCP/25 to 198.51.100.7 forwarded: {v:?}"))
    }
}

#[tokio::test]
async fn invariant_hook_records_the_first_violating_message() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(9, 1));
    sw.set_invariant(blocks_smtp);
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    // Right order: block first, then open the rest. No violation.
    c.send_body(Message::FlowMod(tcp25(200, vec![]))).await;
    c.send_body(Message::FlowMod(catch_all())).await;
    c.barrier().await;
    assert_eq!(sw.violation(), None);
    // Wrong order on a fresh table: the catch-all lands first and leaks for one message.
    let mut del = catch_all();
    del.command = op25b_proto::FlowModCommand::Delete;
    del.table_id = OFPTT_ALL;
    del.match_ = Match::all();
    del.instructions.clear();
    c.send_body(Message::FlowMod(del)).await;
    let leak = c.send_body(Message::FlowMod(catch_all())).await;
    c.send_body(Message::FlowMod(tcp25(200, vec![]))).await;
    c.barrier().await;
    let v = sw.violation().expect("the leak was seen");
    assert_eq!(v.message.xid, leak);
    // Messages: HELLO, FEATURES_REQUEST, 2 FLOW_MODs, BARRIER, DELETE, then the leaking ADD.
    assert_eq!(v.message_index, 6);
    assert!(v.description.contains("forwarded"), "{}", v.description);
    assert!(sw
        .classify(&PacketHeaders::tcp(
            1,
            ip("10.0.0.5"),
            1,
            ip("198.51.100.7"),
            25
        ))
        .is_blocked());
}
