//! Cutting a TCP byte stream into OpenFlow frames: need 8 bytes, read the u16 length, reject a
//! length below 8 (it would never advance), wait for the whole frame, split it off.

use bytes::{Bytes, BytesMut};

use crate::consts::OFP_HEADER_LEN;

/// A stream that cannot be framed: the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Spec 7.1: the length includes the 8-byte header, so anything below 8 is impossible.
    #[error("ofp_header length {length} is below the 8-byte header (version {version:#04x}, type {msg_type})")]
    LengthBelowHeader {
        length: u16,
        version: u8,
        msg_type: u8,
    },
}

/// The length the header at the front of `buf` declares: `Ok(None)` until the 8-byte header is
/// in, an error for a length below the header.
fn declared_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    if buf.len() < OFP_HEADER_LEN {
        return Ok(None);
    }
    let length = u16::from_be_bytes([buf[2], buf[3]]);
    if usize::from(length) < OFP_HEADER_LEN {
        return Err(FrameError::LengthBelowHeader {
            length,
            version: buf[0],
            msg_type: buf[1],
        });
    }
    Ok(Some(usize::from(length)))
}

/// The length of the whole frame at the front of `buf`: `Ok(None)` while it is incomplete. For
/// a reader that decodes `&buf[..len]` in place and then advances past it (no split, no shared
/// buffer: what a connection does for every message).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    Ok(declared_len(buf)?.filter(|&len| buf.len() >= len))
}

/// Splits the next whole frame off the front of `buf`: `Ok(None)` while it is incomplete (room
/// for the rest is reserved); call again for the next one (a read may carry several).
pub fn next_frame(buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
    let Some(len) = declared_len(buf)? else {
        return Ok(None);
    };
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    Ok(Some(buf.split_to(len).freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_whole_and_several() {
        let mut b = BytesMut::from(&[4u8, 0, 0, 8, 0, 0][..]);
        assert_eq!(next_frame(&mut b), Ok(None));
        b.extend_from_slice(&[0, 1, 4, 2, 0, 10, 0, 0, 0, 2, 0xaa]);
        assert_eq!(
            next_frame(&mut b).unwrap().unwrap().as_ref(),
            &[4, 0, 0, 8, 0, 0, 0, 1]
        );
        assert_eq!(next_frame(&mut b), Ok(None));
        b.extend_from_slice(&[0xbb]);
        assert_eq!(next_frame(&mut b).unwrap().unwrap().len(), 10);
        assert!(b.is_empty());
    }

    #[test]
    fn frame_len_agrees_with_next_frame_without_consuming() {
        let stream: Vec<u8> = [
            &[4u8, 0, 0, 8, 0, 0, 0, 1][..],
            &[4, 2, 0, 10, 0, 0, 0, 2, 0xaa, 0xbb],
        ]
        .concat();
        // Every prefix of the stream from each frame's start: nothing, a partial header, a
        // whole header with part of the body (the 10-byte frame at 8), a whole frame and more.
        for start in [0, 8] {
            for cut in start..=stream.len() {
                let mut b = BytesMut::from(&stream[start..cut]);
                let len = frame_len(&b).expect("valid lengths");
                assert_eq!(b.len(), cut - start, "frame_len consumes nothing");
                let frame = next_frame(&mut b).expect("valid lengths");
                assert_eq!(len, frame.map(|f| f.len()), "{start}..{cut}");
                let whole = if start == 0 { 8 } else { 10 };
                let expected = (cut - start >= whole).then_some(whole);
                assert_eq!(len, expected, "{start}..{cut}");
            }
        }
        let mut at = 0;
        let mut lens = Vec::new();
        while let Some(len) = frame_len(&stream[at..]).expect("valid lengths") {
            lens.push(len);
            at += len;
        }
        assert_eq!(lens, vec![8, 10]);
        assert_eq!(at, stream.len());
        assert_eq!(
            frame_len(&[4u8, 0, 0, 7, 0, 0, 0, 1]),
            Err(FrameError::LengthBelowHeader {
                length: 7,
                version: 4,
                msg_type: 0
            })
        );
    }

    #[test]
    fn zero_length_is_an_error_not_an_empty_frame() {
        let mut b = BytesMut::from(&[4u8, 0, 0, 0, 0, 0, 0, 1][..]);
        assert_eq!(
            next_frame(&mut b),
            Err(FrameError::LengthBelowHeader {
                length: 0,
                version: 4,
                msg_type: 0
            })
        );
    }
}
