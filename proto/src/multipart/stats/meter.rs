//! Meter statistics, configuration and features (spec 7.3.5.12-7.3.5.14): OFPMP_METER,
//! OFPMP_METER_CONFIG entries and the OFPMP_METER_FEATURES reply.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::meter::{read_bands, write_bands, MeterBand};
use crate::multipart::entries::entry;
use crate::reader::Reader;
use crate::writer;

/// Per-band counters in a meter-stats entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterBandStats {
    pub packet_band_count: u64,
    pub byte_band_count: u64,
}

/// One entry of an OFPMP_METER reply (`ofp_meter_stats`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeterStats {
    pub meter_id: u32,
    pub flow_count: u32,
    pub packet_in_count: u64,
    pub byte_in_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub band_stats: Vec<MeterBandStats>,
}

impl Codec for MeterStats {
    const NAME: &'static str = "ofp_meter_stats";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let meter_id = r.u32()?;
        let at = r.offset();
        let len = usize::from(r.u16()?);
        if len < 40 {
            return Err(r.error_at(
                at,
                DecodeErrorKind::BadLength {
                    declared: len,
                    rule: "ofp_meter_stats shorter than 40",
                },
            ));
        }
        let mut b = r.sub(len - 6, Self::NAME, Scope::Message)?;
        b.pad(6)?;
        let flow_count = b.u32()?;
        let packet_in_count = b.u64()?;
        let byte_in_count = b.u64()?;
        let duration_sec = b.u32()?;
        let duration_nsec = b.u32()?;
        let mut band_stats = Vec::new();
        while b.remaining() > 0 {
            band_stats.push(MeterBandStats {
                packet_band_count: b.u64()?,
                byte_band_count: b.u64()?,
            });
        }
        Ok(MeterStats {
            meter_id,
            flow_count,
            packet_in_count,
            byte_in_count,
            duration_sec,
            duration_nsec,
            band_stats,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        out.put_u32(self.meter_id);
        let at = writer::placeholder_u16(out);
        out.put_bytes(0, 6);
        out.put_u32(self.flow_count);
        out.put_u64(self.packet_in_count);
        out.put_u64(self.byte_in_count);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        for s in &self.band_stats {
            out.put_u64(s.packet_band_count);
            out.put_u64(s.byte_band_count);
        }
        writer::patch_len_since(out, at, start);
    }
}

/// One entry of an OFPMP_METER_CONFIG reply (`ofp_meter_config`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeterConfig {
    pub flags: u16,
    pub meter_id: u32,
    pub bands: Vec<MeterBand>,
}

impl Codec for MeterConfig {
    const NAME: &'static str = "ofp_meter_config";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut b = entry(r, Self::NAME, 8)?;
        let flags = b.u16()?;
        let meter_id = b.u32()?;
        Ok(MeterConfig {
            flags,
            meter_id,
            bands: read_bands(&mut b)?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        let at = writer::placeholder_u16(out);
        out.put_u16(self.flags);
        out.put_u32(self.meter_id);
        write_bands(&self.bands, out);
        writer::patch_len_since(out, at, start);
    }
}

/// OFPMP_METER_FEATURES reply (`ofp_meter_features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterFeatures {
    pub max_meter: u32,
    pub band_types: u32,
    pub capabilities: u32,
    pub max_bands: u8,
    pub max_color: u8,
}

impl Codec for MeterFeatures {
    const NAME: &'static str = "ofp_meter_features";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let f = MeterFeatures {
            max_meter: r.u32()?,
            band_types: r.u32()?,
            capabilities: r.u32()?,
            max_bands: r.u8()?,
            max_color: r.u8()?,
        };
        r.pad(2)?;
        Ok(f)
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.max_meter);
        out.put_u32(self.band_types);
        out.put_u32(self.capabilities);
        out.put_u8(self.max_bands);
        out.put_u8(self.max_color);
        out.put_u16(0);
    }
}
