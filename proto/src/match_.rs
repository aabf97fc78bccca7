//! `ofp_match` (OFPMT_OXM): a 4-byte header, the OXM TLVs in wire order, zero padding to 8.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::consts::OFPMT_OXM;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::oxm::Oxm;
use crate::reader::Reader;
use crate::writer;

/// A match: its OXM fields in wire order (kept, so re-encoding is byte-identical).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Match {
    pub fields: Vec<Oxm>,
}

impl Match {
    /// The match-all (empty) match.
    pub fn all() -> Self {
        Match::default()
    }

    pub fn new(fields: Vec<Oxm>) -> Self {
        Match { fields }
    }

    /// Wire size including padding.
    pub fn wire_len(&self) -> usize {
        let len = 4 + self.fields.iter().map(Oxm::wire_len).sum::<usize>();
        len + writer::padding_to_8(len)
    }
}

impl Codec for Match {
    const NAME: &'static str = "ofp_match";
    const SCOPE: Scope = Scope::Match;

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut head = r.sub(4, "ofp_match", Scope::Match)?;
        let match_type = head.u16()?;
        let length = usize::from(head.u16()?);
        if match_type != OFPMT_OXM {
            return Err(head.error_at(
                head.offset() - 4,
                DecodeErrorKind::BadMatchType { match_type },
            ));
        }
        // Spec 7.2.2: "length ... excluding padding", so at least the 4-byte header.
        if length < 4 {
            return Err(head.error_at(
                head.offset() - 2,
                DecodeErrorKind::BadLength {
                    declared: length,
                    rule: "ofp_match length below 4",
                },
            ));
        }
        let mut body = r.sub(length - 4, "ofp_match", Scope::Match)?;
        // An OXM takes at least its 4-byte header: the frame bounds the count.
        let mut fields = Vec::with_capacity(body.remaining() / 4);
        while body.remaining() > 0 {
            fields.push(Oxm::read(&mut body)?);
        }
        let padding = writer::padding_to_8(length);
        let mut pad = r.sub(padding, "ofp_match padding", Scope::Match)?;
        pad.pad(padding)?;
        Ok(Match { fields })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        out.put_u16(OFPMT_OXM);
        let at = writer::placeholder_u16(out);
        for f in &self.fields {
            f.encode(out);
        }
        writer::patch_len_since(out, at, start);
        writer::pad_to_8(out, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_match_is_header_and_padding() {
        assert_eq!(Match::all().to_vec(), [0, 1, 0, 4, 0, 0, 0, 0]);
        assert_eq!(Match::decode(&[0, 1, 0, 4, 0, 0, 0, 0]), Ok(Match::all()));
    }

    #[test]
    fn standard_match_type_is_refused_with_bad_type() {
        let e = Match::decode(&[0, 0, 0, 4, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::BadMatchType { match_type: 0 });
        assert_eq!(e.to_ofp_error(), (4, 0));
    }

    #[test]
    fn truncated_padding_is_an_error() {
        let e = Match::decode(&[0, 1, 0, 4, 0, 0]).unwrap_err();
        assert!(e.is_truncation());
    }
}
