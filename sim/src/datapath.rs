//! The switch's protocol brain, sans I/O: one decoded controller message in, the switch's
//! replies out, with the flow table, meters, switch config and role it keeps.
//!
//! HELLO negotiation, ECHO keepalives and fault injection belong to the connection
//! ([`crate::switch`]); everything after the handshake is here.

use std::time::Instant;

use bytes::Bytes;
use op25b_proto::consts::{
    OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE, OFPC_FLOW_STATS,
    OFPC_FRAG_DROP, OFPC_FRAG_MASK, OFPC_PORT_STATS, OFPC_TABLE_STATS, OFPFF_SEND_FLOW_REM,
    OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMF_BURST, OFPMF_KBPS, OFPMF_PKTPS, OFPMF_STATS,
    OFPMPF_REPLY_MORE, OFPP_MAX, OFPRR_DELETE, OFPR_ACTION, OFPR_NO_MATCH, OFP_NO_BUFFER,
};
use op25b_proto::error_codes::{
    BadRequestCode, ErrorType, MeterModFailedCode, RoleRequestFailedCode, SwitchConfigFailedCode,
};
use op25b_proto::{
    Desc, ErrorMsg, FeaturesReply, FlowMod, FlowRemoved, Instruction, MacAddr, Match, Message,
    MeterFeatures, MeterMod, MultipartReply, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, OfpMessage, Oxm, PacketIn, Port, RoleMsg, SwitchConfig, TableStats,
};

use crate::flow_table::{FlowEntry, FlowTable, TableConfig};
use crate::meter_table::{MeterChange, MeterTable};
use crate::packet::PacketHeaders;
use crate::verdict::Verdict;

/// What the switch is and how big its tables are.
#[derive(Debug, Clone)]
pub struct DatapathConfig {
    /// Datapath id reported in FEATURES_REPLY.
    pub datapath_id: u64,
    /// Ports reported in PORT_DESC.
    pub ports: Vec<Port>,
    /// Flow tables.
    pub tables: TableConfig,
    /// Meters the meter table holds.
    pub meter_capacity: u32,
    /// Answer every METER_MOD with this OFPET_METER_MOD_FAILED code (a switch without meters).
    pub reject_meters: Option<MeterModFailedCode>,
    /// FLOW stats entries per MULTIPART_REPLY; more are split with OFPMPF_REPLY_MORE.
    pub flow_stats_per_reply: usize,
    /// DESC reply.
    pub desc: Desc,
}

impl DatapathConfig {
    /// A switch with this datapath id, ports 1..=n_ports named `s<dpid>-eth<n>`, OVS-like
    /// tables, 64 meters, 50 flow-stats entries per reply.
    pub fn new(datapath_id: u64, n_ports: u32) -> Self {
        Self {
            datapath_id,
            ports: (1..=n_ports).map(|n| sim_port(datapath_id, n)).collect(),
            tables: TableConfig::default(),
            meter_capacity: 64,
            reject_meters: None,
            flow_stats_per_reply: 50,
            desc: Desc {
                mfr_desc: "op25b".into(),
                hw_desc: "op25b-sim".into(),
                sw_desc: env!("CARGO_PKG_VERSION").into(),
                serial_num: format!("{datapath_id:016x}"),
                dp_desc: "simulated OpenFlow 1.3 switch".into(),
            },
        }
    }
}

/// A port as a simulated switch reports it: up, 10 Gb/s, a locally administered MAC.
pub fn sim_port(datapath_id: u64, port_no: u32) -> Port {
    let d = datapath_id.to_be_bytes();
    let p = port_no.to_be_bytes();
    Port {
        port_no,
        hw_addr: MacAddr([0x02, d[6], d[7], p[1], p[2], p[3]]),
        name: format!("s{datapath_id}-eth{port_no}"),
        config: 0,
        state: 0,
        curr: 0,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: 10_000_000,
        max_speed: 10_000_000,
    }
}

/// Flow table, meters, switch config and controller role of one switch.
#[derive(Debug, Clone)]
pub struct Datapath {
    config: DatapathConfig,
    flows: FlowTable,
    meters: MeterTable,
    switch_config: SwitchConfig,
    role: u32,
    generation_id: Option<u64>,
}

impl Datapath {
    /// A fresh switch: empty tables, OFPC_FRAG_NORMAL, role EQUAL.
    pub fn new(config: DatapathConfig) -> Self {
        Self {
            flows: FlowTable::new(config.tables),
            meters: MeterTable::new(config.meter_capacity as usize),
            switch_config: SwitchConfig {
                flags: 0,
                miss_send_len: 128,
            },
            role: OFPCR_ROLE_EQUAL,
            generation_id: None,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DatapathConfig {
        &self.config
    }

    /// The flow tables.
    pub fn flows(&self) -> &FlowTable {
        &self.flows
    }

    /// The flow tables, to change behind the controller's back (foreign or stale flows, wipes).
    pub fn flows_mut(&mut self) -> &mut FlowTable {
        &mut self.flows
    }

    /// The meters.
    pub fn meters(&self) -> &MeterTable {
        &self.meters
    }

    /// The config last set by SET_CONFIG.
    pub fn switch_config(&self) -> SwitchConfig {
        self.switch_config
    }

    /// The controller's current role (OFPCR_ROLE_*).
    pub fn role(&self) -> u32 {
        self.role
    }

    /// What the switch does with `pkt`, honouring the fragment mode: with OFPC_FRAG_DROP
    /// fragments are dropped before the pipeline; otherwise (normal, and reassembly which this
    /// model treats as normal) fragments go through with ports 0.
    ///
    /// Outputs are what the ports can deliver: an output to a port the switch does not have,
    /// or back to the input port (OFPP_IN_PORT excepted), goes nowhere, as in OVS.
    pub fn classify(&self, pkt: &PacketHeaders) -> Verdict {
        if self.drops_fragment(pkt) {
            return Verdict::default();
        }
        self.deliverable(pkt, self.flows.classify(pkt))
    }

    /// Whether `pkt` is a fragment the OFPC_FRAG_DROP mode drops before the pipeline.
    fn drops_fragment(&self, pkt: &PacketHeaders) -> bool {
        pkt.is_fragment && self.switch_config.flags & OFPC_FRAG_MASK == OFPC_FRAG_DROP
    }

    fn deliverable(&self, pkt: &PacketHeaders, mut v: Verdict) -> Verdict {
        let ports = &self.config.ports;
        v.outputs.retain(|p| {
            *p > OFPP_MAX || (*p != pkt.in_port && ports.iter().any(|x| x.port_no == *p))
        });
        v
    }

    /// [`Datapath::classify`], and count the packet (`bytes` long) on the flows it hit.
    pub fn record_packet(&mut self, pkt: &PacketHeaders, bytes: u64) -> Verdict {
        if self.drops_fragment(pkt) {
            return Verdict::default();
        }
        let v = self.flows.record_packet(pkt, bytes);
        self.deliverable(pkt, v)
    }

    /// The PACKET_IN a switch sends for `pkt` after `verdict` sent it to the controller, or
    /// `None` when it did not (or the controller is a SLAVE, which gets no packet-ins).
    /// `frame` is the packet's Ethernet frame (sent whole: the model's frames are shorter
    /// than any `max_len` a controller uses).
    pub fn packet_in(
        &self,
        pkt: &PacketHeaders,
        verdict: &Verdict,
        frame: Bytes,
    ) -> Option<PacketIn> {
        if !verdict.sends_to_controller() || self.role == OFPCR_ROLE_SLAVE {
            return None;
        }
        let hit = verdict.last_hit()?;
        let table_miss_flow = hit.priority == 0
            && self.flows.entries().any(|e| {
                e.table_id == hit.table_id && e.priority == 0 && e.normal == crate::FlowMatch::any()
            });
        Some(PacketIn {
            buffer_id: OFP_NO_BUFFER,
            total_len: u16::try_from(frame.len()).unwrap_or(u16::MAX),
            // Spec 7.4.1: a table-miss flow entry's packet-ins say OFPR_NO_MATCH.
            reason: if table_miss_flow {
                OFPR_NO_MATCH
            } else {
                OFPR_ACTION
            },
            table_id: hit.table_id,
            cookie: hit.cookie,
            match_: Match::new(vec![Oxm::InPort(pkt.in_port)]),
            data: frame,
        })
    }

    /// Handles one controller message received after the HELLO exchange. `frame` is its wire
    /// form (echoed in ERROR data).
    pub fn handle(&mut self, msg: &OfpMessage, frame: &Bytes, now: Instant) -> Vec<OfpMessage> {
        let reply = |body| {
            vec![OfpMessage {
                version: msg.version,
                xid: msg.xid,
                body,
            }]
        };
        let error = |code| error_reply(msg, frame, code);
        let is_slave = self.role == OFPCR_ROLE_SLAVE;
        match &msg.body {
            Message::EchoRequest(data) => reply(Message::EchoReply(data.clone())),
            Message::EchoReply(_) | Message::Hello(_) | Message::Error(_) => Vec::new(),
            Message::FeaturesRequest => reply(Message::FeaturesReply(FeaturesReply {
                datapath_id: self.config.datapath_id,
                n_buffers: 0,
                n_tables: self.flows.config().n_tables,
                auxiliary_id: 0,
                capabilities: OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS,
                reserved: 0,
            })),
            Message::GetConfigRequest => reply(Message::GetConfigReply(self.switch_config)),
            Message::SetConfig(c) => {
                if c.flags & !OFPC_FRAG_MASK != 0 {
                    return error((
                        ErrorType::SwitchConfigFailed as u16,
                        SwitchConfigFailedCode::BadFlags as u16,
                    ));
                }
                self.switch_config = *c;
                Vec::new()
            }
            Message::FlowMod(_) | Message::MeterMod(_) if is_slave => {
                error((ErrorType::BadRequest as u16, BadRequestCode::IsSlave as u16))
            }
            Message::FlowMod(fm) => self.flow_mod(msg, fm, frame, now),
            Message::MeterMod(mm) => self.meter_mod(msg, mm, frame),
            Message::MultipartRequest(req) => self.multipart(msg, req, frame, now),
            Message::BarrierRequest => reply(Message::BarrierReply),
            Message::RoleRequest(r) => match self.role_request(r) {
                Ok(r) => reply(Message::RoleReply(r)),
                Err(code) => error((ErrorType::RoleRequestFailed as u16, code as u16)),
            },
            Message::GetAsyncRequest => reply(Message::GetAsyncReply(Default::default())),
            Message::SetAsync(_) | Message::PacketOut(_) => Vec::new(),
            Message::Experimenter(_) => error((
                ErrorType::BadRequest as u16,
                BadRequestCode::BadExperimenter as u16,
            )),
            _ => error((ErrorType::BadRequest as u16, BadRequestCode::BadType as u16)),
        }
    }

    fn flow_mod(
        &mut self,
        msg: &OfpMessage,
        fm: &FlowMod,
        frame: &Bytes,
        now: Instant,
    ) -> Vec<OfpMessage> {
        let meters = &self.meters;
        match self
            .flows
            .apply_with_meters(fm, now, |m| meters.contains(m))
        {
            Ok(outcome) => outcome
                .removed
                .iter()
                .filter(|e| e.flags & OFPFF_SEND_FLOW_REM != 0)
                .map(|e| OfpMessage {
                    version: msg.version,
                    xid: 0,
                    body: Message::FlowRemoved(flow_removed(e, now)),
                })
                .collect(),
            Err(e) => error_reply(msg, frame, e.ofp_error()),
        }
    }

    fn meter_mod(&mut self, msg: &OfpMessage, mm: &MeterMod, frame: &Bytes) -> Vec<OfpMessage> {
        if let Some(code) = self.config.reject_meters {
            return error_reply(msg, frame, (ErrorType::MeterModFailed as u16, code as u16));
        }
        match self.meters.apply(mm) {
            // "When a meter is deleted, flow entries that use it are removed" (OVS does too).
            Ok(MeterChange::Deleted(ids)) if !ids.is_empty() => {
                self.flows.remove_where(|e| {
                    e.instructions
                        .iter()
                        .any(|i| matches!(i, Instruction::Meter(m) if ids.contains(m)))
                });
                Vec::new()
            }
            Ok(_) => Vec::new(),
            Err(e) => error_reply(msg, frame, e.ofp_error()),
        }
    }

    fn multipart(
        &mut self,
        msg: &OfpMessage,
        req: &MultipartRequest,
        frame: &Bytes,
        now: Instant,
    ) -> Vec<OfpMessage> {
        use MultipartRequestBody as Req;
        let one = |body| {
            vec![OfpMessage {
                version: msg.version,
                xid: msg.xid,
                body: Message::MultipartReply(MultipartReply { flags: 0, body }),
            }]
        };
        let error = |code| error_reply(msg, frame, code);
        match &req.body {
            Req::Desc => one(MultipartReplyBody::Desc(self.config.desc.clone())),
            Req::Flow(r) => match self.flows.flow_stats(r, now) {
                Ok(stats) => {
                    let per = self.config.flow_stats_per_reply.max(1);
                    let chunks: Vec<_> = stats.chunks(per).map(<[_]>::to_vec).collect();
                    if chunks.is_empty() {
                        return one(MultipartReplyBody::Flow(Vec::new()));
                    }
                    let last = chunks.len() - 1;
                    chunks
                        .into_iter()
                        .enumerate()
                        .map(|(i, chunk)| OfpMessage {
                            version: msg.version,
                            xid: msg.xid,
                            body: Message::MultipartReply(MultipartReply {
                                flags: if i < last { OFPMPF_REPLY_MORE } else { 0 },
                                body: MultipartReplyBody::Flow(chunk),
                            }),
                        })
                        .collect()
                }
                Err(e) => error(e.ofp_error()),
            },
            Req::Aggregate(r) => match self.flows.aggregate_stats(r) {
                Ok(agg) => one(MultipartReplyBody::Aggregate(agg)),
                Err(e) => error(e.ofp_error()),
            },
            Req::Table => one(MultipartReplyBody::Table(
                (0..self.flows.config().n_tables)
                    .map(|t| TableStats {
                        table_id: t,
                        // Saturates; a table never holds 2^32 entries.
                        active_count: u32::try_from(self.flows.table_len(t)).unwrap_or(u32::MAX),
                        lookup_count: 0,
                        matched_count: 0,
                    })
                    .collect(),
            )),
            Req::PortDesc => one(MultipartReplyBody::PortDesc(self.config.ports.clone())),
            Req::MeterConfig { meter_id } => one(MultipartReplyBody::MeterConfig(
                self.meters.configs(*meter_id),
            )),
            Req::MeterFeatures => one(MultipartReplyBody::MeterFeatures(MeterFeatures {
                max_meter: self.config.meter_capacity,
                band_types: (1 << OFPMBT_DROP) | (1 << OFPMBT_DSCP_REMARK),
                capabilities: u32::from(OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS),
                max_bands: 1,
                max_color: 0,
            })),
            _ => error((
                ErrorType::BadRequest as u16,
                BadRequestCode::BadMultipart as u16,
            )),
        }
    }

    /// OpenFlow 1.3.5, 6.3.7: MASTER and SLAVE requests carry a generation id; one older than
    /// the last seen (by signed 64-bit distance) is stale.
    fn role_request(&mut self, r: &RoleMsg) -> Result<RoleMsg, RoleRequestFailedCode> {
        match r.role {
            OFPCR_ROLE_NOCHANGE => {}
            OFPCR_ROLE_EQUAL => self.role = OFPCR_ROLE_EQUAL,
            OFPCR_ROLE_MASTER | OFPCR_ROLE_SLAVE => {
                if let Some(cached) = self.generation_id {
                    if r.generation_id.wrapping_sub(cached).cast_signed() < 0 {
                        return Err(RoleRequestFailedCode::Stale);
                    }
                }
                self.generation_id = Some(r.generation_id);
                self.role = r.role;
            }
            _ => return Err(RoleRequestFailedCode::BadRole),
        }
        Ok(RoleMsg {
            role: self.role,
            generation_id: self.generation_id.unwrap_or(0),
        })
    }
}

/// The one ERROR answering `msg` (same version and xid), carrying the start of its `frame`.
fn error_reply(msg: &OfpMessage, frame: &Bytes, (t, c): (u16, u16)) -> Vec<OfpMessage> {
    vec![OfpMessage {
        version: msg.version,
        xid: msg.xid,
        body: Message::Error(ErrorMsg::for_request(t, c, frame)),
    }]
}

fn flow_removed(e: &FlowEntry, now: Instant) -> FlowRemoved {
    let s = e.to_stats(now);
    FlowRemoved {
        cookie: e.cookie,
        priority: e.priority,
        reason: OFPRR_DELETE,
        table_id: e.table_id,
        duration_sec: s.duration_sec,
        duration_nsec: s.duration_nsec,
        idle_timeout: e.idle_timeout,
        hard_timeout: e.hard_timeout,
        packet_count: e.packet_count,
        byte_count: e.byte_count,
        match_: e.match_.clone(),
    }
}

#[cfg(test)]
#[path = "datapath_tests.rs"]
mod tests;
