//! OFPMP_DESC reply body (spec 7.3.5.1): the switch's description strings.

use bytes::BytesMut;

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::writer;

pub const DESC_STR_LEN: usize = 256;
pub const SERIAL_NUM_LEN: usize = 32;

/// OFPMP_DESC reply (`ofp_desc`): NUL-trimmed strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Desc {
    pub mfr_desc: String,
    pub hw_desc: String,
    pub sw_desc: String,
    pub serial_num: String,
    pub dp_desc: String,
}

impl Codec for Desc {
    const NAME: &'static str = "ofp_desc";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Desc {
            mfr_desc: r.fixed_str(DESC_STR_LEN)?,
            hw_desc: r.fixed_str(DESC_STR_LEN)?,
            sw_desc: r.fixed_str(DESC_STR_LEN)?,
            serial_num: r.fixed_str(SERIAL_NUM_LEN)?,
            dp_desc: r.fixed_str(DESC_STR_LEN)?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        writer::fixed_str(out, &self.mfr_desc, DESC_STR_LEN);
        writer::fixed_str(out, &self.hw_desc, DESC_STR_LEN);
        writer::fixed_str(out, &self.sw_desc, DESC_STR_LEN);
        writer::fixed_str(out, &self.serial_num, SERIAL_NUM_LEN);
        writer::fixed_str(out, &self.dp_desc, DESC_STR_LEN);
    }
}
