//! Ethernet frames for the packet model, as the payload of the PACKET_INs a simulated switch
//! sends (built with etherparse, so the controller's parser sees real headers and checksums).
//!
//! Limits: an IPv6 fragment is built without a fragment extension header (the frame says
//! nothing of fragmentation); an IPv4 fragment is a first fragment (MF set, offset 0).

use std::net::IpAddr;

use etherparse::{EtherType, Ethernet2Header, IpNumber, Ipv4Header, PacketBuilder};

use crate::packet::{PacketHeaders, IP_PROTO_TCP, IP_PROTO_UDP};

/// The source MAC of frames arriving on `in_port`: locally administered, derived from the port.
pub fn host_mac(in_port: u32) -> [u8; 6] {
    let p = in_port.to_be_bytes();
    [0x02, 0x00, p[0], p[1], p[2], p[3]]
}

/// The destination MAC of every built frame (the subscriber's gateway).
pub const GATEWAY_MAC: [u8; 6] = [0x02, 0xff, 0x00, 0x00, 0x00, 0x01];

/// A minimal frame (no payload) with `pkt`'s headers; TCP segments are SYNs.
pub fn build_frame(pkt: &PacketHeaders) -> Vec<u8> {
    let src = host_mac(pkt.in_port);
    let Some((s, d)) = pkt.ip else {
        return Ethernet2Header {
            source: src,
            destination: GATEWAY_MAC,
            ether_type: EtherType(pkt.eth_type),
        }
        .to_bytes()
        .to_vec();
    };
    let eth = PacketBuilder::ethernet2(src, GATEWAY_MAC);
    let proto = pkt.ip_proto.unwrap_or(IP_PROTO_TCP);
    let ip = match (s, d) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // Payload length is fixed up by the builder on write.
            let mut h =
                Ipv4Header::new(0, 64, IpNumber(proto), s.octets(), d.octets()).unwrap_or_default();
            if pkt.is_fragment {
                h.dont_fragment = false;
                h.more_fragments = true;
            }
            eth.ip(etherparse::IpHeaders::Ipv4(h, Default::default()))
        }
        (s, d) => eth.ipv6(v6(s), v6(d), 64),
    };
    let mut out = Vec::with_capacity(80);
    let written = match (proto, pkt.ports) {
        (IP_PROTO_TCP, Some((sport, dport))) => {
            ip.tcp(sport, dport, 1, 64240).syn().write(&mut out, &[])
        }
        (IP_PROTO_UDP, Some((sport, dport))) => ip.udp(sport, dport).write(&mut out, &[]),
        _ => ip.write(&mut out, IpNumber(proto), &[]),
    };
    // Writing into a Vec cannot fail for headers this small; keep whatever was written.
    let _ = written;
    out
}

fn v6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn tcp4_syn_parses_back() {
        let f = build_frame(&PacketHeaders::tcp(
            3,
            ip("10.0.0.5"),
            40000,
            ip("198.51.100.7"),
            25,
        ));
        let p = SlicedPacket::from_ethernet(&f).expect("parses");
        let Some(NetSlice::Ipv4(v4)) = p.net else {
            panic!("not IPv4")
        };
        assert_eq!(v4.header().source(), [10, 0, 0, 5]);
        assert_eq!(v4.header().destination(), [198, 51, 100, 7]);
        let Some(TransportSlice::Tcp(t)) = p.transport else {
            panic!("not TCP")
        };
        assert_eq!(
            (t.source_port(), t.destination_port(), t.syn()),
            (40000, 25, true)
        );
        assert_eq!(&f[6..12], &host_mac(3));
    }

    #[test]
    fn tcp6_and_udp_and_non_ip() {
        let f = build_frame(&PacketHeaders::tcp(
            1,
            ip("2001:db8::5"),
            1,
            ip("2001:db8:1::7"),
            25,
        ));
        let p = SlicedPacket::from_ethernet(&f).expect("parses");
        assert!(matches!(p.net, Some(NetSlice::Ipv6(_))));
        assert!(matches!(p.transport, Some(TransportSlice::Tcp(t)) if t.destination_port() == 25));
        let u = build_frame(&PacketHeaders::udp(
            1,
            ip("10.0.0.5"),
            53,
            ip("198.51.100.7"),
            53,
        ));
        let p = SlicedPacket::from_ethernet(&u).expect("parses");
        assert!(matches!(p.transport, Some(TransportSlice::Udp(_))));
        let arp = build_frame(&PacketHeaders::non_ip(1, 0x0806));
        assert_eq!(arp.len(), 14);
        assert_eq!(&arp[12..14], &[0x08, 0x06]);
    }

    #[test]
    fn ipv4_fragments_carry_more_fragments() {
        let f = build_frame(
            &PacketHeaders::tcp(1, ip("10.0.0.5"), 1, ip("198.51.100.7"), 25).fragment(),
        );
        let h = etherparse::Ipv4HeaderSlice::from_slice(&f[14..]).expect("ipv4");
        assert!(h.more_fragments());
    }
}
