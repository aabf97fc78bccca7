//! OFPT_GET_CONFIG_REPLY / OFPT_SET_CONFIG body (`ofp_switch_config`, spec 7.3.2).

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SwitchConfig {
    pub flags: u16,
    pub miss_send_len: u16,
}

impl Codec for SwitchConfig {
    const NAME: &'static str = "ofp_switch_config";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SwitchConfig {
            flags: r.u16()?,
            miss_send_len: r.u16()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.flags);
        out.put_u16(self.miss_send_len);
    }
}
