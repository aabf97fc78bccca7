//! The wire layout of every modelled OXM field, written once: [`Oxm::visit_wire`] hands a
//! field's number, value and mask (fixed-size big-endian arrays) to a [`FieldSink`]. The encoder,
//! the header, the length and the inline value bytes are sinks, so they cannot disagree, and
//! with the sizes known at compile time each write is a few stores and nothing is allocated.

use bytes::{BufMut, BytesMut};

use crate::consts::OFPXMC_OPENFLOW_BASIC;
use crate::oxm_bytes::OxmBytes;
use crate::oxm_types::{field::*, Oxm, OxmHeader};

/// Receives one OpenFlow-basic field as laid out on the wire.
pub(crate) trait FieldSink {
    type Out;
    fn field<const N: usize>(self, field: u8, value: [u8; N], mask: Option<[u8; N]>) -> Self::Out;
}

/// The header of a basic field with an `N`-byte value.
fn basic_header<const N: usize>(field: u8, hasmask: bool) -> OxmHeader {
    const { assert!(N <= 16) };
    OxmHeader {
        class: OFPXMC_OPENFLOW_BASIC,
        field,
        hasmask,
        // At most 32 (a masked IPv6 address): N <= 16 is asserted at compile time above.
        #[allow(clippy::cast_possible_truncation, reason = "N <= 16, asserted above")]
        length: if hasmask { 2 * N as u8 } else { N as u8 },
    }
}

/// Appends header, value and mask to a buffer.
pub(crate) struct Encode<'a>(pub &'a mut BytesMut);

impl FieldSink for Encode<'_> {
    type Out = ();
    fn field<const N: usize>(self, field: u8, value: [u8; N], mask: Option<[u8; N]>) {
        self.0
            .put_u32(basic_header::<N>(field, mask.is_some()).to_u32());
        self.0.put_slice(&value);
        if let Some(m) = mask {
            self.0.put_slice(&m);
        }
    }
}

/// The field's header.
pub(crate) struct Header;

impl FieldSink for Header {
    type Out = OxmHeader;
    fn field<const N: usize>(self, field: u8, _: [u8; N], mask: Option<[u8; N]>) -> OxmHeader {
        basic_header::<N>(field, mask.is_some())
    }
}

/// Value and mask as inline bytes.
pub(crate) struct Inline;

impl FieldSink for Inline {
    type Out = (OxmBytes, Option<OxmBytes>);
    fn field<const N: usize>(
        self,
        _: u8,
        value: [u8; N],
        mask: Option<[u8; N]>,
    ) -> (OxmBytes, Option<OxmBytes>) {
        (OxmBytes::from_array(value), mask.map(OxmBytes::from_array))
    }
}

impl Oxm {
    /// Hands this field's wire layout to `sink`; `None` for `Raw`.
    pub(crate) fn visit_wire<S: FieldSink>(&self, s: S) -> Option<S::Out> {
        let be16 = u16::to_be_bytes;
        let be32 = u32::to_be_bytes;
        let be64 = u64::to_be_bytes;
        let isid = |x: u32| {
            let [_, a, b, c] = x.to_be_bytes();
            [a, b, c]
        };
        Some(match *self {
            Oxm::InPort(v) => s.field(IN_PORT, be32(v), None),
            Oxm::InPhyPort(v) => s.field(IN_PHY_PORT, be32(v), None),
            Oxm::Metadata { value, mask } => s.field(METADATA, be64(value), mask.map(be64)),
            Oxm::EthDst { value, mask } => s.field(ETH_DST, value.0, mask.map(|m| m.0)),
            Oxm::EthSrc { value, mask } => s.field(ETH_SRC, value.0, mask.map(|m| m.0)),
            Oxm::EthType(v) => s.field(ETH_TYPE, be16(v), None),
            Oxm::VlanVid { value, mask } => s.field(VLAN_VID, be16(value), mask.map(be16)),
            Oxm::VlanPcp(v) => s.field(VLAN_PCP, [v], None),
            Oxm::IpDscp(v) => s.field(IP_DSCP, [v], None),
            Oxm::IpEcn(v) => s.field(IP_ECN, [v], None),
            Oxm::IpProto(v) => s.field(IP_PROTO, [v], None),
            Oxm::Ipv4Src { value, mask } => {
                s.field(IPV4_SRC, value.octets(), mask.map(|m| m.octets()))
            }
            Oxm::Ipv4Dst { value, mask } => {
                s.field(IPV4_DST, value.octets(), mask.map(|m| m.octets()))
            }
            Oxm::TcpSrc(v) => s.field(TCP_SRC, be16(v), None),
            Oxm::TcpDst(v) => s.field(TCP_DST, be16(v), None),
            Oxm::UdpSrc(v) => s.field(UDP_SRC, be16(v), None),
            Oxm::UdpDst(v) => s.field(UDP_DST, be16(v), None),
            Oxm::SctpSrc(v) => s.field(SCTP_SRC, be16(v), None),
            Oxm::SctpDst(v) => s.field(SCTP_DST, be16(v), None),
            Oxm::Icmpv4Type(v) => s.field(ICMPV4_TYPE, [v], None),
            Oxm::Icmpv4Code(v) => s.field(ICMPV4_CODE, [v], None),
            Oxm::ArpOp(v) => s.field(ARP_OP, be16(v), None),
            Oxm::ArpSpa { value, mask } => {
                s.field(ARP_SPA, value.octets(), mask.map(|m| m.octets()))
            }
            Oxm::ArpTpa { value, mask } => {
                s.field(ARP_TPA, value.octets(), mask.map(|m| m.octets()))
            }
            Oxm::ArpSha { value, mask } => s.field(ARP_SHA, value.0, mask.map(|m| m.0)),
            Oxm::ArpTha { value, mask } => s.field(ARP_THA, value.0, mask.map(|m| m.0)),
            Oxm::Ipv6Src { value, mask } => {
                s.field(IPV6_SRC, value.octets(), mask.map(|m| m.octets()))
            }
            Oxm::Ipv6Dst { value, mask } => {
                s.field(IPV6_DST, value.octets(), mask.map(|m| m.octets()))
            }
            Oxm::Ipv6Flabel { value, mask } => s.field(IPV6_FLABEL, be32(value), mask.map(be32)),
            Oxm::Icmpv6Type(v) => s.field(ICMPV6_TYPE, [v], None),
            Oxm::Icmpv6Code(v) => s.field(ICMPV6_CODE, [v], None),
            Oxm::Ipv6NdTarget(v) => s.field(IPV6_ND_TARGET, v.octets(), None),
            Oxm::Ipv6NdSll(v) => s.field(IPV6_ND_SLL, v.0, None),
            Oxm::Ipv6NdTll(v) => s.field(IPV6_ND_TLL, v.0, None),
            Oxm::MplsLabel(v) => s.field(MPLS_LABEL, be32(v), None),
            Oxm::MplsTc(v) => s.field(MPLS_TC, [v], None),
            Oxm::MplsBos(v) => s.field(MPLS_BOS, [v], None),
            Oxm::PbbIsid { value, mask } => s.field(PBB_ISID, isid(value), mask.map(isid)),
            Oxm::TunnelId { value, mask } => s.field(TUNNEL_ID, be64(value), mask.map(be64)),
            Oxm::Ipv6Exthdr { value, mask } => s.field(IPV6_EXTHDR, be16(value), mask.map(be16)),
            Oxm::Raw(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oxm_types::basic_field_layout;
    use crate::MacAddr;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// One value of every modelled field, masked where the field allows it.
    fn every_field() -> Vec<Oxm> {
        let mac = MacAddr([1, 2, 3, 4, 5, 6]);
        let v4 = Ipv4Addr::new(10, 0, 0, 1);
        let v6 = Ipv6Addr::LOCALHOST;
        vec![
            Oxm::InPort(1),
            Oxm::InPhyPort(2),
            Oxm::Metadata {
                value: 3,
                mask: Some(7),
            },
            Oxm::EthDst {
                value: mac,
                mask: Some(mac),
            },
            Oxm::EthSrc {
                value: mac,
                mask: None,
            },
            Oxm::EthType(0x800),
            Oxm::VlanVid {
                value: 0x1005,
                mask: Some(0x1fff),
            },
            Oxm::VlanPcp(3),
            Oxm::IpDscp(4),
            Oxm::IpEcn(1),
            Oxm::IpProto(6),
            Oxm::Ipv4Src {
                value: v4,
                mask: Some(v4),
            },
            Oxm::Ipv4Dst {
                value: v4,
                mask: None,
            },
            Oxm::TcpSrc(1),
            Oxm::TcpDst(25),
            Oxm::UdpSrc(3),
            Oxm::UdpDst(4),
            Oxm::SctpSrc(5),
            Oxm::SctpDst(6),
            Oxm::Icmpv4Type(8),
            Oxm::Icmpv4Code(0),
            Oxm::ArpOp(1),
            Oxm::ArpSpa {
                value: v4,
                mask: Some(v4),
            },
            Oxm::ArpTpa {
                value: v4,
                mask: None,
            },
            Oxm::ArpSha {
                value: mac,
                mask: Some(mac),
            },
            Oxm::ArpTha {
                value: mac,
                mask: None,
            },
            Oxm::Ipv6Src {
                value: v6,
                mask: Some(v6),
            },
            Oxm::Ipv6Dst {
                value: v6,
                mask: None,
            },
            Oxm::Ipv6Flabel {
                value: 5,
                mask: Some(0xfffff),
            },
            Oxm::Icmpv6Type(135),
            Oxm::Icmpv6Code(0),
            Oxm::Ipv6NdTarget(v6),
            Oxm::Ipv6NdSll(mac),
            Oxm::Ipv6NdTll(mac),
            Oxm::MplsLabel(16),
            Oxm::MplsTc(1),
            Oxm::MplsBos(1),
            Oxm::PbbIsid {
                value: 0x123456,
                mask: Some(0xffffff),
            },
            Oxm::TunnelId {
                value: 9,
                mask: None,
            },
            Oxm::Ipv6Exthdr {
                value: 1,
                mask: Some(1),
            },
        ]
    }

    #[test]
    fn every_sink_agrees_with_the_field_table() {
        let all = every_field();
        let fields: Vec<u8> = all.iter().filter_map(Oxm::field).collect();
        assert_eq!(
            fields,
            (0..40).collect::<Vec<u8>>(),
            "one of each field, in order"
        );
        for o in &all {
            let h = o.visit_wire(Header).expect("modelled field");
            let (size, maskable) = basic_field_layout(h.field).expect("basic field");
            let (v, m) = o.visit_wire(Inline).expect("modelled field");
            assert_eq!(v.len(), usize::from(size), "{o:?}");
            assert!(maskable || m.is_none(), "{o:?}");
            assert_eq!(h.hasmask, m.is_some(), "{o:?}");
            assert_eq!(usize::from(h.length), v.len() + m.map_or(0, |m| m.len()));
            let mut out = BytesMut::new();
            o.visit_wire(Encode(&mut out)).expect("modelled field");
            let mut want = h.to_u32().to_be_bytes().to_vec();
            want.extend_from_slice(&v);
            want.extend_from_slice(m.as_deref().unwrap_or_default());
            assert_eq!(&out[..], &want[..], "{o:?}");
            assert_eq!(o.wire_len(), want.len(), "{o:?}");
        }
        assert_eq!(
            Oxm::Raw(bytes::Bytes::from_static(&[0, 1, 2, 0])).visit_wire(Header),
            None
        );
    }
}
