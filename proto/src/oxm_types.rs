//! The OXM data model (OpenFlow 1.3.5 section 7.2.3): the [`Oxm`] enum, the OpenFlow-basic field
//! numbers, their sizes and maskability (the spec's table 12), and the 4-byte [`OxmHeader`].
//! Kept apart from the codec (`oxm.rs`) and the per-field wire layout (`oxm_wire.rs`), which
//! both build on it; `oxm.rs` re-exports everything here, so `crate::oxm::*` paths are unchanged.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

use crate::mac::MacAddr;

/// One OXM match field or set-field payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Oxm {
    InPort(u32),
    InPhyPort(u32),
    Metadata {
        value: u64,
        mask: Option<u64>,
    },
    EthDst {
        value: MacAddr,
        mask: Option<MacAddr>,
    },
    EthSrc {
        value: MacAddr,
        mask: Option<MacAddr>,
    },
    EthType(u16),
    VlanVid {
        value: u16,
        mask: Option<u16>,
    },
    VlanPcp(u8),
    IpDscp(u8),
    IpEcn(u8),
    IpProto(u8),
    Ipv4Src {
        value: Ipv4Addr,
        mask: Option<Ipv4Addr>,
    },
    Ipv4Dst {
        value: Ipv4Addr,
        mask: Option<Ipv4Addr>,
    },
    TcpSrc(u16),
    TcpDst(u16),
    UdpSrc(u16),
    UdpDst(u16),
    SctpSrc(u16),
    SctpDst(u16),
    Icmpv4Type(u8),
    Icmpv4Code(u8),
    ArpOp(u16),
    ArpSpa {
        value: Ipv4Addr,
        mask: Option<Ipv4Addr>,
    },
    ArpTpa {
        value: Ipv4Addr,
        mask: Option<Ipv4Addr>,
    },
    ArpSha {
        value: MacAddr,
        mask: Option<MacAddr>,
    },
    ArpTha {
        value: MacAddr,
        mask: Option<MacAddr>,
    },
    Ipv6Src {
        value: Ipv6Addr,
        mask: Option<Ipv6Addr>,
    },
    Ipv6Dst {
        value: Ipv6Addr,
        mask: Option<Ipv6Addr>,
    },
    Ipv6Flabel {
        value: u32,
        mask: Option<u32>,
    },
    Icmpv6Type(u8),
    Icmpv6Code(u8),
    Ipv6NdTarget(Ipv6Addr),
    Ipv6NdSll(MacAddr),
    Ipv6NdTll(MacAddr),
    MplsLabel(u32),
    MplsTc(u8),
    MplsBos(u8),
    /// 24-bit I-SID; only the low 24 bits of value and mask are on the wire.
    PbbIsid {
        value: u32,
        mask: Option<u32>,
    },
    TunnelId {
        value: u64,
        mask: Option<u64>,
    },
    Ipv6Exthdr {
        value: u16,
        mask: Option<u16>,
    },
    /// The whole TLV (4-byte header included) of anything not modelled above.
    Raw(Bytes),
}

/// `oxm_ofb_match_fields` numbers.
pub mod field {
    pub const IN_PORT: u8 = 0;
    pub const IN_PHY_PORT: u8 = 1;
    pub const METADATA: u8 = 2;
    pub const ETH_DST: u8 = 3;
    pub const ETH_SRC: u8 = 4;
    pub const ETH_TYPE: u8 = 5;
    pub const VLAN_VID: u8 = 6;
    pub const VLAN_PCP: u8 = 7;
    pub const IP_DSCP: u8 = 8;
    pub const IP_ECN: u8 = 9;
    pub const IP_PROTO: u8 = 10;
    pub const IPV4_SRC: u8 = 11;
    pub const IPV4_DST: u8 = 12;
    pub const TCP_SRC: u8 = 13;
    pub const TCP_DST: u8 = 14;
    pub const UDP_SRC: u8 = 15;
    pub const UDP_DST: u8 = 16;
    pub const SCTP_SRC: u8 = 17;
    pub const SCTP_DST: u8 = 18;
    pub const ICMPV4_TYPE: u8 = 19;
    pub const ICMPV4_CODE: u8 = 20;
    pub const ARP_OP: u8 = 21;
    pub const ARP_SPA: u8 = 22;
    pub const ARP_TPA: u8 = 23;
    pub const ARP_SHA: u8 = 24;
    pub const ARP_THA: u8 = 25;
    pub const IPV6_SRC: u8 = 26;
    pub const IPV6_DST: u8 = 27;
    pub const IPV6_FLABEL: u8 = 28;
    pub const ICMPV6_TYPE: u8 = 29;
    pub const ICMPV6_CODE: u8 = 30;
    pub const IPV6_ND_TARGET: u8 = 31;
    pub const IPV6_ND_SLL: u8 = 32;
    pub const IPV6_ND_TLL: u8 = 33;
    pub const MPLS_LABEL: u8 = 34;
    pub const MPLS_TC: u8 = 35;
    pub const MPLS_BOS: u8 = 36;
    pub const PBB_ISID: u8 = 37;
    pub const TUNNEL_ID: u8 = 38;
    pub const IPV6_EXTHDR: u8 = 39;
}

/// Payload size (unmasked) and maskability of an OpenFlow-basic field, per the spec's table 12.
pub fn basic_field_layout(f: u8) -> Option<(u8, bool)> {
    use field::*;
    Some(match f {
        IN_PORT | IN_PHY_PORT => (4, false),
        METADATA => (8, true),
        ETH_DST | ETH_SRC => (6, true),
        ETH_TYPE => (2, false),
        VLAN_VID => (2, true),
        VLAN_PCP | IP_DSCP | IP_ECN | IP_PROTO => (1, false),
        IPV4_SRC | IPV4_DST => (4, true),
        TCP_SRC | TCP_DST | UDP_SRC | UDP_DST | SCTP_SRC | SCTP_DST => (2, false),
        ICMPV4_TYPE | ICMPV4_CODE => (1, false),
        ARP_OP => (2, false),
        ARP_SPA | ARP_TPA => (4, true),
        ARP_SHA | ARP_THA => (6, true),
        IPV6_SRC | IPV6_DST => (16, true),
        IPV6_FLABEL => (4, true),
        ICMPV6_TYPE | ICMPV6_CODE => (1, false),
        IPV6_ND_TARGET => (16, false),
        IPV6_ND_SLL | IPV6_ND_TLL => (6, false),
        MPLS_LABEL => (4, false),
        MPLS_TC | MPLS_BOS => (1, false),
        PBB_ISID => (3, true),
        TUNNEL_ID => (8, true),
        IPV6_EXTHDR => (2, true),
        _ => return None,
    })
}

/// An OXM header split in its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OxmHeader {
    pub class: u16,
    pub field: u8,
    pub hasmask: bool,
    /// Payload length (after the 4-byte header).
    pub length: u8,
}

impl OxmHeader {
    pub fn from_u32(h: u32) -> Self {
        OxmHeader {
            class: (h >> 16) as u16,
            field: ((h >> 9) & 0x7f) as u8,
            hasmask: (h >> 8) & 1 == 1,
            length: (h & 0xff) as u8,
        }
    }

    pub fn to_u32(self) -> u32 {
        (u32::from(self.class) << 16)
            | (u32::from(self.field & 0x7f) << 9)
            | (u32::from(self.hasmask) << 8)
            | u32::from(self.length)
    }
}
