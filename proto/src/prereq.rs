//! The spec's match checks (OpenFlow 1.3.5 section 7.2.3): the prerequisite table, duplicate
//! fields, value ranges and mask consistency, each failing with the OFPET_BAD_MATCH code a switch
//! would send back.

use crate::consts::*;
use crate::error_codes::{BadMatchCode, ErrorType};
use crate::match_::Match;
use crate::oxm::{basic_field_layout, Oxm};

/// A match a switch would refuse: the OFPBMC code, the index of the offending field, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{code} at match field #{field_index}: {reason}")]
pub struct PrereqError {
    pub code: BadMatchCode,
    pub field_index: usize,
    pub reason: String,
}

impl PrereqError {
    /// (OFPET_BAD_MATCH, code).
    pub fn to_ofp_error(&self) -> (u16, u16) {
        (ErrorType::BadMatch as u16, self.code as u16)
    }
}

fn err(code: BadMatchCode, field_index: usize, reason: impl Into<String>) -> PrereqError {
    PrereqError {
        code,
        field_index,
        reason: reason.into(),
    }
}

/// What the other fields of the match say, for the prerequisite table.
struct Present {
    in_port: bool,
    eth_type: Option<u16>,
    ip_proto: Option<u8>,
    icmpv6_type: Option<u8>,
    vlan_present: bool,
}

impl Present {
    fn new() -> Self {
        Present {
            in_port: false,
            eth_type: None,
            ip_proto: None,
            icmpv6_type: None,
            vlan_present: false,
        }
    }

    /// Records what field `f` establishes for the fields after it.
    fn see(&mut self, f: &Oxm) {
        match f {
            Oxm::InPort(_) => self.in_port = true,
            Oxm::EthType(t) => self.eth_type = Some(*t),
            Oxm::IpProto(t) => self.ip_proto = Some(*t),
            Oxm::Icmpv6Type(t) => self.icmpv6_type = Some(*t),
            // "VLAN_VID != NONE": a tag must be required, i.e. OFPVID_PRESENT set in value and mask.
            Oxm::VlanVid { value, mask } => {
                self.vlan_present =
                    value & OFPVID_PRESENT != 0 && mask.is_none_or(|m| m & OFPVID_PRESENT != 0);
            }
            _ => {}
        }
    }
}

/// The prerequisite of one field, as text for the error, or `None` when it is met.
fn unmet_prerequisite(f: &Oxm, p: &Present) -> Option<&'static str> {
    let eth = |types: &[u16]| p.eth_type.is_some_and(|t| types.contains(&t));
    let proto = |n: u8| p.ip_proto == Some(n);
    let ok = match f {
        Oxm::InPhyPort(_) => p.in_port,
        Oxm::VlanPcp(_) => p.vlan_present,
        Oxm::IpDscp(_) | Oxm::IpEcn(_) | Oxm::IpProto(_) => eth(&[ETH_TYPE_IPV4, ETH_TYPE_IPV6]),
        Oxm::Ipv4Src { .. } | Oxm::Ipv4Dst { .. } => eth(&[ETH_TYPE_IPV4]),
        Oxm::TcpSrc(_) | Oxm::TcpDst(_) => proto(IP_PROTO_TCP),
        Oxm::UdpSrc(_) | Oxm::UdpDst(_) => proto(IP_PROTO_UDP),
        Oxm::SctpSrc(_) | Oxm::SctpDst(_) => proto(IP_PROTO_SCTP),
        Oxm::Icmpv4Type(_) | Oxm::Icmpv4Code(_) => proto(IP_PROTO_ICMP),
        Oxm::ArpOp(_)
        | Oxm::ArpSpa { .. }
        | Oxm::ArpTpa { .. }
        | Oxm::ArpSha { .. }
        | Oxm::ArpTha { .. } => eth(&[ETH_TYPE_ARP]),
        Oxm::Ipv6Src { .. }
        | Oxm::Ipv6Dst { .. }
        | Oxm::Ipv6Flabel { .. }
        | Oxm::Ipv6Exthdr { .. } => eth(&[ETH_TYPE_IPV6]),
        Oxm::Icmpv6Type(_) | Oxm::Icmpv6Code(_) => proto(IP_PROTO_ICMPV6),
        Oxm::Ipv6NdTarget(_) => matches!(p.icmpv6_type, Some(135 | 136)),
        Oxm::Ipv6NdSll(_) => p.icmpv6_type == Some(135),
        Oxm::Ipv6NdTll(_) => p.icmpv6_type == Some(136),
        Oxm::MplsLabel(_) | Oxm::MplsTc(_) | Oxm::MplsBos(_) => {
            eth(&[ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST])
        }
        Oxm::PbbIsid { .. } => eth(&[ETH_TYPE_PBB]),
        _ => true,
    };
    if ok {
        return None;
    }
    Some(match f {
        Oxm::InPhyPort(_) => "IN_PHY_PORT needs IN_PORT",
        Oxm::VlanPcp(_) => "VLAN_PCP needs VLAN_VID with OFPVID_PRESENT",
        Oxm::IpDscp(_) | Oxm::IpEcn(_) | Oxm::IpProto(_) => {
            "IP field needs ETH_TYPE 0x0800 or 0x86dd"
        }
        Oxm::Ipv4Src { .. } | Oxm::Ipv4Dst { .. } => "IPV4 field needs ETH_TYPE 0x0800",
        Oxm::TcpSrc(_) | Oxm::TcpDst(_) => "TCP port needs IP_PROTO 6",
        Oxm::UdpSrc(_) | Oxm::UdpDst(_) => "UDP port needs IP_PROTO 17",
        Oxm::SctpSrc(_) | Oxm::SctpDst(_) => "SCTP port needs IP_PROTO 132",
        Oxm::Icmpv4Type(_) | Oxm::Icmpv4Code(_) => "ICMPV4 field needs IP_PROTO 1",
        Oxm::Icmpv6Type(_) | Oxm::Icmpv6Code(_) => "ICMPV6 field needs IP_PROTO 58",
        Oxm::Ipv6NdTarget(_) => "IPV6_ND_TARGET needs ICMPV6_TYPE 135 or 136",
        Oxm::Ipv6NdSll(_) => "IPV6_ND_SLL needs ICMPV6_TYPE 135",
        Oxm::Ipv6NdTll(_) => "IPV6_ND_TLL needs ICMPV6_TYPE 136",
        Oxm::MplsLabel(_) | Oxm::MplsTc(_) | Oxm::MplsBos(_) => {
            "MPLS field needs ETH_TYPE 0x8847 or 0x8848"
        }
        Oxm::PbbIsid { .. } => "PBB_ISID needs ETH_TYPE 0x88e7",
        Oxm::ArpOp(_)
        | Oxm::ArpSpa { .. }
        | Oxm::ArpTpa { .. }
        | Oxm::ArpSha { .. }
        | Oxm::ArpTha { .. } => "ARP field needs ETH_TYPE 0x0806",
        _ => "IPV6 field needs ETH_TYPE 0x86dd",
    })
}

/// The largest value a field may hold, for fields narrower than their wire type.
fn value_limit(f: &Oxm) -> Option<(u64, u64)> {
    let (v, max) = match f {
        Oxm::VlanVid { value, .. } => (u64::from(*value), 0x1fff),
        Oxm::VlanPcp(v) | Oxm::MplsTc(v) => (u64::from(*v), 7),
        Oxm::IpDscp(v) => (u64::from(*v), 63),
        Oxm::IpEcn(v) => (u64::from(*v), 3),
        Oxm::MplsBos(v) => (u64::from(*v), 1),
        Oxm::MplsLabel(v) => (u64::from(*v), 0xf_ffff),
        Oxm::Ipv6Flabel { value, .. } => (u64::from(*value), 0xf_ffff),
        Oxm::PbbIsid { value, .. } => (u64::from(*value), 0xff_ffff),
        Oxm::Ipv6Exthdr { value, .. } => (u64::from(*value), 0x1ff),
        _ => return None,
    };
    Some((v, max))
}

/// Checks `m` as a switch does before accepting a flow: no duplicate field, no unknown or
/// wrongly masked basic field, values in range, no value bit outside its mask
/// (OFPBMC_BAD_WILDCARDS), and every prerequisite present (OFPBMC_BAD_PREREQ).
/// Experimenter-class fields are not judged. A prerequisite must come before the field that
/// needs it, as Open vSwitch checks each field against those already parsed (nx_pull_raw).
pub fn check_prerequisites(m: &Match) -> Result<(), PrereqError> {
    let mut seen = [false; 128];
    let mut p = Present::new();
    for (i, f) in m.fields.iter().enumerate() {
        let Some(h) = f.header() else {
            return Err(err(
                BadMatchCode::BadLen,
                i,
                "OXM shorter than its 4-byte header",
            ));
        };
        if h.class == OFPXMC_OPENFLOW_BASIC {
            if let Oxm::Raw(_) = f {
                return Err(match basic_field_layout(h.field) {
                    Some((_, false)) if h.hasmask => err(
                        BadMatchCode::BadMask,
                        i,
                        format!("field {} cannot be masked", h.field),
                    ),
                    _ => err(
                        BadMatchCode::BadField,
                        i,
                        format!("unknown OpenFlow-basic field {}", h.field),
                    ),
                });
            }
            // Spec 7.2.3.6: "a match must not contain the same field more than once" -> OFPBMC_DUP_FIELD.
            if std::mem::replace(&mut seen[usize::from(h.field & 0x7f)], true) {
                return Err(err(
                    BadMatchCode::DupField,
                    i,
                    format!("field {} appears twice", h.field),
                ));
            }
        }
        if let Some((v, max)) = value_limit(f) {
            if v > max {
                return Err(err(
                    BadMatchCode::BadValue,
                    i,
                    format!("value {v:#x} exceeds {max:#x}"),
                ));
            }
        }
        // Spec 7.2.3.5: "the value must have zero bits where the mask has zero bits", else
        // OFPBMC_BAD_WILDCARDS.
        if let Some((value, Some(mask))) = f.wire_value() {
            if value.iter().zip(mask.iter()).any(|(v, m)| v & !m != 0) {
                return Err(err(
                    BadMatchCode::BadWildcards,
                    i,
                    "value has bits set outside its mask",
                ));
            }
        }
        if let Some(why) = unmet_prerequisite(f, &p) {
            return Err(err(BadMatchCode::BadPrereq, i, why));
        }
        p.see(f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn m(fields: Vec<Oxm>) -> Match {
        Match::new(fields)
    }

    #[test]
    fn smtp_block_match_is_accepted() {
        let ok = m(vec![
            Oxm::InPort(1),
            Oxm::EthType(ETH_TYPE_IPV4),
            Oxm::IpProto(IP_PROTO_TCP),
            Oxm::Ipv4Dst {
                value: Ipv4Addr::new(192, 0, 2, 0),
                mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            },
            Oxm::TcpDst(25),
        ]);
        assert_eq!(check_prerequisites(&ok), Ok(()));
    }

    #[test]
    fn tcp_dst_without_ip_proto_is_bad_prereq() {
        let e = check_prerequisites(&m(vec![Oxm::EthType(ETH_TYPE_IPV4), Oxm::TcpDst(25)]))
            .unwrap_err();
        assert_eq!(e.to_ofp_error(), (4, 9));
        assert_eq!(e.field_index, 1);
        let e = check_prerequisites(&m(vec![Oxm::IpProto(6), Oxm::TcpDst(25)])).unwrap_err();
        assert_eq!(e.code, BadMatchCode::BadPrereq);
        assert_eq!(e.field_index, 0);
        let e = check_prerequisites(&m(vec![
            Oxm::EthType(ETH_TYPE_IPV4),
            Oxm::IpProto(17),
            Oxm::TcpDst(25),
        ]))
        .unwrap_err();
        assert_eq!(e.code, BadMatchCode::BadPrereq);
    }

    #[test]
    fn duplicates_wildcards_values_and_raw_basic() {
        let e = check_prerequisites(&m(vec![Oxm::InPort(1), Oxm::InPort(2)])).unwrap_err();
        assert_eq!(e.code, BadMatchCode::DupField);
        let e = check_prerequisites(&m(vec![
            Oxm::EthType(ETH_TYPE_IPV4),
            Oxm::Ipv4Src {
                value: Ipv4Addr::new(10, 0, 0, 1),
                mask: Some(Ipv4Addr::new(255, 0, 0, 0)),
            },
        ]))
        .unwrap_err();
        assert_eq!(e.code, BadMatchCode::BadWildcards);
        let e = check_prerequisites(&m(vec![
            Oxm::VlanVid {
                value: 0x1001,
                mask: None,
            },
            Oxm::VlanPcp(9),
        ]))
        .unwrap_err();
        assert_eq!(e.code, BadMatchCode::BadValue);
        let e = check_prerequisites(&m(vec![
            Oxm::VlanVid {
                value: 0,
                mask: None,
            },
            Oxm::VlanPcp(1),
        ]))
        .unwrap_err();
        assert_eq!(e.code, BadMatchCode::BadPrereq);
        let masked_in_port = Oxm::Raw(bytes::Bytes::from_static(&[
            0x80, 0, 1, 8, 0, 0, 0, 1, 0, 0, 0, 1,
        ]));
        let e = check_prerequisites(&m(vec![masked_in_port])).unwrap_err();
        assert_eq!(e.code, BadMatchCode::BadMask);
        let nx = Oxm::Raw(bytes::Bytes::from_static(&[0, 1, 4, 4, 0, 0, 0, 1]));
        assert_eq!(check_prerequisites(&m(vec![nx])), Ok(()));
    }
}
