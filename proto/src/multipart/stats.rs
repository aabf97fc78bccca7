//! Multipart reply bodies (spec 7.3.5): description, flow/aggregate/table/port/queue/group/meter
//! statistics, group and meter descriptions and features.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::group::{read_buckets, Bucket};
use crate::instruction::{read_instructions, write_instructions, Instruction};
use crate::match_::Match;
use crate::meter::{read_bands, write_bands, MeterBand};
use crate::reader::Reader;
use crate::writer;

/// Reads a length-prefixed entry: `len` at `r`'s position (u16, counting itself), at least `min`.
fn entry<'a>(
    r: &mut Reader<'a>,
    name: &'static str,
    min: usize,
) -> Result<Reader<'a>, DecodeError> {
    let at = r.offset();
    let len = usize::from(r.u16()?);
    if len < min {
        return Err(r.error_at(
            at,
            DecodeErrorKind::BadLength {
                declared: len,
                rule: "entry shorter than its fixed part",
            },
        ));
    }
    r.sub(len - 2, name, Scope::Message)
}

/// Reads fixed-size or self-delimited entries until the reader is exhausted.
pub(crate) fn read_all<T: Codec>(r: &mut Reader<'_>) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::new();
    while r.remaining() > 0 {
        v.push(T::read(r)?);
    }
    Ok(v)
}

/// Reads entries of at least `min_len` bytes each until the reader is exhausted, with the
/// vector sized once from that bound.
pub(crate) fn read_all_at_least<T: Codec>(
    r: &mut Reader<'_>,
    min_len: usize,
) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::with_capacity(r.remaining() / min_len.max(1));
    while r.remaining() > 0 {
        v.push(T::read(r)?);
    }
    Ok(v)
}

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

/// One entry of an OFPMP_FLOW reply (`ofp_flow_stats`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowStats {
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub flags: u16,
    pub cookie: u64,
    pub packet_count: u64,
    pub byte_count: u64,
    pub match_: Match,
    pub instructions: Vec<Instruction>,
}

impl FlowStats {
    /// The smallest `length` an entry may declare: 48 bytes of fixed fields and an empty
    /// 8-byte match (`sizeof(struct ofp_flow_stats)`).
    pub const MIN_LEN: usize = 56;
}

impl Codec for FlowStats {
    const NAME: &'static str = "ofp_flow_stats";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut b = entry(r, Self::NAME, FlowStats::MIN_LEN)?;
        let table_id = b.u8()?;
        b.pad(1)?;
        let duration_sec = b.u32()?;
        let duration_nsec = b.u32()?;
        let priority = b.u16()?;
        let idle_timeout = b.u16()?;
        let hard_timeout = b.u16()?;
        let flags = b.u16()?;
        b.pad(4)?;
        let cookie = b.u64()?;
        let packet_count = b.u64()?;
        let byte_count = b.u64()?;
        let match_ = Match::read(&mut b)?;
        let instructions = read_instructions(&mut b)?;
        Ok(FlowStats {
            table_id,
            duration_sec,
            duration_nsec,
            priority,
            idle_timeout,
            hard_timeout,
            flags,
            cookie,
            packet_count,
            byte_count,
            match_,
            instructions,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        let at = writer::placeholder_u16(out);
        out.put_u8(self.table_id);
        out.put_u8(0);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        out.put_u16(self.priority);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.flags);
        out.put_u32(0);
        out.put_u64(self.cookie);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        self.match_.encode(out);
        write_instructions(&self.instructions, out);
        writer::patch_len_since(out, at, start);
    }
}

/// OFPMP_AGGREGATE reply (`ofp_aggregate_stats_reply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AggregateStats {
    pub packet_count: u64,
    pub byte_count: u64,
    pub flow_count: u32,
}

impl Codec for AggregateStats {
    const NAME: &'static str = "ofp_aggregate_stats_reply";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let s = AggregateStats {
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            flow_count: r.u32()?,
        };
        r.pad(4)?;
        Ok(s)
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        out.put_u32(self.flow_count);
        out.put_u32(0);
    }
}

/// One entry of an OFPMP_TABLE reply (`ofp_table_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableStats {
    pub table_id: u8,
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
}

impl Codec for TableStats {
    const NAME: &'static str = "ofp_table_stats";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let table_id = r.u8()?;
        r.pad(3)?;
        Ok(TableStats {
            table_id,
            active_count: r.u32()?,
            lookup_count: r.u64()?,
            matched_count: r.u64()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.table_id);
        out.put_bytes(0, 3);
        out.put_u32(self.active_count);
        out.put_u64(self.lookup_count);
        out.put_u64(self.matched_count);
    }
}

/// One entry of an OFPMP_PORT_STATS reply (`ofp_port_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortStats {
    pub port_no: u32,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_frame_err: u64,
    pub rx_over_err: u64,
    pub rx_crc_err: u64,
    pub collisions: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl Codec for PortStats {
    const NAME: &'static str = "ofp_port_stats";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let port_no = r.u32()?;
        r.pad(4)?;
        Ok(PortStats {
            port_no,
            rx_packets: r.u64()?,
            tx_packets: r.u64()?,
            rx_bytes: r.u64()?,
            tx_bytes: r.u64()?,
            rx_dropped: r.u64()?,
            tx_dropped: r.u64()?,
            rx_errors: r.u64()?,
            tx_errors: r.u64()?,
            rx_frame_err: r.u64()?,
            rx_over_err: r.u64()?,
            rx_crc_err: r.u64()?,
            collisions: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.port_no);
        out.put_u32(0);
        for v in [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
            self.rx_frame_err,
            self.rx_over_err,
            self.rx_crc_err,
            self.collisions,
        ] {
            out.put_u64(v);
        }
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
    }
}

/// One entry of an OFPMP_QUEUE reply (`ofp_queue_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueStats {
    pub port_no: u32,
    pub queue_id: u32,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl Codec for QueueStats {
    const NAME: &'static str = "ofp_queue_stats";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(QueueStats {
            port_no: r.u32()?,
            queue_id: r.u32()?,
            tx_bytes: r.u64()?,
            tx_packets: r.u64()?,
            tx_errors: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.port_no);
        out.put_u32(self.queue_id);
        out.put_u64(self.tx_bytes);
        out.put_u64(self.tx_packets);
        out.put_u64(self.tx_errors);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
    }
}

/// Per-bucket counters in a group-stats entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BucketCounter {
    pub packet_count: u64,
    pub byte_count: u64,
}

/// One entry of an OFPMP_GROUP reply (`ofp_group_stats`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupStats {
    pub group_id: u32,
    pub ref_count: u32,
    pub packet_count: u64,
    pub byte_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub bucket_stats: Vec<BucketCounter>,
}

impl Codec for GroupStats {
    const NAME: &'static str = "ofp_group_stats";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut b = entry(r, Self::NAME, 40)?;
        b.pad(2)?;
        let group_id = b.u32()?;
        let ref_count = b.u32()?;
        b.pad(4)?;
        let packet_count = b.u64()?;
        let byte_count = b.u64()?;
        let duration_sec = b.u32()?;
        let duration_nsec = b.u32()?;
        let mut bucket_stats = Vec::new();
        while b.remaining() > 0 {
            bucket_stats.push(BucketCounter {
                packet_count: b.u64()?,
                byte_count: b.u64()?,
            });
        }
        Ok(GroupStats {
            group_id,
            ref_count,
            packet_count,
            byte_count,
            duration_sec,
            duration_nsec,
            bucket_stats,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        let at = writer::placeholder_u16(out);
        out.put_u16(0);
        out.put_u32(self.group_id);
        out.put_u32(self.ref_count);
        out.put_u32(0);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        for c in &self.bucket_stats {
            out.put_u64(c.packet_count);
            out.put_u64(c.byte_count);
        }
        writer::patch_len_since(out, at, start);
    }
}

/// One entry of an OFPMP_GROUP_DESC reply (`ofp_group_desc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupDesc {
    pub group_type: u8,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
}

impl Codec for GroupDesc {
    const NAME: &'static str = "ofp_group_desc";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut b = entry(r, Self::NAME, 8)?;
        let group_type = b.u8()?;
        b.pad(1)?;
        let group_id = b.u32()?;
        Ok(GroupDesc {
            group_type,
            group_id,
            buckets: read_buckets(&mut b)?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        let at = writer::placeholder_u16(out);
        out.put_u8(self.group_type);
        out.put_u8(0);
        out.put_u32(self.group_id);
        for b in &self.buckets {
            b.encode(out);
        }
        writer::patch_len_since(out, at, start);
    }
}

/// OFPMP_GROUP_FEATURES reply (`ofp_group_features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupFeatures {
    pub types: u32,
    pub capabilities: u32,
    pub max_groups: [u32; 4],
    pub actions: [u32; 4],
}

impl Codec for GroupFeatures {
    const NAME: &'static str = "ofp_group_features";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GroupFeatures {
            types: r.u32()?,
            capabilities: r.u32()?,
            max_groups: [r.u32()?, r.u32()?, r.u32()?, r.u32()?],
            actions: [r.u32()?, r.u32()?, r.u32()?, r.u32()?],
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.types);
        out.put_u32(self.capabilities);
        for v in self.max_groups.iter().chain(&self.actions) {
            out.put_u32(*v);
        }
    }
}

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
