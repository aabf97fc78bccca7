//! Text for the parts of flows: matches (`tcp,ipv4_dst=192.0.2.25,tcp_dst=25`), actions
//! (`output:NORMAL`), instructions (`meter:1,output:CONTROLLER:128,goto_table:1`) and port numbers.
//! Field names are the spec's OXM names without the `OFPXMT_OFB_` prefix, lower-cased.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::consts::*;
use crate::{Action, Instruction, Match, Oxm};

/// A port number, reserved ports by name (`NORMAL`, `CONTROLLER`, `ANY`...).
pub fn port(p: u32) -> String {
    match p {
        OFPP_IN_PORT => "IN_PORT".into(),
        OFPP_TABLE => "TABLE".into(),
        OFPP_NORMAL => "NORMAL".into(),
        OFPP_FLOOD => "FLOOD".into(),
        OFPP_ALL => "ALL".into(),
        OFPP_CONTROLLER => "CONTROLLER".into(),
        OFPP_LOCAL => "LOCAL".into(),
        OFPP_ANY => "ANY".into(),
        p => p.to_string(),
    }
}

/// A group number, reserved groups by name.
pub fn group(g: u32) -> String {
    match g {
        OFPG_ALL => "ALL".into(),
        OFPG_ANY => "ANY".into(),
        g => g.to_string(),
    }
}

/// A table id, 255 as `ALL`.
pub fn table(t: u8) -> String {
    if t == OFPTT_ALL {
        "ALL".into()
    } else {
        t.to_string()
    }
}

/// A match: the `ip`/`tcp`/`udp`/`tcp6`... shorthand when eth_type and ip_proto allow it, then
/// every other field in wire order; `any` for an empty match.
pub fn match_text(m: &Match) -> String {
    let eth_type = m.fields.iter().find_map(|f| match f {
        Oxm::EthType(t) => Some(*t),
        _ => None,
    });
    let ip_proto = m.fields.iter().find_map(|f| match f {
        Oxm::IpProto(p) => Some(*p),
        _ => None,
    });
    let shorthand = match (eth_type, ip_proto) {
        (Some(ETH_TYPE_IPV4), Some(IP_PROTO_TCP)) => Some(("tcp", true)),
        (Some(ETH_TYPE_IPV4), Some(IP_PROTO_UDP)) => Some(("udp", true)),
        (Some(ETH_TYPE_IPV4), Some(IP_PROTO_ICMP)) => Some(("icmp", true)),
        (Some(ETH_TYPE_IPV4), Some(IP_PROTO_SCTP)) => Some(("sctp", true)),
        (Some(ETH_TYPE_IPV6), Some(IP_PROTO_TCP)) => Some(("tcp6", true)),
        (Some(ETH_TYPE_IPV6), Some(IP_PROTO_UDP)) => Some(("udp6", true)),
        (Some(ETH_TYPE_IPV6), Some(IP_PROTO_ICMPV6)) => Some(("icmp6", true)),
        (Some(ETH_TYPE_IPV6), Some(IP_PROTO_SCTP)) => Some(("sctp6", true)),
        (Some(ETH_TYPE_IPV4), _) => Some(("ip", false)),
        (Some(ETH_TYPE_IPV6), _) => Some(("ipv6", false)),
        (Some(ETH_TYPE_ARP), _) => Some(("arp", false)),
        _ => None,
    };
    let mut parts: Vec<String> = Vec::with_capacity(m.fields.len());
    if let Some((name, _)) = shorthand {
        parts.push(name.to_string());
    }
    for f in &m.fields {
        match f {
            Oxm::EthType(_) if shorthand.is_some() => {}
            Oxm::IpProto(_) if shorthand.is_some_and(|(_, covers_proto)| covers_proto) => {}
            f => parts.push(oxm(f)),
        }
    }
    if parts.is_empty() {
        "any".into()
    } else {
        parts.join(",")
    }
}

fn masked<T: std::fmt::LowerHex>(name: &str, value: T, mask: Option<T>) -> String {
    match mask {
        None => format!("{name}={value:#x}"),
        Some(m) => format!("{name}={value:#x}/{m:#x}"),
    }
}

fn ipv4(name: &str, value: Ipv4Addr, mask: Option<Ipv4Addr>) -> String {
    match mask {
        None => format!("{name}={value}"),
        Some(m) => {
            let bits = u32::from(m);
            if bits.leading_ones() + bits.trailing_zeros() == 32 {
                format!("{name}={value}/{}", bits.leading_ones())
            } else {
                format!("{name}={value}/{m}")
            }
        }
    }
}

fn ipv6(name: &str, value: Ipv6Addr, mask: Option<Ipv6Addr>) -> String {
    match mask {
        None => format!("{name}={value}"),
        Some(m) => {
            let bits = u128::from(m);
            if bits.leading_ones() + bits.trailing_zeros() == 128 {
                format!("{name}={value}/{}", bits.leading_ones())
            } else {
                format!("{name}={value}/{m}")
            }
        }
    }
}

fn mac(name: &str, value: crate::MacAddr, mask: Option<crate::MacAddr>) -> String {
    match mask {
        None => format!("{name}={value}"),
        Some(m) => format!("{name}={value}/{m}"),
    }
}

/// One OXM field as `name=value`.
pub fn oxm(f: &Oxm) -> String {
    match f {
        Oxm::InPort(p) => format!("in_port={}", port(*p)),
        Oxm::InPhyPort(p) => format!("in_phy_port={}", port(*p)),
        Oxm::Metadata { value, mask } => masked("metadata", *value, *mask),
        Oxm::EthDst { value, mask } => mac("eth_dst", *value, *mask),
        Oxm::EthSrc { value, mask } => mac("eth_src", *value, *mask),
        Oxm::EthType(t) => format!("eth_type={t:#06x}"),
        Oxm::VlanVid { value, mask } => masked("vlan_vid", *value, *mask),
        Oxm::VlanPcp(v) => format!("vlan_pcp={v}"),
        Oxm::IpDscp(v) => format!("ip_dscp={v}"),
        Oxm::IpEcn(v) => format!("ip_ecn={v}"),
        Oxm::IpProto(v) => format!("ip_proto={v}"),
        Oxm::Ipv4Src { value, mask } => ipv4("ipv4_src", *value, *mask),
        Oxm::Ipv4Dst { value, mask } => ipv4("ipv4_dst", *value, *mask),
        Oxm::TcpSrc(v) => format!("tcp_src={v}"),
        Oxm::TcpDst(v) => format!("tcp_dst={v}"),
        Oxm::UdpSrc(v) => format!("udp_src={v}"),
        Oxm::UdpDst(v) => format!("udp_dst={v}"),
        Oxm::SctpSrc(v) => format!("sctp_src={v}"),
        Oxm::SctpDst(v) => format!("sctp_dst={v}"),
        Oxm::Icmpv4Type(v) => format!("icmpv4_type={v}"),
        Oxm::Icmpv4Code(v) => format!("icmpv4_code={v}"),
        Oxm::ArpOp(v) => format!("arp_op={v}"),
        Oxm::ArpSpa { value, mask } => ipv4("arp_spa", *value, *mask),
        Oxm::ArpTpa { value, mask } => ipv4("arp_tpa", *value, *mask),
        Oxm::ArpSha { value, mask } => mac("arp_sha", *value, *mask),
        Oxm::ArpTha { value, mask } => mac("arp_tha", *value, *mask),
        Oxm::Ipv6Src { value, mask } => ipv6("ipv6_src", *value, *mask),
        Oxm::Ipv6Dst { value, mask } => ipv6("ipv6_dst", *value, *mask),
        Oxm::Ipv6Flabel { value, mask } => masked("ipv6_flabel", *value, *mask),
        Oxm::Icmpv6Type(v) => format!("icmpv6_type={v}"),
        Oxm::Icmpv6Code(v) => format!("icmpv6_code={v}"),
        Oxm::Ipv6NdTarget(v) => format!("ipv6_nd_target={v}"),
        Oxm::Ipv6NdSll(v) => format!("ipv6_nd_sll={v}"),
        Oxm::Ipv6NdTll(v) => format!("ipv6_nd_tll={v}"),
        Oxm::MplsLabel(v) => format!("mpls_label={v}"),
        Oxm::MplsTc(v) => format!("mpls_tc={v}"),
        Oxm::MplsBos(v) => format!("mpls_bos={v}"),
        Oxm::PbbIsid { value, mask } => masked("pbb_isid", *value, *mask),
        Oxm::TunnelId { value, mask } => masked("tunnel_id", *value, *mask),
        Oxm::Ipv6Exthdr { value, mask } => masked("ipv6_exthdr", *value, *mask),
        Oxm::Raw(tlv) => raw_oxm(tlv),
    }
}

fn raw_oxm(tlv: &[u8]) -> String {
    let Some(h) = tlv.get(..4) else {
        return format!("oxm({})", hex::encode(tlv));
    };
    let class = u16::from_be_bytes([h[0], h[1]]);
    let field = h[2] >> 1;
    let hasmask = if h[2] & 1 == 1 { ",hasmask" } else { "" };
    format!(
        "oxm(class={class:#06x},field={field}{hasmask},value={})",
        hex::encode(&tlv[4..])
    )
}

/// One action, as `output:NORMAL`, `output:CONTROLLER:128`, `set_field:25->tcp_dst`...
pub fn action(a: &Action) -> String {
    match a {
        Action::Output { port: p, max_len }
            if *p == OFPP_CONTROLLER && *max_len != OFPCML_NO_BUFFER =>
        {
            format!("output:CONTROLLER:{max_len}")
        }
        Action::Output { port: p, .. } => format!("output:{}", port(*p)),
        Action::CopyTtlOut => "copy_ttl_out".into(),
        Action::CopyTtlIn => "copy_ttl_in".into(),
        Action::SetMplsTtl(t) => format!("set_mpls_ttl:{t}"),
        Action::DecMplsTtl => "dec_mpls_ttl".into(),
        Action::PushVlan(e) => format!("push_vlan:{e:#06x}"),
        Action::PopVlan => "pop_vlan".into(),
        Action::PushMpls(e) => format!("push_mpls:{e:#06x}"),
        Action::PopMpls(e) => format!("pop_mpls:{e:#06x}"),
        Action::SetQueue(q) => format!("set_queue:{q}"),
        Action::Group(g) => format!("group:{}", group(*g)),
        Action::SetNwTtl(t) => format!("set_nw_ttl:{t}"),
        Action::DecNwTtl => "dec_nw_ttl".into(),
        Action::SetField(f) => {
            let text = oxm(f);
            match text.split_once('=') {
                Some((name, value)) => format!("set_field:{value}->{name}"),
                None => format!("set_field:{text}"),
            }
        }
        Action::PushPbb(e) => format!("push_pbb:{e:#06x}"),
        Action::PopPbb => "pop_pbb".into(),
        Action::Raw(tlv) => format!("action({})", hex::encode(tlv)),
    }
}

/// A comma-separated action list, `drop` when empty.
pub fn actions(list: &[Action]) -> String {
    if list.is_empty() {
        "drop".into()
    } else {
        list.iter().map(action).collect::<Vec<_>>().join(",")
    }
}

/// Instructions in wire order after `actions=`; `drop` when there are none (the packet is
/// dropped). Apply-actions are listed inline, the others as `meter:N`, `goto_table:N`,
/// `write_actions(...)`, `clear_actions`, `write_metadata:V/M`.
pub fn instructions(list: &[Instruction]) -> String {
    if list.is_empty() {
        return "drop".into();
    }
    let mut out = String::new();
    for (i, ins) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match ins {
            Instruction::GotoTable(t) => {
                let _ = write!(out, "goto_table:{t}");
            }
            Instruction::WriteMetadata { metadata, mask } => {
                let _ = write!(out, "write_metadata:{metadata:#x}/{mask:#x}");
            }
            Instruction::WriteActions(a) => {
                let _ = write!(out, "write_actions({})", actions(a));
            }
            Instruction::ApplyActions(a) if a.is_empty() => out.push_str("apply_actions()"),
            Instruction::ApplyActions(a) => out.push_str(&actions(a)),
            Instruction::ClearActions => out.push_str("clear_actions"),
            Instruction::Meter(m) => {
                let _ = write!(out, "meter:{m}");
            }
            Instruction::Raw(tlv) => {
                let _ = write!(out, "instruction({})", hex::encode(tlv));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MacAddr;

    fn op25b_ipv4() -> Match {
        Match::new(vec![
            Oxm::EthType(ETH_TYPE_IPV4),
            Oxm::IpProto(IP_PROTO_TCP),
            Oxm::Ipv4Src {
                value: Ipv4Addr::new(10, 0, 0, 0),
                mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            },
            Oxm::Ipv4Dst {
                value: Ipv4Addr::new(192, 0, 2, 25),
                mask: None,
            },
            Oxm::TcpDst(25),
        ])
    }

    #[test]
    fn op25b_match_uses_shorthand_prefixes_and_spec_names() {
        assert_eq!(
            match_text(&op25b_ipv4()),
            "tcp,ipv4_src=10.0.0.0/24,ipv4_dst=192.0.2.25,tcp_dst=25"
        );
        let v6 = Match::new(vec![
            Oxm::EthType(ETH_TYPE_IPV6),
            Oxm::IpProto(IP_PROTO_TCP),
            Oxm::Ipv6Src {
                value: "2001:db8:9::".parse().unwrap(),
                mask: Some("ffff:ffff:ffff::".parse().unwrap()),
            },
            Oxm::TcpDst(25),
        ]);
        assert_eq!(match_text(&v6), "tcp6,ipv6_src=2001:db8:9::/48,tcp_dst=25");
        assert_eq!(match_text(&Match::new(vec![])), "any");
    }

    #[test]
    fn non_prefix_masks_and_lone_fields_are_spelled_out() {
        let m = Match::new(vec![
            Oxm::InPort(3),
            Oxm::EthType(ETH_TYPE_IPV4),
            Oxm::Ipv4Dst {
                value: Ipv4Addr::new(10, 0, 0, 1),
                mask: Some(Ipv4Addr::new(255, 0, 255, 0)),
            },
            Oxm::IpProto(99),
            Oxm::EthDst {
                value: MacAddr([0, 1, 2, 3, 4, 5]),
                mask: None,
            },
            Oxm::Metadata {
                value: 0x10,
                mask: Some(0xf0),
            },
        ]);
        assert_eq!(
            match_text(&m),
            "ip,in_port=3,ipv4_dst=10.0.0.1/255.0.255.0,ip_proto=99,eth_dst=00:01:02:03:04:05,metadata=0x10/0xf0"
        );
        assert_eq!(
            match_text(&Match::new(vec![Oxm::EthType(0x88cc)])),
            "eth_type=0x88cc"
        );
    }

    #[test]
    fn actions_and_instructions_read_like_ovs() {
        let ins = vec![
            Instruction::Meter(2),
            Instruction::ApplyActions(vec![Action::Output {
                port: OFPP_CONTROLLER,
                max_len: 128,
            }]),
            Instruction::GotoTable(1),
        ];
        assert_eq!(
            instructions(&ins),
            "meter:2,output:CONTROLLER:128,goto_table:1"
        );
        assert_eq!(instructions(&[]), "drop");
        assert_eq!(actions(&[Action::output(OFPP_NORMAL)]), "output:NORMAL");
        assert_eq!(
            actions(&[Action::output(OFPP_CONTROLLER)]),
            "output:CONTROLLER"
        );
        assert_eq!(
            action(&Action::SetField(Oxm::TcpDst(587))),
            "set_field:587->tcp_dst"
        );
        assert_eq!(
            action(&Action::Output {
                port: 7,
                max_len: 0
            }),
            "output:7"
        );
    }
}
