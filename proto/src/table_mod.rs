//! OFPT_TABLE_MOD body (`ofp_table_mod`, spec 7.3.3).

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableMod {
    pub table_id: u8,
    pub config: u32,
}

impl Codec for TableMod {
    const NAME: &'static str = "ofp_table_mod";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let table_id = r.u8()?;
        r.pad(3)?;
        Ok(TableMod {
            table_id,
            config: r.u32()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.table_id);
        out.put_bytes(0, 3);
        out.put_u32(self.config);
    }
}
