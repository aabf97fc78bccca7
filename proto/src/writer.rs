//! Encoding helpers: length placeholders patched once the structure is written, zero padding and
//! fixed-width strings.

use bytes::{BufMut, BytesMut};

/// Reserves a big-endian u16 length at the current end of `out`; returns its position.
pub(crate) fn placeholder_u16(out: &mut BytesMut) -> usize {
    let at = out.len();
    out.put_u16(0);
    at
}

/// Writes `value` into the u16 placeholder at `at`. Lengths beyond u16 are clamped to 65,535:
/// a structure that big cannot be expressed on the wire, and `Codec::encode` has no way to say
/// so. The clamped length is wrong, so a caller that may build such a message encodes it with
/// `Message::try_encode_as` (or `OfpMessage::try_encode`), which refuses any message over
/// 65,535 bytes; every inner length lies within its message, so that refusal covers them too.
pub(crate) fn patch_u16(out: &mut BytesMut, at: usize, value: usize) {
    let v = u16::try_from(value).unwrap_or(u16::MAX).to_be_bytes();
    if let Some(slot) = out.get_mut(at..at + 2) {
        slot.copy_from_slice(&v);
    }
}

/// Patches the u16 at `at` with the number of bytes written since `start`.
pub(crate) fn patch_len_since(out: &mut BytesMut, at: usize, start: usize) {
    let len = out.len() - start;
    patch_u16(out, at, len);
}

/// Writes `n` zero bytes.
pub(crate) fn pad(out: &mut BytesMut, n: usize) {
    out.put_bytes(0, n);
}

/// Pads with zeros so that the bytes written since `start` are a multiple of 8.
pub(crate) fn pad_to_8(out: &mut BytesMut, start: usize) {
    let len = out.len() - start;
    pad(out, padding_to_8(len));
}

/// Bytes of padding that bring `len` to a multiple of 8.
pub(crate) fn padding_to_8(len: usize) -> usize {
    (8 - len % 8) % 8
}

/// Writes a `char[n]` field: the string's bytes (at most n, cut at a UTF-8 boundary), then NULs.
/// A string of exactly n bytes is written unterminated, as a peer that filled the field sent it.
pub(crate) fn fixed_str(out: &mut BytesMut, s: &str, n: usize) {
    let b = s.as_bytes();
    let mut take = b.len().min(n);
    // Never cut inside a UTF-8 sequence.
    while take > 0 && !s.is_char_boundary(take) {
        take -= 1;
    }
    out.put_slice(&b[..take]);
    pad(out, n - take);
}
