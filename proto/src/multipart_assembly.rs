//! Reassembly of a multipart reply split over several messages with OFPMPF_REPLY_MORE: a pure,
//! bounded accumulator keyed by xid, one per connection. Each reply is bounded in parts and
//! bytes; the connection in replies pending at once and in bytes they hold together
//! ([`AssemblyLimits`]). Going over a bound is a typed [`AssemblyError`] naming it.

use std::collections::HashMap;

use bytes::BytesMut;

use crate::consts::OFPMPF_REPLY_MORE;
use crate::message::{Message, OfpMessage};
use crate::multipart::reply::{MultipartReply, MultipartReplyBody};

/// Why a part was refused. The xid's partial state is dropped in every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssemblyError {
    #[error("message xid {xid} is not a multipart reply (type {msg_type})")]
    NotMultipartReply { xid: u32, msg_type: u8 },
    #[error("xid {xid}: part of multipart type {got} follows parts of type {expected}")]
    TypeMismatch { xid: u32, expected: u16, got: u16 },
    #[error("xid {xid}: multipart type {mp_type} has a single body and cannot be continued")]
    NotSplittable { xid: u32, mp_type: u16 },
    #[error("xid {xid}: more than {max_parts} parts")]
    TooManyParts { xid: u32, max_parts: usize },
    #[error("xid {xid}: more than {max_bytes} bytes")]
    TooManyBytes { xid: u32, max_bytes: usize },
    #[error("{max_pending} replies already pending; xid {xid} refused")]
    TooManyPending { xid: u32, max_pending: usize },
    #[error(
        "xid {xid}: replies pending on this connection would pass max_total_bytes \
         ({max_total_bytes} bytes)"
    )]
    TooManyBytesPending { xid: u32, max_total_bytes: usize },
}

/// Limits on what the assembler holds. One assembler serves one connection, so
/// `max_total_bytes` is the cap per connection; the others are per reply (per xid) or count
/// replies. Bytes are counted as encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblyLimits {
    /// Parts of one reply.
    pub max_parts: usize,
    /// Bytes of one reply, all its parts together.
    pub max_bytes: usize,
    /// Replies (xids) being assembled at once.
    pub max_pending: usize,
    /// Bytes of every reply being assembled at once, all xids together.
    pub max_total_bytes: usize,
}

impl Default for AssemblyLimits {
    fn default() -> Self {
        AssemblyLimits {
            max_parts: 4096,
            max_bytes: 64 * 1024 * 1024,
            max_pending: 64,
            max_total_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug)]
struct Partial {
    body: MultipartReplyBody,
    parts: usize,
    bytes: usize,
}

/// Accumulates reply parts per xid; [`MultipartAssembler::push`] returns the whole reply once a
/// part without OFPMPF_REPLY_MORE arrives.
#[derive(Debug, Default)]
pub struct MultipartAssembler {
    limits: AssemblyLimits,
    pending: HashMap<u32, Partial>,
    /// Sum of `bytes` over `pending`.
    pending_bytes: usize,
}

/// Encoded size of `reply` (its flags do not change it), counted against `max_bytes`.
fn wire_size(reply: &MultipartReply) -> usize {
    let mut b = BytesMut::new();
    crate::codec::Codec::encode(reply, &mut b);
    b.len()
}

/// Appends `next` to `acc` when both are of the same list-shaped type.
fn merge(
    acc: &mut MultipartReplyBody,
    next: MultipartReplyBody,
    xid: u32,
) -> Result<(), AssemblyError> {
    use MultipartReplyBody as B;
    let (expected, got) = (acc.mp_type(), next.mp_type());
    match (acc, next) {
        (B::Flow(a), B::Flow(b)) => a.extend(b),
        (B::Table(a), B::Table(b)) => a.extend(b),
        (B::PortStats(a), B::PortStats(b)) => a.extend(b),
        (B::Queue(a), B::Queue(b)) => a.extend(b),
        (B::Group(a), B::Group(b)) => a.extend(b),
        (B::GroupDesc(a), B::GroupDesc(b)) => a.extend(b),
        (B::Meter(a), B::Meter(b)) => a.extend(b),
        (B::MeterConfig(a), B::MeterConfig(b)) => a.extend(b),
        (B::TableFeatures(a), B::TableFeatures(b)) => a.extend(b),
        (B::PortDesc(a), B::PortDesc(b)) => a.extend(b),
        (
            B::Experimenter {
                experimenter: e1,
                exp_type: t1,
                data: d1,
            },
            B::Experimenter {
                experimenter: e2,
                exp_type: t2,
                data: d2,
            },
        ) if *e1 == e2 && *t1 == t2 => {
            let mut joined = BytesMut::from(&d1[..]);
            joined.extend_from_slice(&d2);
            *d1 = joined.freeze();
        }
        (
            B::Unknown {
                mp_type: m1,
                body: b1,
            },
            B::Unknown {
                mp_type: m2,
                body: b2,
            },
        ) if *m1 == m2 => {
            let mut joined = BytesMut::from(&b1[..]);
            joined.extend_from_slice(&b2);
            *b1 = joined.freeze();
        }
        _ if expected != got => return Err(AssemblyError::TypeMismatch { xid, expected, got }),
        _ => return Err(AssemblyError::NotSplittable { xid, mp_type: got }),
    }
    Ok(())
}

impl MultipartAssembler {
    pub fn new(limits: AssemblyLimits) -> Self {
        MultipartAssembler {
            limits,
            pending: HashMap::new(),
            pending_bytes: 0,
        }
    }

    /// New limits for the parts pushed from now on (the parts held stay).
    pub fn set_limits(&mut self, limits: AssemblyLimits) {
        self.limits = limits;
    }

    /// Number of xids with parts waiting for their last part.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes held by the replies being assembled, all xids together.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Drops the partial reply of `xid` (e.g. when its request timed out).
    pub fn abandon(&mut self, xid: u32) {
        self.take(xid);
    }

    /// Whether the reply of `xid`, grown to `bytes`, stays within `max_bytes` and, with the
    /// other pending replies (`xid`'s own was taken out of `pending_bytes`), within
    /// `max_total_bytes`.
    fn check_bytes(&self, xid: u32, bytes: usize) -> Result<(), AssemblyError> {
        if bytes > self.limits.max_bytes {
            return Err(AssemblyError::TooManyBytes {
                xid,
                max_bytes: self.limits.max_bytes,
            });
        }
        if self.pending_bytes.saturating_add(bytes) > self.limits.max_total_bytes {
            return Err(AssemblyError::TooManyBytesPending {
                xid,
                max_total_bytes: self.limits.max_total_bytes,
            });
        }
        Ok(())
    }

    /// Removes the partial reply of `xid`, releasing its bytes.
    fn take(&mut self, xid: u32) -> Option<Partial> {
        let p = self.pending.remove(&xid)?;
        self.pending_bytes -= p.bytes;
        Some(p)
    }

    /// Feeds one message. Returns the complete reply (flags without REPLY_MORE) when `msg` is the
    /// last part of its xid, `None` while more parts are expected.
    pub fn push(&mut self, msg: OfpMessage) -> Result<Option<MultipartReply>, AssemblyError> {
        let xid = msg.xid;
        let Message::MultipartReply(reply) = msg.body else {
            return Err(AssemblyError::NotMultipartReply {
                xid,
                msg_type: msg.body.msg_type(),
            });
        };
        let more = reply.flags & OFPMPF_REPLY_MORE != 0;
        let partial = match self.take(xid) {
            Some(mut p) => {
                p.parts += 1;
                p.bytes += wire_size(&reply);
                if p.parts > self.limits.max_parts {
                    return Err(AssemblyError::TooManyParts {
                        xid,
                        max_parts: self.limits.max_parts,
                    });
                }
                self.check_bytes(xid, p.bytes)?;
                merge(&mut p.body, reply.body, xid)?;
                p
            }
            None => {
                if !more {
                    return Ok(Some(MultipartReply {
                        flags: reply.flags,
                        body: reply.body,
                    }));
                }
                if self.pending.len() >= self.limits.max_pending {
                    return Err(AssemblyError::TooManyPending {
                        xid,
                        max_pending: self.limits.max_pending,
                    });
                }
                let size = wire_size(&reply);
                self.check_bytes(xid, size)?;
                Partial {
                    body: reply.body,
                    parts: 1,
                    bytes: size,
                }
            }
        };
        if more {
            self.pending_bytes += partial.bytes;
            self.pending.insert(xid, partial);
            Ok(None)
        } else {
            Ok(Some(MultipartReply {
                flags: reply.flags & !OFPMPF_REPLY_MORE,
                body: partial.body,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::MacAddr;
    use crate::match_::Match;
    use crate::multipart::stats::{AggregateStats, FlowStats, MeterConfig, TableStats};
    use crate::port::Port;

    fn port(n: u32) -> Port {
        Port {
            port_no: n,
            hw_addr: MacAddr([0, 0, 0, 0, 0, n.to_be_bytes()[3]]),
            name: format!("p{n}"),
            config: 0,
            state: 0,
            curr: 0,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 0,
            max_speed: 0,
        }
    }

    fn part(xid: u32, more: bool, body: MultipartReplyBody) -> OfpMessage {
        OfpMessage::new(
            xid,
            Message::MultipartReply(MultipartReply {
                flags: if more { OFPMPF_REPLY_MORE } else { 0 },
                body,
            }),
        )
    }

    #[test]
    fn joins_parts_in_order_and_keeps_xids_apart() {
        let mut a = MultipartAssembler::default();
        assert_eq!(
            a.push(part(1, true, MultipartReplyBody::PortDesc(vec![port(1)]))),
            Ok(None)
        );
        assert_eq!(
            a.push(part(2, true, MultipartReplyBody::PortDesc(vec![port(9)]))),
            Ok(None)
        );
        assert_eq!(
            a.push(part(1, true, MultipartReplyBody::PortDesc(vec![port(2)]))),
            Ok(None)
        );
        let done = a
            .push(part(1, false, MultipartReplyBody::PortDesc(vec![port(3)])))
            .unwrap()
            .unwrap();
        assert_eq!(
            done.body,
            MultipartReplyBody::PortDesc(vec![port(1), port(2), port(3)])
        );
        assert_eq!(done.flags, 0);
        assert_eq!(a.pending(), 1);
    }

    #[test]
    fn refuses_mismatch_non_list_and_over_limit() {
        let mut a = MultipartAssembler::default();
        a.push(part(1, true, MultipartReplyBody::PortDesc(vec![])))
            .unwrap();
        let t = MultipartReplyBody::Table(vec![TableStats {
            table_id: 0,
            active_count: 0,
            lookup_count: 0,
            matched_count: 0,
        }]);
        assert_eq!(
            a.push(part(1, false, t)),
            Err(AssemblyError::TypeMismatch {
                xid: 1,
                expected: 13,
                got: 3
            })
        );
        assert_eq!(a.pending(), 0);
        let agg = MultipartReplyBody::Aggregate(AggregateStats {
            packet_count: 1,
            byte_count: 2,
            flow_count: 3,
        });
        a.push(part(2, true, agg.clone())).unwrap();
        assert_eq!(
            a.push(part(2, false, agg)),
            Err(AssemblyError::NotSplittable { xid: 2, mp_type: 2 })
        );
        let mut small = MultipartAssembler::new(AssemblyLimits {
            max_parts: 2,
            max_bytes: 1 << 20,
            max_pending: 1,
            ..AssemblyLimits::default()
        });
        small
            .push(part(5, true, MultipartReplyBody::PortDesc(vec![])))
            .unwrap();
        assert_eq!(
            small.push(part(6, true, MultipartReplyBody::PortDesc(vec![]))),
            Err(AssemblyError::TooManyPending {
                xid: 6,
                max_pending: 1
            })
        );
        small
            .push(part(5, true, MultipartReplyBody::PortDesc(vec![])))
            .unwrap();
        assert_eq!(
            small.push(part(5, true, MultipartReplyBody::PortDesc(vec![]))),
            Err(AssemblyError::TooManyParts {
                xid: 5,
                max_parts: 2
            })
        );
        assert!(matches!(
            small.push(OfpMessage::new(5, Message::BarrierReply)),
            Err(AssemblyError::NotMultipartReply { .. })
        ));
    }

    fn flows(n: u16) -> MultipartReplyBody {
        MultipartReplyBody::Flow(
            (0..n)
                .map(|i| FlowStats {
                    table_id: 0,
                    duration_sec: 0,
                    duration_nsec: 0,
                    priority: i,
                    idle_timeout: 0,
                    hard_timeout: 0,
                    flags: 0,
                    cookie: u64::from(i),
                    packet_count: 0,
                    byte_count: 0,
                    match_: Match::new(vec![]),
                    instructions: vec![],
                })
                .collect(),
        )
    }

    fn meters(n: u32) -> MultipartReplyBody {
        MultipartReplyBody::MeterConfig(
            (0..n)
                .map(|meter_id| MeterConfig {
                    flags: 0,
                    meter_id,
                    bands: vec![],
                })
                .collect(),
        )
    }

    /// Encoded size of a part, as the assembler counts it.
    fn size(body: &MultipartReplyBody) -> usize {
        wire_size(&MultipartReply {
            flags: 0,
            body: body.clone(),
        })
    }

    #[test]
    fn one_reply_over_max_bytes_is_refused_and_dropped() {
        let part_len = size(&flows(10));
        let mut a = MultipartAssembler::new(AssemblyLimits {
            max_bytes: 2 * part_len,
            ..AssemblyLimits::default()
        });
        assert_eq!(a.push(part(1, true, flows(10))), Ok(None));
        assert_eq!(a.push(part(1, true, flows(10))), Ok(None));
        assert_eq!(
            a.push(part(1, false, flows(10))),
            Err(AssemblyError::TooManyBytes {
                xid: 1,
                max_bytes: 2 * part_len
            })
        );
        assert_eq!((a.pending(), a.pending_bytes()), (0, 0));
    }

    /// A session gathering FLOW stats and METER_CONFIG at once: each reply fits its own
    /// `max_bytes`, but together they pass the connection's `max_total_bytes`.
    #[test]
    fn replies_of_one_connection_are_capped_in_bytes_together() {
        let (f, m) = (size(&flows(10)), size(&meters(10)));
        let cap = 2 * f + m;
        let mut a = MultipartAssembler::new(AssemblyLimits {
            max_bytes: 1 << 20,
            max_total_bytes: cap,
            ..AssemblyLimits::default()
        });
        assert_eq!(a.push(part(7, true, flows(10))), Ok(None));
        assert_eq!(a.push(part(8, true, meters(10))), Ok(None));
        assert_eq!(a.push(part(7, true, flows(10))), Ok(None));
        assert_eq!(a.pending_bytes(), cap);
        // A third part of either reply, or a new reply, no longer fits.
        assert_eq!(
            a.push(part(9, true, meters(1))),
            Err(AssemblyError::TooManyBytesPending {
                xid: 9,
                max_total_bytes: cap
            })
        );
        let err = a.push(part(8, false, meters(10))).unwrap_err();
        assert_eq!(
            err,
            AssemblyError::TooManyBytesPending {
                xid: 8,
                max_total_bytes: cap
            }
        );
        assert!(err.to_string().contains(&cap.to_string()), "{err}");
        // The refused xid is dropped and its bytes freed; the other reply is intact.
        assert_eq!((a.pending(), a.pending_bytes()), (1, 2 * f));
        let done = a.push(part(7, false, flows(0))).unwrap().unwrap();
        let MultipartReplyBody::Flow(ten) = flows(10) else {
            unreachable!("flows() builds a flow body")
        };
        assert_eq!(
            done.body,
            MultipartReplyBody::Flow([ten.clone(), ten].concat())
        );
        assert_eq!((a.pending(), a.pending_bytes()), (0, 0));
        // Abandoning a reply frees its bytes too.
        assert_eq!(a.push(part(10, true, flows(10))), Ok(None));
        a.abandon(10);
        assert_eq!((a.pending(), a.pending_bytes()), (0, 0));
    }
}
