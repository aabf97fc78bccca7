//! The trait every wire structure implements: read from a bounded [`Reader`], write into a
//! `BytesMut`, and decode a standalone slice that must hold exactly one structure.

use bytes::BytesMut;

use crate::error::{DecodeError, Scope};
use crate::reader::Reader;

/// A structure with an OpenFlow 1.3 wire form.
pub trait Codec: Sized {
    /// Name used in errors (the spec's struct name).
    const NAME: &'static str;
    /// Error scope of this structure.
    const SCOPE: Scope = Scope::Message;

    /// Reads one structure from the reader, consuming exactly its bytes.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Appends the wire form, computing every length field.
    fn encode(&self, out: &mut BytesMut);

    /// Decodes a slice that holds exactly one structure (trailing bytes are an error).
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, Self::NAME, Self::SCOPE);
        let v = Self::read(&mut r)?;
        r.expect_empty()?;
        Ok(v)
    }

    /// The wire form as a fresh buffer.
    fn to_vec(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.to_vec()
    }
}
