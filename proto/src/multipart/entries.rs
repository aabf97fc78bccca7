//! Lists of entries in multipart bodies: read until the body is exhausted, and the
//! length-prefixed entry (`len` first, counting itself) that most variable-size entries share.

use crate::codec::Codec;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::reader::Reader;

/// Reads a length-prefixed entry: `len` at `r`'s position (u16, counting itself), at least `min`.
pub(crate) fn entry<'a>(
    r: &mut Reader<'a>,
    name: &'static str,
    min: usize,
) -> Result<Reader<'a>, DecodeError> {
    let at = r.offset();
    let len = usize::from(r.u16()?);
    if len < min {
        return Err(r.error_at(
            at,
            DecodeErrorKind::BadLength {
                declared: len,
                rule: "entry shorter than its fixed part",
            },
        ));
    }
    r.sub(len - 2, name, Scope::Message)
}

/// Reads fixed-size or self-delimited entries until the reader is exhausted.
pub(crate) fn read_all<T: Codec>(r: &mut Reader<'_>) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::new();
    while r.remaining() > 0 {
        v.push(T::read(r)?);
    }
    Ok(v)
}

/// Reads entries of at least `min_len` bytes each until the reader is exhausted, with the
/// vector sized once from that bound.
pub(crate) fn read_all_at_least<T: Codec>(
    r: &mut Reader<'_>,
    min_len: usize,
) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::with_capacity(r.remaining() / min_len.max(1));
    while r.remaining() > 0 {
        v.push(T::read(r)?);
    }
    Ok(v)
}
