//! OXM TLVs (OpenFlow 1.3.5 section 7.2.3): the 40 OpenFlow-basic fields, masked where the spec
//! allows it; anything else (experimenter and Nicira classes, unknown or non-canonical basic
//! fields) is kept as the raw TLV and re-encoded byte for byte.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::{IResult, Parser};

use crate::codec::Codec;
use crate::consts::OFPXMC_OPENFLOW_BASIC;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::mac::MacAddr;
use crate::oxm_bytes::OxmBytes;
use crate::oxm_wire;
use crate::reader::Reader;

// The data model lives in `oxm_types.rs` (below both this codec and `oxm_wire.rs`); its public
// paths stay `crate::oxm::{Oxm, OxmHeader, field, basic_field_layout}`.
pub use crate::oxm_types::{basic_field_layout, field, Oxm, OxmHeader};

fn oxm_header(input: &[u8]) -> IResult<&[u8], OxmHeader> {
    (be_u16, be_u8, be_u8)
        .map(|(class, fm, length)| OxmHeader {
            class,
            field: fm >> 1,
            hasmask: fm & 1 == 1,
            length,
        })
        .parse(input)
}

fn mac(b: &[u8]) -> MacAddr {
    let mut a = [0u8; 6];
    a.copy_from_slice(&b[..6]);
    MacAddr(a)
}

/// The big-endian number in `b` (its last 8 bytes if longer; callers pass at most 8).
fn be(b: &[u8]) -> u64 {
    let n = b.len().min(8);
    let mut a = [0u8; 8];
    a[8 - n..].copy_from_slice(&b[b.len() - n..]);
    u64::from_be_bytes(a)
}

fn ip4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn ip6(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

impl Oxm {
    /// The OpenFlow-basic field number, or `None` for `Raw`.
    pub fn field(&self) -> Option<u8> {
        self.visit_wire(oxm_wire::Header).map(|h| h.field)
    }

    /// The header of this TLV as it is on the wire (for `Raw`, read back from its bytes; a
    /// `Raw` shorter than 4 bytes yields `None`).
    pub fn header(&self) -> Option<OxmHeader> {
        if let Oxm::Raw(b) = self {
            return oxm_header(b).ok().map(|(_, h)| h);
        }
        self.visit_wire(oxm_wire::Header)
    }

    /// Size on the wire, 4-byte header included.
    pub fn wire_len(&self) -> usize {
        match self {
            Oxm::Raw(b) => b.len(),
            _ => self
                .visit_wire(oxm_wire::Header)
                .map_or(0, |h| 4 + usize::from(h.length)),
        }
    }

    /// Value and mask bytes as on the wire, held inline (`None` for `Raw`).
    pub fn wire_value(&self) -> Option<(OxmBytes, Option<OxmBytes>)> {
        self.visit_wire(oxm_wire::Inline)
    }

    /// Value and mask bytes as on the wire, as owned vectors (empty value for `Raw`); see
    /// [`Oxm::wire_value`] for the form that does not allocate.
    pub fn value_and_mask(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        match self.wire_value() {
            Some((v, m)) => (v.to_vec(), m.map(|m| m.to_vec())),
            None => (Vec::new(), None),
        }
    }

    /// Builds a basic field from its number and payload slices (already length-checked).
    fn from_basic(f: u8, v: &[u8], mk: Option<&[u8]>) -> Option<Oxm> {
        use field::*;
        // The caller checked each field's length against its layout: a 2-byte field's value
        // fits a u16 and a 4-byte field's a u32, so these casts never drop a set bit.
        #[allow(
            clippy::cast_possible_truncation,
            reason = "length-checked 2-byte field"
        )]
        let u16v = |b: &[u8]| be(b) as u16;
        #[allow(
            clippy::cast_possible_truncation,
            reason = "length-checked 4-byte field"
        )]
        let u32v = |b: &[u8]| be(b) as u32;
        Some(match f {
            IN_PORT => Oxm::InPort(u32v(v)),
            IN_PHY_PORT => Oxm::InPhyPort(u32v(v)),
            METADATA => Oxm::Metadata {
                value: be(v),
                mask: mk.map(be),
            },
            ETH_DST => Oxm::EthDst {
                value: mac(v),
                mask: mk.map(mac),
            },
            ETH_SRC => Oxm::EthSrc {
                value: mac(v),
                mask: mk.map(mac),
            },
            ETH_TYPE => Oxm::EthType(u16v(v)),
            VLAN_VID => Oxm::VlanVid {
                value: u16v(v),
                mask: mk.map(u16v),
            },
            VLAN_PCP => Oxm::VlanPcp(v[0]),
            IP_DSCP => Oxm::IpDscp(v[0]),
            IP_ECN => Oxm::IpEcn(v[0]),
            IP_PROTO => Oxm::IpProto(v[0]),
            IPV4_SRC => Oxm::Ipv4Src {
                value: ip4(v),
                mask: mk.map(ip4),
            },
            IPV4_DST => Oxm::Ipv4Dst {
                value: ip4(v),
                mask: mk.map(ip4),
            },
            TCP_SRC => Oxm::TcpSrc(u16v(v)),
            TCP_DST => Oxm::TcpDst(u16v(v)),
            UDP_SRC => Oxm::UdpSrc(u16v(v)),
            UDP_DST => Oxm::UdpDst(u16v(v)),
            SCTP_SRC => Oxm::SctpSrc(u16v(v)),
            SCTP_DST => Oxm::SctpDst(u16v(v)),
            ICMPV4_TYPE => Oxm::Icmpv4Type(v[0]),
            ICMPV4_CODE => Oxm::Icmpv4Code(v[0]),
            ARP_OP => Oxm::ArpOp(u16v(v)),
            ARP_SPA => Oxm::ArpSpa {
                value: ip4(v),
                mask: mk.map(ip4),
            },
            ARP_TPA => Oxm::ArpTpa {
                value: ip4(v),
                mask: mk.map(ip4),
            },
            ARP_SHA => Oxm::ArpSha {
                value: mac(v),
                mask: mk.map(mac),
            },
            ARP_THA => Oxm::ArpTha {
                value: mac(v),
                mask: mk.map(mac),
            },
            IPV6_SRC => Oxm::Ipv6Src {
                value: ip6(v),
                mask: mk.map(ip6),
            },
            IPV6_DST => Oxm::Ipv6Dst {
                value: ip6(v),
                mask: mk.map(ip6),
            },
            IPV6_FLABEL => Oxm::Ipv6Flabel {
                value: u32v(v),
                mask: mk.map(u32v),
            },
            ICMPV6_TYPE => Oxm::Icmpv6Type(v[0]),
            ICMPV6_CODE => Oxm::Icmpv6Code(v[0]),
            IPV6_ND_TARGET => Oxm::Ipv6NdTarget(ip6(v)),
            IPV6_ND_SLL => Oxm::Ipv6NdSll(mac(v)),
            IPV6_ND_TLL => Oxm::Ipv6NdTll(mac(v)),
            MPLS_LABEL => Oxm::MplsLabel(u32v(v)),
            MPLS_TC => Oxm::MplsTc(v[0]),
            MPLS_BOS => Oxm::MplsBos(v[0]),
            PBB_ISID => Oxm::PbbIsid {
                value: u32v(v),
                mask: mk.map(u32v),
            },
            TUNNEL_ID => Oxm::TunnelId {
                value: be(v),
                mask: mk.map(be),
            },
            IPV6_EXTHDR => Oxm::Ipv6Exthdr {
                value: u16v(v),
                mask: mk.map(u16v),
            },
            _ => return None,
        })
    }
}

impl Codec for Oxm {
    const NAME: &'static str = "oxm";
    const SCOPE: Scope = Scope::Match;

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let head: [u8; 4] = r.peek(4)?.try_into().map_err(|_| {
            r.error(DecodeErrorKind::Truncated {
                needed: 4,
                available: r.remaining(),
            })
        })?;
        let h = OxmHeader::from_u32(u32::from_be_bytes(head));
        let total = 4 + usize::from(h.length);
        if total > r.remaining() {
            return Err(r.error(DecodeErrorKind::LengthLies {
                declared: total,
                available: r.remaining(),
            }));
        }
        let at = r.offset();
        let whole = r.take(total)?;
        let raw = || Ok(Oxm::Raw(Bytes::copy_from_slice(whole)));
        if h.class != OFPXMC_OPENFLOW_BASIC {
            return raw();
        }
        let Some((size, maskable)) = basic_field_layout(h.field) else {
            return raw();
        };
        if h.hasmask && !maskable {
            // Not a valid basic field; kept as is so a peer's oddity survives re-encoding, and
            // reported by `check_prerequisites` as OFPBMC_BAD_MASK.
            return raw();
        }
        let expected = if h.hasmask { size * 2 } else { size };
        // Spec 7.2.3.2: "oxm_length ... payload ... the length of the value (and mask if present)".
        if h.length != expected {
            return Err(r.error_at(
                at,
                DecodeErrorKind::BadOxmLength {
                    field: h.field,
                    hasmask: h.hasmask,
                    length: h.length,
                    expected,
                },
            ));
        }
        let payload = &whole[4..];
        let (v, mk) = if h.hasmask {
            let (v, m) = payload.split_at(usize::from(size));
            (v, Some(m))
        } else {
            (payload, None)
        };
        match Oxm::from_basic(h.field, v, mk) {
            Some(o) => Ok(o),
            None => raw(),
        }
    }

    fn encode(&self, out: &mut BytesMut) {
        if let Oxm::Raw(b) = self {
            out.put_slice(b);
            return;
        }
        self.visit_wire(oxm_wire::Encode(out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn be_reads_any_width_up_to_8_and_never_panics() {
        assert_eq!(be(&[0x12, 0x34, 0x56]), 0x12_3456);
        assert_eq!(be(&[0xff; 8]), u64::MAX);
        assert_eq!(be(&[]), 0);
        assert_eq!(be(&[9, 0, 0, 0, 0, 0, 0, 0, 1]), 1);
    }

    #[test]
    fn tcp_dst_is_the_spec_bytes() {
        let o = Oxm::TcpDst(25);
        assert_eq!(o.to_vec(), [0x80, 0x00, 0x1c, 0x02, 0x00, 0x19]);
        assert_eq!(Oxm::decode(&[0x80, 0x00, 0x1c, 0x02, 0x00, 0x19]), Ok(o));
    }

    #[test]
    fn masked_ipv4_src_uses_hasmask_bit() {
        let o = Oxm::Ipv4Src {
            value: Ipv4Addr::new(10, 0, 0, 0),
            mask: Some(Ipv4Addr::new(255, 0, 0, 0)),
        };
        assert_eq!(
            o.to_vec(),
            [0x80, 0x00, 0x17, 0x08, 10, 0, 0, 0, 255, 0, 0, 0]
        );
    }

    #[test]
    fn wrong_length_is_bad_oxm_length_and_experimenter_is_raw() {
        let e = Oxm::decode(&[0x80, 0x00, 0x1c, 0x01, 0x00]).unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::BadOxmLength { field: 14, .. }
        ));
        let nx = [0x00, 0x01, 0x04, 0x04, 1, 2, 3, 4];
        assert_eq!(Oxm::decode(&nx), Ok(Oxm::Raw(Bytes::copy_from_slice(&nx))));
    }
}
