//! One-line summary of the Ethernet frame inside a PACKET_IN or PACKET_OUT, enough to see who
//! tried to reach which port: `00:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ipv4 10.0.0.1 >
//! 198.51.100.7 tcp 49152 > 25 [SYN]`. Every read is bounds-checked: a short or odd frame ends
//! the summary with `(truncated)` or the raw ethertype.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

const ETH_HEADER: usize = 14;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Summarises an Ethernet frame; `(empty)` for no bytes.
pub fn summary(frame: &[u8]) -> String {
    if frame.is_empty() {
        return "(empty)".into();
    }
    if frame.len() < ETH_HEADER {
        return format!("(truncated Ethernet frame, {} bytes)", frame.len());
    }
    let mut out = format!("{} > {}", mac(&frame[6..12]), mac(&frame[0..6]));
    let mut ethertype = be16(frame, 12).unwrap_or(0);
    let mut at = ETH_HEADER;
    // 802.1Q / 802.1ad tags.
    while matches!(ethertype, 0x8100 | 0x88a8) {
        let (Some(tci), Some(inner)) = (be16(frame, at), be16(frame, at + 2)) else {
            out.push_str(" vlan (truncated)");
            return out;
        };
        let _ = write!(out, " vlan {}", tci & 0x0fff);
        ethertype = inner;
        at += 4;
    }
    let payload = &frame[at..];
    match ethertype {
        0x0800 => ipv4(&mut out, payload),
        0x86dd => ipv6(&mut out, payload),
        0x0806 => out.push_str(" arp"),
        other => {
            let _ = write!(out, " eth_type {other:#06x}");
        }
    }
    out
}

fn ipv4(out: &mut String, p: &[u8]) {
    if p.len() < 20 {
        out.push_str(" ipv4 (truncated)");
        return;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    let _ = write!(out, " ipv4 {src} > {dst}");
    let frag = be16(p, 6).unwrap_or(0);
    if frag & 0x1fff != 0 {
        let _ = write!(out, " fragment offset {}", (frag & 0x1fff) * 8);
        return;
    }
    if frag & 0x2000 != 0 {
        out.push_str(" first-fragment");
    }
    if ihl < 20 || ihl > p.len() {
        let _ = write!(out, " (bad header length {ihl})");
        return;
    }
    transport(out, p[9], &p[ihl..]);
}

fn ipv6(out: &mut String, p: &[u8]) {
    if p.len() < 40 {
        out.push_str(" ipv6 (truncated)");
        return;
    }
    let mut src = [0u8; 16];
    src.copy_from_slice(&p[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&p[24..40]);
    let _ = write!(
        out,
        " ipv6 {} > {}",
        Ipv6Addr::from(src),
        Ipv6Addr::from(dst)
    );
    transport(out, p[6], &p[40..]);
}

fn transport(out: &mut String, proto: u8, p: &[u8]) {
    match proto {
        6 => {
            let (Some(sport), Some(dport), Some(&flags)) = (be16(p, 0), be16(p, 2), p.get(13))
            else {
                out.push_str(" tcp (truncated)");
                return;
            };
            let names = [
                (0x02, "SYN"),
                (0x10, "ACK"),
                (0x01, "FIN"),
                (0x04, "RST"),
                (0x08, "PSH"),
            ];
            let set: Vec<&str> = names
                .iter()
                .filter(|(bit, _)| flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            let _ = write!(out, " tcp {sport} > {dport} [{}]", set.join(","));
        }
        17 => match (be16(p, 0), be16(p, 2)) {
            (Some(s), Some(d)) => {
                let _ = write!(out, " udp {s} > {d}");
            }
            _ => out.push_str(" udp (truncated)"),
        },
        1 => out.push_str(" icmp"),
        58 => out.push_str(" icmp6"),
        other => {
            let _ = write!(out, " ip_proto {other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TCP SYN to port 25 that scripts/capture-ovs injects.
    const SYN: &str = "ffffffffffff00000000000108004500002800010000400600000a000001c6336407c0000019000000000000000050020000d6000000";

    #[test]
    fn tcp_syn_to_port_25() {
        let f = hex::decode(SYN).unwrap();
        assert_eq!(
            summary(&f),
            "00:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ipv4 10.0.0.1 > 198.51.100.7 tcp 49152 > 25 [SYN]"
        );
    }

    #[test]
    fn every_prefix_of_a_frame_is_summarised_without_panicking() {
        let f = hex::decode(SYN).unwrap();
        for n in 0..f.len() {
            let s = summary(&f[..n]);
            assert!(!s.is_empty());
        }
        assert_eq!(summary(&f[..10]), "(truncated Ethernet frame, 10 bytes)");
        assert!(
            summary(&f[..40]).ends_with("tcp (truncated)"),
            "{}",
            summary(&f[..40])
        );
    }

    #[test]
    fn ipv6_and_vlan() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a, 0x86, 0xdd]);
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
        ip6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        ip6.extend_from_slice(&"2001:db8::25".parse::<Ipv6Addr>().unwrap().octets());
        f.extend_from_slice(&ip6);
        f.extend_from_slice(&[
            0xc0, 0x00, 0x00, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12, 0, 0, 0, 0, 0, 0,
        ]);
        assert_eq!(
            summary(&f),
            "00:00:00:00:00:00 > 00:00:00:00:00:00 vlan 10 ipv6 2001:db8::1 > 2001:db8::25 tcp 49152 > 25 [SYN,ACK]"
        );
    }
}
