//! A small packet model: just the header fields op25b's flows match on.
//!
//! The simulator never sees real frames; a test describes a packet by its headers and asks the
//! flow table what the switch would do with it ([`crate::FlowTable::classify`]).
//!
//! Fragments follow Open vSwitch's default fragment handling ("normal"): every IP fragment,
//! the first one included, is matched with its TCP/UDP ports read as 0.

use std::net::IpAddr;

pub use op25b_proto::consts::{ETH_TYPE_IPV4, ETH_TYPE_IPV6, IP_PROTO_TCP, IP_PROTO_UDP};
pub(crate) use op25b_proto::oxm::field;

/// The headers of one packet arriving at the switch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PacketHeaders {
    /// The switch port the packet came in on.
    pub in_port: u32,
    /// EtherType (0x0800 IPv4, 0x86dd IPv6, anything else for non-IP).
    pub eth_type: u16,
    /// Source and destination address, for IP packets. Their family must agree with `eth_type`.
    pub ip: Option<(IpAddr, IpAddr)>,
    /// IP protocol (6 TCP, 17 UDP...), for IP packets.
    pub ip_proto: Option<u8>,
    /// Transport source and destination ports, for TCP and UDP packets.
    pub ports: Option<(u16, u16)>,
    /// Whether this is an IP fragment (any fragment, the first included).
    pub is_fragment: bool,
}

impl PacketHeaders {
    /// A TCP segment from `src:sport` to `dst:dport` (IPv4 or IPv6, by the addresses' family).
    ///
    /// If the two addresses are of different families the destination's family wins for
    /// `eth_type`; no flow can then match both addresses, which is what a test of a malformed
    /// packet wants.
    pub fn tcp(in_port: u32, src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> Self {
        Self::l4(in_port, src, dst, IP_PROTO_TCP, Some((sport, dport)))
    }

    /// A UDP datagram from `src:sport` to `dst:dport`.
    pub fn udp(in_port: u32, src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> Self {
        Self::l4(in_port, src, dst, IP_PROTO_UDP, Some((sport, dport)))
    }

    /// An IP packet of protocol `ip_proto` without transport ports the model knows of.
    pub fn ip(in_port: u32, src: IpAddr, dst: IpAddr, ip_proto: u8) -> Self {
        Self::l4(in_port, src, dst, ip_proto, None)
    }

    /// A non-IP frame (ARP, LLDP...) of the given EtherType.
    pub fn non_ip(in_port: u32, eth_type: u16) -> Self {
        Self {
            in_port,
            eth_type,
            ip: None,
            ip_proto: None,
            ports: None,
            is_fragment: false,
        }
    }

    /// The same packet, marked as an IP fragment.
    pub fn fragment(mut self) -> Self {
        self.is_fragment = true;
        self
    }

    fn l4(in_port: u32, src: IpAddr, dst: IpAddr, proto: u8, ports: Option<(u16, u16)>) -> Self {
        let eth_type = match dst {
            IpAddr::V4(_) => ETH_TYPE_IPV4,
            IpAddr::V6(_) => ETH_TYPE_IPV6,
        };
        Self {
            in_port,
            eth_type,
            ip: Some((src, dst)),
            ip_proto: Some(proto),
            ports,
            is_fragment: false,
        }
    }

    /// The value of an OpenFlow-basic OXM field for this packet (right-aligned in a u128),
    /// or `None` when the packet has no such field (an OXM on it then never matches).
    ///
    /// `metadata` is the pipeline's metadata register at the table being looked up.
    pub fn field_value(&self, oxm_field: u8, metadata: u64) -> Option<u128> {
        let ports = match (self.ports, self.is_fragment) {
            // OVS "normal" fragment handling: fragments carry L4 ports of 0.
            (Some(_), true) => Some((0, 0)),
            (p, false) => p,
            (None, true) => None,
        };
        let v4 = |pick: fn(&(IpAddr, IpAddr)) -> IpAddr| match self.ip.as_ref().map(pick) {
            Some(IpAddr::V4(a)) if self.eth_type == ETH_TYPE_IPV4 => Some(u128::from(u32::from(a))),
            _ => None,
        };
        let v6 = |pick: fn(&(IpAddr, IpAddr)) -> IpAddr| match self.ip.as_ref().map(pick) {
            Some(IpAddr::V6(a)) if self.eth_type == ETH_TYPE_IPV6 => Some(u128::from(a)),
            _ => None,
        };
        let l4 = |proto: u8, pick: fn((u16, u16)) -> u16| match (self.ip_proto, ports) {
            (Some(p), Some(ports)) if p == proto => Some(u128::from(pick(ports))),
            _ => None,
        };
        match oxm_field {
            field::IN_PORT => Some(u128::from(self.in_port)),
            field::METADATA => Some(u128::from(metadata)),
            field::ETH_TYPE => Some(u128::from(self.eth_type)),
            field::IP_PROTO => self.ip_proto.map(u128::from),
            field::IPV4_SRC => v4(|a| a.0),
            field::IPV4_DST => v4(|a| a.1),
            field::IPV6_SRC => v6(|a| a.0),
            field::IPV6_DST => v6(|a| a.1),
            field::TCP_SRC => l4(IP_PROTO_TCP, |p| p.0),
            field::TCP_DST => l4(IP_PROTO_TCP, |p| p.1),
            field::UDP_SRC => l4(IP_PROTO_UDP, |p| p.0),
            field::UDP_DST => l4(IP_PROTO_UDP, |p| p.1),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn tcp4_exposes_its_fields() {
        let p = PacketHeaders::tcp(3, ip("10.0.0.1"), 40000, ip("198.51.100.7"), 25);
        assert_eq!(p.field_value(field::IN_PORT, 0), Some(3));
        assert_eq!(p.field_value(field::ETH_TYPE, 0), Some(0x0800));
        assert_eq!(p.field_value(field::IP_PROTO, 0), Some(6));
        assert_eq!(p.field_value(field::IPV4_SRC, 0), Some(0x0a00_0001));
        assert_eq!(p.field_value(field::IPV4_DST, 0), Some(0xc633_6407));
        assert_eq!(p.field_value(field::TCP_SRC, 0), Some(40000));
        assert_eq!(p.field_value(field::TCP_DST, 0), Some(25));
        assert_eq!(p.field_value(field::UDP_DST, 0), None);
        assert_eq!(p.field_value(field::IPV6_DST, 0), None);
    }

    #[test]
    fn tcp6_exposes_v6_addresses_only() {
        let p = PacketHeaders::tcp(1, ip("2001:db8::1"), 1, ip("2001:db8:1::7"), 25);
        assert_eq!(p.field_value(field::ETH_TYPE, 0), Some(0x86dd));
        assert_eq!(p.field_value(field::IPV4_DST, 0), None);
        assert_eq!(
            p.field_value(field::IPV6_DST, 0),
            Some(u128::from(
                "2001:db8:1::7".parse::<std::net::Ipv6Addr>().expect("v6")
            ))
        );
    }

    #[test]
    fn fragments_read_ports_as_zero() {
        let p = PacketHeaders::tcp(1, ip("10.0.0.1"), 1234, ip("198.51.100.7"), 25).fragment();
        assert_eq!(p.field_value(field::TCP_DST, 0), Some(0));
        assert_eq!(p.field_value(field::TCP_SRC, 0), Some(0));
        assert_eq!(p.field_value(field::IP_PROTO, 0), Some(6));
    }

    #[test]
    fn non_ip_has_no_ip_fields() {
        let p = PacketHeaders::non_ip(2, 0x0806);
        assert_eq!(p.field_value(field::ETH_TYPE, 0), Some(0x0806));
        assert_eq!(p.field_value(field::IP_PROTO, 0), None);
        assert_eq!(p.field_value(field::IPV4_SRC, 0), None);
        assert_eq!(p.field_value(field::METADATA, 77), Some(77));
    }
}
