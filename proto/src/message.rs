//! The 8-byte `ofp_header` and the [`Message`] enum over every OpenFlow 1.3 message type.

use bytes::{BufMut, Bytes, BytesMut};

use crate::async_config::AsyncConfig;
use crate::codec::Codec;
use crate::consts::*;
use crate::encode_error::EncodeError;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::error_msg::ErrorMsg;
use crate::experimenter::ExperimenterMsg;
use crate::flow_mod::FlowMod;
use crate::flow_removed::FlowRemoved;
use crate::group::GroupMod;
use crate::hello::Hello;
use crate::meter::MeterMod;
use crate::multipart::reply::MultipartReply;
use crate::multipart::request::MultipartRequest;
use crate::packet_in::PacketIn;
use crate::packet_out::PacketOut;
use crate::port::{PortMod, PortStatus};
use crate::queue::{QueueGetConfigReply, QueueGetConfigRequest};
use crate::reader::Reader;
use crate::role::RoleMsg;
use crate::switch_config::SwitchConfig;
use crate::switch_features::FeaturesReply;
use crate::table_mod::TableMod;
use crate::writer;

/// The spec name of a message type ("OFPT_FLOW_MOD"); "OFPT_UNKNOWN" beyond OFPT_METER_MOD.
pub fn msg_type_name(msg_type: u8) -> &'static str {
    const NAMES: [&str; 30] = [
        "OFPT_HELLO",
        "OFPT_ERROR",
        "OFPT_ECHO_REQUEST",
        "OFPT_ECHO_REPLY",
        "OFPT_EXPERIMENTER",
        "OFPT_FEATURES_REQUEST",
        "OFPT_FEATURES_REPLY",
        "OFPT_GET_CONFIG_REQUEST",
        "OFPT_GET_CONFIG_REPLY",
        "OFPT_SET_CONFIG",
        "OFPT_PACKET_IN",
        "OFPT_FLOW_REMOVED",
        "OFPT_PORT_STATUS",
        "OFPT_PACKET_OUT",
        "OFPT_FLOW_MOD",
        "OFPT_GROUP_MOD",
        "OFPT_PORT_MOD",
        "OFPT_TABLE_MOD",
        "OFPT_MULTIPART_REQUEST",
        "OFPT_MULTIPART_REPLY",
        "OFPT_BARRIER_REQUEST",
        "OFPT_BARRIER_REPLY",
        "OFPT_QUEUE_GET_CONFIG_REQUEST",
        "OFPT_QUEUE_GET_CONFIG_REPLY",
        "OFPT_ROLE_REQUEST",
        "OFPT_ROLE_REPLY",
        "OFPT_GET_ASYNC_REQUEST",
        "OFPT_GET_ASYNC_REPLY",
        "OFPT_SET_ASYNC",
        "OFPT_METER_MOD",
    ];
    NAMES
        .get(usize::from(msg_type))
        .copied()
        .unwrap_or("OFPT_UNKNOWN")
}

/// `ofp_header` fields as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: u8,
    pub msg_type: u8,
    pub length: u16,
    pub xid: u32,
}

impl Header {
    /// Reads the header from the first 8 bytes of `buf` (the length is not checked here).
    pub fn parse(buf: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(buf, "ofp_header", Scope::Message);
        Ok(Header {
            version: r.u8()?,
            msg_type: r.u8()?,
            length: r.u16()?,
            xid: r.u32()?,
        })
    }
}

/// One OpenFlow message: header version and xid, and the typed body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfpMessage {
    pub version: u8,
    pub xid: u32,
    pub body: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    Hello(Hello),
    Error(ErrorMsg),
    EchoRequest(Bytes),
    EchoReply(Bytes),
    Experimenter(ExperimenterMsg),
    FeaturesRequest,
    FeaturesReply(FeaturesReply),
    GetConfigRequest,
    GetConfigReply(SwitchConfig),
    SetConfig(SwitchConfig),
    PacketIn(PacketIn),
    FlowRemoved(FlowRemoved),
    PortStatus(PortStatus),
    PacketOut(PacketOut),
    FlowMod(FlowMod),
    GroupMod(GroupMod),
    PortMod(PortMod),
    TableMod(TableMod),
    MultipartRequest(MultipartRequest),
    MultipartReply(MultipartReply),
    BarrierRequest,
    BarrierReply,
    QueueGetConfigRequest(QueueGetConfigRequest),
    QueueGetConfigReply(QueueGetConfigReply),
    RoleRequest(RoleMsg),
    RoleReply(RoleMsg),
    GetAsyncRequest,
    GetAsyncReply(AsyncConfig),
    SetAsync(AsyncConfig),
    MeterMod(MeterMod),
    /// A message type this codec does not know; re-encodes byte-identically.
    Unknown {
        msg_type: u8,
        body: Bytes,
    },
}

impl Message {
    /// Appends this body as a whole message with the given header fields: what
    /// [`OfpMessage::encode`] does, for a caller that keeps the body and would otherwise clone it
    /// into an [`OfpMessage`] (a connection sending the flow mods of its plan).
    ///
    /// A message over 65,535 bytes cannot be expressed: here its overflowing length fields are
    /// clamped to 65,535, a frame the peer misreads. Where that can happen, use
    /// [`Message::try_encode_as`], which returns [`EncodeError::TooLong`] instead.
    pub fn encode_as(&self, version: u8, xid: u32, out: &mut BytesMut) {
        let start = out.len();
        out.put_u8(version);
        out.put_u8(self.msg_type());
        let at = writer::placeholder_u16(out);
        out.put_u32(xid);
        self.write_body(out);
        writer::patch_len_since(out, at, start);
    }

    /// [`Message::encode_as`], refusing a message longer than its 16-bit length can say
    /// (65,535 bytes) with [`EncodeError::TooLong`]; `out` is then left as it was. Every inner
    /// length (match, instruction, action, property) lies within the message, so this also
    /// refuses any inner structure too long for its own 16-bit length.
    pub fn try_encode_as(
        &self,
        version: u8,
        xid: u32,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let start = out.len();
        self.encode_as(version, xid, out);
        let len = out.len() - start;
        if len > usize::from(u16::MAX) {
            out.truncate(start);
            return Err(EncodeError::TooLong {
                msg_type: self.msg_type(),
                len,
            });
        }
        Ok(())
    }

    /// The `ofp_type` number of this message.
    pub fn msg_type(&self) -> u8 {
        match self {
            Message::Hello(_) => OFPT_HELLO,
            Message::Error(_) => OFPT_ERROR,
            Message::EchoRequest(_) => OFPT_ECHO_REQUEST,
            Message::EchoReply(_) => OFPT_ECHO_REPLY,
            Message::Experimenter(_) => OFPT_EXPERIMENTER,
            Message::FeaturesRequest => OFPT_FEATURES_REQUEST,
            Message::FeaturesReply(_) => OFPT_FEATURES_REPLY,
            Message::GetConfigRequest => OFPT_GET_CONFIG_REQUEST,
            Message::GetConfigReply(_) => OFPT_GET_CONFIG_REPLY,
            Message::SetConfig(_) => OFPT_SET_CONFIG,
            Message::PacketIn(_) => OFPT_PACKET_IN,
            Message::FlowRemoved(_) => OFPT_FLOW_REMOVED,
            Message::PortStatus(_) => OFPT_PORT_STATUS,
            Message::PacketOut(_) => OFPT_PACKET_OUT,
            Message::FlowMod(_) => OFPT_FLOW_MOD,
            Message::GroupMod(_) => OFPT_GROUP_MOD,
            Message::PortMod(_) => OFPT_PORT_MOD,
            Message::TableMod(_) => OFPT_TABLE_MOD,
            Message::MultipartRequest(_) => OFPT_MULTIPART_REQUEST,
            Message::MultipartReply(_) => OFPT_MULTIPART_REPLY,
            Message::BarrierRequest => OFPT_BARRIER_REQUEST,
            Message::BarrierReply => OFPT_BARRIER_REPLY,
            Message::QueueGetConfigRequest(_) => OFPT_QUEUE_GET_CONFIG_REQUEST,
            Message::QueueGetConfigReply(_) => OFPT_QUEUE_GET_CONFIG_REPLY,
            Message::RoleRequest(_) => OFPT_ROLE_REQUEST,
            Message::RoleReply(_) => OFPT_ROLE_REPLY,
            Message::GetAsyncRequest => OFPT_GET_ASYNC_REQUEST,
            Message::GetAsyncReply(_) => OFPT_GET_ASYNC_REPLY,
            Message::SetAsync(_) => OFPT_SET_ASYNC,
            Message::MeterMod(_) => OFPT_METER_MOD,
            Message::Unknown { msg_type, .. } => *msg_type,
        }
    }

    /// The spec name of this message's type ("OFPT_FLOW_MOD").
    pub fn type_name(&self) -> &'static str {
        msg_type_name(self.msg_type())
    }

    /// Reads the body of a message of type `msg_type` from a reader over exactly the body.
    fn read_body(msg_type: u8, version: u8, r: &mut Reader<'_>) -> Result<Message, DecodeError> {
        // Hello, error and echo keep their layout across versions (needed for negotiation and to
        // report a version mismatch); every other body is only defined here for 1.3.
        let version_neutral = matches!(
            msg_type,
            OFPT_HELLO | OFPT_ERROR | OFPT_ECHO_REQUEST | OFPT_ECHO_REPLY
        ) || msg_type > OFPT_METER_MOD;
        if version != OFP_VERSION && !version_neutral {
            return Err(r.error_at(0, DecodeErrorKind::BadVersion { version }));
        }
        Ok(match msg_type {
            OFPT_HELLO => Message::Hello(Hello::read(r)?),
            OFPT_ERROR => Message::Error(ErrorMsg::read(r)?),
            OFPT_ECHO_REQUEST => Message::EchoRequest(r.rest_bytes()),
            OFPT_ECHO_REPLY => Message::EchoReply(r.rest_bytes()),
            OFPT_EXPERIMENTER => Message::Experimenter(ExperimenterMsg::read(r)?),
            OFPT_FEATURES_REQUEST => Message::FeaturesRequest,
            OFPT_FEATURES_REPLY => Message::FeaturesReply(FeaturesReply::read(r)?),
            OFPT_GET_CONFIG_REQUEST => Message::GetConfigRequest,
            OFPT_GET_CONFIG_REPLY => Message::GetConfigReply(SwitchConfig::read(r)?),
            OFPT_SET_CONFIG => Message::SetConfig(SwitchConfig::read(r)?),
            OFPT_PACKET_IN => Message::PacketIn(PacketIn::read(r)?),
            OFPT_FLOW_REMOVED => Message::FlowRemoved(FlowRemoved::read(r)?),
            OFPT_PORT_STATUS => Message::PortStatus(PortStatus::read(r)?),
            OFPT_PACKET_OUT => Message::PacketOut(PacketOut::read(r)?),
            OFPT_FLOW_MOD => Message::FlowMod(FlowMod::read(r)?),
            OFPT_GROUP_MOD => Message::GroupMod(GroupMod::read(r)?),
            OFPT_PORT_MOD => Message::PortMod(PortMod::read(r)?),
            OFPT_TABLE_MOD => Message::TableMod(TableMod::read(r)?),
            OFPT_MULTIPART_REQUEST => Message::MultipartRequest(MultipartRequest::read(r)?),
            OFPT_MULTIPART_REPLY => Message::MultipartReply(MultipartReply::read(r)?),
            OFPT_BARRIER_REQUEST => Message::BarrierRequest,
            OFPT_BARRIER_REPLY => Message::BarrierReply,
            OFPT_QUEUE_GET_CONFIG_REQUEST => {
                Message::QueueGetConfigRequest(QueueGetConfigRequest::read(r)?)
            }
            OFPT_QUEUE_GET_CONFIG_REPLY => {
                Message::QueueGetConfigReply(QueueGetConfigReply::read(r)?)
            }
            OFPT_ROLE_REQUEST => Message::RoleRequest(RoleMsg::read(r)?),
            OFPT_ROLE_REPLY => Message::RoleReply(RoleMsg::read(r)?),
            OFPT_GET_ASYNC_REQUEST => Message::GetAsyncRequest,
            OFPT_GET_ASYNC_REPLY => Message::GetAsyncReply(AsyncConfig::read(r)?),
            OFPT_SET_ASYNC => Message::SetAsync(AsyncConfig::read(r)?),
            OFPT_METER_MOD => Message::MeterMod(MeterMod::read(r)?),
            other => Message::Unknown {
                msg_type: other,
                body: r.rest_bytes(),
            },
        })
    }

    /// Bytes the body takes on the wire, for reserving the buffer once: exact for the
    /// messages sent or received often one at a time (FLOW_MOD, PACKET_IN, echo, unknown),
    /// 0 (not computed; the buffer grows as written) for the others.
    pub fn body_size_hint(&self) -> usize {
        match self {
            Message::FlowMod(f) => f.wire_len(),
            Message::PacketIn(p) => p.wire_len(),
            Message::EchoRequest(b) | Message::EchoReply(b) | Message::Unknown { body: b, .. } => {
                b.len()
            }
            _ => 0,
        }
    }

    fn write_body(&self, out: &mut BytesMut) {
        match self {
            Message::Hello(h) => h.encode(out),
            Message::Error(e) => e.encode(out),
            Message::EchoRequest(b) | Message::EchoReply(b) => out.put_slice(b),
            Message::Experimenter(e) => e.encode(out),
            Message::FeaturesRequest
            | Message::GetConfigRequest
            | Message::BarrierRequest
            | Message::BarrierReply
            | Message::GetAsyncRequest => {}
            Message::FeaturesReply(f) => f.encode(out),
            Message::GetConfigReply(c) | Message::SetConfig(c) => c.encode(out),
            Message::PacketIn(p) => p.encode(out),
            Message::FlowRemoved(f) => f.encode(out),
            Message::PortStatus(p) => p.encode(out),
            Message::PacketOut(p) => p.encode(out),
            Message::FlowMod(f) => f.encode(out),
            Message::GroupMod(g) => g.encode(out),
            Message::PortMod(p) => p.encode(out),
            Message::TableMod(t) => t.encode(out),
            Message::MultipartRequest(m) => m.encode(out),
            Message::MultipartReply(m) => m.encode(out),
            Message::QueueGetConfigRequest(q) => q.encode(out),
            Message::QueueGetConfigReply(q) => q.encode(out),
            Message::RoleRequest(r) | Message::RoleReply(r) => r.encode(out),
            Message::GetAsyncReply(a) | Message::SetAsync(a) => a.encode(out),
            Message::MeterMod(m) => m.encode(out),
            Message::Unknown { body, .. } => out.put_slice(body),
        }
    }
}

impl OfpMessage {
    /// An OpenFlow 1.3 message.
    pub fn new(xid: u32, body: Message) -> Self {
        OfpMessage {
            version: OFP_VERSION,
            xid,
            body,
        }
    }

    /// Decodes one whole frame, 8-byte header included. The header's length must equal the
    /// frame's size, and the body must be consumed exactly.
    pub fn decode(frame: &[u8]) -> Result<OfpMessage, DecodeError> {
        let header = Header::parse(frame)?;
        let declared = usize::from(header.length);
        let fail = |kind| DecodeError {
            msg_type: Some(header.msg_type),
            context: "ofp_header",
            scope: Scope::Message,
            offset: 2,
            kind,
        };
        // Spec 7.1: "length: length including this ofp_header".
        if declared < OFP_HEADER_LEN {
            return Err(fail(DecodeErrorKind::BadLength {
                declared,
                rule: "ofp_header length below 8",
            }));
        }
        if declared > frame.len() {
            return Err(fail(DecodeErrorKind::Truncated {
                needed: declared,
                available: frame.len(),
            }));
        }
        if declared < frame.len() {
            return Err(fail(DecodeErrorKind::FrameLengthMismatch {
                declared,
                actual: frame.len(),
            }));
        }
        let body = &frame[OFP_HEADER_LEN..];
        let mut r = Reader::with_base(
            body,
            OFP_HEADER_LEN,
            msg_type_name(header.msg_type),
            Scope::Message,
        );
        let result = Message::read_body(header.msg_type, header.version, &mut r).and_then(|m| {
            r.expect_empty()?;
            Ok(m)
        });
        match result {
            Ok(body) => Ok(OfpMessage {
                version: header.version,
                xid: header.xid,
                body,
            }),
            Err(mut e) => {
                e.msg_type = Some(header.msg_type);
                Err(e)
            }
        }
    }

    /// Appends the message, computing the header length and every inner length. Nothing is
    /// reserved up front: a connection's write buffer is reused and already has the room, and
    /// sizing the message first would walk it twice ([`OfpMessage::to_bytes`] does size it).
    /// A message over 65,535 bytes gets clamped lengths; [`OfpMessage::try_encode`] refuses it.
    pub fn encode(&self, out: &mut BytesMut) {
        self.body.encode_as(self.version, self.xid, out);
    }

    /// The message as a fresh buffer (clamped lengths past 65,535 bytes, as
    /// [`OfpMessage::encode`]; [`OfpMessage::try_to_bytes`] refuses such a message).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(OFP_HEADER_LEN + self.body.body_size_hint());
        self.encode(&mut out);
        out.freeze()
    }

    /// [`OfpMessage::encode`], or [`EncodeError::TooLong`] (and `out` unchanged) for a message
    /// over 65,535 bytes; see [`Message::try_encode_as`].
    pub fn try_encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.body.try_encode_as(self.version, self.xid, out)
    }

    /// [`OfpMessage::to_bytes`], or [`EncodeError::TooLong`] for a message over 65,535 bytes.
    pub fn try_to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::with_capacity(OFP_HEADER_LEN + self.body.body_size_hint());
        self.try_encode(&mut out)?;
        Ok(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barrier_request_is_8_bytes() {
        let m = OfpMessage::new(7, Message::BarrierRequest);
        assert_eq!(&m.to_bytes()[..], &[4, 20, 0, 8, 0, 0, 0, 7]);
        assert_eq!(OfpMessage::decode(&[4, 20, 0, 8, 0, 0, 0, 7]), Ok(m));
    }

    #[test]
    fn a_message_over_65535_bytes_is_an_encode_error_and_writes_nothing() {
        let mut out = BytesMut::from(&b"earlier"[..]);
        let fits = OfpMessage::new(1, Message::EchoRequest(Bytes::from(vec![7; 65_535 - 8])));
        fits.try_encode(&mut out).expect("65,535 bytes fit");
        assert_eq!(out.len(), 7 + 65_535);
        assert_eq!(&out[7 + 2..7 + 4], &[0xff, 0xff]);
        let before = out.clone();
        let long = OfpMessage::new(2, Message::EchoRequest(Bytes::from(vec![7; 65_535 - 7])));
        let err = long.try_encode(&mut out).unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                msg_type: OFPT_ECHO_REQUEST,
                len: 65_536
            }
        );
        assert!(err.to_string().contains("65536 bytes"), "{err}");
        assert_eq!(
            out, before,
            "nothing of the refused message is left in the buffer"
        );
        assert_eq!(long.try_to_bytes().map(|b| b.len()), Err(err));
        assert_eq!(fits.try_to_bytes().map(|b| b.len()), Ok(65_535));
    }

    /// An inner 16-bit length that overflows (an instruction holding 80,000 bytes of actions)
    /// is caught too, by the length of the message around it.
    #[test]
    fn an_over_long_instruction_is_refused_with_its_flow_mod() {
        let actions = vec![crate::Action::output(1); 5_000];
        let apply = crate::Instruction::ApplyActions(actions);
        let fm = FlowMod::add(0, 1, crate::Match::new(vec![]), vec![apply]);
        let m = OfpMessage::new(3, Message::FlowMod(fm));
        assert_eq!(
            m.try_to_bytes().map(|b| b.len()),
            Err(EncodeError::TooLong {
                msg_type: OFPT_FLOW_MOD,
                len: 8 + 40 + 8 + 8 + 5_000 * 16
            })
        );
    }

    #[test]
    fn header_length_rules() {
        let e = OfpMessage::decode(&[4, 20, 0, 4, 0, 0, 0, 7]).unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::BadLength { .. }));
        let e = OfpMessage::decode(&[4, 20, 0, 9, 0, 0, 0, 7]).unwrap_err();
        assert!(e.is_truncation());
        let e = OfpMessage::decode(&[4, 20, 0, 8, 0, 0, 0, 7, 0]).unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::FrameLengthMismatch { .. }
        ));
        let e = OfpMessage::decode(&[4, 20, 0, 9, 0, 0, 0, 7, 0]).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { count: 1 });
        assert_eq!(e.msg_type, Some(20));
        assert_eq!(e.to_ofp_error(), (1, 6));
    }

    #[test]
    fn unknown_type_and_other_versions() {
        let frame = [4, 99, 0, 10, 0, 0, 0, 1, 0xab, 0xcd];
        let m = OfpMessage::decode(&frame).unwrap();
        assert_eq!(
            m.body,
            Message::Unknown {
                msg_type: 99,
                body: Bytes::from_static(&[0xab, 0xcd])
            }
        );
        assert_eq!(&m.to_bytes()[..], &frame);
        let of10_hello = [1, 0, 0, 8, 0, 0, 0, 1];
        assert_eq!(
            OfpMessage::decode(&of10_hello).unwrap().body,
            Message::Hello(Hello::default())
        );
        let of10_features = [1, 5, 0, 8, 0, 0, 0, 1];
        let e = OfpMessage::decode(&of10_features).unwrap_err();
        assert_eq!(e.to_ofp_error(), (1, 0));
        assert_eq!(e.offset, 0);
        assert_eq!(e.context, "OFPT_FEATURES_REQUEST");
    }
}
