//! OFPT_PACKET_OUT body (`ofp_packet_out`, spec 7.3.7).

use bytes::{BufMut, Bytes, BytesMut};

use crate::action::{read_actions, write_actions, Action};
use crate::codec::Codec;
use crate::error::{DecodeError, Scope};
use crate::reader::Reader;
use crate::writer;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PacketOut {
    pub buffer_id: u32,
    pub in_port: u32,
    pub actions: Vec<Action>,
    /// Packet data; only meaningful when `buffer_id` is OFP_NO_BUFFER.
    pub data: Bytes,
}

impl Codec for PacketOut {
    const NAME: &'static str = "ofp_packet_out";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let buffer_id = r.u32()?;
        let in_port = r.u32()?;
        let actions_len = usize::from(r.u16()?);
        r.pad(6)?;
        // "actions_len: size of action array in bytes" - it must fit in what the frame holds.
        let mut actions_r = r.sub(actions_len, "ofp_packet_out actions", Scope::Action)?;
        let actions = read_actions(&mut actions_r)?;
        Ok(PacketOut {
            buffer_id,
            in_port,
            actions,
            data: r.rest_bytes(),
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.buffer_id);
        out.put_u32(self.in_port);
        let at = writer::placeholder_u16(out);
        writer::pad(out, 6);
        let start = out.len();
        write_actions(&self.actions, out);
        writer::patch_len_since(out, at, start);
        out.put_slice(&self.data);
    }
}
