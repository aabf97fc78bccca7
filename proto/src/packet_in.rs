//! OFPT_PACKET_IN body (`ofp_packet_in`, spec 7.4.1).

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::match_::Match;
use crate::reader::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PacketIn {
    pub buffer_id: u32,
    pub total_len: u16,
    pub reason: u8,
    pub table_id: u8,
    pub cookie: u64,
    pub match_: Match,
    /// The Ethernet frame (possibly cut to `miss_send_len`/`max_len`).
    pub data: Bytes,
}

impl Codec for PacketIn {
    const NAME: &'static str = "ofp_packet_in";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let reason = r.u8()?;
        let table_id = r.u8()?;
        let cookie = r.u64()?;
        let match_ = Match::read(r)?;
        r.pad(2)?;
        Ok(PacketIn {
            buffer_id,
            total_len,
            reason,
            table_id,
            cookie,
            match_,
            data: r.rest_bytes(),
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.buffer_id);
        out.put_u16(self.total_len);
        out.put_u8(self.reason);
        out.put_u8(self.table_id);
        out.put_u64(self.cookie);
        self.match_.encode(out);
        out.put_u16(0);
        out.put_slice(&self.data);
    }
}

impl PacketIn {
    /// Size of the body on the wire (after the 8-byte header), what [`Codec::encode`] writes.
    pub fn wire_len(&self) -> usize {
        // buffer_id .. cookie: 16 bytes; 2 bytes of padding after the match.
        16 + self.match_.wire_len() + 2 + self.data.len()
    }

    /// The `in_port` match field, if present.
    pub fn in_port(&self) -> Option<u32> {
        self.match_.fields.iter().find_map(|f| match f {
            crate::oxm::Oxm::InPort(p) => Some(*p),
            _ => None,
        })
    }
}
