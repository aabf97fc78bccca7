//! Between the session's vocabulary ([`Inbound`], [`Outbound`]) and `op25b_proto` messages.
//! What the codec refuses stays typed ([`BadFrame`] carries proto's `FrameError` /
//! `DecodeError`) up to where the connection logs it.

use super::held_replies::{self, HeldReplies};
use super::phase::Phase;
use super::wire::{Inbound, Outbound};
use bytes::{Bytes, BytesMut};
use op25b_proto::consts::{OFPMPF_REPLY_MORE, OFPT_MULTIPART_REPLY, OFP_VERSION};
use op25b_proto::error_codes::{ErrorType, HelloFailedCode};
use op25b_proto::error_msg::ErrorMsg;
use op25b_proto::hello::Hello;
use op25b_proto::message::{Message, OfpMessage};
use op25b_proto::multipart::reply::{MultipartReply, MultipartReplyBody};
use op25b_proto::multipart::request::{MultipartRequest, MultipartRequestBody};
use op25b_proto::role::RoleMsg;
use op25b_proto::switch_config::SwitchConfig;
use op25b_proto::{DecodeError, FrameError};

/// A FLOW stats entry, normalised as its reply part arrived (see [`HeldReplies`]).
pub type FlowEntry = crate::flows::ReportedFlow;
/// A packet-in as decoded.
pub type PacketIn = op25b_proto::packet_in::PacketIn;

pub use super::packet_in_sample::{PacketInSample, SAMPLE_DATA_MAX};

/// Bytes from the switch the codec refused (the connection closes on them).
#[derive(Debug, thiserror::Error)]
pub enum BadFrame {
    /// The header's length field cannot be right.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A whole frame that does not decode; `head` is its first bytes (at most 16).
    #[error("{error} (first bytes: {}; while {phase})", hex(.head))]
    Decode {
        error: DecodeError,
        head: Vec<u8>,
        phase: Phase,
    },
}

/// `bytes` as space-separated hex pairs.
fn hex(bytes: &[u8]) -> String {
    let pairs: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    pairs.join(" ")
}

/// The length of the whole frame at the front of `buf`, or `None` until one has arrived.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, BadFrame> {
    Ok(op25b_proto::framer::frame_len(buf)?)
}

/// How many more bytes the frame at the front of `buf` needs (0 when its header is incomplete
/// or it is whole). The OpenFlow length field is 16 bits, so this never exceeds 64 KiB.
pub fn missing_bytes(buf: &[u8]) -> usize {
    match buf {
        [_, _, hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])).saturating_sub(buf.len()),
        _ => 0,
    }
}

/// Decodes one connection's frames into the session's vocabulary. The multipart replies the
/// session reads (PORT_DESC, FLOW stats, METER_CONFIG) reach it whole: PORT_DESC and
/// METER_CONFIG parts are joined by `op25b_proto`'s `MultipartAssembler` first, and each FLOW
/// stats part is normalised into [`FlowEntry`]s the moment it is decoded and dropped
/// ([`HeldReplies`]), so a switch's table is never held decoded.
#[derive(Debug)]
pub struct Decoder {
    replies: HeldReplies,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(crate::policy::ControllerSettings::default().max_multipart_bytes)
    }
}

impl Decoder {
    /// A connection's decoder, holding at most `max_multipart_bytes` of pending reply parts
    /// (weighed as decoded, see [`HeldReplies`]).
    pub fn new(max_multipart_bytes: usize) -> Self {
        Self {
            replies: HeldReplies::new(max_multipart_bytes),
        }
    }

    /// Decodes one frame. Message types the session does not use become [`Inbound::Other`]; a
    /// part of a reply the session reads is held ([`Inbound::ReplyPart`]) until its last part
    /// arrives, then the whole reply is handed on, or [`Inbound::ReplyRefused`] when the
    /// assembler refused it. A frame the codec rejects is an error (the connection closes).
    /// Before the HELLO nothing is held: whatever arrives then goes to the session as it is.
    ///
    /// `awaited` tells which xids the session waits for: a part of any other reply is not held
    /// (the session would ignore it), and the parts held for an xid the session gave up on (a
    /// read that timed out, a sync that failed) are dropped, so abandoned replies never fill
    /// the connection's cap.
    pub fn decode(
        &mut self,
        frame: &[u8],
        phase: Phase,
        awaited: impl Fn(u32) -> bool,
    ) -> Result<(u32, Inbound<FlowEntry, PacketIn>), BadFrame> {
        let msg = OfpMessage::decode(frame).map_err(|error| BadFrame::Decode {
            error,
            head: frame.iter().take(16).copied().collect(),
            phase,
        })?;
        let xid = msg.xid;
        let read = matches!(&msg.body, Message::MultipartReply(r) if is_read(&r.body));
        if !read || phase == Phase::AwaitHello {
            return Ok((xid, classify(msg)));
        }
        self.replies.forget_unawaited(&awaited);
        if !awaited(xid) {
            // Not held: the session ignores a reply it does not wait for, whole or in parts.
            return Ok((
                xid,
                Inbound::Other {
                    msg_type: OFPT_MULTIPART_REPLY,
                },
            ));
        }
        if let Message::MultipartReply(MultipartReply {
            flags,
            body: MultipartReplyBody::Flow(entries),
        }) = &msg.body
        {
            let more = flags & OFPMPF_REPLY_MORE != 0;
            let inbound = match self.replies.push_flows(xid, more, entries) {
                Ok(None) => Inbound::ReplyPart,
                Ok(Some(entries)) => Inbound::FlowStats { entries },
                Err(error) => Inbound::ReplyRefused(error),
            };
            // `msg`, the decoded part, is dropped here: only the compact table stays.
            return Ok((xid, inbound));
        }
        let reply_weight = match &msg.body {
            Message::MultipartReply(r) => held_replies::weight(&r.body, frame.len()),
            _ => frame.len(),
        };
        let inbound = match self.replies.push(msg, reply_weight) {
            Ok(None) => Inbound::ReplyPart,
            Ok(Some(reply)) => classify(OfpMessage::new(xid, Message::MultipartReply(reply))),
            Err(error) => Inbound::ReplyRefused(error),
        };
        Ok((xid, inbound))
    }

    /// A new cap on the reply parts held (a reload changed the policy's
    /// [`ReadCaps`](super::read_cap::ReadCaps)); the parts held stay.
    pub fn set_reply_cap(&mut self, max_multipart_bytes: usize) {
        self.replies.set_cap(max_multipart_bytes);
    }

    /// Bytes of the reply parts held now (weighed as decoded).
    pub fn held_bytes(&self) -> usize {
        self.replies.held_bytes()
    }
}

/// A multipart reply the session reads (so its parts are joined first).
fn is_read(body: &MultipartReplyBody) -> bool {
    matches!(
        body,
        MultipartReplyBody::PortDesc(_)
            | MultipartReplyBody::Flow(_)
            | MultipartReplyBody::MeterConfig(_)
    )
}

/// One decoded message (a multipart reply: whole, or taken as whole) in the session's vocabulary.
fn classify(msg: OfpMessage) -> Inbound<FlowEntry, PacketIn> {
    match msg.body {
        Message::Hello(h) => Inbound::Hello {
            version: msg.version,
            supports_13: h
                .supports(OFP_VERSION)
                .unwrap_or(msg.version >= OFP_VERSION),
        },
        Message::Error(e) => Inbound::Error {
            err_type: e.err_type,
            code: e.code,
            names: e.describe(),
        },
        Message::EchoRequest(data) => Inbound::EchoRequest {
            data: data.to_vec(),
        },
        Message::EchoReply(_) => Inbound::EchoReply,
        Message::FeaturesReply(f) => Inbound::FeaturesReply {
            dpid: f.datapath_id,
        },
        Message::MultipartReply(r) => match r.body {
            MultipartReplyBody::PortDesc(ports) => Inbound::PortDesc {
                ports: ports.iter().map(|p| p.port_no).collect(),
            },
            // Only before the HELLO (see `Decoder::decode`): normalised all the same.
            MultipartReplyBody::Flow(entries) => Inbound::FlowStats {
                entries: entries.iter().map(FlowEntry::from_stats).collect(),
            },
            MultipartReplyBody::MeterConfig(entries) => Inbound::MeterConfig { entries },
            _ => Inbound::Other {
                msg_type: OFPT_MULTIPART_REPLY,
            },
        },
        Message::BarrierReply => Inbound::BarrierReply,
        Message::GetConfigReply(c) => Inbound::GetConfigReply {
            flags: c.flags,
            miss_send_len: c.miss_send_len,
        },
        Message::PacketIn(p) if super::fail_open::is_fail_open_probe(&p) => Inbound::FailOpenProbe,
        Message::PacketIn(p) => Inbound::PacketIn {
            cookie: p.cookie,
            packet_in: p,
        },
        Message::FlowRemoved(f) => Inbound::FlowRemoved { cookie: f.cookie },
        Message::RoleReply(r) => Inbound::RoleReply {
            role: r.role,
            generation_id: r.generation_id,
        },
        Message::PortStatus(p) => Inbound::PortStatus {
            reason: p.reason,
            port_no: p.desc.port_no,
        },
        other => Inbound::Other {
            msg_type: other.msg_type(),
        },
    }
}

/// The OpenFlow message for `msg`.
pub fn to_message(xid: u32, msg: &Outbound<Message>) -> OfpMessage {
    let body = match msg {
        Outbound::Hello => Message::Hello(Hello::with_versions(&[OFP_VERSION])),
        Outbound::HelloIncompatible { peer_version, text } => {
            let e = ErrorMsg::new(
                ErrorType::HelloFailed as u16,
                HelloFailedCode::Incompatible as u16,
                Bytes::copy_from_slice(text.as_bytes()),
            );
            return OfpMessage {
                version: (*peer_version).clamp(1, OFP_VERSION),
                xid,
                body: Message::Error(e),
            };
        }
        Outbound::FeaturesRequest => Message::FeaturesRequest,
        Outbound::PortDescRequest => Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::PortDesc,
        }),
        Outbound::SetConfig {
            flags,
            miss_send_len,
        } => Message::SetConfig(SwitchConfig {
            flags: *flags,
            miss_send_len: *miss_send_len,
        }),
        Outbound::EchoRequest => Message::EchoRequest(Bytes::new()),
        Outbound::EchoReply { data } => Message::EchoReply(Bytes::copy_from_slice(data)),
        Outbound::BarrierRequest => Message::BarrierRequest,
        Outbound::GetConfigRequest => Message::GetConfigRequest,
        Outbound::RoleRequest {
            role,
            generation_id,
        } => Message::RoleRequest(RoleMsg {
            role: *role,
            generation_id: *generation_id,
        }),
        Outbound::Policy(m) => m.clone(),
    };
    OfpMessage::new(xid, body)
}

/// The wire bytes for `msg`.
pub fn encode(xid: u32, msg: &Outbound<Message>) -> Bytes {
    to_message(xid, msg).to_bytes()
}

/// Appends the wire bytes for `msg` to `out`. A policy message (a flow mod of the plan) is
/// written from the session's copy, not cloned into an [`OfpMessage`] first.
pub fn encode_into(xid: u32, msg: &Outbound<Message>, out: &mut BytesMut) {
    match msg {
        Outbound::Policy(m) => m.encode_as(OFP_VERSION, xid, out),
        other => to_message(xid, other).encode(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_bytes_reads_the_header_length() {
        assert_eq!(missing_bytes(&[]), 0);
        assert_eq!(missing_bytes(&[4, 0, 0]), 0);
        // A 40,000-byte frame of which 8 bytes arrived.
        let len = 40_000u16.to_be_bytes();
        assert_eq!(missing_bytes(&[4, 19, len[0], len[1], 0, 0, 0, 1]), 39_992);
        // Whole (or more than one frame buffered): nothing missing.
        assert_eq!(missing_bytes(&[4, 2, 0, 8, 0, 0, 0, 1]), 0);
        assert_eq!(missing_bytes(&[4, 2, 0, 8, 0, 0, 0, 1, 4, 2]), 0);
    }
    use op25b_proto::consts::OFPMPF_REPLY_MORE;
    use op25b_proto::multipart::reply::MultipartReply;
    use op25b_proto::{FeaturesReply, Port};
    use std::mem::size_of;

    fn roundtrip(m: &OfpMessage) -> (u32, Inbound<FlowEntry, PacketIn>) {
        decode(&m.to_bytes(), Phase::AwaitHello).expect("decodes")
    }

    fn decode(frame: &[u8], phase: Phase) -> Result<(u32, Inbound<FlowEntry, PacketIn>), BadFrame> {
        Decoder::default().decode(frame, phase, all)
    }

    /// Every xid awaited.
    fn all(_: u32) -> bool {
        true
    }

    #[test]
    fn a_fail_open_probe_is_told_apart_from_other_packet_ins() {
        use crate::session::fail_open::tests::{unhex, CAPTURED_PROBE};
        let probe = unhex(CAPTURED_PROBE);
        assert!(matches!(
            decode(&probe, Phase::InSync),
            Ok((0, Inbound::FailOpenProbe))
        ));
        let mut other = probe.clone();
        other[16..24].copy_from_slice(&0x25u64.to_be_bytes()); // a flow's cookie
        assert!(matches!(
            decode(&other, Phase::InSync),
            Ok((0, Inbound::PacketIn { cookie: 0x25, .. }))
        ));
    }

    #[test]
    fn an_of10_hello_does_not_support_13_and_a_bitmap_hello_does() {
        let of10 = [1u8, 0, 0, 8, 0, 0, 0, 9];
        match decode(&of10, Phase::AwaitHello).unwrap() {
            (
                9,
                Inbound::Hello {
                    version: 1,
                    supports_13: false,
                },
            ) => {}
            other => panic!("{other:?}"),
        }
        let m = OfpMessage {
            version: 6,
            xid: 1,
            body: Message::Hello(Hello::with_versions(&[1, 4, 6])),
        };
        assert!(matches!(
            roundtrip(&m).1,
            Inbound::Hello {
                version: 6,
                supports_13: true
            }
        ));
        let m = OfpMessage {
            version: 6,
            xid: 1,
            body: Message::Hello(Hello::with_versions(&[5, 6])),
        };
        assert!(matches!(
            roundtrip(&m).1,
            Inbound::Hello {
                supports_13: false,
                ..
            }
        ));
    }

    #[test]
    fn our_hello_offers_exactly_13() {
        let m = to_message(1, &Outbound::<Message>::Hello);
        assert_eq!(m.version, 4);
        match m.body {
            Message::Hello(h) => {
                assert_eq!(h.supports(4), Some(true));
                assert_eq!(h.supports(1), Some(false));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hello_failed_goes_out_in_the_peers_version_with_the_text() {
        let out = Outbound::<Message>::HelloIncompatible {
            peer_version: 1,
            text: "only 1.3".into(),
        };
        let bytes = encode(3, &out);
        assert_eq!(&bytes[..4], &[1, 1, 0, 20]);
        let m = OfpMessage::decode(&bytes).unwrap();
        match m.body {
            Message::Error(e) => {
                assert_eq!((e.err_type, e.code), (0, 0));
                assert_eq!(&e.data[..], b"only 1.3");
            }
            other => panic!("{other:?}"),
        }
    }

    fn port(n: u32) -> Port {
        Port {
            port_no: n,
            hw_addr: op25b_proto::MacAddr([2, 0, 0, 0, 0, 1]),
            name: format!("p{n}"),
            config: 0,
            state: 0,
            curr: 0,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 0,
            max_speed: 0,
        }
    }

    /// One part of a multipart reply, as wire bytes.
    fn part(xid: u32, more: bool, body: MultipartReplyBody) -> Bytes {
        let flags = if more { OFPMPF_REPLY_MORE } else { 0 };
        OfpMessage::new(xid, Message::MultipartReply(MultipartReply { flags, body })).to_bytes()
    }

    fn flow(cookie: u64) -> op25b_proto::FlowStats {
        op25b_proto::FlowStats {
            table_id: 0,
            duration_sec: 0,
            duration_nsec: 0,
            priority: 1,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie,
            packet_count: 0,
            byte_count: 0,
            match_: op25b_proto::Match::default(),
            instructions: vec![],
        }
    }

    #[test]
    fn port_desc_parts_are_joined_before_the_session_sees_them() {
        let mut d = Decoder::default();
        let first = part(
            5,
            true,
            MultipartReplyBody::PortDesc(vec![port(1), port(2)]),
        );
        assert!(
            matches!(
                d.decode(&first, Phase::AwaitFeatures, all),
                Ok((5, Inbound::ReplyPart))
            ),
            "waits for the last PORT_DESC part"
        );
        let last = part(5, false, MultipartReplyBody::PortDesc(vec![port(3)]));
        match d.decode(&last, Phase::AwaitFeatures, all) {
            Ok((5, Inbound::PortDesc { ports })) => assert_eq!(ports, vec![1, 2, 3]),
            other => panic!("{other:?}"),
        }
    }

    /// Entries as the decoder hands them on: each normalised.
    fn reported(entries: &[op25b_proto::FlowStats]) -> Vec<FlowEntry> {
        entries.iter().map(FlowEntry::from_stats).collect()
    }

    #[test]
    fn flow_stats_and_meter_config_parts_are_joined_per_xid() {
        let mut d = Decoder::default();
        let flows = |xid, more, cookies: &[u64]| {
            part(
                xid,
                more,
                MultipartReplyBody::Flow(cookies.iter().map(|c| flow(*c)).collect()),
            )
        };
        let meter = |id| op25b_proto::MeterConfig {
            flags: 1,
            meter_id: id,
            bands: vec![],
        };
        let meters = |xid, more, ids: &[u32]| {
            part(
                xid,
                more,
                MultipartReplyBody::MeterConfig(ids.iter().map(|i| meter(*i)).collect()),
            )
        };
        let phase = Phase::Syncing;
        assert!(matches!(
            d.decode(&flows(8, true, &[1]), phase, all),
            Ok((8, Inbound::ReplyPart))
        ));
        assert!(matches!(
            d.decode(&meters(7, true, &[7]), phase, all),
            Ok((7, Inbound::ReplyPart))
        ));
        match d.decode(&meters(7, false, &[1]), phase, all) {
            Ok((7, Inbound::MeterConfig { entries })) => {
                assert_eq!(entries, vec![meter(7), meter(1)]);
            }
            other => panic!("{other:?}"),
        }
        match d.decode(&flows(8, false, &[2, 3]), phase, all) {
            Ok((8, Inbound::FlowStats { entries })) => {
                assert_eq!(entries, reported(&[flow(1), flow(2), flow(3)]));
            }
            other => panic!("{other:?}"),
        }
        // A single-part reply goes straight through.
        assert!(matches!(
            d.decode(&flows(9, false, &[4]), phase, all),
            Ok((9, Inbound::FlowStats { entries })) if entries == reported(&[flow(4)])
        ));
    }

    /// A FLOW stats entry of kind `kind % 5` numbered `n`: 0 one of ours as op25b writes it,
    /// 1 the same with its fields in another order, 2 an exact address written with an
    /// all-ones mask, 3 a match op25b never installs (a raw OXM), 4 our match with
    /// instructions op25b never writes.
    fn varied_flow(kind: u8, n: u16) -> op25b_proto::FlowStats {
        use crate::flows::{to_instructions, to_match, FlowAction, FlowMatch, IpFamily, TcpMatch};
        use op25b_proto::{Instruction, Oxm};
        let [hi, lo] = n.to_be_bytes();
        let m = FlowMatch {
            in_port: None,
            eth_type: None,
            tcp: Some(TcpMatch {
                family: IpFamily::V4,
                src: Some(format!("100.64.{hi}.{lo}/32").parse().expect("prefix")),
                dst: None,
                dst_port: None,
            }),
        };
        let action = FlowAction::Forward(crate::policy::Forwarding::Normal);
        let mut e = op25b_proto::FlowStats {
            priority: 29_000,
            flags: crate::flows::openflow::OUR_FLOW_FLAGS,
            packet_count: u64::from(n),
            byte_count: 64 * u64::from(n),
            duration_sec: u32::from(n),
            match_: to_match(&m),
            instructions: to_instructions(&action),
            ..flow(0x4f50)
        };
        match kind % 5 {
            0 => {}
            1 => e.match_.fields.reverse(),
            2 => {
                for f in &mut e.match_.fields {
                    if let Oxm::Ipv4Src { mask, .. } = f {
                        *mask = Some(std::net::Ipv4Addr::BROADCAST);
                    }
                }
            }
            3 => e
                .match_
                .fields
                .push(Oxm::Raw(Bytes::from(vec![0, 1, 2, 0]))),
            _ => e.instructions = vec![Instruction::GotoTable(1); 2],
        }
        e
    }

    /// `entries` as FLOW stats parts of reply `xid`, cut before each index of `cuts` (sorted,
    /// within bounds): every part but the last has REPLY_MORE.
    fn flow_parts(xid: u32, entries: &[op25b_proto::FlowStats], cuts: &[usize]) -> Vec<Bytes> {
        let mut bounds: Vec<usize> = cuts.to_vec();
        bounds.push(entries.len());
        let mut from = 0;
        let last = bounds.len() - 1;
        bounds
            .iter()
            .enumerate()
            .map(|(i, &to)| {
                let body = MultipartReplyBody::Flow(entries[from..to].to_vec());
                from = to;
                part(xid, i < last, body)
            })
            .collect()
    }

    proptest::proptest! {
        /// A FLOW stats reply cut into parts anywhere in its list of entries (a part may be
        /// empty) reaches the session as exactly the entries of the whole reply, each
        /// normalised, in order; nothing stays held once it is in, and each part before the
        /// last is only held.
        #[test]
        fn folding_flow_parts_one_by_one_equals_normalising_the_whole_reply(
            kinds in proptest::collection::vec(0u8..5, 0..120),
            cuts in proptest::collection::vec(0usize..=120, 0..6),
        ) {
            let entries: Vec<_> = kinds
                .iter()
                .zip(0u16..)
                .map(|(k, n)| varied_flow(*k, n))
                .collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(entries.len())).collect();
            cuts.sort_unstable();
            let parts = flow_parts(21, &entries, &cuts);
            let mut d = Decoder::default();
            let (last, first) = parts.split_last().expect("one part at least");
            for p in first {
                let got = d.decode(p, Phase::Syncing, all);
                proptest::prop_assert!(matches!(got, Ok((21, Inbound::ReplyPart))), "{got:?}");
            }
            match d.decode(last, Phase::Syncing, all) {
                Ok((21, Inbound::FlowStats { entries: folded })) => {
                    proptest::prop_assert_eq!(folded, reported(&entries));
                }
                other => proptest::prop_assert!(false, "{other:?}"),
            }
            proptest::prop_assert_eq!(d.held_bytes(), 0);
        }
    }

    #[test]
    fn the_folded_table_is_what_is_held_and_reconcile_deletes_by_the_reported_match() {
        let entries: Vec<_> = (0..5).map(|k| varied_flow(k, 7)).collect();
        let parts = flow_parts(4, &entries, &[2]);
        let mut d = Decoder::default();
        assert!(matches!(
            d.decode(&parts[0], Phase::Syncing, all),
            Ok((4, Inbound::ReplyPart))
        ));
        // Held: the two compact entries, not the decoded part.
        let held: usize = reported(&entries[..2]).iter().map(FlowEntry::weight).sum();
        assert_eq!(d.held_bytes(), held);
        let Ok((4, Inbound::FlowStats { entries: folded })) =
            d.decode(&parts[1], Phase::Syncing, all)
        else {
            panic!("the last part completes the reply");
        };
        for (f, e) in folded.iter().zip(&entries) {
            assert_eq!(*f.match_as_reported(), e.match_, "{e:?}");
        }
        assert!(folded[0].match_.is_some() && folded[1].match_.is_some());
        assert_eq!(folded[3].match_, None, "a raw OXM is not op25b's");
        assert_eq!(folded[4].action, None, "two goto_table are not op25b's");
        assert!(folded[4].may_forward);
    }

    #[test]
    fn a_part_cut_inside_an_entry_is_a_decode_error_naming_the_reply() {
        let entries: Vec<_> = (0..6).map(|n| varied_flow(0, n)).collect();
        let parts = flow_parts(6, &entries, &[3]);
        let mut d = Decoder::default();
        assert!(matches!(
            d.decode(&parts[0], Phase::Syncing, all),
            Ok((6, Inbound::ReplyPart))
        ));
        // The second part loses the last 10 bytes of its last entry; its header says so.
        let mut cut = parts[1][..parts[1].len() - 10].to_vec();
        let len = u16::try_from(cut.len()).expect("small").to_be_bytes();
        cut[2..4].copy_from_slice(&len);
        let err = d.decode(&cut, Phase::Syncing, all).unwrap_err();
        assert!(
            matches!(&err, BadFrame::Decode { error, phase: Phase::Syncing, .. } if error.msg_type == Some(OFPT_MULTIPART_REPLY)),
            "typed: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("while syncing") || text.contains("syncing"),
            "{text}"
        );
    }

    #[test]
    fn flow_parts_and_other_parts_for_one_xid_are_refused() {
        let mut d = Decoder::default();
        let flows = flow_parts(8, &[varied_flow(0, 1)], &[])[0].clone();
        let mut first_flows = flow_parts(8, &[varied_flow(0, 1), varied_flow(0, 2)], &[1]);
        let ports = part(8, true, MultipartReplyBody::PortDesc(vec![port(1)]));
        assert!(matches!(
            d.decode(&ports, Phase::Syncing, all),
            Ok((8, Inbound::ReplyPart))
        ));
        assert!(matches!(
            d.decode(&flows, Phase::Syncing, all),
            Ok((
                8,
                Inbound::ReplyRefused(op25b_proto::AssemblyError::TypeMismatch { .. })
            ))
        ));
        assert_eq!(d.held_bytes(), 0, "the refused reply is forgotten");
        assert!(matches!(
            d.decode(&first_flows.remove(0), Phase::Syncing, all),
            Ok((8, Inbound::ReplyPart))
        ));
        assert!(matches!(
            d.decode(&ports, Phase::Syncing, all),
            Ok((
                8,
                Inbound::ReplyRefused(op25b_proto::AssemblyError::TypeMismatch { .. })
            ))
        ));
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn an_endless_flow_reply_is_refused_within_the_byte_bound() {
        let cap = 256 * 1024;
        let mut d = Decoder::new(cap);
        let entries: Vec<_> = (0..300).map(|n| varied_flow(3, n)).collect();
        // REPLY_MORE on every part: the reply never ends.
        let chunk = part(3, true, MultipartReplyBody::Flow(entries));
        let most = cap / (300 * size_of::<FlowEntry>()) + 1;
        let refused = (0..=most).find_map(|_| match d.decode(&chunk, Phase::Syncing, all) {
            Ok((3, Inbound::ReplyPart)) => None,
            other => Some(other),
        });
        assert!(
            matches!(
                refused,
                Some(Ok((
                    3,
                    Inbound::ReplyRefused(op25b_proto::AssemblyError::TooManyBytesPending {
                        xid: 3,
                        ..
                    })
                )))
            ),
            "{refused:?}"
        );
        assert_eq!(d.held_bytes(), 0, "the refused reply is forgotten");
    }

    #[test]
    fn an_endless_reply_is_refused_within_the_byte_bound() {
        let cap = 1024 * 1024;
        let mut d = Decoder::new(cap);
        // About 64 KB per part.
        let chunk = part(
            3,
            true,
            MultipartReplyBody::PortDesc((1..=1000).map(port).collect()),
        );
        let most = cap / chunk.len() + 1;
        let refused = (0..=most).find_map(|_| match d.decode(&chunk, Phase::AwaitPortDesc, all) {
            Ok((3, Inbound::ReplyPart)) => None,
            other => Some(other),
        });
        assert!(
            matches!(
                refused,
                Some(Ok((
                    3,
                    Inbound::ReplyRefused(op25b_proto::AssemblyError::TooManyBytesPending {
                        xid: 3,
                        ..
                    })
                )))
            ),
            "{refused:?}"
        );
        assert_eq!(d.held_bytes(), 0, "the refused reply is forgotten");
        assert!(matches!(
            d.decode(&chunk, Phase::AwaitPortDesc, all),
            Ok((3, Inbound::ReplyPart))
        ));
    }

    #[test]
    fn only_awaited_replies_are_held_and_given_up_ones_are_dropped() {
        let mut d = Decoder::default();
        let chunk = |xid| part(xid, true, MultipartReplyBody::PortDesc(vec![port(1)]));
        let only_3 = |xid: u32| xid == 3;
        assert!(matches!(
            d.decode(&chunk(9), Phase::AwaitPortDesc, only_3),
            Ok((9, Inbound::Other { .. }))
        ));
        assert_eq!(d.held_bytes(), 0, "a part nobody waits for is not held");
        assert!(matches!(
            d.decode(&chunk(3), Phase::AwaitPortDesc, only_3),
            Ok((3, Inbound::ReplyPart))
        ));
        assert!(d.held_bytes() > 0);
        // The session gave up on xid 3: the next frame of a read reply drops its parts.
        let none = |_: u32| false;
        let _ = d.decode(&chunk(4), Phase::AwaitPortDesc, none);
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn before_the_hello_a_part_is_handed_on_as_it_is() {
        let mut d = Decoder::default();
        let first = part(5, true, MultipartReplyBody::PortDesc(vec![port(1)]));
        assert!(matches!(
            d.decode(&first, Phase::AwaitHello, all),
            Ok((5, Inbound::PortDesc { ports })) if ports == vec![1]
        ));
    }

    #[test]
    fn features_give_the_dpid_and_errors_their_names() {
        let f = FeaturesReply {
            datapath_id: 0xab,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0,
            reserved: 0,
        };
        assert!(matches!(
            roundtrip(&OfpMessage::new(2, Message::FeaturesReply(f))).1,
            Inbound::FeaturesReply { dpid: 0xab }
        ));
        let e = ErrorMsg::new(5, 1, Bytes::new());
        match roundtrip(&OfpMessage::new(2, Message::Error(e))).1 {
            Inbound::Error {
                err_type: 5,
                code: 1,
                names,
            } => {
                assert!(
                    names.contains("FLOW_MOD_FAILED") && names.contains("TABLE_FULL"),
                    "{names}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_impossible_length_is_a_typed_frame_error() {
        assert!(matches!(frame_len(&[4, 0, 0, 8, 0, 0, 0, 1]), Ok(Some(8))));
        assert!(matches!(
            frame_len(&[4, 0, 0, 7, 0, 0, 0, 1]),
            Err(BadFrame::Frame(FrameError::LengthBelowHeader {
                length: 7,
                ..
            }))
        ));
    }

    #[test]
    fn garbage_is_an_error_naming_the_bytes_and_the_phase() {
        let bad = decode(&[4, 14, 0, 9, 0, 0, 0, 1, 0xff], Phase::InSync).unwrap_err();
        assert!(
            matches!(&bad, BadFrame::Decode { error, phase: Phase::InSync, .. } if error.msg_type == Some(14)),
            "typed: {bad:?}"
        );
        let err = bad.to_string();
        assert!(
            err.contains("04 0e 00 09") && err.contains("in_sync"),
            "{err}"
        );
    }
}
