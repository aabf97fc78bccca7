//! Queues: OFPT_QUEUE_GET_CONFIG_REQUEST/REPLY, `ofp_packet_queue` and its properties (spec 7.3.6).

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::consts::{OFPQT_EXPERIMENTER, OFPQT_MAX_RATE, OFPQT_MIN_RATE};
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::reader::Reader;
use crate::tlv::{self, TlvLen};
use crate::writer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueGetConfigRequest {
    pub port: u32,
}

impl Codec for QueueGetConfigRequest {
    const NAME: &'static str = "ofp_queue_get_config_request";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let port = r.u32()?;
        r.pad(4)?;
        Ok(QueueGetConfigRequest { port })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.port);
        out.put_u32(0);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueGetConfigReply {
    pub port: u32,
    pub queues: Vec<PacketQueue>,
}

impl Codec for QueueGetConfigReply {
    const NAME: &'static str = "ofp_queue_get_config_reply";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let port = r.u32()?;
        r.pad(4)?;
        let mut queues = Vec::new();
        while r.remaining() > 0 {
            queues.push(PacketQueue::read(r)?);
        }
        Ok(QueueGetConfigReply { port, queues })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.port);
        out.put_u32(0);
        for q in &self.queues {
            q.encode(out);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PacketQueue {
    pub queue_id: u32,
    pub port: u32,
    pub properties: Vec<QueueProp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueueProp {
    /// Rate in 1/10 of a percent; >1000 means disabled.
    MinRate(u16),
    MaxRate(u16),
    Experimenter {
        experimenter: u32,
        data: Bytes,
    },
    /// Any other property: type and body after the 8-byte property header.
    Unknown {
        typ: u16,
        body: Bytes,
    },
}

impl Codec for PacketQueue {
    const NAME: &'static str = "ofp_packet_queue";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let queue_id = r.u32()?;
        let port = r.u32()?;
        let at = r.offset();
        let len = usize::from(r.u16()?);
        if len < 16 {
            return Err(r.error_at(
                at,
                DecodeErrorKind::BadLength {
                    declared: len,
                    rule: "ofp_packet_queue shorter than 16",
                },
            ));
        }
        r.pad(6)?;
        let mut props_r = r.sub(len - 16, "ofp_queue_prop", Scope::Message)?;
        let mut properties = Vec::new();
        for t in tlv::tlv_list(&mut props_r, TlvLen::Exact)? {
            let mut p = Reader::with_base(t.whole, t.offset, "ofp_queue_prop", Scope::Message);
            p.take(4)?;
            p.pad(4)?;
            let prop = match t.typ {
                OFPQT_MIN_RATE | OFPQT_MAX_RATE if t.whole.len() == 16 => {
                    let rate = p.u16()?;
                    p.pad(6)?;
                    if t.typ == OFPQT_MIN_RATE {
                        QueueProp::MinRate(rate)
                    } else {
                        QueueProp::MaxRate(rate)
                    }
                }
                OFPQT_MIN_RATE | OFPQT_MAX_RATE => {
                    return Err(p.error_at(
                        t.offset,
                        DecodeErrorKind::BadLength {
                            declared: t.whole.len(),
                            rule: "rate property must be 16 bytes",
                        },
                    ))
                }
                OFPQT_EXPERIMENTER => {
                    let experimenter = p.u32()?;
                    p.pad(4)?;
                    QueueProp::Experimenter {
                        experimenter,
                        data: p.rest_bytes(),
                    }
                }
                typ => QueueProp::Unknown {
                    typ,
                    body: p.rest_bytes(),
                },
            };
            properties.push(prop);
        }
        Ok(PacketQueue {
            queue_id,
            port,
            properties,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        out.put_u32(self.queue_id);
        out.put_u32(self.port);
        let at = writer::placeholder_u16(out);
        writer::pad(out, 6);
        for p in &self.properties {
            let ps = out.len();
            let (typ, body): (u16, Vec<u8>) = match p {
                QueueProp::MinRate(v) | QueueProp::MaxRate(v) => {
                    let mut b = v.to_be_bytes().to_vec();
                    b.extend_from_slice(&[0; 6]);
                    (
                        if matches!(p, QueueProp::MinRate(_)) {
                            OFPQT_MIN_RATE
                        } else {
                            OFPQT_MAX_RATE
                        },
                        b,
                    )
                }
                QueueProp::Experimenter { experimenter, data } => {
                    let mut b = experimenter.to_be_bytes().to_vec();
                    b.extend_from_slice(&[0; 4]);
                    b.extend_from_slice(data);
                    (OFPQT_EXPERIMENTER, b)
                }
                QueueProp::Unknown { typ, body } => (*typ, body.to_vec()),
            };
            out.put_u16(typ);
            let pat = writer::placeholder_u16(out);
            out.put_u32(0);
            out.put_slice(&body);
            writer::patch_len_since(out, pat, ps);
        }
        writer::patch_len_since(out, at, start);
    }
}
