//! Groups: `ofp_bucket` (spec 7.3.4.2) and OFPT_GROUP_MOD.

use bytes::{BufMut, BytesMut};

use crate::action::{read_actions, write_actions, Action};
use crate::codec::Codec;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::reader::Reader;
use crate::writer;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bucket {
    pub weight: u16,
    pub watch_port: u32,
    pub watch_group: u32,
    pub actions: Vec<Action>,
}

impl Codec for Bucket {
    const NAME: &'static str = "ofp_bucket";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let len = usize::from(r.u16()?);
        // "len: length of the bucket in bytes, including this header and any padding".
        if len < 16 {
            return Err(r.error_at(
                at,
                DecodeErrorKind::BadLength {
                    declared: len,
                    rule: "ofp_bucket shorter than 16",
                },
            ));
        }
        let mut b = r.sub(len - 2, "ofp_bucket", Scope::Message)?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.pad(4)?;
        let actions = read_actions(&mut b)?;
        Ok(Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        let at = writer::placeholder_u16(out);
        out.put_u16(self.weight);
        out.put_u32(self.watch_port);
        out.put_u32(self.watch_group);
        out.put_u32(0);
        write_actions(&self.actions, out);
        writer::patch_len_since(out, at, start);
    }
}

/// Reads buckets until the reader is exhausted.
pub(crate) fn read_buckets(r: &mut Reader<'_>) -> Result<Vec<Bucket>, DecodeError> {
    let mut v = Vec::new();
    while r.remaining() > 0 {
        v.push(Bucket::read(r)?);
    }
    Ok(v)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupMod {
    /// OFPGC_ADD / OFPGC_MODIFY / OFPGC_DELETE.
    pub command: u16,
    /// OFPGT_ALL / SELECT / INDIRECT / FF.
    pub group_type: u8,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
}

impl Codec for GroupMod {
    const NAME: &'static str = "ofp_group_mod";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let command = r.u16()?;
        let group_type = r.u8()?;
        r.pad(1)?;
        let group_id = r.u32()?;
        Ok(GroupMod {
            command,
            group_type,
            group_id,
            buckets: read_buckets(r)?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.command);
        out.put_u8(self.group_type);
        out.put_u8(0);
        out.put_u32(self.group_id);
        for b in &self.buckets {
            b.encode(out);
        }
    }
}
