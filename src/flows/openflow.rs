//! op25b's flow model -> OpenFlow 1.3 messages (FLOW_MOD, METER_MOD, the FLOW stats request).
use super::desired::DesiredFlows;
use super::flow::{FlowAction, FlowMatch, FlowSpec, IpFamily};
use super::meters::MeterSpec;
use crate::policy::{Cookie, Forwarding};
use ipnet::IpNet;
use op25b_proto::action::Action;
use op25b_proto::consts::{
    OFPFF_SEND_FLOW_REM, OFPG_ANY, OFPMC_ADD, OFPMC_MODIFY, OFPMF_BURST, OFPMF_PKTPS, OFPMF_STATS,
    OFPP_ANY, OFPP_CONTROLLER, OFPP_NORMAL, OFPTT_ALL, OFP_NO_BUFFER,
};
use op25b_proto::flow_mod::{FlowMod, FlowModCommand};
use op25b_proto::instruction::Instruction;
use op25b_proto::match_::Match;
use op25b_proto::meter::{MeterBand, MeterMod};
use op25b_proto::multipart::request::{FlowStatsRequest, MultipartRequest, MultipartRequestBody};
use op25b_proto::oxm::Oxm;

/// `eth_type` of IPv4.
pub const ETH_TYPE_IPV4: u16 = 0x0800;
/// `eth_type` of IPv6.
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
/// `ip_proto` of TCP.
pub const IP_PROTO_TCP: u8 = 6;
/// `ip_proto` of the IPv6 Fragment extension header: what Open vSwitch matches for an IPv6
/// fragment other than the first.
pub const IP_PROTO_IPV6_FRAGMENT: u8 = 44;

/// The `eth_type` and `ip_proto` a match on `family` carries.
pub fn eth_type_and_ip_proto(family: IpFamily) -> (u16, u8) {
    match family {
        IpFamily::V4 => (ETH_TYPE_IPV4, IP_PROTO_TCP),
        IpFamily::V6 => (ETH_TYPE_IPV6, IP_PROTO_TCP),
        IpFamily::V6LaterFragment => (ETH_TYPE_IPV6, IP_PROTO_IPV6_FRAGMENT),
    }
}

/// The OXM fields of `m`, prerequisites first (in_port, eth_type, ip_proto, addresses, tcp_dst),
/// host prefixes without a mask.
pub fn to_match(m: &FlowMatch) -> Match {
    let mut f = Vec::new();
    if let Some(p) = m.in_port {
        f.push(Oxm::InPort(p.0));
    }
    if let Some(t) = m.eth_type {
        f.push(Oxm::EthType(t.0));
    }
    if let Some(t) = &m.tcp {
        let (eth_type, ip_proto) = eth_type_and_ip_proto(t.family);
        f.push(Oxm::EthType(eth_type));
        f.push(Oxm::IpProto(ip_proto));
        for (net, is_src) in [(t.src, true), (t.dst, false)] {
            let Some(net) = net else { continue };
            // A host prefix goes without a mask.
            let masked = net.prefix_len() != net.max_prefix_len();
            f.push(match (net, is_src) {
                (IpNet::V4(n), true) => Oxm::Ipv4Src {
                    value: n.network(),
                    mask: masked.then(|| n.netmask()),
                },
                (IpNet::V4(n), false) => Oxm::Ipv4Dst {
                    value: n.network(),
                    mask: masked.then(|| n.netmask()),
                },
                (IpNet::V6(n), true) => Oxm::Ipv6Src {
                    value: n.network(),
                    mask: masked.then(|| n.netmask()),
                },
                (IpNet::V6(n), false) => Oxm::Ipv6Dst {
                    value: n.network(),
                    mask: masked.then(|| n.netmask()),
                },
            });
        }
        if let Some(p) = t.dst_port {
            f.push(Oxm::TcpDst(p));
        }
    }
    Match::new(f)
}

/// The instructions of `a`: NORMAL output, goto_table, none (drop), or meter + controller.
pub fn to_instructions(a: &FlowAction) -> Vec<Instruction> {
    match a {
        FlowAction::Forward(Forwarding::Normal) => {
            vec![Instruction::ApplyActions(vec![Action::Output {
                port: OFPP_NORMAL,
                max_len: 0,
            }])]
        }
        FlowAction::Forward(Forwarding::GotoTable(t)) => vec![Instruction::GotoTable(*t)],
        FlowAction::Drop => Vec::new(),
        FlowAction::Sample { meter_id, max_len } => vec![
            Instruction::Meter(*meter_id),
            Instruction::ApplyActions(vec![Action::Output {
                port: OFPP_CONTROLLER,
                max_len: *max_len,
            }]),
        ],
    }
}

/// The FLOW_MOD flags every flow op25b installs carries: OFPFF_SEND_FLOW_REM, so that the switch
/// sends a FLOW_REMOVED (reason DELETE) when anyone deletes one of our flows (e.g.
/// `ovs-ofctl del-flows`), and the session re-syncs at once instead of at the next audit.
pub const OUR_FLOW_FLAGS: u16 = OFPFF_SEND_FLOW_REM;

/// Whether a flow the switch reports with `flags` carries [`OUR_FLOW_FLAGS`]: if not (installed
/// by an older op25b, or by hand), reconcile replaces it with an ADD of the same table, priority
/// and match. Other flag bits (e.g. what a switch adds on its own) are not compared.
pub fn has_our_flags(flags: u16) -> bool {
    flags & OUR_FLOW_FLAGS == OUR_FLOW_FLAGS
}

/// An OFPFC_ADD of `f` carrying `cookie` and [`OUR_FLOW_FLAGS`] (no timeouts, no buffer). An ADD
/// of a flow whose table, priority and match already exist replaces its instructions and flags
/// atomically.
pub fn flow_mod_add(cookie: Cookie, f: &FlowSpec) -> FlowMod {
    FlowMod {
        cookie: cookie.0,
        cookie_mask: 0,
        table_id: f.key.table_id,
        command: FlowModCommand::Add,
        idle_timeout: 0,
        hard_timeout: 0,
        priority: f.key.priority,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        flags: OUR_FLOW_FLAGS,
        match_: to_match(&f.key.match_),
        instructions: to_instructions(&f.action),
    }
}

/// A strict, cookie-masked delete of exactly one flow of ours.
pub fn flow_mod_delete_strict(
    cookie: Cookie,
    table_id: u8,
    priority: u16,
    match_: Match,
) -> FlowMod {
    FlowMod {
        cookie: cookie.0,
        cookie_mask: Cookie::EXACT_MASK,
        table_id,
        command: FlowModCommand::DeleteStrict,
        idle_timeout: 0,
        hard_timeout: 0,
        priority,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        flags: 0,
        match_,
        instructions: Vec::new(),
    }
}

/// ADDs for every desired flow, top priority first.
pub fn flow_mods_for(desired: &DesiredFlows) -> Vec<FlowMod> {
    desired
        .flows
        .iter()
        .map(|f| flow_mod_add(desired.cookie, f))
        .collect()
}

/// The FLOW multipart request that reads exactly our flows: all tables, cookie mask all-ones,
/// any out_port and out_group, match-all.
pub fn our_flows_request(cookie: Cookie) -> MultipartRequest {
    MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Flow(FlowStatsRequest {
            table_id: OFPTT_ALL,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
            cookie: cookie.0,
            cookie_mask: Cookie::EXACT_MASK,
            match_: Match::all(),
        }),
    }
}

fn meter_mod(m: &MeterSpec, command: u16) -> MeterMod {
    MeterMod {
        command,
        flags: OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS,
        meter_id: m.meter_id,
        bands: vec![MeterBand::Drop {
            rate: m.rate_pps,
            burst_size: m.burst_packets,
        }],
    }
}

/// METER_MOD ADD for `m` (send before the flows that use it).
pub fn meter_add(m: &MeterSpec) -> MeterMod {
    meter_mod(m, OFPMC_ADD)
}

/// METER_MOD MODIFY for `m` (when the switch answers the ADD with METER_EXISTS).
pub fn meter_modify(m: &MeterSpec) -> MeterMod {
    meter_mod(m, OFPMC_MODIFY)
}
