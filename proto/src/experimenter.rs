//! OFPT_EXPERIMENTER (spec 7.5.5): experimenter id, type, opaque data.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExperimenterMsg {
    pub experimenter: u32,
    pub exp_type: u32,
    pub data: Bytes,
}

impl Codec for ExperimenterMsg {
    const NAME: &'static str = "ofp_experimenter_header";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ExperimenterMsg {
            experimenter: r.u32()?,
            exp_type: r.u32()?,
            data: r.rest_bytes(),
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.experimenter);
        out.put_u32(self.exp_type);
        out.put_slice(&self.data);
    }
}
