//! Flow-table counters (spec 7.3.5.2-7.3.5.4): OFPMP_FLOW entries, the OFPMP_AGGREGATE
//! reply and OFPMP_TABLE entries.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::instruction::{read_instructions, write_instructions, Instruction};
use crate::match_::Match;
use crate::multipart::entries::entry;
use crate::reader::Reader;
use crate::writer;

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
