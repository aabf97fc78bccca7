//! Test helper: a tiny OpenFlow flow table that applies FLOW_MODs one at a time and looks
//! packets up by priority, for the OXM fields and instructions op25b uses.
use op25b_proto::action::Action;
use op25b_proto::consts::OFPP_CONTROLLER;
use op25b_proto::flow_mod::{FlowMod, FlowModCommand};
use op25b_proto::instruction::Instruction;
use op25b_proto::match_::Match;
use op25b_proto::multipart::stats::FlowStats;
use op25b_proto::oxm::Oxm;
use std::collections::HashSet;
use std::net::IpAddr;

/// A packet as the switch's classifier sees it (fragments have `tcp_dst` 0, like OVS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    pub in_port: u32,
    /// The EtherType after the VLAN tags the switch parses: 0x0800 or 0x86dd for IP packets
    /// (see [`Packet::ip`]), anything else for frames without IP fields.
    pub eth_type: u16,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// 6 TCP, 17 UDP.
    pub ip_proto: u8,
    pub tcp_dst: u16,
}

impl Packet {
    /// An IPv4 or IPv6 packet (by the family of `src`).
    pub fn ip(in_port: u32, src: IpAddr, dst: IpAddr, ip_proto: u8, tcp_dst: u16) -> Packet {
        Packet {
            in_port,
            eth_type: if src.is_ipv4() { 0x0800 } else { 0x86dd },
            src,
            dst,
            ip_proto,
            tcp_dst,
        }
    }

    /// A frame the switch does not parse as IP (ARP, MPLS, PPPoE, a second VLAN tag...).
    pub fn other(in_port: u32, eth_type: u16) -> Packet {
        let none = IpAddr::from([0, 0, 0, 0]);
        Packet {
            in_port,
            eth_type,
            src: none,
            dst: none,
            ip_proto: 0,
            tcp_dst: 0,
        }
    }

    fn is_ip(&self) -> bool {
        matches!(self.eth_type, 0x0800 | 0x86dd)
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub table_id: u8,
    pub priority: u16,
    pub cookie: u64,
    pub flags: u16,
    pub match_: Match,
    pub instructions: Vec<Instruction>,
}

/// The switch's flows.
#[derive(Debug, Clone, Default)]
pub struct ModelTable {
    pub entries: Vec<Entry>,
}

fn same_match(a: &Match, b: &Match) -> bool {
    let a: HashSet<&Oxm> = a.fields.iter().collect();
    let b: HashSet<&Oxm> = b.fields.iter().collect();
    a == b
}

fn in_prefix4(addr: IpAddr, value: std::net::Ipv4Addr, mask: Option<std::net::Ipv4Addr>) -> bool {
    let IpAddr::V4(a) = addr else { return false };
    let m = mask.map_or(u32::MAX, u32::from);
    u32::from(a) & m == u32::from(value) & m
}

fn in_prefix6(addr: IpAddr, value: std::net::Ipv6Addr, mask: Option<std::net::Ipv6Addr>) -> bool {
    let IpAddr::V6(a) = addr else { return false };
    let m = mask.map_or(u128::MAX, u128::from);
    u128::from(a) & m == u128::from(value) & m
}

fn field_matches(f: &Oxm, p: &Packet) -> bool {
    let ip = p.is_ip();
    match f {
        Oxm::InPort(i) => *i == p.in_port,
        Oxm::EthType(t) => *t == p.eth_type,
        Oxm::IpProto(x) => ip && *x == p.ip_proto,
        Oxm::Ipv4Src { value, mask } => ip && in_prefix4(p.src, *value, *mask),
        Oxm::Ipv4Dst { value, mask } => ip && in_prefix4(p.dst, *value, *mask),
        Oxm::Ipv6Src { value, mask } => ip && in_prefix6(p.src, *value, *mask),
        Oxm::Ipv6Dst { value, mask } => ip && in_prefix6(p.dst, *value, *mask),
        Oxm::TcpDst(d) => ip && p.ip_proto == 6 && *d == p.tcp_dst,
        other => panic!("model table does not know {other:?}"),
    }
}

fn forwards(instructions: &[Instruction]) -> bool {
    instructions.iter().any(|i| match i {
        Instruction::GotoTable(_) => true,
        Instruction::ApplyActions(a) => a
            .iter()
            .any(|a| matches!(a, Action::Output { port, .. } if *port != OFPP_CONTROLLER)),
        _ => false,
    })
}

impl ModelTable {
    /// Applies one FLOW_MOD as OpenFlow 1.3 says (ADD replaces an identical entry; DELETE_STRICT
    /// removes the identical entry whose cookie matches under the mask).
    pub fn apply(&mut self, fm: &FlowMod) {
        match fm.command {
            FlowModCommand::Add => {
                self.entries.retain(|e| {
                    !(e.table_id == fm.table_id
                        && e.priority == fm.priority
                        && same_match(&e.match_, &fm.match_))
                });
                self.entries.push(Entry {
                    table_id: fm.table_id,
                    priority: fm.priority,
                    cookie: fm.cookie,
                    flags: fm.flags,
                    match_: fm.match_.clone(),
                    instructions: fm.instructions.clone(),
                });
            }
            FlowModCommand::DeleteStrict => {
                assert_eq!(
                    fm.out_port,
                    op25b_proto::consts::OFPP_ANY,
                    "delete must use OFPP_ANY"
                );
                assert_eq!(
                    fm.out_group,
                    op25b_proto::consts::OFPG_ANY,
                    "delete must use OFPG_ANY"
                );
                self.entries.retain(|e| {
                    !(e.table_id == fm.table_id
                        && e.priority == fm.priority
                        && same_match(&e.match_, &fm.match_)
                        && (e.cookie & fm.cookie_mask) == (fm.cookie & fm.cookie_mask))
                });
            }
            other => panic!("model table: op25b does not send {other:?}"),
        }
    }

    /// Whether table 0 forwards `p`. A table miss drops (OpenFlow 1.3). If several entries of
    /// the top priority match (undefined in OpenFlow), it counts as forwarded if any forwards.
    pub fn forwards(&self, p: &Packet) -> bool {
        let hits: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.table_id == 0 && e.match_.fields.iter().all(|f| field_matches(f, p)))
            .collect();
        let Some(top) = hits.iter().map(|e| e.priority).max() else {
            return false;
        };
        hits.iter()
            .filter(|e| e.priority == top)
            .any(|e| forwards(&e.instructions))
    }

    /// The table as a FLOW stats reply would report it.
    pub fn stats(&self) -> Vec<FlowStats> {
        self.entries
            .iter()
            .map(|e| FlowStats {
                table_id: e.table_id,
                duration_sec: 0,
                duration_nsec: 0,
                priority: e.priority,
                idle_timeout: 0,
                hard_timeout: 0,
                flags: e.flags,
                cookie: e.cookie,
                packet_count: 0,
                byte_count: 0,
                match_: e.match_.clone(),
                instructions: e.instructions.clone(),
            })
            .collect()
    }
}
