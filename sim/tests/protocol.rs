//! The simulated switch against a scripted controller over real loopback TCP: handshake,
//! stats splitting, barrier ordering, meters, roles, keepalives.

use std::net::Ipv4Addr;
use std::time::Duration;

use op25b_proto::consts::*;
use op25b_proto::error_codes::{
    BadMatchCode, ErrorType, HelloFailedCode, MeterModFailedCode, RoleRequestFailedCode,
};
use op25b_proto::{
    Action, FlowMod, FlowModCommand, FlowStatsRequest, Instruction, Match, Message, MeterBand,
    MeterMod, MultipartReplyBody, MultipartRequest, MultipartRequestBody, OfpMessage, Oxm, RoleMsg,
};
use op25b_sim::{CanonicalFlow, PacketHeaders, SimSwitch, SimSwitchConfig, SwitchEvent};
use op25b_test_support::scripted::{Listener, STEP};

fn tcp25(priority: u16, dst: Option<Ipv4Addr>, instructions: Vec<Instruction>) -> FlowMod {
    let mut f = vec![
        Oxm::EthType(ETH_TYPE_IPV4),
        Oxm::IpProto(IP_PROTO_TCP),
        Oxm::TcpDst(25),
    ];
    if let Some(d) = dst {
        f.push(Oxm::Ipv4Dst {
            value: d,
            mask: None,
        });
    }
    FlowMod::add(0, priority, Match::new(f), instructions)
}

fn normal() -> Vec<Instruction> {
    vec![Instruction::ApplyActions(vec![Action::output(OFPP_NORMAL)])]
}

fn flow_stats_request(req: FlowStatsRequest) -> Message {
    Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Flow(req),
    })
}

#[tokio::test]
async fn handshake_reports_configured_identity() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(0xabc, 3));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    let hello = c.hello().await;
    assert_eq!(hello.version, OFP_VERSION);
    match hello.body {
        Message::Hello(h) => assert_eq!(h.supports(OFP_VERSION), Some(true)),
        other => panic!("{other:?}"),
    }
    let xid = c.send_body(Message::FeaturesRequest).await;
    let features = c.recv().await;
    assert_eq!(features.xid, xid);
    let Message::FeaturesReply(f) = features.body else {
        panic!("not FEATURES_REPLY: {features:?}")
    };
    assert_eq!(f.datapath_id, 0xabc);
    assert_eq!(f.n_buffers, 0);
    c.send_body(Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::PortDesc,
    }))
    .await;
    let ports = c.recv().await;
    let Message::MultipartReply(r) = ports.body else {
        panic!("{ports:?}")
    };
    let MultipartReplyBody::PortDesc(ports) = r.body else {
        panic!("not PORT_DESC")
    };
    assert_eq!(
        ports.iter().map(|p| p.port_no).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // SET_CONFIG is stored and read back.
    c.send_body(Message::SetConfig(op25b_proto::SwitchConfig {
        flags: OFPC_FRAG_DROP,
        miss_send_len: 256,
    }))
    .await;
    c.send_body(Message::GetConfigRequest).await;
    let cfg = c.recv().await;
    assert_eq!(
        cfg.body,
        Message::GetConfigReply(op25b_proto::SwitchConfig {
            flags: OFPC_FRAG_DROP,
            miss_send_len: 256
        })
    );
    c.send_body(Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Desc,
    }))
    .await;
    assert!(
        matches!(c.recv().await.body, Message::MultipartReply(r) if matches!(r.body, MultipartReplyBody::Desc(_)))
    );
    let events = sw.events();
    assert!(
        events.contains(&SwitchEvent::Connected { connection: 1 }),
        "{events:?}"
    );
    assert!(
        events.contains(&SwitchEvent::HelloDone {
            version: OFP_VERSION
        }),
        "{events:?}"
    );
    assert!(events.contains(&SwitchEvent::HandshakeDone), "{events:?}");
    assert_eq!(sw.counters().messages, 6);
}

#[tokio::test]
async fn an_of10_only_switch_fails_the_hello() {
    let ctl = Listener::bind().await;
    let mut cfg = SimSwitchConfig::new(1, 1);
    cfg.versions = vec![1];
    let sw = SimSwitch::new(cfg);
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    let their_hello = c.recv().await;
    assert_eq!(their_hello.version, 1);
    c.send(&OfpMessage {
        version: OFP_VERSION,
        xid: 1,
        body: Message::Hello(op25b_proto::Hello::with_versions(&[OFP_VERSION])),
    })
    .await;
    let before_close = c.expect_close().await;
    assert_eq!(before_close.len(), 1, "{before_close:?}");
    let Message::Error(e) = &before_close[0].body else {
        panic!("{before_close:?}")
    };
    assert_eq!(
        (e.err_type, e.code),
        (
            ErrorType::HelloFailed as u16,
            HelloFailedCode::Incompatible as u16
        )
    );
    sw.wait_until(STEP, "disconnect", |v| !v.is_connected())
        .await
        .expect("closed");
    assert!(sw.events().contains(&SwitchEvent::HelloFailed));
}

#[tokio::test]
async fn flow_stats_are_split_with_reply_more() {
    let ctl = Listener::bind().await;
    let mut cfg = SimSwitchConfig::new(7, 2);
    cfg.datapath.flow_stats_per_reply = 50;
    let sw = SimSwitch::new(cfg);
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    for i in 0..120u32 {
        let mut fm = tcp25(100, Some(Ipv4Addr::from(0xc633_6400 + i)), vec![]);
        fm.cookie = 0x25;
        c.send_body(Message::FlowMod(fm)).await;
    }
    let after_barrier = c.barrier().await;
    assert_eq!(
        after_barrier.len(),
        1,
        "no errors before the barrier reply: {after_barrier:?}"
    );
    let xid = c
        .send_body(flow_stats_request(FlowStatsRequest::all()))
        .await;
    let mut parts = Vec::new();
    loop {
        let m = c.recv().await;
        assert_eq!(m.xid, xid);
        let Message::MultipartReply(r) = m.body else {
            panic!("{m:?}")
        };
        let MultipartReplyBody::Flow(stats) = r.body else {
            panic!("not FLOW")
        };
        let more = r.flags & OFPMPF_REPLY_MORE != 0;
        parts.push(stats.len());
        if !more {
            break;
        }
    }
    assert_eq!(parts, vec![50, 50, 20]);
    c.send_body(Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Aggregate(FlowStatsRequest::all()),
    }))
    .await;
    let agg = c.recv().await;
    let Message::MultipartReply(r) = agg.body else {
        panic!("{agg:?}")
    };
    let MultipartReplyBody::Aggregate(a) = r.body else {
        panic!("not AGGREGATE")
    };
    assert_eq!(a.flow_count, 120);
    // An empty selection is one reply without REPLY_MORE.
    let mut none = FlowStatsRequest::all();
    none.cookie = 0x99;
    none.cookie_mask = u64::MAX;
    c.send_body(flow_stats_request(none)).await;
    let m = c.recv().await;
    let Message::MultipartReply(r) = m.body else {
        panic!("{m:?}")
    };
    assert_eq!(r.flags, 0);
    assert_eq!(r.body, MultipartReplyBody::Flow(vec![]));
}

#[tokio::test]
async fn barrier_reply_follows_everything_before_it() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(8, 2));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    c.send_body(Message::FlowMod(tcp25(0, None, normal())))
        .await;
    // Missing prerequisite: refused with OFPBMC_BAD_PREREQ.
    let bad = FlowMod::add(0, 5, Match::new(vec![Oxm::TcpDst(25)]), vec![]);
    let bad_xid = c.send_body(Message::FlowMod(bad)).await;
    c.send_body(Message::FlowMod(tcp25(200, None, vec![])))
        .await;
    let got = c.barrier().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].xid, bad_xid);
    let Message::Error(e) = &got[0].body else {
        panic!("{got:?}")
    };
    assert_eq!(
        (e.err_type, e.code),
        (ErrorType::BadMatch as u16, BadMatchCode::BadPrereq as u16)
    );
    assert!(
        !e.data.is_empty() && e.data[1] == OFPT_FLOW_MOD,
        "data echoes the request"
    );
    // The reply is written after both good FLOW_MODs were applied.
    let prios: Vec<u16> = sw.flows().iter().map(|f| f.priority).collect();
    assert_eq!(prios, vec![200, 0]);
    assert_eq!(sw.counters().flow_mods, 3);
    assert_eq!(sw.counters().flow_mod_errors, 1);
    assert_eq!(sw.counters().barriers, 1);
    assert!(sw
        .classify(&PacketHeaders::tcp(
            1,
            "10.0.0.1".parse().unwrap(),
            1,
            "198.51.100.1".parse().unwrap(),
            25
        ))
        .is_blocked());
    assert!(sw
        .events()
        .iter()
        .any(|e| matches!(e, SwitchEvent::BarrierReplied { .. })));
}

#[tokio::test]
async fn wait_for_flows_sees_the_controllers_table() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(9, 1));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    let wanted = [tcp25(200, None, vec![]), tcp25(0, None, normal())];
    let mut expected: Vec<CanonicalFlow> = wanted
        .iter()
        .map(|f| CanonicalFlow::of_flow_mod(f).expect("valid"))
        .collect();
    op25b_sim::flow_table::sort_canonical(&mut expected);
    let waiter = {
        let sw = sw.clone();
        let expected = expected.clone();
        tokio::spawn(async move { sw.wait_for_flows(STEP, &expected).await })
    };
    for f in wanted.iter().rev() {
        c.send_body(Message::FlowMod(f.clone())).await;
    }
    waiter.await.expect("task").expect("flows arrive");
    assert_eq!(sw.with_datapath(|d| d.flows().canonical()), expected);
    let short = sw
        .wait_until(Duration::from_millis(50), "an impossible state", |v| {
            v.flows().count() == 7
        })
        .await;
    let err = short.expect_err("times out");
    assert!(err.to_string().contains("an impossible state"), "{err}");
}

#[tokio::test]
async fn meters_and_flows_that_use_them() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(10, 1));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    let meter = MeterMod {
        command: OFPMC_ADD,
        flags: OFPMF_PKTPS,
        meter_id: 1,
        bands: vec![MeterBand::Drop {
            rate: 10,
            burst_size: 0,
        }],
    };
    c.send_body(Message::MeterMod(meter.clone())).await;
    // A flow using an unknown meter is refused; one using meter 1 is accepted.
    let sampled = |m: u32| {
        tcp25(
            200,
            None,
            vec![
                Instruction::Meter(m),
                Instruction::ApplyActions(vec![Action::output(OFPP_CONTROLLER)]),
            ],
        )
    };
    let unknown_xid = c.send_body(Message::FlowMod(sampled(2))).await;
    c.send_body(Message::FlowMod(sampled(1))).await;
    let got = c.barrier().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].xid, unknown_xid);
    let Message::Error(e) = &got[0].body else {
        panic!("{got:?}")
    };
    assert_eq!(
        (e.err_type, e.code),
        (
            ErrorType::MeterModFailed as u16,
            MeterModFailedCode::InvalidMeter as u16
        )
    );
    c.send_body(Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::MeterConfig { meter_id: OFPM_ALL },
    }))
    .await;
    let m = c.recv().await;
    let Message::MultipartReply(r) = m.body else {
        panic!("{m:?}")
    };
    let MultipartReplyBody::MeterConfig(cfgs) = r.body else {
        panic!("not METER_CONFIG")
    };
    assert_eq!(cfgs.len(), 1);
    assert_eq!(cfgs[0].bands, meter.bands);
    let v = sw.classify(&PacketHeaders::tcp(
        1,
        "10.0.0.1".parse().unwrap(),
        1,
        "198.51.100.1".parse().unwrap(),
        25,
    ));
    assert_eq!(v.meters, vec![1]);
    assert!(v.sends_to_controller() && v.is_blocked());
    // Adding it again fails; deleting it removes the flow that used it.
    let again = c.send_body(Message::MeterMod(meter.clone())).await;
    let mut del = meter.clone();
    del.command = OFPMC_DELETE;
    c.send_body(Message::MeterMod(del)).await;
    let got = c.barrier().await;
    assert_eq!(got[0].xid, again);
    assert!(
        matches!(&got[0].body, Message::Error(e) if e.code == MeterModFailedCode::MeterExists as u16)
    );
    assert!(sw.flows().is_empty());
}

#[tokio::test]
async fn a_switch_can_refuse_every_meter() {
    let ctl = Listener::bind().await;
    let mut cfg = SimSwitchConfig::new(11, 1);
    cfg.datapath.reject_meters = Some(MeterModFailedCode::OutOfMeters);
    let sw = SimSwitch::new(cfg);
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    let xid = c
        .send_body(Message::MeterMod(MeterMod {
            command: OFPMC_ADD,
            flags: OFPMF_PKTPS,
            meter_id: 1,
            bands: vec![MeterBand::Drop {
                rate: 10,
                burst_size: 0,
            }],
        }))
        .await;
    let e = c.recv().await;
    assert_eq!(e.xid, xid);
    assert!(
        matches!(e.body, Message::Error(ref m) if m.code == MeterModFailedCode::OutOfMeters as u16)
    );
    assert!(sw.with_datapath(|d| d.meters().is_empty()));
}

#[tokio::test]
async fn roles_and_stale_generations() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(12, 1));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    c.send_body(Message::RoleRequest(RoleMsg {
        role: OFPCR_ROLE_MASTER,
        generation_id: 10,
    }))
    .await;
    assert_eq!(
        c.recv().await.body,
        Message::RoleReply(RoleMsg {
            role: OFPCR_ROLE_MASTER,
            generation_id: 10
        })
    );
    c.send_body(Message::RoleRequest(RoleMsg {
        role: OFPCR_ROLE_MASTER,
        generation_id: 9,
    }))
    .await;
    let stale = c.recv().await;
    assert!(matches!(stale.body, Message::Error(ref e)
        if (e.err_type, e.code) == (ErrorType::RoleRequestFailed as u16, RoleRequestFailedCode::Stale as u16)));
    c.send_body(Message::RoleRequest(RoleMsg {
        role: OFPCR_ROLE_SLAVE,
        generation_id: 11,
    }))
    .await;
    assert!(matches!(c.recv().await.body, Message::RoleReply(r) if r.role == OFPCR_ROLE_SLAVE));
    // A slave may not change flows.
    c.send_body(Message::FlowMod(tcp25(1, None, vec![]))).await;
    assert!(
        matches!(c.recv().await.body, Message::Error(ref e) if e.err_type == ErrorType::BadRequest as u16)
    );
    assert!(sw.flows().is_empty());
}

#[tokio::test]
async fn echo_both_ways() {
    let ctl = Listener::bind().await;
    let mut cfg = SimSwitchConfig::new(13, 1);
    cfg.echo_interval = Some(Duration::from_millis(100));
    let sw = SimSwitch::new(cfg);
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    let xid = c
        .send_body(Message::EchoRequest(bytes::Bytes::from_static(b"ping")))
        .await;
    // The switch's own ECHO_REQUESTs may interleave: look for our reply and one request.
    let (mut replied, mut requested) = (false, false);
    while !(replied && requested) {
        let m = c.recv().await;
        match m.body {
            Message::EchoReply(d) if m.xid == xid => {
                assert_eq!(&d[..], b"ping");
                replied = true;
            }
            Message::EchoRequest(_) => requested = true,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(sw.is_connected());
}

#[tokio::test]
async fn switches_bind_the_local_address_asked_for() {
    let ctl = Listener::bind().await;
    let mut cfg = SimSwitchConfig::new(14, 1);
    cfg.local_ip = Some("127.0.0.7".parse().expect("ip"));
    let sw = SimSwitch::new(cfg);
    sw.connect(ctl.addr())
        .await
        .expect("connect from 127.0.0.7");
    let c = ctl.accept().await;
    assert_eq!(c.peer.ip().to_string(), "127.0.0.7");
}

#[tokio::test]
async fn delete_with_out_port_zero_deletes_nothing_over_the_wire() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(15, 1));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    c.send_body(Message::FlowMod(tcp25(0, None, normal())))
        .await;
    let mut del = FlowMod::add(0, 0, Match::all(), vec![]);
    del.command = FlowModCommand::Delete;
    del.table_id = OFPTT_ALL;
    del.out_port = 0;
    del.out_group = 0;
    c.send_body(Message::FlowMod(del.clone())).await;
    c.barrier().await;
    assert_eq!(
        sw.flows().len(),
        1,
        "out_port=0 only deletes flows that output to port 0"
    );
    del.out_port = OFPP_ANY;
    del.out_group = OFPG_ANY;
    c.send_body(Message::FlowMod(del)).await;
    c.barrier().await;
    assert!(sw.flows().is_empty());
}

#[tokio::test]
async fn injected_packets_reach_the_controller_as_packet_ins() {
    let ctl = Listener::bind().await;
    let sw = SimSwitch::new(SimSwitchConfig::new(16, 2));
    sw.connect(ctl.addr()).await.expect("connect");
    let mut c = ctl.accept().await;
    c.handshake().await;
    let mut sample = tcp25(
        200,
        None,
        vec![Instruction::ApplyActions(vec![Action::output(
            OFPP_CONTROLLER,
        )])],
    );
    sample.cookie = 0x0b25;
    c.send_body(Message::FlowMod(sample)).await;
    c.send_body(Message::FlowMod(tcp25(0, None, normal())))
        .await; // not the table-miss flow
    c.barrier().await;
    let pkt = PacketHeaders::tcp(
        2,
        "10.0.0.5".parse().unwrap(),
        40000,
        "198.51.100.7".parse().unwrap(),
        25,
    );
    let v = sw.inject_packet(&pkt);
    assert!(v.sends_to_controller() && v.is_blocked());
    let m = c.recv().await;
    let Message::PacketIn(pin) = m.body else {
        panic!("{m:?}")
    };
    assert_eq!(
        (pin.reason, pin.table_id, pin.cookie, pin.buffer_id),
        (OFPR_ACTION, 0, 0x0b25, OFP_NO_BUFFER)
    );
    assert_eq!(pin.match_, Match::new(vec![Oxm::InPort(2)]));
    assert_eq!(usize::from(pin.total_len), pin.data.len());
    let parsed = etherparse::SlicedPacket::from_ethernet(&pin.data).expect("a real frame");
    let Some(etherparse::TransportSlice::Tcp(t)) = parsed.transport else {
        panic!("not TCP")
    };
    assert_eq!(t.destination_port(), 25);
    // Counted on the flow it hit; nothing sent for a forwarded packet.
    assert_eq!(sw.flows()[0].packet_count, 1);
    let web = PacketHeaders::tcp(
        2,
        "10.0.0.5".parse().unwrap(),
        40000,
        "198.51.100.7".parse().unwrap(),
        80,
    );
    assert!(
        sw.inject_packet(&web).miss.is_some(),
        "no flow for port 80 here"
    );
    assert!(c.silent_for(Duration::from_millis(100)).await);
    assert_eq!(
        (sw.counters().packet_ins, sw.counters().packet_ins_dropped),
        (1, 0)
    );
    // Not connected: the packet-in is dropped and counted.
    sw.disconnect();
    sw.wait_until(STEP, "disconnect", |v| !v.is_connected())
        .await
        .expect("closed");
    sw.inject_packet(&pkt);
    assert_eq!(sw.counters().packet_ins_dropped, 1);
}
