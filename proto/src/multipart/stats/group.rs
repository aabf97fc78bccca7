//! Group statistics, descriptions and features (spec 7.3.5.9-7.3.5.11): OFPMP_GROUP,
//! OFPMP_GROUP_DESC entries and the OFPMP_GROUP_FEATURES reply.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::group::{read_buckets, Bucket};
use crate::multipart::entries::entry;
use crate::reader::Reader;
use crate::writer;

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
