//! Meters: OFPT_METER_MOD and `ofp_meter_band_*` (spec 7.3.4.4).

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::consts::{OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMBT_EXPERIMENTER};
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::reader::Reader;
use crate::tlv::{self, TlvLen};
use crate::writer;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MeterBand {
    Drop {
        rate: u32,
        burst_size: u32,
    },
    DscpRemark {
        rate: u32,
        burst_size: u32,
        prec_level: u8,
    },
    Experimenter {
        rate: u32,
        burst_size: u32,
        experimenter: u32,
        data: Bytes,
    },
    /// Any other band type: the whole TLV, re-encoded byte for byte.
    Raw(Bytes),
}

/// Reads bands until the reader is exhausted.
pub(crate) fn read_bands(r: &mut Reader<'_>) -> Result<Vec<MeterBand>, DecodeError> {
    let mut inner = r.sub_rest("ofp_meter_band", Scope::MeterBand);
    let mut out = Vec::new();
    for t in tlv::tlv_list(&mut inner, TlvLen::Padded8)? {
        let mut b = Reader::with_base(t.whole, t.offset, "ofp_meter_band", Scope::MeterBand);
        b.take(4)?;
        let need16 = |b: &Reader<'_>| {
            if t.whole.len() == 16 {
                Ok(())
            } else {
                Err(b.error_at(
                    t.offset,
                    DecodeErrorKind::BadLength {
                        declared: t.whole.len(),
                        rule: "meter band must be 16 bytes",
                    },
                ))
            }
        };
        let band = match t.typ {
            OFPMBT_DROP => {
                need16(&b)?;
                let rate = b.u32()?;
                let burst_size = b.u32()?;
                b.pad(4)?;
                MeterBand::Drop { rate, burst_size }
            }
            OFPMBT_DSCP_REMARK => {
                need16(&b)?;
                let rate = b.u32()?;
                let burst_size = b.u32()?;
                let prec_level = b.u8()?;
                b.pad(3)?;
                MeterBand::DscpRemark {
                    rate,
                    burst_size,
                    prec_level,
                }
            }
            OFPMBT_EXPERIMENTER => {
                let rate = b.u32()?;
                let burst_size = b.u32()?;
                let experimenter = b.u32()?;
                MeterBand::Experimenter {
                    rate,
                    burst_size,
                    experimenter,
                    data: b.rest_bytes(),
                }
            }
            _ => {
                b.rest();
                MeterBand::Raw(Bytes::copy_from_slice(t.whole))
            }
        };
        b.expect_empty()?;
        out.push(band);
    }
    Ok(out)
}

pub(crate) fn write_bands(bands: &[MeterBand], out: &mut BytesMut) {
    for band in bands {
        let start = out.len();
        let (typ, rate, burst) = match band {
            MeterBand::Drop { rate, burst_size } => (OFPMBT_DROP, rate, burst_size),
            MeterBand::DscpRemark {
                rate, burst_size, ..
            } => (OFPMBT_DSCP_REMARK, rate, burst_size),
            MeterBand::Experimenter {
                rate, burst_size, ..
            } => (OFPMBT_EXPERIMENTER, rate, burst_size),
            MeterBand::Raw(b) => {
                out.put_slice(b);
                continue;
            }
        };
        out.put_u16(typ);
        let at = writer::placeholder_u16(out);
        out.put_u32(*rate);
        out.put_u32(*burst);
        match band {
            MeterBand::Drop { .. } => out.put_u32(0),
            MeterBand::DscpRemark { prec_level, .. } => {
                out.put_u8(*prec_level);
                out.put_bytes(0, 3);
            }
            MeterBand::Experimenter {
                experimenter, data, ..
            } => {
                out.put_u32(*experimenter);
                out.put_slice(data);
            }
            MeterBand::Raw(_) => {}
        }
        writer::patch_len_since(out, at, start);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeterMod {
    /// OFPMC_ADD / OFPMC_MODIFY / OFPMC_DELETE.
    pub command: u16,
    /// OFPMF_* bits.
    pub flags: u16,
    pub meter_id: u32,
    pub bands: Vec<MeterBand>,
}

impl Codec for MeterMod {
    const NAME: &'static str = "ofp_meter_mod";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let command = r.u16()?;
        let flags = r.u16()?;
        let meter_id = r.u32()?;
        Ok(MeterMod {
            command,
            flags,
            meter_id,
            bands: read_bands(r)?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.command);
        out.put_u16(self.flags);
        out.put_u32(self.meter_id);
        write_bands(&self.bands, out);
    }
}
