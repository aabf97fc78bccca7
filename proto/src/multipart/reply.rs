//! OFPT_MULTIPART_REPLY (spec 7.3.5): flags and a body chosen by the multipart type.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::consts::*;
use crate::error::{DecodeError, Scope};
use crate::multipart::entries::{read_all, read_all_at_least};
use crate::multipart::header::{read_multipart_header, write_multipart_header};
use crate::multipart::stats::*;
use crate::multipart::table_features::{read_table_features, TableFeatures};
use crate::port::Port;
use crate::reader::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultipartReply {
    /// OFPMPF_REPLY_MORE when more replies of this xid follow.
    pub flags: u16,
    pub body: MultipartReplyBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MultipartReplyBody {
    Desc(Desc),
    Flow(Vec<FlowStats>),
    Aggregate(AggregateStats),
    Table(Vec<TableStats>),
    PortStats(Vec<PortStats>),
    Queue(Vec<QueueStats>),
    Group(Vec<GroupStats>),
    GroupDesc(Vec<GroupDesc>),
    GroupFeatures(GroupFeatures),
    Meter(Vec<MeterStats>),
    MeterConfig(Vec<MeterConfig>),
    MeterFeatures(MeterFeatures),
    TableFeatures(Vec<TableFeatures>),
    PortDesc(Vec<Port>),
    Experimenter {
        experimenter: u32,
        exp_type: u32,
        data: Bytes,
    },
    Unknown {
        mp_type: u16,
        body: Bytes,
    },
}

impl MultipartReplyBody {
    /// The `ofp_multipart_type` of this body.
    pub fn mp_type(&self) -> u16 {
        use MultipartReplyBody as B;
        match self {
            B::Desc(_) => OFPMP_DESC,
            B::Flow(_) => OFPMP_FLOW,
            B::Aggregate(_) => OFPMP_AGGREGATE,
            B::Table(_) => OFPMP_TABLE,
            B::PortStats(_) => OFPMP_PORT_STATS,
            B::Queue(_) => OFPMP_QUEUE,
            B::Group(_) => OFPMP_GROUP,
            B::GroupDesc(_) => OFPMP_GROUP_DESC,
            B::GroupFeatures(_) => OFPMP_GROUP_FEATURES,
            B::Meter(_) => OFPMP_METER,
            B::MeterConfig(_) => OFPMP_METER_CONFIG,
            B::MeterFeatures(_) => OFPMP_METER_FEATURES,
            B::TableFeatures(_) => OFPMP_TABLE_FEATURES,
            B::PortDesc(_) => OFPMP_PORT_DESC,
            B::Experimenter { .. } => OFPMP_EXPERIMENTER,
            B::Unknown { mp_type, .. } => *mp_type,
        }
    }
}

fn write_all<T: Codec>(items: &[T], out: &mut BytesMut) {
    for i in items {
        i.encode(out);
    }
}

impl Codec for MultipartReply {
    const NAME: &'static str = "ofp_multipart_reply";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use MultipartReplyBody as B;
        let (mp_type, flags) = read_multipart_header(r)?;
        let body = match mp_type {
            OFPMP_DESC => B::Desc(Desc::read(r)?),
            OFPMP_FLOW => B::Flow(read_all_at_least(r, FlowStats::MIN_LEN)?),
            OFPMP_AGGREGATE => B::Aggregate(AggregateStats::read(r)?),
            OFPMP_TABLE => B::Table(read_all(r)?),
            OFPMP_PORT_STATS => B::PortStats(read_all(r)?),
            OFPMP_QUEUE => B::Queue(read_all(r)?),
            OFPMP_GROUP => B::Group(read_all(r)?),
            OFPMP_GROUP_DESC => B::GroupDesc(read_all(r)?),
            OFPMP_GROUP_FEATURES => B::GroupFeatures(GroupFeatures::read(r)?),
            OFPMP_METER => B::Meter(read_all(r)?),
            OFPMP_METER_CONFIG => B::MeterConfig(read_all(r)?),
            OFPMP_METER_FEATURES => B::MeterFeatures(MeterFeatures::read(r)?),
            OFPMP_TABLE_FEATURES => {
                let mut tf = r.sub_rest("ofp_table_features", Scope::TableFeatures);
                B::TableFeatures(read_table_features(&mut tf)?)
            }
            OFPMP_PORT_DESC => B::PortDesc(read_all(r)?),
            OFPMP_EXPERIMENTER => B::Experimenter {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest_bytes(),
            },
            _ => B::Unknown {
                mp_type,
                body: r.rest_bytes(),
            },
        };
        Ok(MultipartReply { flags, body })
    }

    fn encode(&self, out: &mut BytesMut) {
        use MultipartReplyBody as B;
        write_multipart_header(out, self.body.mp_type(), self.flags);
        match &self.body {
            B::Desc(d) => d.encode(out),
            B::Flow(v) => write_all(v, out),
            B::Aggregate(a) => a.encode(out),
            B::Table(v) => write_all(v, out),
            B::PortStats(v) => write_all(v, out),
            B::Queue(v) => write_all(v, out),
            B::Group(v) => write_all(v, out),
            B::GroupDesc(v) => write_all(v, out),
            B::GroupFeatures(g) => g.encode(out),
            B::Meter(v) => write_all(v, out),
            B::MeterConfig(v) => write_all(v, out),
            B::MeterFeatures(m) => m.encode(out),
            B::TableFeatures(v) => write_all(v, out),
            B::PortDesc(v) => write_all(v, out),
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            } => {
                out.put_u32(*experimenter);
                out.put_u32(*exp_type);
                out.put_slice(data);
            }
            B::Unknown { body, .. } => out.put_slice(body),
        }
    }
}
