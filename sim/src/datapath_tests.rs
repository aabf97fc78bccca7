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
    let set = Message::SetConfig(op25b_proto::SwitchConfig {
        flags: OFPC_FRAG_DROP,
        miss_send_len: 128,
    });
    assert!(handle(&mut d, set).is_empty());
    assert_eq!(d.classify(&smtp(true)).fate(), Fate::Drop);
    assert_eq!(
        d.classify(&smtp(false)).fate(),
        Fate::Forward(vec![OFPP_NORMAL])
    );
    let bad = Message::SetConfig(op25b_proto::SwitchConfig {
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
