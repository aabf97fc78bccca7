//! The multipart reply parts one connection holds until their last part arrives, capped in
//! bytes as they sit in memory (`[controller] max_multipart_bytes`).
//!
//! `op25b_proto`'s [`MultipartAssembler`] joins the parts and bounds them in bytes as on the
//! wire. That is not what they cost once decoded: a 4-byte vendor OXM becomes a 40-byte enum
//! plus a heap block, so 20 MB of FLOW stats parts of such OXMs took 350 MiB. Here each part is
//! weighed as decoded ([`weight`]: its wire bytes, plus the size of every entry, field,
//! instruction, action, port or band it holds, plus one heap block for each of those that may
//! own one) and the connection's total is capped; the assembler's own byte limits are set to
//! the same cap, a backstop that never trips first (a weight is never below the wire size).
//!
//! FLOW stats replies are not joined as decoded: each part is normalised into the compact
//! [`ReportedFlow`]s reconcile and the observations need the moment it is decoded
//! ([`HeldReplies::push_flows`], [`flows::fold_part`]), and the decoded part is dropped, so a
//! re-syncing switch costs its compact table (112 bytes a flow of ours), not its decoded entries
//! (330-430 bytes a flow, measured), while its reply arrives. The table weighs what it holds
//! ([`ReportedFlow::weight`]) against the same cap, and the parts follow the assembler's
//! rules (a count of parts, of replies pending, one multipart type per xid).
//!
//! Going over the cap is a typed [`AssemblyError::TooManyBytesPending`]; the session drops the
//! switch on it. Parts for replies the session no longer awaits are forgotten
//! ([`HeldReplies::forget_unawaited`]), so an abandoned reply never fills the cap.

use crate::flows::{self, ReportedFlow};
use op25b_proto::consts::OFPMP_FLOW;
use op25b_proto::multipart::reply::{MultipartReply, MultipartReplyBody};
use op25b_proto::{
    Action, AssemblyError, AssemblyLimits, FlowStats, Instruction, MeterBand, MeterConfig,
    MultipartAssembler, OfpMessage, Oxm, Port,
};
use std::mem::size_of;

/// What one heap block is taken to cost (the allocator's smallest chunk): charged for every
/// item that may own one (a raw field, action or instruction; a port's name; a list).
const HEAP_BLOCK: usize = 32;

/// The replies being joined on one connection and what they weigh.
#[derive(Debug)]
pub struct HeldReplies {
    assembler: MultipartAssembler,
    /// The FLOW stats replies being read, each folded into its compact table so far.
    flows: Vec<FlowRead>,
    /// Each xid with parts held, its multipart type, and their weight.
    held: Vec<Held>,
    /// The sum of the weights in `held`.
    total: usize,
    cap: usize,
}

/// An xid with parts held.
#[derive(Debug, Clone, Copy)]
struct Held {
    xid: u32,
    mp_type: u16,
    weight: usize,
}

/// A FLOW stats reply read part by part: the flows of the parts in so far.
#[derive(Debug)]
struct FlowRead {
    xid: u32,
    parts: usize,
    table: Vec<ReportedFlow>,
}

impl HeldReplies {
    /// At most `cap` bytes (weighed as decoded) held at once, all replies together.
    pub fn new(cap: usize) -> Self {
        Self {
            assembler: MultipartAssembler::new(limits(cap)),
            flows: Vec::new(),
            held: Vec::new(),
            total: 0,
            cap,
        }
    }

    /// A new cap (the policy changed, see `session::read_cap`): the next part is weighed
    /// against it; the parts held stay.
    pub fn set_cap(&mut self, cap: usize) {
        if cap != self.cap {
            self.cap = cap;
            self.assembler.set_limits(limits(cap));
        }
    }

    /// The cap, in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes held now, weighed as decoded.
    pub fn held_bytes(&self) -> usize {
        self.total
    }

    /// One part (`frame_len` bytes on the wire) of a multipart reply: the whole reply once its
    /// last part arrived, `None` while more are expected, or why it was refused (its parts
    /// are then forgotten).
    pub fn push(
        &mut self,
        msg: OfpMessage,
        reply_weight: usize,
    ) -> Result<Option<MultipartReply>, AssemblyError> {
        let xid = msg.xid;
        let mp_type = match &msg.body {
            op25b_proto::Message::MultipartReply(r) => r.body.mp_type(),
            _ => 0,
        };
        if self.flows.iter().any(|f| f.xid == xid) {
            self.forget(xid);
            return Err(AssemblyError::TypeMismatch {
                xid,
                expected: OFPMP_FLOW,
                got: mp_type,
            });
        }
        if self.total.saturating_add(reply_weight) > self.cap {
            self.forget(xid);
            return Err(AssemblyError::TooManyBytesPending {
                xid,
                max_total_bytes: self.cap,
            });
        }
        let pushed = self.assembler.push(msg);
        match &pushed {
            Ok(None) => self.charge(xid, mp_type, reply_weight),
            Ok(Some(_)) | Err(_) => self.release(xid),
        }
        pushed
    }

    /// One part of the FLOW stats reply `xid` (`more`: OFPMPF_REPLY_MORE set), decoded as
    /// `entries`: they are folded into the reply's compact table at once (the caller drops the
    /// decoded part). Returns the whole table once the last part arrived, `None` while more
    /// are expected, or why the reply was refused (its table is then dropped): parts of
    /// another multipart type for the same xid, too many parts or replies pending (the
    /// assembler's limits), or the connection's byte cap.
    pub fn push_flows(
        &mut self,
        xid: u32,
        more: bool,
        entries: &[FlowStats],
    ) -> Result<Option<Vec<ReportedFlow>>, AssemblyError> {
        let limits = limits(self.cap);
        let at = match self.flows.iter().position(|f| f.xid == xid) {
            Some(at) => at,
            None => {
                if let Some(other) = self.held.iter().find(|h| h.xid == xid).copied() {
                    self.forget(xid);
                    return Err(AssemblyError::TypeMismatch {
                        xid,
                        expected: other.mp_type,
                        got: OFPMP_FLOW,
                    });
                }
                if more && self.held.len() >= limits.max_pending {
                    return Err(AssemblyError::TooManyPending {
                        xid,
                        max_pending: limits.max_pending,
                    });
                }
                self.flows.push(FlowRead {
                    xid,
                    parts: 0,
                    table: Vec::new(),
                });
                self.flows.len() - 1
            }
        };
        let read = &mut self.flows[at];
        read.parts += 1;
        if read.parts > limits.max_parts {
            self.forget(xid);
            return Err(AssemblyError::TooManyParts {
                xid,
                max_parts: limits.max_parts,
            });
        }
        let added = flows::fold_part(&mut read.table, entries);
        if self.total.saturating_add(added) > self.cap {
            self.forget(xid);
            return Err(AssemblyError::TooManyBytesPending {
                xid,
                max_total_bytes: self.cap,
            });
        }
        if more {
            self.charge(xid, OFPMP_FLOW, added);
            return Ok(None);
        }
        let mut table = self.flows.swap_remove(at).table;
        self.release(xid);
        table.shrink_to_fit();
        Ok(Some(table))
    }
    /// Forgets the parts held for every xid `awaited` says no one waits for any more.
    pub fn forget_unawaited(&mut self, awaited: &impl Fn(u32) -> bool) {
        let gone: Vec<u32> = self
            .held
            .iter()
            .map(|h| h.xid)
            .filter(|&xid| !awaited(xid))
            .collect();
        for xid in gone {
            self.forget(xid);
        }
    }

    /// Drops `xid`'s parts (from the assembler, or its flow table) and its weight from the
    /// total.
    fn forget(&mut self, xid: u32) {
        self.assembler.abandon(xid);
        self.flows.retain(|f| f.xid != xid);
        self.release(xid);
    }

    /// Adds `weight` to `xid`'s parts held (of multipart type `mp_type`) and to the total.
    fn charge(&mut self, xid: u32, mp_type: u16, weight: usize) {
        self.total += weight;
        match self.held.iter_mut().find(|h| h.xid == xid) {
            Some(h) => h.weight += weight,
            None => self.held.push(Held {
                xid,
                mp_type,
                weight,
            }),
        }
    }

    /// Takes `xid`'s weight off the total (its parts already left the assembler or its flow
    /// table was handed on).
    fn release(&mut self, xid: u32) {
        if let Some(i) = self.held.iter().position(|h| h.xid == xid) {
            let h = self.held.swap_remove(i);
            self.total -= h.weight;
        }
    }
}

/// The assembler's own limits under a cap of `cap` bytes: the same cap (a backstop, see the
/// module doc), and at least 4096 parts, one more per KiB of the cap: a large policy's flows
/// come in many parts (a switch sends 50 to a few hundred per part), and what bounds the
/// connection's memory is the byte cap, not the count of parts.
fn limits(cap: usize) -> AssemblyLimits {
    AssemblyLimits {
        max_parts: (cap / 1024).max(4096),
        max_bytes: cap,
        // Only awaited replies are held: at most three (PORT_DESC, a sync's reads, a counter
        // poll); a backstop.
        max_pending: 8,
        max_total_bytes: cap,
    }
}

/// What a part of `frame_len` wire bytes with `body` costs held in memory (an estimate that
/// errs high): the wire bytes, plus every item's size and one heap block per item that may own
/// one. Bodies the session does not read are never held; they weigh their wire bytes twice.
pub fn weight(body: &MultipartReplyBody, frame_len: usize) -> usize {
    let items = match body {
        MultipartReplyBody::Flow(entries) => entries.iter().map(flow_weight).sum(),
        MultipartReplyBody::PortDesc(ports) => ports.len() * (size_of::<Port>() + HEAP_BLOCK),
        MultipartReplyBody::MeterConfig(meters) => meters
            .iter()
            .map(|m| {
                size_of::<MeterConfig>()
                    + HEAP_BLOCK
                    + m.bands.len() * (size_of::<MeterBand>() + HEAP_BLOCK)
            })
            .sum(),
        _ => frame_len,
    };
    frame_len.saturating_add(items)
}

fn flow_weight(e: &FlowStats) -> usize {
    let instructions: usize = e
        .instructions
        .iter()
        .map(|i| {
            let actions = match i {
                Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.len(),
                _ => 0,
            };
            size_of::<Instruction>() + HEAP_BLOCK + actions * (size_of::<Action>() + HEAP_BLOCK)
        })
        .sum();
    size_of::<FlowStats>()
        + 2 * HEAP_BLOCK
        + e.match_.fields.len() * (size_of::<Oxm>() + HEAP_BLOCK)
        + instructions
}

#[cfg(test)]
mod tests {
    use super::*;
    use op25b_proto::consts::OFPMPF_REPLY_MORE;
    use op25b_proto::message::Message;

    fn part(xid: u32, more: bool, entries: Vec<FlowStats>) -> OfpMessage {
        let flags = if more { OFPMPF_REPLY_MORE } else { 0 };
        OfpMessage::new(
            xid,
            Message::MultipartReply(MultipartReply {
                flags,
                body: MultipartReplyBody::Flow(entries),
            }),
        )
    }

    fn entry(raw_oxms: usize) -> FlowStats {
        let raw = Oxm::Raw(bytes::Bytes::from_static(&[0, 1, 2, 0]));
        FlowStats {
            table_id: 0,
            duration_sec: 0,
            duration_nsec: 0,
            priority: 1,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie: 1,
            packet_count: 0,
            byte_count: 0,
            match_: op25b_proto::Match::new(vec![raw; raw_oxms]),
            instructions: vec![],
        }
    }

    /// Pushes `m` with its weight, as the decoder does.
    fn push(h: &mut HeldReplies, m: OfpMessage) -> Result<Option<MultipartReply>, AssemblyError> {
        let len = m.to_bytes().len();
        let w = match &m.body {
            Message::MultipartReply(r) => weight(&r.body, len),
            _ => len,
        };
        h.push(m, w)
    }

    /// A superset of the largest flow op25b installs, as a FLOW stats entry: an input port, an
    /// IPv6 source prefix with its mask and a TCP port, sampled through a meter.
    fn largest_flow_of_ours() -> FlowStats {
        use crate::flows::{to_instructions, to_match, FlowAction, FlowMatch, IpFamily, TcpMatch};
        let m = FlowMatch {
            in_port: Some(crate::policy::PortNo(0xffff_ff00)),
            eth_type: None,
            tcp: Some(TcpMatch {
                family: IpFamily::V6,
                src: Some("2001:db8:ffff::/48".parse().expect("prefix")),
                dst: None,
                dst_port: Some(2525),
            }),
        };
        let action = FlowAction::Sample {
            meter_id: 1,
            max_len: 128,
        };
        FlowStats {
            match_: to_match(&m),
            instructions: to_instructions(&action),
            ..entry(0)
        }
    }

    #[test]
    fn the_default_cap_fits_the_smallest_flow_read_cap_and_one_flow_weighs_under_its_bound() {
        let ours = largest_flow_of_ours();
        let one = part(1, true, vec![ours.clone()]);
        let empty = part(1, true, vec![]);
        let wire = one.to_bytes().len() - empty.to_bytes().len();
        // Held folded, not decoded: what a FLOW stats read costs per flow.
        let folded = ReportedFlow::from_stats(&ours).weight();
        // Decoded (as PORT_DESC and METER_CONFIG parts are held, and FLOW parts were).
        let Message::MultipartReply(r) = &one.body else {
            unreachable!()
        };
        let decoded = weight(&r.body, wire);
        let cap = crate::policy::ControllerSettings::default().max_multipart_bytes;
        assert!(
            decoded <= crate::session::read_cap::FLOW_WEIGHT_BOUND,
            "{decoded}"
        );
        assert!(folded < decoded / 4, "folded {folded}, decoded {decoded}");
        let needed = folded * crate::session::read_cap::MIN_FLOW_READ;
        eprintln!("our largest flow: {wire} bytes on the wire, weighs {decoded} decoded and {folded} folded; 100,000 of them: {needed}, cap {cap}");
        assert!(needed <= cap, "{needed} > {cap}");
    }

    #[test]
    fn raw_fields_weigh_far_more_than_their_wire_bytes() {
        let m = part(1, true, vec![entry(1000)]);
        let wire = m.to_bytes().len();
        let Message::MultipartReply(r) = &m.body else {
            unreachable!()
        };
        let w = weight(&r.body, wire);
        assert!(w > 10 * wire, "{w} for {wire} wire bytes");
        // Folded, a match op25b does not install is kept as reported: weighed field by field.
        let folded = ReportedFlow::from_stats(&entry(1000)).weight();
        assert!(folded > 10 * wire, "{folded} for {wire} wire bytes");
    }

    #[test]
    fn the_cap_counts_every_held_reply_and_frees_what_completes_or_is_abandoned() {
        let one = {
            let m = part(1, true, vec![entry(100)]);
            let len = m.to_bytes().len();
            let Message::MultipartReply(r) = &m.body else {
                unreachable!()
            };
            weight(&r.body, len)
        };
        let mut h = HeldReplies::new(3 * one);
        assert!(matches!(
            push(&mut h, part(1, true, vec![entry(100)])),
            Ok(None)
        ));
        assert!(matches!(
            push(&mut h, part(2, true, vec![entry(100)])),
            Ok(None)
        ));
        assert_eq!(h.held_bytes(), 2 * one);
        // Reply 1 completes: its weight is released.
        assert!(matches!(push(&mut h, part(1, false, vec![])), Ok(Some(_))));
        assert_eq!(h.held_bytes(), one);
        assert!(matches!(
            push(&mut h, part(2, true, vec![entry(100)])),
            Ok(None)
        ));
        assert!(matches!(
            push(&mut h, part(3, true, vec![entry(100)])),
            Ok(None)
        ));
        // Full: the next part is refused and its reply forgotten.
        assert!(matches!(
            push(&mut h, part(3, true, vec![entry(100)])),
            Err(AssemblyError::TooManyBytesPending { xid: 3, .. })
        ));
        assert_eq!(h.held_bytes(), 2 * one);
        // The session gave up on xid 2: forgotten, and a new reply fits again.
        h.forget_unawaited(&|xid| xid != 2);
        assert_eq!(h.held_bytes(), 0);
        assert!(matches!(
            push(&mut h, part(2, true, vec![entry(100)])),
            Ok(None)
        ));
    }
}
