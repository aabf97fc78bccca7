//! OFPT_ROLE_REQUEST / OFPT_ROLE_REPLY body (`ofp_role_request`, spec 7.3.9).

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoleMsg {
    pub role: u32,
    pub generation_id: u64,
}

impl Codec for RoleMsg {
    const NAME: &'static str = "ofp_role_request";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let role = r.u32()?;
        r.pad(4)?;
        Ok(RoleMsg {
            role,
            generation_id: r.u64()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.role);
        out.put_u32(0);
        out.put_u64(self.generation_id);
    }
}
