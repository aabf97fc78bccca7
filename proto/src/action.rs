//! Action TLVs (spec 7.2.5). Every standard action is typed; experimenter and unknown actions are
//! kept as their whole TLV and re-encoded byte for byte.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::consts::*;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::oxm::Oxm;
use crate::reader::Reader;
use crate::tlv::{self, TlvLen};
use crate::writer;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    Output {
        port: u32,
        max_len: u16,
    },
    CopyTtlOut,
    CopyTtlIn,
    SetMplsTtl(u8),
    DecMplsTtl,
    PushVlan(u16),
    PopVlan,
    PushMpls(u16),
    PopMpls(u16),
    SetQueue(u32),
    Group(u32),
    SetNwTtl(u8),
    DecNwTtl,
    SetField(Oxm),
    PushPbb(u16),
    PopPbb,
    /// The whole TLV (header included) of an experimenter or unknown action.
    Raw(Bytes),
}

impl Action {
    /// Output to `port`, sending whole packets to the controller when `port` is OFPP_CONTROLLER.
    pub fn output(port: u32) -> Self {
        Action::Output {
            port,
            max_len: OFPCML_NO_BUFFER,
        }
    }

    /// The action's `ofp_action_type`.
    pub fn action_type(&self) -> u16 {
        match self {
            Action::Output { .. } => OFPAT_OUTPUT,
            Action::CopyTtlOut => OFPAT_COPY_TTL_OUT,
            Action::CopyTtlIn => OFPAT_COPY_TTL_IN,
            Action::SetMplsTtl(_) => OFPAT_SET_MPLS_TTL,
            Action::DecMplsTtl => OFPAT_DEC_MPLS_TTL,
            Action::PushVlan(_) => OFPAT_PUSH_VLAN,
            Action::PopVlan => OFPAT_POP_VLAN,
            Action::PushMpls(_) => OFPAT_PUSH_MPLS,
            Action::PopMpls(_) => OFPAT_POP_MPLS,
            Action::SetQueue(_) => OFPAT_SET_QUEUE,
            Action::Group(_) => OFPAT_GROUP,
            Action::SetNwTtl(_) => OFPAT_SET_NW_TTL,
            Action::DecNwTtl => OFPAT_DEC_NW_TTL,
            Action::SetField(_) => OFPAT_SET_FIELD,
            Action::PushPbb(_) => OFPAT_PUSH_PBB,
            Action::PopPbb => OFPAT_POP_PBB,
            Action::Raw(b) => b
                .get(..2)
                .map(|t| u16::from_be_bytes([t[0], t[1]]))
                .unwrap_or(OFPAT_EXPERIMENTER),
        }
    }

    /// Size on the wire (padding included), what [`Codec::encode`] writes.
    pub fn wire_len(&self) -> usize {
        match self {
            Action::Output { .. } => 16,
            Action::SetField(oxm) => {
                let len = 4 + oxm.wire_len();
                len + writer::padding_to_8(len)
            }
            Action::Raw(b) => b.len(),
            _ => 8,
        }
    }

    fn from_tlv(t: tlv::Tlv<'_>) -> Result<Action, DecodeError> {
        let whole = t.whole;
        let len = whole.len();
        let mut r = Reader::with_base(whole, t.offset, "ofp_action", Scope::Action);
        // Spec 7.2.5: each standard action has a fixed size, stated in its `len`.
        let fixed = |r: &Reader<'_>, n: usize| {
            if len == n {
                Ok(())
            } else {
                Err(r.error_at(
                    t.offset,
                    DecodeErrorKind::BadLength {
                        declared: len,
                        rule: "action length differs from its fixed size",
                    },
                ))
            }
        };
        r.take(4)?;
        let a = match t.typ {
            OFPAT_OUTPUT => {
                fixed(&r, 16)?;
                let port = r.u32()?;
                let max_len = r.u16()?;
                r.pad(6)?;
                Action::Output { port, max_len }
            }
            OFPAT_COPY_TTL_OUT | OFPAT_COPY_TTL_IN | OFPAT_DEC_MPLS_TTL | OFPAT_POP_VLAN
            | OFPAT_DEC_NW_TTL | OFPAT_POP_PBB => {
                fixed(&r, 8)?;
                r.pad(4)?;
                match t.typ {
                    OFPAT_COPY_TTL_OUT => Action::CopyTtlOut,
                    OFPAT_COPY_TTL_IN => Action::CopyTtlIn,
                    OFPAT_DEC_MPLS_TTL => Action::DecMplsTtl,
                    OFPAT_POP_VLAN => Action::PopVlan,
                    OFPAT_DEC_NW_TTL => Action::DecNwTtl,
                    _ => Action::PopPbb,
                }
            }
            OFPAT_SET_MPLS_TTL | OFPAT_SET_NW_TTL => {
                fixed(&r, 8)?;
                let ttl = r.u8()?;
                r.pad(3)?;
                if t.typ == OFPAT_SET_MPLS_TTL {
                    Action::SetMplsTtl(ttl)
                } else {
                    Action::SetNwTtl(ttl)
                }
            }
            OFPAT_PUSH_VLAN | OFPAT_PUSH_MPLS | OFPAT_POP_MPLS | OFPAT_PUSH_PBB => {
                fixed(&r, 8)?;
                let ethertype = r.u16()?;
                r.pad(2)?;
                match t.typ {
                    OFPAT_PUSH_VLAN => Action::PushVlan(ethertype),
                    OFPAT_PUSH_MPLS => Action::PushMpls(ethertype),
                    OFPAT_POP_MPLS => Action::PopMpls(ethertype),
                    _ => Action::PushPbb(ethertype),
                }
            }
            OFPAT_SET_QUEUE | OFPAT_GROUP => {
                fixed(&r, 8)?;
                let v = r.u32()?;
                if t.typ == OFPAT_SET_QUEUE {
                    Action::SetQueue(v)
                } else {
                    Action::Group(v)
                }
            }
            OFPAT_SET_FIELD => {
                // Spec 7.2.5: "the field ... followed by the minimum padding to make the action
                // 64-bit aligned": exactly one OXM, then fewer than 8 zero bytes.
                let oxm = Oxm::read(&mut r)?;
                let padding = r.remaining();
                if padding >= 8 {
                    return Err(r.error(DecodeErrorKind::BadLength {
                        declared: len,
                        rule: "set_field longer than its OXM plus padding",
                    }));
                }
                r.pad(padding)?;
                Action::SetField(oxm)
            }
            _ => return Ok(Action::Raw(Bytes::copy_from_slice(whole))),
        };
        r.expect_empty()?;
        Ok(a)
    }
}

/// Reads a list of actions filling the reader.
pub(crate) fn read_actions(r: &mut Reader<'_>) -> Result<Vec<Action>, DecodeError> {
    read_padded8_list(r, Action::from_tlv)
}

/// Reads TLVs whose lengths are multiples of 8 (actions, instructions) until `r` is
/// exhausted, turning each into a `T` with `from_tlv`.
pub(crate) fn read_padded8_list<T>(
    r: &mut Reader<'_>,
    from_tlv: fn(tlv::Tlv<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    // Every element is a multiple of 8 bytes long: the frame bounds the count.
    let mut out = Vec::with_capacity(r.remaining() / 8);
    while r.remaining() > 0 {
        out.push(from_tlv(tlv::read_tlv(r, TlvLen::Padded8)?)?);
    }
    Ok(out)
}

/// Writes a list of actions.
pub(crate) fn write_actions(actions: &[Action], out: &mut BytesMut) {
    for a in actions {
        a.encode(out);
    }
}

impl Codec for Action {
    const NAME: &'static str = "ofp_action";
    const SCOPE: Scope = Scope::Action;

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = tlv::read_tlv(r, TlvLen::Padded8)?;
        Action::from_tlv(t)
    }

    fn encode(&self, out: &mut BytesMut) {
        if let Action::Raw(b) = self {
            out.put_slice(b);
            return;
        }
        let start = out.len();
        out.put_u16(self.action_type());
        let at = writer::placeholder_u16(out);
        match self {
            Action::Output { port, max_len } => {
                out.put_u32(*port);
                out.put_u16(*max_len);
                writer::pad(out, 6);
            }
            Action::CopyTtlOut
            | Action::CopyTtlIn
            | Action::DecMplsTtl
            | Action::PopVlan
            | Action::DecNwTtl
            | Action::PopPbb => writer::pad(out, 4),
            Action::SetMplsTtl(v) | Action::SetNwTtl(v) => {
                out.put_u8(*v);
                writer::pad(out, 3);
            }
            Action::PushVlan(e) | Action::PushMpls(e) | Action::PopMpls(e) | Action::PushPbb(e) => {
                out.put_u16(*e);
                writer::pad(out, 2);
            }
            Action::SetQueue(v) | Action::Group(v) => out.put_u32(*v),
            Action::SetField(oxm) => {
                oxm.encode(out);
                writer::pad_to_8(out, start);
            }
            Action::Raw(_) => {}
        }
        writer::patch_len_since(out, at, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_to_controller_bytes() {
        let a = Action::output(OFPP_CONTROLLER);
        assert_eq!(
            a.to_vec(),
            [0, 0, 0, 16, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn set_field_pads_to_8_and_bad_length_reports_absolute_offset() {
        let a = Action::SetField(Oxm::TcpDst(25));
        let b = a.to_vec();
        assert_eq!(b, [0, 25, 0, 16, 0x80, 0, 0x1c, 2, 0, 25, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Action::decode(&b), Ok(a));
        let mut two = Action::PopVlan.to_vec();
        two.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 1]);
        let mut r = Reader::new(&two, "t", Scope::Action);
        let e = read_actions(&mut r).unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(matches!(e.kind, DecodeErrorKind::BadLength { .. }));
        assert_eq!(e.to_ofp_error(), (2, 1));
    }
}
