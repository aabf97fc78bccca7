//! Splitting TLV lists (actions, instructions, properties, bands) on an already-framed slice with
//! nom; the typed checks on each header live here so every list reports errors the same way.

use nom::number::complete::be_u16;
use nom::{IResult, Parser};

use crate::error::{DecodeError, DecodeErrorKind};
use crate::reader::Reader;

/// One TLV of a list: its type, the whole TLV (header included, padding excluded) and where it starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub typ: u16,
    pub whole: &'a [u8],
    pub offset: usize,
}

/// How a TLV's length field is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlvLen {
    /// Length counts the 4-byte header and is a multiple of 8 (actions, instructions, meter
    /// bands, queue properties).
    Padded8,
    /// Length counts the header but not the trailing padding to 8 (hello elements, table-feature
    /// properties).
    ExcludesPadding,
    /// Length counts the header and the body; no alignment (queue properties as encoders send
    /// them: an experimenter property with one data byte has length 17).
    Exact,
}

fn type_and_len(input: &[u8]) -> IResult<&[u8], (u16, u16)> {
    (be_u16, be_u16).parse(input)
}

/// Reads every TLV until the reader is exhausted.
pub(crate) fn tlv_list<'a>(r: &mut Reader<'a>, how: TlvLen) -> Result<Vec<Tlv<'a>>, DecodeError> {
    let mut out = Vec::new();
    while r.remaining() > 0 {
        out.push(read_tlv(r, how)?);
    }
    Ok(out)
}

/// Reads one TLV (and its padding).
pub(crate) fn read_tlv<'a>(r: &mut Reader<'a>, how: TlvLen) -> Result<Tlv<'a>, DecodeError> {
    let offset = r.offset();
    let head = r.peek(4)?;
    let Ok((_, (typ, len))) = type_and_len(head) else {
        return Err(r.error(DecodeErrorKind::Truncated {
            needed: 4,
            available: r.remaining(),
        }));
    };
    let len = usize::from(len);
    if len < 4 {
        return Err(r.error(DecodeErrorKind::BadLength {
            declared: len,
            rule: "TLV length below its 4-byte header",
        }));
    }
    if how == TlvLen::Padded8 && len % 8 != 0 {
        return Err(r.error(DecodeErrorKind::BadLength {
            declared: len,
            rule: "TLV length must be a multiple of 8",
        }));
    }
    if len > r.remaining() {
        return Err(r.error(DecodeErrorKind::LengthLies {
            declared: len,
            available: r.remaining(),
        }));
    }
    let whole = r.take(len)?;
    if how == TlvLen::ExcludesPadding {
        // A short tail is Truncated (from `Reader::take`), a non-zero one BadPadding.
        r.pad(crate::writer::padding_to_8(len))?;
    }
    Ok(Tlv { typ, whole, offset })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Scope;

    #[test]
    fn splits_padded_lists_and_rejects_lies() {
        let b = [0, 0, 0, 8, 1, 2, 3, 4, 0, 18, 0, 8, 0, 0, 0, 0];
        let mut r = Reader::new(&b, "test", Scope::Action);
        let l = tlv_list(&mut r, TlvLen::Padded8).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].typ, 18);
        assert_eq!(l[1].offset, 8);
        let lie = [0, 0, 0, 16, 1, 2, 3, 4];
        let mut r = Reader::new(&lie, "test", Scope::Action);
        let e = tlv_list(&mut r, TlvLen::Padded8).unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthLies {
                declared: 16,
                available: 8
            }
        );
        let odd = [0, 0, 0, 6, 1, 2, 0, 0];
        let mut r = Reader::new(&odd, "test", Scope::Action);
        assert!(matches!(
            tlv_list(&mut r, TlvLen::Padded8).unwrap_err().kind,
            DecodeErrorKind::BadLength { .. }
        ));
        let short = [0, 0, 0];
        let mut r = Reader::new(&short, "test", Scope::Action);
        assert!(matches!(
            tlv_list(&mut r, TlvLen::Padded8).unwrap_err().kind,
            DecodeErrorKind::Truncated { .. }
        ));
    }

    #[test]
    fn excluding_padding_skips_it() {
        let b = [0, 1, 0, 8, 0, 0, 0, 0x10, 0, 2, 0, 5, 9, 0, 0, 0];
        let mut r = Reader::new(&b, "test", Scope::Message);
        let l = tlv_list(&mut r, TlvLen::ExcludesPadding).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].whole, &[0, 2, 0, 5, 9]);
    }

    #[test]
    fn excluded_padding_must_be_there_and_zero() {
        let short = [0, 2, 0, 5, 9, 0];
        let mut r = Reader::new(&short, "test", Scope::Message);
        let e = tlv_list(&mut r, TlvLen::ExcludesPadding).unwrap_err();
        assert_eq!(
            (e.offset, e.kind),
            (
                5,
                DecodeErrorKind::Truncated {
                    needed: 3,
                    available: 1
                }
            )
        );
        let dirty = [0, 2, 0, 5, 9, 0, 1, 0];
        let mut r = Reader::new(&dirty, "test", Scope::Message);
        let e = tlv_list(&mut r, TlvLen::ExcludesPadding).unwrap_err();
        assert_eq!((e.offset, e.kind), (5, DecodeErrorKind::BadPadding));
    }
}
