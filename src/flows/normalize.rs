//! What a switch reports back -> op25b's flow model, so that a flow reads back equal to what was
//! sent whatever order the switch lists OXM fields or instructions in, and whether it writes an
//! exact address with or without an all-ones mask.
use crate::flows::{FlowAction, FlowMatch, IpFamily, TcpMatch};
use crate::policy::{EtherType, Forwarding, PortNo};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use op25b_proto::action::Action;
use op25b_proto::consts::{OFPP_CONTROLLER, OFPP_NORMAL};
use op25b_proto::instruction::Instruction;
use op25b_proto::match_::Match;
use op25b_proto::oxm::Oxm;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::flows::openflow::{ETH_TYPE_IPV4, ETH_TYPE_IPV6, IP_PROTO_IPV6_FRAGMENT, IP_PROTO_TCP};

/// The prefix length of a mask whose bits sit at the top of `bits` (an IPv4 mask shifted up by
/// 96), or None if the mask is not contiguous (not a prefix).
fn prefix_len(bits: u128) -> Option<u8> {
    let len = bits.leading_ones();
    if bits.checked_shl(len).unwrap_or(0) != 0 {
        return None;
    }
    u8::try_from(len).ok()
}

fn v4(value: Ipv4Addr, mask: Option<Ipv4Addr>) -> Option<IpNet> {
    let len = match mask {
        None => 32,
        Some(m) => prefix_len(u128::from(u32::from(m)) << 96)?,
    };
    Ipv4Net::new(value, len).ok().map(|n| IpNet::V4(n.trunc()))
}

fn v6(value: Ipv6Addr, mask: Option<Ipv6Addr>) -> Option<IpNet> {
    let len = match mask {
        None => 128,
        Some(m) => prefix_len(u128::from(m))?,
    };
    Ipv6Net::new(value, len).ok().map(|n| IpNet::V6(n.trunc()))
}

/// The match in op25b's model, or None if it uses anything op25b never installs (such a flow
/// can only be stale and is deleted). Field order does not matter; each field may appear once.
pub fn parse_match(m: &Match) -> Option<FlowMatch> {
    fn set<T>(slot: &mut Option<T>, v: T) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(v);
        Some(())
    }
    let mut in_port = None;
    let mut eth_type = None;
    let mut ip_proto = None;
    let mut src = None;
    let mut dst = None;
    let mut tcp_dst = None;
    for f in &m.fields {
        match f {
            Oxm::InPort(p) => set(&mut in_port, *p)?,
            Oxm::EthType(t) => set(&mut eth_type, *t)?,
            Oxm::IpProto(p) => set(&mut ip_proto, *p)?,
            // (is IPv6, prefix)
            Oxm::Ipv4Src { value, mask } => set(&mut src, (false, v4(*value, *mask)?))?,
            Oxm::Ipv4Dst { value, mask } => set(&mut dst, (false, v4(*value, *mask)?))?,
            Oxm::Ipv6Src { value, mask } => set(&mut src, (true, v6(*value, *mask)?))?,
            Oxm::Ipv6Dst { value, mask } => set(&mut dst, (true, v6(*value, *mask)?))?,
            Oxm::TcpDst(p) => set(&mut tcp_dst, *p)?,
            _ => return None,
        }
    }
    let in_port = match in_port {
        None => None,
        Some(p) => Some(PortNo::new(i64::from(p))?),
    };
    let only_types = src.is_none() && dst.is_none() && tcp_dst.is_none();
    let (eth_type, tcp) = match (eth_type, ip_proto) {
        (None, None) if only_types => (None, None),
        (Some(t), None) if only_types => (Some(EtherType(t)), None),
        (Some(t), Some(p)) => {
            let family = match (t, p) {
                (ETH_TYPE_IPV4, IP_PROTO_TCP) => IpFamily::V4,
                (ETH_TYPE_IPV6, IP_PROTO_TCP) => IpFamily::V6,
                // A later fragment has no TCP header: a port match on it is not op25b's.
                (ETH_TYPE_IPV6, IP_PROTO_IPV6_FRAGMENT) if tcp_dst.is_none() => {
                    IpFamily::V6LaterFragment
                }
                _ => return None,
            };
            let same_family = |x: Option<(bool, IpNet)>| match x {
                None => Some(None),
                Some((v6, n)) if v6 == family.is_ipv6() => Some(Some(n)),
                Some(_) => None,
            };
            let tcp = TcpMatch {
                family,
                src: same_family(src)?,
                dst: same_family(dst)?,
                dst_port: tcp_dst,
            };
            (None, Some(tcp))
        }
        _ => return None,
    };
    Some(FlowMatch {
        in_port,
        eth_type,
        tcp,
    })
}

/// The action in op25b's model, or None if the instructions are anything op25b never installs.
/// Instruction order and empty APPLY_ACTIONS lists do not matter.
pub fn parse_instructions(instructions: &[Instruction]) -> Option<FlowAction> {
    let mut meter = None;
    let mut goto = None;
    let mut actions: Vec<&Action> = Vec::new();
    for i in instructions {
        match i {
            Instruction::Meter(m) => {
                if meter.replace(*m).is_some() {
                    return None;
                }
            }
            Instruction::GotoTable(t) => {
                if goto.replace(*t).is_some() {
                    return None;
                }
            }
            Instruction::ApplyActions(a) => actions.extend(a.iter()),
            Instruction::WriteActions(a) if a.is_empty() => {}
            _ => return None,
        }
    }
    match (meter, goto, actions.as_slice()) {
        (None, None, []) => Some(FlowAction::Drop),
        (None, Some(t), []) => Some(FlowAction::Forward(Forwarding::GotoTable(t))),
        (None, None, [Action::Output { port, .. }]) if *port == OFPP_NORMAL => {
            Some(FlowAction::Forward(Forwarding::Normal))
        }
        (Some(meter_id), None, [Action::Output { port, max_len }]) if *port == OFPP_CONTROLLER => {
            Some(FlowAction::Sample {
                meter_id,
                max_len: *max_len,
            })
        }
        _ => None,
    }
}

/// Whether instructions op25b does not recognise may forward a packet (goto, group, or output to
/// anything but the controller). Used to order the deletion of foreign flows safely.
pub fn may_forward(instructions: &[Instruction]) -> bool {
    let action_forwards = |a: &Action| match a {
        Action::Output { port, .. } => *port != OFPP_CONTROLLER,
        Action::Group(_) | Action::Raw(_) => true,
        _ => false,
    };
    instructions.iter().any(|i| match i {
        Instruction::GotoTable(_) | Instruction::Raw(_) => true,
        Instruction::ApplyActions(a) | Instruction::WriteActions(a) => {
            a.iter().any(action_forwards)
        }
        _ => false,
    })
}
