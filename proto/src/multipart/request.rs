//! OFPT_MULTIPART_REQUEST (spec 7.3.5): flags and a body chosen by the multipart type.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::consts::*;
use crate::error::{DecodeError, Scope};
use crate::match_::Match;
use crate::multipart::header::{read_multipart_header, write_multipart_header};
use crate::multipart::table_features::{read_table_features, TableFeatures};
use crate::reader::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultipartRequest {
    /// OFPMPF_REQ_MORE when more requests of this xid follow.
    pub flags: u16,
    pub body: MultipartRequestBody,
}

/// `ofp_flow_stats_request`, also the body of OFPMP_AGGREGATE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowStatsRequest {
    pub table_id: u8,
    pub out_port: u32,
    pub out_group: u32,
    pub cookie: u64,
    pub cookie_mask: u64,
    pub match_: Match,
}

impl FlowStatsRequest {
    /// Every flow of every table.
    pub fn all() -> Self {
        FlowStatsRequest {
            table_id: OFPTT_ALL,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: Match::all(),
        }
    }
}

impl Codec for FlowStatsRequest {
    const NAME: &'static str = "ofp_flow_stats_request";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let table_id = r.u8()?;
        r.pad(3)?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        r.pad(4)?;
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let match_ = Match::read(r)?;
        Ok(FlowStatsRequest {
            table_id,
            out_port,
            out_group,
            cookie,
            cookie_mask,
            match_,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.table_id);
        out.put_bytes(0, 3);
        out.put_u32(self.out_port);
        out.put_u32(self.out_group);
        out.put_u32(0);
        out.put_u64(self.cookie);
        out.put_u64(self.cookie_mask);
        self.match_.encode(out);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MultipartRequestBody {
    Desc,
    Flow(FlowStatsRequest),
    Aggregate(FlowStatsRequest),
    Table,
    PortStats {
        port_no: u32,
    },
    Queue {
        port_no: u32,
        queue_id: u32,
    },
    Group {
        group_id: u32,
    },
    GroupDesc,
    GroupFeatures,
    Meter {
        meter_id: u32,
    },
    MeterConfig {
        meter_id: u32,
    },
    MeterFeatures,
    /// Empty to query, or the tables' wanted features to set.
    TableFeatures(Vec<TableFeatures>),
    PortDesc,
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

impl MultipartRequestBody {
    /// The `ofp_multipart_type` of this body.
    pub fn mp_type(&self) -> u16 {
        use MultipartRequestBody as B;
        match self {
            B::Desc => OFPMP_DESC,
            B::Flow(_) => OFPMP_FLOW,
            B::Aggregate(_) => OFPMP_AGGREGATE,
            B::Table => OFPMP_TABLE,
            B::PortStats { .. } => OFPMP_PORT_STATS,
            B::Queue { .. } => OFPMP_QUEUE,
            B::Group { .. } => OFPMP_GROUP,
            B::GroupDesc => OFPMP_GROUP_DESC,
            B::GroupFeatures => OFPMP_GROUP_FEATURES,
            B::Meter { .. } => OFPMP_METER,
            B::MeterConfig { .. } => OFPMP_METER_CONFIG,
            B::MeterFeatures => OFPMP_METER_FEATURES,
            B::TableFeatures(_) => OFPMP_TABLE_FEATURES,
            B::PortDesc => OFPMP_PORT_DESC,
            B::Experimenter { .. } => OFPMP_EXPERIMENTER,
            B::Unknown { mp_type, .. } => *mp_type,
        }
    }
}

impl Codec for MultipartRequest {
    const NAME: &'static str = "ofp_multipart_request";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use MultipartRequestBody as B;
        let (mp_type, flags) = read_multipart_header(r)?;
        let body = match mp_type {
            OFPMP_DESC => B::Desc,
            OFPMP_FLOW => B::Flow(FlowStatsRequest::read(r)?),
            OFPMP_AGGREGATE => B::Aggregate(FlowStatsRequest::read(r)?),
            OFPMP_TABLE => B::Table,
            OFPMP_PORT_STATS => {
                let port_no = r.u32()?;
                r.pad(4)?;
                B::PortStats { port_no }
            }
            OFPMP_QUEUE => B::Queue {
                port_no: r.u32()?,
                queue_id: r.u32()?,
            },
            OFPMP_GROUP => {
                let group_id = r.u32()?;
                r.pad(4)?;
                B::Group { group_id }
            }
            OFPMP_GROUP_DESC => B::GroupDesc,
            OFPMP_GROUP_FEATURES => B::GroupFeatures,
            OFPMP_METER | OFPMP_METER_CONFIG => {
                let meter_id = r.u32()?;
                r.pad(4)?;
                if mp_type == OFPMP_METER {
                    B::Meter { meter_id }
                } else {
                    B::MeterConfig { meter_id }
                }
            }
            OFPMP_METER_FEATURES => B::MeterFeatures,
            OFPMP_TABLE_FEATURES => {
                let mut tf = r.sub_rest("ofp_table_features", Scope::TableFeatures);
                B::TableFeatures(read_table_features(&mut tf)?)
            }
            OFPMP_PORT_DESC => B::PortDesc,
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
        // Bodiless requests must be bodiless: leftover bytes fail the frame's expect_empty.
        Ok(MultipartRequest { flags, body })
    }

    fn encode(&self, out: &mut BytesMut) {
        use MultipartRequestBody as B;
        write_multipart_header(out, self.body.mp_type(), self.flags);
        match &self.body {
            B::Desc
            | B::Table
            | B::GroupDesc
            | B::GroupFeatures
            | B::MeterFeatures
            | B::PortDesc => {}
            B::Flow(f) | B::Aggregate(f) => f.encode(out),
            B::PortStats { port_no } => {
                out.put_u32(*port_no);
                out.put_u32(0);
            }
            B::Queue { port_no, queue_id } => {
                out.put_u32(*port_no);
                out.put_u32(*queue_id);
            }
            B::Group { group_id: id }
            | B::Meter { meter_id: id }
            | B::MeterConfig { meter_id: id } => {
                out.put_u32(*id);
                out.put_u32(0);
            }
            B::TableFeatures(list) => {
                for t in list {
                    t.encode(out);
                }
            }
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
