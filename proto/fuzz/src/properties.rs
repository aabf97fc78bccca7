//! Properties of op25b-proto that must hold for any input bytes. Each function panics (with the
//! input in hex) when a property fails; a codec panic is a failure too.
//!
//! Used by the cargo-fuzz targets in `proto/fuzz/fuzz_targets/` and, through `#[path]`, by the
//! plain test `proto/tests/fuzz_corpus.rs`, which runs every saved input on stable.

use bytes::BytesMut;
use op25b_proto::framer::next_frame;
use op25b_proto::OfpMessage;

/// If `data` decodes as one message, encoding it gives bytes that decode to an equal message,
/// and encoding that again gives the same bytes (encode is deterministic and stable).
pub fn decode_round_trips(data: &[u8]) {
    let Ok(msg) = OfpMessage::decode(data) else {
        return;
    };
    let encoded = msg.to_bytes();
    let again = match OfpMessage::decode(&encoded) {
        Ok(m) => m,
        Err(e) => panic!(
            "re-encoded message does not decode: {e}\n input:   {}\n encoded: {}",
            hex(data),
            hex(&encoded)
        ),
    };
    assert_eq!(
        msg,
        again,
        "decode(encode(m)) != m\n input:   {}\n encoded: {}",
        hex(data),
        hex(&encoded)
    );
    assert_eq!(
        again.to_bytes(),
        encoded,
        "encoding is not stable\n input: {}",
        hex(data)
    );
}

/// Feeding `data` to the framer as a byte stream yields whole frames whose header length equals
/// the frame length, never more bytes than were fed, and each frame satisfies
/// [`decode_round_trips`]. Feeds the stream in two pieces split at the first byte's value, so
/// partial-header and partial-body states are exercised too.
pub fn framer_splits_stream(data: &[u8]) {
    let split = data.first().map_or(0, |&b| usize::from(b).min(data.len()));
    let mut buf = BytesMut::new();
    let mut consumed = 0usize;
    for piece in [&data[..split], &data[split..]] {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match next_frame(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(
                        frame.len() >= 8,
                        "frame shorter than a header: {}",
                        hex(&frame)
                    );
                    let declared = usize::from(u16::from_be_bytes([frame[2], frame[3]]));
                    assert_eq!(
                        declared,
                        frame.len(),
                        "frame length differs from its header: {}",
                        hex(&frame)
                    );
                    assert_eq!(
                        before - buf.len(),
                        frame.len(),
                        "framer consumed a different number of bytes than it returned"
                    );
                    consumed += frame.len();
                    assert!(
                        consumed <= data.len(),
                        "framer returned more bytes than it was fed"
                    );
                    decode_round_trips(&frame);
                }
                Ok(None) => {
                    assert_eq!(
                        before,
                        buf.len(),
                        "framer consumed bytes without returning a frame"
                    );
                    break;
                }
                // A bad length field: the stream cannot be resynchronised; the connection ends.
                Err(_) => return,
            }
        }
    }
    assert_eq!(
        consumed + buf.len(),
        data.len(),
        "bytes lost between the frames and the buffer"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
