//! Sans-I/O tests of [`Datapath::handle`]: message in, replies out.

use std::time::Instant;

use bytes::Bytes;
use op25b_proto::consts::*;
use op25b_proto::error_codes::{BadRequestCode, ErrorType, SwitchConfigFailedCode};
use op25b_proto::{
    Action, FlowMod, Instruction, Match, Message, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, OfpMessage, Oxm, RoleMsg,
};

use super::*;
use crate::verdict::Fate;

fn dp() -> Datapath {
    Datapath::new(DatapathConfig::new(0x42, 2))
}

fn handle(d: &mut Datapath, body: Message) -> Vec<OfpMessage> {
    let msg = OfpMessage {
        version: OFP_VERSION,
        xid: 7,
        body,
    };
    let frame = msg.to_bytes();
    d.handle(&msg, &frame, Instant::now())
}

fn error_of(replies: &[OfpMessage]) -> (u16, u16) {
    match replies {
        [OfpMessage {
            xid: 7,
            body: Message::Error(e),
            ..
        }] => (e.err_type, e.code),
        other => panic!("expected one ERROR, got {other:?}"),
    }
}

fn smtp(frag: bool) -> PacketHeaders {
    let p = PacketHeaders::tcp(
        1,
        "10.0.0.5".parse().unwrap(),
        1,
        "198.51.100.7".parse().unwrap(),
        25,
    );
    if frag {
        p.fragment()
    } else {
        p
    }
}

fn table_miss_to_controller() -> FlowMod {
    FlowMod::add(
        0,
        0,
        Match::all(),
        vec![Instruction::ApplyActions(vec![Action::output(
            OFPP_CONTROLLER,
        )])],
    )
}

#[test]
fn fragment_mode_drop_drops_fragments_before_the_pipeline() {
    let mut d = dp();
    let fwd = FlowMod::add(
        0,
        0,
        Match::all(),
        vec![Instruction::ApplyActions(vec![Action::output(OFPP_NORMAL)])],
    );
    assert!(handle(&mut d, Message::FlowMod(fwd)).is_empty());
    assert_eq!(
        d.classify(&smtp(true)).fate(),
        Fate::Forward(vec![OFPP_NORMAL])
    );
    let set = Message::SetConfig(SwitchConfig {
        flags: OFPC_FRAG_DROP,
        miss_send_len: 128,
    });
    assert!(handle(&mut d, set).is_empty());
    assert_eq!(d.classify(&smtp(true)).fate(), Fate::Drop);
    assert_eq!(
        d.classify(&smtp(false)).fate(),
        Fate::Forward(vec![OFPP_NORMAL])
    );
    let bad = Message::SetConfig(SwitchConfig {
        flags: 0x80,
        miss_send_len: 128,
    });
    assert_eq!(
        error_of(&handle(&mut d, bad)),
        (
            ErrorType::SwitchConfigFailed as u16,
            SwitchConfigFailedCode::BadFlags as u16
        )
    );
}

#[test]
fn packet_in_reason_follows_the_flow() {
    let mut d = dp();
    handle(&mut d, Message::FlowMod(table_miss_to_controller()));
    let v = d.record_packet(&smtp(false), 60);
    let pin = d
        .packet_in(&smtp(false), &v, Bytes::from_static(b"frame"))
        .expect("to controller");
    assert_eq!(
        pin.reason, OFPR_NO_MATCH,
        "the table-miss flow's packet-ins say NO_MATCH"
    );
    let mut sample = table_miss_to_controller();
    sample.priority = 10;
    sample.match_ = Match::new(vec![Oxm::InPort(1)]);
    handle(&mut d, Message::FlowMod(sample));
    let v = d.classify(&smtp(false));
    let pin = d
        .packet_in(&smtp(false), &v, Bytes::new())
        .expect("to controller");
    assert_eq!(pin.reason, OFPR_ACTION);
    handle(
        &mut d,
        Message::RoleRequest(RoleMsg {
            role: OFPCR_ROLE_SLAVE,
            generation_id: 1,
        }),
    );
    assert!(
        d.packet_in(&smtp(false), &v, Bytes::new()).is_none(),
        "slaves get no packet-ins"
    );
}

#[test]
fn flow_removed_for_deleted_flows_that_asked_for_it() {
    let mut d = dp();
    let mut fm = table_miss_to_controller();
    fm.flags = OFPFF_SEND_FLOW_REM;
    fm.cookie = 5;
    handle(&mut d, Message::FlowMod(fm.clone()));
    let mut quiet = fm.clone();
    quiet.flags = 0;
    quiet.priority = 1;
    handle(&mut d, Message::FlowMod(quiet));
    let mut del = fm;
    del.command = op25b_proto::FlowModCommand::Delete;
    del.table_id = OFPTT_ALL;
    let out = handle(&mut d, Message::FlowMod(del));
    assert_eq!(out.len(), 1, "{out:?}");
    let Message::FlowRemoved(r) = &out[0].body else {
        panic!("{out:?}")
    };
    assert_eq!((r.reason, r.cookie, r.priority), (OFPRR_DELETE, 5, 0));
    assert!(d.flows().is_empty());
}

#[test]
fn unsupported_requests_get_spec_errors() {
    let mut d = dp();
    let br = |c: BadRequestCode| (ErrorType::BadRequest as u16, c as u16);
    assert_eq!(
        error_of(&handle(&mut d, Message::BarrierReply)),
        br(BadRequestCode::BadType)
    );
    let group_stats = Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::GroupDesc,
    });
    assert_eq!(
        error_of(&handle(&mut d, group_stats)),
        br(BadRequestCode::BadMultipart)
    );
    let mut stats = op25b_proto::FlowStatsRequest::all();
    stats.table_id = 254;
    let bad_table = Message::MultipartRequest(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Flow(stats),
    });
    assert_eq!(
        error_of(&handle(&mut d, bad_table)),
        br(BadRequestCode::BadTableId)
    );
    let bad_role = Message::RoleRequest(RoleMsg {
        role: 9,
        generation_id: 0,
    });
    assert_eq!(
        error_of(&handle(&mut d, bad_role)).0,
        ErrorType::RoleRequestFailed as u16
    );
}

#[test]
fn errors_carry_the_first_64_bytes_of_the_request() {
    let mut d = dp();
    let data_of = |replies: &[OfpMessage]| match replies {
        [OfpMessage {
            body: Message::Error(e),
            ..
        }] => e.data.clone(),
        other => panic!("expected one ERROR, got {other:?}"),
    };
    // A FLOW stats request for the hidden table: 56 bytes, returned whole.
    let mut stats = op25b_proto::FlowStatsRequest::all();
    stats.table_id = 254;
    let short = OfpMessage::new(
        7,
        Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Flow(stats),
        }),
    );
    let frame = short.to_bytes();
    assert!(frame.len() < 64);
    assert_eq!(data_of(&d.handle(&short, &frame, Instant::now())), frame);
    // A FLOW_MOD adding to OFPTT_ALL (bad table), longer than 64 bytes: cut at 64.
    let mut fm = table_miss_to_controller();
    fm.table_id = OFPTT_ALL;
    let long = OfpMessage::new(7, Message::FlowMod(fm));
    let frame = long.to_bytes();
    assert!(frame.len() > 64, "{}", frame.len());
    assert_eq!(
        data_of(&d.handle(&long, &frame, Instant::now())),
        frame.slice(..64)
    );
}

#[test]
fn replies_echo_version_and_xid() {
    let mut d = dp();
    let out = handle(&mut d, Message::EchoRequest(Bytes::from_static(b"x")));
    assert_eq!(
        out,
        vec![OfpMessage {
            version: OFP_VERSION,
            xid: 7,
            body: Message::EchoReply(Bytes::from_static(b"x"))
        }]
    );
    let out = handle(
        &mut d,
        Message::RoleRequest(RoleMsg {
            role: OFPCR_ROLE_NOCHANGE,
            generation_id: 99,
        }),
    );
    assert_eq!(
        out[0].body,
        Message::RoleReply(RoleMsg {
            role: OFPCR_ROLE_EQUAL,
            generation_id: 0
        })
    );
    handle(&mut d, Message::FlowMod(table_miss_to_controller()));
    let out = handle(
        &mut d,
        Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Table,
        }),
    );
    let Message::MultipartReply(r) = &out[0].body else {
        panic!("{out:?}")
    };
    let MultipartReplyBody::Table(t) = &r.body else {
        panic!("not TABLE")
    };
    assert_eq!(t.len(), 254);
    assert_eq!((t[0].active_count, t[1].active_count), (1, 0));
}

fn arb_oxm() -> impl proptest::strategy::Strategy<Value = Oxm> {
    use proptest::prelude::*;
    prop_oneof![
        (0u32..4).prop_map(Oxm::InPort),
        prop_oneof![Just(ETH_TYPE_IPV4), Just(ETH_TYPE_IPV6), Just(0x0806u16)]
            .prop_map(Oxm::EthType),
        prop_oneof![Just(IP_PROTO_TCP), Just(IP_PROTO_UDP)].prop_map(Oxm::IpProto),
        prop_oneof![Just(25u16), Just(0), Just(587)].prop_map(Oxm::TcpDst),
        (any::<u32>(), proptest::option::of(any::<u32>())).prop_map(|(v, m)| Oxm::Ipv4Dst {
            value: std::net::Ipv4Addr::from(v),
            mask: m.map(std::net::Ipv4Addr::from),
        }),
        (any::<u64>(), proptest::option::of(any::<u64>()))
            .prop_map(|(value, mask)| Oxm::Metadata { value, mask }),
    ]
}

fn arb_action() -> impl proptest::strategy::Strategy<Value = Action> {
    use proptest::prelude::*;
    prop_oneof![
        prop_oneof![
            Just(0u32),
            Just(1),
            Just(OFPP_CONTROLLER),
            Just(OFPP_NORMAL),
            Just(OFPP_ANY),
            Just(OFPP_TABLE)
        ]
        .prop_map(Action::output),
        (0u32..3).prop_map(Action::Group),
        Just(Action::DecNwTtl),
    ]
}

fn arb_instruction() -> impl proptest::strategy::Strategy<Value = Instruction> {
    use proptest::prelude::*;
    prop_oneof![
        (0u8..5).prop_map(Instruction::GotoTable),
        (0u32..3).prop_map(Instruction::Meter),
        proptest::collection::vec(arb_action(), 0..3).prop_map(Instruction::ApplyActions),
        proptest::collection::vec(arb_action(), 0..3).prop_map(Instruction::WriteActions),
        Just(Instruction::ClearActions),
        (any::<u64>(), any::<u64>())
            .prop_map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }),
    ]
}

fn arb_message() -> impl proptest::strategy::Strategy<Value = Message> {
    use proptest::prelude::*;
    let flow_mod = (
        0u8..7,
        prop_oneof![0u8..4, Just(OFPTT_ALL)],
        0u16..3,
        any::<u16>(),
        prop_oneof![Just(OFP_NO_BUFFER), Just(0u32)],
        (
            prop_oneof![Just(OFPP_ANY), Just(0u32), Just(1)],
            0u64..3,
            prop_oneof![Just(0u64), Just(u64::MAX)],
        ),
        proptest::collection::vec(arb_oxm(), 0..5),
        proptest::collection::vec(arb_instruction(), 0..4),
    )
        .prop_map(
            |(
                cmd,
                table_id,
                priority,
                flags,
                buffer_id,
                (out_port, cookie, cookie_mask),
                fields,
                instructions,
            )| {
                let mut fm = FlowMod::add(table_id, priority, Match::new(fields), instructions);
                fm.command = op25b_proto::FlowModCommand::from(cmd);
                fm.flags = flags & 0x3f;
                fm.buffer_id = buffer_id;
                fm.out_port = out_port;
                fm.cookie = cookie;
                fm.cookie_mask = cookie_mask;
                Message::FlowMod(fm)
            },
        );
    // Mostly plausible: ADDs and DELETEs of meters 1 and 2, sometimes with bad flags or rate.
    let meter_mod = (
        prop_oneof![
            Just(OFPMC_ADD),
            Just(OFPMC_ADD),
            Just(OFPMC_DELETE),
            Just(OFPMC_MODIFY),
            Just(7u16)
        ],
        prop_oneof![
            Just(OFPMF_PKTPS),
            Just(OFPMF_KBPS),
            Just(0u16),
            Just(OFPMF_PKTPS | OFPMF_KBPS)
        ],
        0u32..3,
        prop_oneof![Just(10u32), Just(0)],
    )
        .prop_map(|(command, flags, meter_id, rate)| {
            Message::MeterMod(MeterMod {
                command,
                flags,
                meter_id,
                bands: vec![op25b_proto::MeterBand::Drop {
                    rate,
                    burst_size: 0,
                }],
            })
        });
    let stats = (
        prop_oneof![0u8..5, Just(OFPTT_ALL)],
        proptest::collection::vec(arb_oxm(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(table_id, fields, aggregate)| {
            let mut r = op25b_proto::FlowStatsRequest::all();
            r.table_id = table_id;
            r.match_ = Match::new(fields);
            let body = if aggregate {
                MultipartRequestBody::Aggregate(r)
            } else {
                MultipartRequestBody::Flow(r)
            };
            Message::MultipartRequest(MultipartRequest { flags: 0, body })
        });
    let role = (0u32..5, 0u64..4).prop_map(|(role, generation_id)| {
        Message::RoleRequest(RoleMsg {
            role,
            generation_id,
        })
    });
    // Valid op25b-like flows that use meters, so meter deletion meets flows that use them.
    let metered =
        (0u8..4, 0u16..3, 1u32..3, any::<bool>()).prop_map(|(table_id, priority, meter, tcp)| {
            let fields = if tcp {
                vec![
                    Oxm::EthType(ETH_TYPE_IPV4),
                    Oxm::IpProto(IP_PROTO_TCP),
                    Oxm::TcpDst(25),
                ]
            } else {
                vec![Oxm::InPort(1)]
            };
            let instructions = vec![
                Instruction::Meter(meter),
                Instruction::ApplyActions(vec![Action::output(OFPP_CONTROLLER)]),
            ];
            Message::FlowMod(FlowMod::add(
                table_id,
                priority,
                Match::new(fields),
                instructions,
            ))
        });
    prop_oneof![
        4 => flow_mod,
        3 => metered,
        2 => meter_mod,
        1 => stats,
        1 => role,
        1 => Just(Message::BarrierRequest),
    ]
}

proptest::proptest! {
    /// Random bytes after a valid header: whatever decodes is answered without panicking, and
    /// every reply re-encodes to a frame that decodes again.
    #[test]
    fn arbitrary_bodies_never_panic(
        msg_type in proptest::sample::select(vec![
            OFPT_FLOW_MOD, OFPT_MULTIPART_REQUEST, OFPT_METER_MOD, OFPT_ROLE_REQUEST,
            OFPT_SET_CONFIG, OFPT_ECHO_REQUEST, OFPT_PACKET_OUT, OFPT_GROUP_MOD,
        ]),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
    ) {
        let len = u16::try_from(8 + body.len()).expect("bodies are under 200 bytes");
        let [len_hi, len_lo] = len.to_be_bytes();
        let mut frame = vec![OFP_VERSION, msg_type, len_hi, len_lo, 0, 0, 0, 1];
        frame.extend_from_slice(&body);
        let frame = Bytes::from(frame);
        if let Ok(msg) = OfpMessage::decode(&frame) {
            let mut d = dp();
            for reply in d.handle(&msg, &frame, Instant::now()) {
                let bytes = reply.to_bytes();
                proptest::prop_assert!(OfpMessage::decode(&bytes).is_ok(), "reply does not decode: {:?}", reply);
            }
        }
    }

    /// Random sequences of plausible and implausible controller messages: the switch never
    /// panics, its replies decode, and its tables stay sorted with unique (priority, match).
    #[test]
    fn message_sequences_keep_the_datapath_consistent(
        msgs in proptest::collection::vec(arb_message(), 1..40),
    ) {
        let mut d = Datapath::new(DatapathConfig {
            tables: TableConfig { n_tables: 4, capacity: 16 },
            ..DatapathConfig::new(1, 2)
        });
        for (xid, body) in (0u32..).zip(msgs) {
            let msg = OfpMessage { version: OFP_VERSION, xid, body };
            let frame = msg.to_bytes();
            // What the switch receives is what the codec decodes from the wire.
            let Ok(received) = OfpMessage::decode(&frame) else { continue };
            for reply in d.handle(&received, &frame, Instant::now()) {
                proptest::prop_assert!(OfpMessage::decode(&reply.to_bytes()).is_ok(), "{:?}", reply);
            }
            let flows: Vec<_> = d.flows().entries().collect();
            for t in 0..4u8 {
                let in_t: Vec<_> = flows.iter().filter(|e| e.table_id == t).collect();
                proptest::prop_assert!(in_t.windows(2).all(|w| w[0].priority >= w[1].priority));
                proptest::prop_assert!(in_t.len() <= 16);
                for (i, a) in in_t.iter().enumerate() {
                    for b in &in_t[i + 1..] {
                        proptest::prop_assert!(!(a.priority == b.priority && a.normal == b.normal));
                    }
                }
            }
            // Every installed flow passed validation (forward gotos, no groups) and uses only
            // meters that exist (deleting a meter deletes its flows).
            for e in &flows {
                for i in &e.instructions {
                    match i {
                        Instruction::GotoTable(n) => proptest::prop_assert!(*n > e.table_id && *n < 4),
                        Instruction::Meter(m) => proptest::prop_assert!(d.meters().contains(*m)),
                        Instruction::ApplyActions(a) | Instruction::WriteActions(a) => {
                            proptest::prop_assert!(!a.iter().any(|x| matches!(x, Action::Group(_))));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
