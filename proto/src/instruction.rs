//! Instruction TLVs (spec 7.2.4); experimenter and unknown instructions kept raw.

use bytes::{BufMut, Bytes, BytesMut};

use crate::action::{read_actions, read_padded8_list, write_actions, Action};
use crate::codec::Codec;
use crate::consts::*;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::reader::Reader;
use crate::tlv::{self, TlvLen};
use crate::writer;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instruction {
    GotoTable(u8),
    WriteMetadata {
        metadata: u64,
        mask: u64,
    },
    WriteActions(Vec<Action>),
    ApplyActions(Vec<Action>),
    ClearActions,
    Meter(u32),
    /// The whole TLV (header included) of an experimenter or unknown instruction.
    Raw(Bytes),
}

impl Instruction {
    /// The instruction's `ofp_instruction_type`.
    pub fn instruction_type(&self) -> u16 {
        match self {
            Instruction::GotoTable(_) => OFPIT_GOTO_TABLE,
            Instruction::WriteMetadata { .. } => OFPIT_WRITE_METADATA,
            Instruction::WriteActions(_) => OFPIT_WRITE_ACTIONS,
            Instruction::ApplyActions(_) => OFPIT_APPLY_ACTIONS,
            Instruction::ClearActions => OFPIT_CLEAR_ACTIONS,
            Instruction::Meter(_) => OFPIT_METER,
            Instruction::Raw(b) => b
                .get(..2)
                .map(|t| u16::from_be_bytes([t[0], t[1]]))
                .unwrap_or(OFPIT_EXPERIMENTER),
        }
    }

    /// Size on the wire, what [`Codec::encode`] writes.
    pub fn wire_len(&self) -> usize {
        match self {
            Instruction::WriteMetadata { .. } => 24,
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
                8 + a.iter().map(Action::wire_len).sum::<usize>()
            }
            Instruction::Raw(b) => b.len(),
            Instruction::GotoTable(_) | Instruction::ClearActions | Instruction::Meter(_) => 8,
        }
    }

    fn from_tlv(t: tlv::Tlv<'_>) -> Result<Instruction, DecodeError> {
        let len = t.whole.len();
        let mut r = Reader::with_base(t.whole, t.offset, "ofp_instruction", Scope::Instruction);
        let fixed = |r: &Reader<'_>, n: usize| {
            if len == n {
                Ok(())
            } else {
                Err(r.error_at(
                    t.offset,
                    DecodeErrorKind::BadLength {
                        declared: len,
                        rule: "instruction length differs from its fixed size",
                    },
                ))
            }
        };
        r.take(4)?;
        let i = match t.typ {
            OFPIT_GOTO_TABLE => {
                fixed(&r, 8)?;
                let id = r.u8()?;
                r.pad(3)?;
                Instruction::GotoTable(id)
            }
            OFPIT_WRITE_METADATA => {
                fixed(&r, 24)?;
                r.pad(4)?;
                let metadata = r.u64()?;
                let mask = r.u64()?;
                Instruction::WriteMetadata { metadata, mask }
            }
            OFPIT_WRITE_ACTIONS | OFPIT_APPLY_ACTIONS => {
                r.pad(4)?;
                let mut body = r.sub_rest("ofp_instruction_actions", Scope::Action);
                let actions = read_actions(&mut body)?;
                if t.typ == OFPIT_WRITE_ACTIONS {
                    Instruction::WriteActions(actions)
                } else {
                    Instruction::ApplyActions(actions)
                }
            }
            OFPIT_CLEAR_ACTIONS => {
                fixed(&r, 8)?;
                r.pad(4)?;
                Instruction::ClearActions
            }
            OFPIT_METER => {
                fixed(&r, 8)?;
                Instruction::Meter(r.u32()?)
            }
            _ => return Ok(Instruction::Raw(Bytes::copy_from_slice(t.whole))),
        };
        r.expect_empty()?;
        Ok(i)
    }
}

/// Reads instructions until the reader is exhausted.
pub(crate) fn read_instructions(r: &mut Reader<'_>) -> Result<Vec<Instruction>, DecodeError> {
    let mut inner = r.sub_rest("ofp_instruction", Scope::Instruction);
    read_padded8_list(&mut inner, Instruction::from_tlv)
}

pub(crate) fn write_instructions(list: &[Instruction], out: &mut BytesMut) {
    for i in list {
        i.encode(out);
    }
}

impl Codec for Instruction {
    const NAME: &'static str = "ofp_instruction";
    const SCOPE: Scope = Scope::Instruction;

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = tlv::read_tlv(r, TlvLen::Padded8)?;
        Instruction::from_tlv(t)
    }

    fn encode(&self, out: &mut BytesMut) {
        if let Instruction::Raw(b) = self {
            out.put_slice(b);
            return;
        }
        let start = out.len();
        out.put_u16(self.instruction_type());
        let at = writer::placeholder_u16(out);
        match self {
            Instruction::GotoTable(id) => {
                out.put_u8(*id);
                writer::pad(out, 3);
            }
            Instruction::WriteMetadata { metadata, mask } => {
                writer::pad(out, 4);
                out.put_u64(*metadata);
                out.put_u64(*mask);
            }
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
                writer::pad(out, 4);
                write_actions(a, out);
            }
            Instruction::ClearActions => writer::pad(out, 4),
            Instruction::Meter(m) => out.put_u32(*m),
            Instruction::Raw(_) => {}
        }
        writer::patch_len_since(out, at, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_output_is_spec_bytes() {
        let i = Instruction::ApplyActions(vec![Action::Output {
            port: 2,
            max_len: 0,
        }]);
        let b = i.to_vec();
        assert_eq!(
            b,
            [0, 4, 0, 24, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(Instruction::decode(&b), Ok(i));
    }

    #[test]
    fn goto_table_with_wrong_len_is_bad_len() {
        let e =
            Instruction::decode(&[0, 1, 0, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.to_ofp_error(), (3, 7));
    }
}
