//! Real Open vSwitch 3.1 traffic (proto/testdata/captures, made by scripts/capture-ovs): every
//! message decodes and re-encodes to the same bytes, and the ones the controller depends on carry
//! what the capture script put in the switch.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use op25b_proto::consts::*;
use op25b_proto::{
    Action, AssemblyLimits, ErrorType, FlowModCommand, Instruction, Message, MeterBand,
    MeterModFailedCode, MultipartAssembler, MultipartReplyBody, MultipartRequestBody, OfpMessage,
    Oxm, RoleRequestFailedCode,
};

/// Cookie prefix of the 1,000 flows the capture script installs: flow i has COOKIE_BASE + i.
const COOKIE_BASE: u64 = 0x4f50_3235_4200_0000;

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/captures")
}

/// Every message file, sorted.
fn all_captures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(captures_dir()).expect("read proto/testdata/captures") {
        let dir = dir.expect("dir entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("read scenario dir") {
            let f = f.expect("dir entry").path();
            if f.extension().is_some_and(|e| e == "bin") {
                files.push(f);
            }
        }
    }
    files.sort();
    files
}

/// Decoded messages of one scenario whose file name contains `kind` (e.g. "from-switch-ERROR"),
/// in capture order.
fn messages(scenario: &str, kind: &str) -> Vec<OfpMessage> {
    let dir = captures_dir().join(scenario);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|f| f.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(kind))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no capture matching {kind} in {}",
        dir.display()
    );
    files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).expect("read capture");
            OfpMessage::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

fn one(scenario: &str, kind: &str) -> OfpMessage {
    let mut m = messages(scenario, kind);
    assert_eq!(m.len(), 1, "{scenario}/{kind}: expected one message");
    m.remove(0)
}

#[test]
fn every_captured_message_decodes_and_reencodes_byte_identical() {
    let files = all_captures();
    // 205 when generated; a much smaller number means the captures went missing.
    assert!(files.len() >= 150, "only {} capture files", files.len());
    let mut failures = Vec::new();
    let mut types = BTreeSet::new();
    for f in &files {
        let bytes = std::fs::read(f).expect("read capture");
        match OfpMessage::decode(&bytes) {
            Ok(m) => {
                types.insert(m.body.msg_type());
                let again = m.to_bytes();
                if again.as_ref() != bytes.as_slice() {
                    let at = bytes
                        .iter()
                        .zip(again.iter())
                        .position(|(a, b)| a != b)
                        .unwrap_or(bytes.len().min(again.len()));
                    failures.push(format!(
                        "{}: re-encoding differs at byte {at} ({} bytes in, {} out)",
                        f.display(),
                        bytes.len(),
                        again.len()
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    // Both directions and the message kinds the controller handles are really in the set.
    for t in [
        OFPT_HELLO,
        OFPT_ERROR,
        OFPT_ECHO_REQUEST,
        OFPT_ECHO_REPLY,
        OFPT_EXPERIMENTER,
        OFPT_FEATURES_REPLY,
        OFPT_GET_CONFIG_REPLY,
        OFPT_SET_CONFIG,
        OFPT_PACKET_IN,
        OFPT_FLOW_REMOVED,
        OFPT_PORT_STATUS,
        OFPT_PACKET_OUT,
        OFPT_FLOW_MOD,
        OFPT_MULTIPART_REQUEST,
        OFPT_MULTIPART_REPLY,
        OFPT_BARRIER_REQUEST,
        OFPT_BARRIER_REPLY,
        OFPT_ROLE_REQUEST,
        OFPT_ROLE_REPLY,
        OFPT_GET_ASYNC_REPLY,
        OFPT_METER_MOD,
    ] {
        assert!(
            types.contains(&t),
            "no message of type {t} among the captures"
        );
    }
}

#[test]
fn dump_flows_reply_carries_the_1000_installed_flows_in_three_parts() {
    let replies = messages("dump-flows-1000", "MULTIPART_REPLY-FLOW");
    assert_eq!(
        replies.len(),
        3,
        "OVS splits 1,000 OP25B flows into 3 replies of < 64 KiB"
    );
    let mut assembler = MultipartAssembler::new(AssemblyLimits::default());
    let mut whole = None;
    for (i, r) in replies.into_iter().enumerate() {
        let Message::MultipartReply(ref part) = r.body else {
            panic!("not a multipart reply: {r:?}")
        };
        assert_eq!(
            part.flags & OFPMPF_REPLY_MORE != 0,
            i < 2,
            "REPLY_MORE on part {i}"
        );
        if let Some(done) = assembler.push(r).expect("assemble") {
            whole = Some(done);
        }
    }
    let whole = whole.expect("the last part completes the reply");
    let MultipartReplyBody::Flow(entries) = whole.body else {
        panic!("not a flow reply")
    };
    assert_eq!(entries.len(), 1000);
    let cookies: BTreeSet<u64> = entries.iter().map(|e| e.cookie).collect();
    assert_eq!(cookies, (0..1000).map(|i| COOKIE_BASE + i).collect());
    for e in &entries {
        let i = e.cookie - COOKIE_BASE;
        assert_eq!((e.table_id, e.priority), (0, 30000), "flow {i}");
        // OVS writes max_len 0 for outputs other than CONTROLLER.
        let normal = Action::Output {
            port: OFPP_NORMAL,
            max_len: 0,
        };
        assert_eq!(
            e.instructions,
            vec![Instruction::ApplyActions(vec![normal])],
            "flow {i}"
        );
        let f = &e.match_.fields;
        assert!(
            f.contains(&Oxm::IpProto(IP_PROTO_TCP)) && f.contains(&Oxm::TcpDst(25)),
            "flow {i}: {f:?}"
        );
        if i < 600 {
            // nw_src=10.(i/250).(i%250).0/24,nw_dst=192.0.2.25
            let src = Ipv4Addr::new(10, byte(i / 250), byte(i % 250), 0);
            assert!(f.contains(&Oxm::EthType(ETH_TYPE_IPV4)), "flow {i}: {f:?}");
            assert!(
                f.contains(&Oxm::Ipv4Src {
                    value: src,
                    mask: Some(Ipv4Addr::new(255, 255, 255, 0))
                }),
                "flow {i}: {f:?}"
            );
            assert!(
                f.contains(&Oxm::Ipv4Dst {
                    value: Ipv4Addr::new(192, 0, 2, 25),
                    mask: None
                }),
                "flow {i}: {f:?}"
            );
        } else {
            // ipv6_src=2001:db8:<i hex>::/48,ipv6_dst=2001:db8::25
            let src = Ipv6Addr::new(
                0x2001,
                0xdb8,
                u16::try_from(i).expect("few sources"),
                0,
                0,
                0,
                0,
                0,
            );
            let mask = Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0, 0, 0, 0, 0);
            assert!(f.contains(&Oxm::EthType(ETH_TYPE_IPV6)), "flow {i}: {f:?}");
            assert!(
                f.contains(&Oxm::Ipv6Src {
                    value: src,
                    mask: Some(mask)
                }),
                "flow {i}: {f:?}"
            );
            assert!(
                f.contains(&Oxm::Ipv6Dst {
                    value: "2001:db8::25".parse().unwrap(),
                    mask: None
                }),
                "flow {i}: {f:?}"
            );
        }
    }
}

#[test]
fn flow_request_by_cookie_and_its_single_entry() {
    let req = one("dump-flows-by-cookie", "MULTIPART_REQUEST-FLOW");
    let Message::MultipartRequest(r) = req.body else {
        panic!("{req:?}")
    };
    let MultipartRequestBody::Flow(f) = r.body else {
        panic!("{r:?}")
    };
    assert_eq!(
        (f.cookie, f.cookie_mask, f.table_id),
        (COOKIE_BASE + 7, u64::MAX, 0)
    );
    assert_eq!((f.out_port, f.out_group), (OFPP_ANY, OFPG_ANY));
    let reply = one("dump-flows-by-cookie", "MULTIPART_REPLY-FLOW");
    let Message::MultipartReply(r) = reply.body else {
        panic!()
    };
    let MultipartReplyBody::Flow(e) = r.body else {
        panic!()
    };
    assert_eq!(
        e.iter().map(|e| e.cookie).collect::<Vec<_>>(),
        vec![COOKIE_BASE + 7]
    );
}

#[test]
fn port_desc_and_features_describe_the_capture_bridge() {
    let reply = one("dump-ports-desc", "MULTIPART_REPLY-PORT_DESC");
    let Message::MultipartReply(r) = reply.body else {
        panic!()
    };
    let MultipartReplyBody::PortDesc(ports) = r.body else {
        panic!()
    };
    let names: BTreeSet<(u32, String)> =
        ports.iter().map(|p| (p.port_no, p.name.clone())).collect();
    let want: BTreeSet<(u32, String)> = [
        (1, "op25bcap0-p1"),
        (2, "op25bcap0-p2"),
        (3, "op25bcap0-p3"),
        (OFPP_LOCAL, "op25bcap0"),
    ]
    .into_iter()
    .map(|(n, s)| (n, s.to_string()))
    .collect();
    assert_eq!(names, want);

    let features = one("show", "FEATURES_REPLY");
    let Message::FeaturesReply(f) = features.body else {
        panic!()
    };
    assert_eq!((f.datapath_id, f.n_tables, f.n_buffers), (0xc1, 254, 0));
}

#[test]
fn flow_mods_sent_by_ovs_ofctl() {
    let sample = one("add-flow-sample", "FLOW_MOD");
    let Message::FlowMod(f) = sample.body else {
        panic!()
    };
    assert_eq!(
        (f.command, f.table_id, f.priority, f.cookie),
        (FlowModCommand::Add, 1, 100, 0x4f50_3235_4210_0005)
    );
    assert_eq!(
        f.instructions,
        vec![
            Instruction::Meter(2),
            Instruction::ApplyActions(vec![Action::Output {
                port: OFPP_CONTROLLER,
                max_len: 128
            }])
        ]
    );
    assert_eq!(f.buffer_id, OFP_NO_BUFFER);

    let drop = one("add-flow-drop-ipv6", "FLOW_MOD");
    let Message::FlowMod(f) = drop.body else {
        panic!()
    };
    assert!(
        f.instructions.is_empty(),
        "actions=drop is a flow without instructions"
    );
    assert_eq!(
        f.match_.fields,
        vec![
            Oxm::EthType(ETH_TYPE_IPV6),
            Oxm::IpProto(IP_PROTO_TCP),
            Oxm::TcpDst(25)
        ]
    );

    let goto = one("add-flow-goto", "FLOW_MOD");
    let Message::FlowMod(f) = goto.body else {
        panic!()
    };
    assert_eq!(f.instructions, vec![Instruction::GotoTable(1)]);

    let del = one("del-flows-by-cookie", "FLOW_MOD");
    let Message::FlowMod(f) = del.body else {
        panic!()
    };
    assert_eq!((f.command, f.table_id), (FlowModCommand::Delete, OFPTT_ALL));
    assert_eq!(
        (f.cookie, f.cookie_mask),
        (COOKIE_BASE, 0xffff_ffff_ff00_0000)
    );
    assert_eq!((f.out_port, f.out_group), (OFPP_ANY, OFPG_ANY));

    let strict = one("del-flows-strict", "FLOW_MOD");
    let Message::FlowMod(f) = strict.body else {
        panic!()
    };
    assert_eq!(
        (f.command, f.priority),
        (FlowModCommand::DeleteStrict, 25000)
    );
    assert!(f.match_.fields.contains(&Oxm::Ipv4Src {
        value: Ipv4Addr::new(203, 0, 113, 0),
        mask: Some(Ipv4Addr::new(255, 255, 255, 248))
    }));
}

#[test]
fn async_messages_packet_in_flow_removed_port_status() {
    let m = one("monitor-packet-in-port-status", "PACKET_IN");
    let Message::PacketIn(p) = m.body else {
        panic!()
    };
    assert_eq!(
        (p.reason, p.table_id, p.cookie),
        (OFPR_ACTION, 1, 0x4f50_3235_4210_0005)
    );
    assert_eq!(p.in_port(), Some(1));
    assert_eq!(
        (p.total_len, p.buffer_id, p.data.len()),
        (54, OFP_NO_BUFFER, 54)
    );
    // IPv4 destination 198.51.100.7, TCP destination port 25, SYN.
    assert_eq!(&p.data[30..34], &[198, 51, 100, 7]);
    assert_eq!(&p.data[36..38], &25u16.to_be_bytes());
    assert_eq!(p.data[47], 0x02);

    let removed = one("monitor-packet-in-port-status", "FLOW_REMOVED");
    let Message::FlowRemoved(r) = removed.body else {
        panic!()
    };
    assert_eq!(
        (r.reason, r.table_id, r.priority, r.idle_timeout),
        (OFPRR_IDLE_TIMEOUT, 2, 7, 1)
    );
    assert_eq!(r.cookie, 0x4f50_3235_4210_0008);
    assert!(
        r.match_.fields.contains(&Oxm::TcpDst(587)),
        "{:?}",
        r.match_
    );

    let statuses = messages("monitor-packet-in-port-status", "PORT_STATUS");
    let seen: Vec<(u8, u32, String)> = statuses
        .into_iter()
        .map(|m| match m.body {
            Message::PortStatus(s) => (s.reason, s.desc.port_no, s.desc.name),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (OFPPR_ADD, 4, "op25bcap0-p4".to_string()),
            (OFPPR_DELETE, 4, "op25bcap0-p4".to_string())
        ]
    );
}

#[test]
fn errors_from_the_switch_name_the_offending_request() {
    let e = one("add-flow-unknown-meter", "from-switch-ERROR");
    let Message::Error(err) = e.body else {
        panic!()
    };
    assert_eq!(
        (err.err_type, err.code),
        (
            ErrorType::MeterModFailed as u16,
            MeterModFailedCode::InvalidMeter as u16
        )
    );
    let offending = OfpMessage::decode(&err.data).expect("the error carries the whole FLOW_MOD");
    assert_eq!(offending.xid, e.xid);
    assert!(
        matches!(offending.body, Message::FlowMod(ref f) if f.instructions.first() == Some(&Instruction::Meter(99)))
    );

    let errors = messages("raw-role-async-errors", "from-switch-ERROR");
    let codes: Vec<String> = errors
        .iter()
        .map(|m| match &m.body {
            Message::Error(e) => e.describe(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            "OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE",
            "OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE"
        ]
    );
    assert_eq!(RoleRequestFailedCode::Stale as u16, 0);

    let replies = messages("raw-role-async-errors", "ROLE_REPLY");
    for r in replies {
        let Message::RoleReply(role) = r.body else {
            panic!()
        };
        assert_eq!((role.role, role.generation_id), (OFPCR_ROLE_MASTER, 1));
    }
    let unknown = one("raw-role-async-errors", "to-switch-TYPE99");
    assert!(matches!(unknown.body, Message::Unknown { msg_type: 99, ref body } if body.is_empty()));
}

#[test]
fn meters_as_configured() {
    let add = one("add-meter", "METER_MOD");
    let Message::MeterMod(m) = add.body else {
        panic!()
    };
    assert_eq!((m.command, m.meter_id), (OFPMC_ADD, 2));
    assert_eq!(m.flags, OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS);
    assert_eq!(
        m.bands,
        vec![MeterBand::Drop {
            rate: 100,
            burst_size: 50
        }]
    );

    let reply = one("dump-meters", "MULTIPART_REPLY-METER_CONFIG");
    let Message::MultipartReply(r) = reply.body else {
        panic!()
    };
    let MultipartReplyBody::MeterConfig(meters) = r.body else {
        panic!()
    };
    let got: Vec<(u32, Vec<MeterBand>)> =
        meters.into_iter().map(|m| (m.meter_id, m.bands)).collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                vec![MeterBand::Drop {
                    rate: 10,
                    burst_size: 20
                }]
            ),
            (
                2,
                vec![MeterBand::Drop {
                    rate: 100,
                    burst_size: 50
                }]
            )
        ]
    );

    let set = one("set-frags-drop", "SET_CONFIG");
    let Message::SetConfig(c) = set.body else {
        panic!()
    };
    assert_eq!(c.flags & OFPC_FRAG_MASK, OFPC_FRAG_DROP);
}

/// A small test index as one address byte.
fn byte(i: u64) -> u8 {
    u8::try_from(i).expect("a small index")
}
