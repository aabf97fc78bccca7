//! OFPT_FEATURES_REPLY body (`ofp_switch_features`, spec 7.3.1).

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeaturesReply {
    pub datapath_id: u64,
    pub n_buffers: u32,
    pub n_tables: u8,
    pub auxiliary_id: u8,
    pub capabilities: u32,
    pub reserved: u32,
}

impl Codec for FeaturesReply {
    const NAME: &'static str = "ofp_switch_features";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let datapath_id = r.u64()?;
        let n_buffers = r.u32()?;
        let n_tables = r.u8()?;
        let auxiliary_id = r.u8()?;
        r.pad(2)?;
        let capabilities = r.u32()?;
        let reserved = r.u32()?;
        Ok(FeaturesReply {
            datapath_id,
            n_buffers,
            n_tables,
            auxiliary_id,
            capabilities,
            reserved,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u64(self.datapath_id);
        out.put_u32(self.n_buffers);
        out.put_u8(self.n_tables);
        out.put_u8(self.auxiliary_id);
        out.put_u16(0);
        out.put_u32(self.capabilities);
        out.put_u32(self.reserved);
    }
}
