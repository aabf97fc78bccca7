//! OFPT_GET_ASYNC_REPLY / OFPT_SET_ASYNC body (`ofp_async_config`, spec 7.3.10). Index 0 of each
//! pair is the master/equal role's mask, index 1 the slave's.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AsyncConfig {
    pub packet_in_mask: [u32; 2],
    pub port_status_mask: [u32; 2],
    pub flow_removed_mask: [u32; 2],
}

impl Codec for AsyncConfig {
    const NAME: &'static str = "ofp_async_config";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AsyncConfig {
            packet_in_mask: [r.u32()?, r.u32()?],
            port_status_mask: [r.u32()?, r.u32()?],
            flow_removed_mask: [r.u32()?, r.u32()?],
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        for w in self
            .packet_in_mask
            .iter()
            .chain(&self.port_status_mask)
            .chain(&self.flow_removed_mask)
        {
            out.put_u32(*w);
        }
    }
}
