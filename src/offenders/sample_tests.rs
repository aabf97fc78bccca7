//! Tests for the sample parser: frames are built with etherparse's header types (the same
//! bytes a kernel sends), then cut to the 128 bytes a drop flow forwards.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    ether_type, ip_number, EtherType, Ethernet2Header, IpFragOffset, IpNumber, Ipv4Header,
    Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, Ipv6RawExtHeader, SingleVlanHeader, TcpHeader,
    TcpOptionElement, VlanId, VlanPcp,
};
use proptest::prelude::*;

use super::*;

const SUBSCRIBER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const GATEWAY_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xfe];
const SUBSCRIBER_V4: [u8; 4] = [10, 0, 0, 1];
const OUTSIDE_V4: [u8; 4] = [198, 51, 100, 7];
const SUBSCRIBER_V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const OUTSIDE_V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
/// What the drop flows forward to the controller (`controller:128`).
const MAX_LEN: usize = 128;

fn ethernet(ether_type: EtherType) -> Vec<u8> {
    Ethernet2Header {
        source: SUBSCRIBER_MAC,
        destination: GATEWAY_MAC,
        ether_type,
    }
    .to_bytes()
    .to_vec()
}

fn vlan(id: u16, inner: EtherType) -> [u8; 4] {
    SingleVlanHeader {
        pcp: VlanPcp::ZERO,
        drop_eligible_indicator: false,
        vlan_id: VlanId::try_new(id).expect("vlan id < 4096"),
        ether_type: inner,
    }
    .to_bytes()
}

/// A SYN like Linux sends one: 20 bytes of header plus 20 of options (MSS, SACK-permitted,
/// timestamps, NOP, window scale).
fn linux_syn(source_port: u16, destination_port: u16) -> Vec<u8> {
    let mut tcp = TcpHeader::new(source_port, destination_port, 0x1234_5678, 64240);
    tcp.syn = true;
    tcp.set_options(&[
        TcpOptionElement::MaximumSegmentSize(1460),
        TcpOptionElement::SelectiveAcknowledgementPermitted,
        TcpOptionElement::Timestamp(0xdead_beef, 0),
        TcpOptionElement::Noop,
        TcpOptionElement::WindowScale(7),
    ])
    .expect("options fit");
    assert_eq!(tcp.header_len(), 40);
    tcp.to_bytes().to_vec()
}

fn ipv4(payload_len: usize, fragment_offset: u16, more_fragments: bool) -> Vec<u8> {
    let mut ip = Ipv4Header::new(
        u16::try_from(payload_len).expect("small payload"),
        64,
        ip_number::TCP,
        SUBSCRIBER_V4,
        OUTSIDE_V4,
    )
    .expect("valid ipv4 header");
    ip.identification = 0x4242;
    ip.more_fragments = more_fragments;
    ip.fragment_offset = IpFragOffset::try_new(fragment_offset).expect("13-bit offset");
    ip.header_checksum = ip.calc_header_checksum();
    ip.to_bytes().to_vec()
}

fn ipv6(next_header: IpNumber, payload_len: usize) -> [u8; 40] {
    Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: u16::try_from(payload_len).expect("small payload"),
        next_header,
        hop_limit: 64,
        source: SUBSCRIBER_V6,
        destination: OUTSIDE_V6,
    }
    .to_bytes()
}

/// Ethernet + IPv4 + Linux SYN + `data_len` bytes of SMTP-ish payload.
fn ipv4_syn_frame(data_len: usize) -> Vec<u8> {
    let tcp = linux_syn(40000, 25);
    let mut frame = ethernet(ether_type::IPV4);
    frame.extend(ipv4(tcp.len() + data_len, 0, false));
    frame.extend(tcp);
    frame.extend(std::iter::repeat_n(0x41, data_len));
    frame
}

fn ipv6_syn_frame() -> Vec<u8> {
    let tcp = linux_syn(40001, 25);
    let mut frame = ethernet(ether_type::IPV6);
    frame.extend(ipv6(ip_number::TCP, tcp.len()));
    frame.extend(tcp);
    frame
}

fn cut(frame: &[u8]) -> &[u8] {
    &frame[..frame.len().min(MAX_LEN)]
}

fn expect_tcp(sample: &Sample) -> TcpSummary {
    match sample.transport {
        Transport::Tcp(tcp) => tcp,
        other @ Transport::LaterFragment { .. } => panic!("expected a TCP header, got {other:?}"),
    }
}

#[test]
fn ipv4_syn_parses_addresses_ports_and_flags() {
    let frame = ipv4_syn_frame(0);
    let sample = parse_sample(&frame).expect("well-formed SYN");
    assert_eq!(sample.source_mac, MacAddr(SUBSCRIBER_MAC));
    assert_eq!(sample.vlan_ids, [None, None]);
    assert_eq!(sample.source_ip, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(
        sample.destination_ip,
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7))
    );
    let tcp = expect_tcp(&sample);
    assert_eq!(tcp.source_port, 40000);
    assert_eq!(tcp.destination_port, 25);
    assert!(tcp.syn && !tcp.ack && !tcp.rst && !tcp.first_fragment);
    assert!(tcp.is_connection_attempt());
}

#[test]
fn ipv4_packet_cut_to_128_bytes_still_parses() {
    // A data segment whose IP total length says 1040 bytes; only 128 arrive.
    let frame = ipv4_syn_frame(1000);
    assert!(frame.len() > MAX_LEN);
    let sample = parse_sample(cut(&frame)).expect("headers fit in 128 bytes");
    assert_eq!(expect_tcp(&sample).destination_port, 25);
}

#[test]
fn ipv6_syn_parses() {
    let frame = ipv6_syn_frame();
    let sample = parse_sample(&frame).expect("well-formed v6 SYN");
    assert_eq!(sample.source_ip, IpAddr::V6(Ipv6Addr::from(SUBSCRIBER_V6)));
    assert_eq!(
        sample.destination_ip,
        IpAddr::V6(Ipv6Addr::from(OUTSIDE_V6))
    );
    let tcp = expect_tcp(&sample);
    assert_eq!((tcp.source_port, tcp.destination_port), (40001, 25));
    assert!(tcp.is_connection_attempt());
}

#[test]
fn syn_ack_and_rst_are_not_connection_attempts() {
    let mut tcp = TcpHeader::new(25, 40000, 1, 1000);
    tcp.syn = true;
    tcp.ack = true;
    let mut frame = ethernet(ether_type::IPV4);
    frame.extend(ipv4(tcp.header_len(), 0, false));
    frame.extend(tcp.to_bytes());
    let summary = expect_tcp(&parse_sample(&frame).expect("syn-ack"));
    assert!(summary.syn && summary.ack);
    assert!(!summary.is_connection_attempt());

    let mut rst = TcpHeader::new(40000, 25, 1, 0);
    rst.rst = true;
    let mut frame = ethernet(ether_type::IPV4);
    frame.extend(ipv4(rst.header_len(), 0, false));
    frame.extend(rst.to_bytes());
    let summary = expect_tcp(&parse_sample(&frame).expect("rst"));
    assert!(summary.rst && !summary.is_connection_attempt());
}

#[test]
fn single_vlan_tag_is_read() {
    let tcp = linux_syn(40000, 25);
    let mut frame = ethernet(ether_type::VLAN_TAGGED_FRAME);
    frame.extend(vlan(100, ether_type::IPV4));
    frame.extend(ipv4(tcp.len(), 0, false));
    frame.extend(tcp);
    let sample = parse_sample(&frame).expect("802.1Q SYN");
    assert_eq!(sample.vlan_ids, [Some(100), None]);
    assert_eq!(expect_tcp(&sample).destination_port, 25);
}

#[test]
fn qinq_tags_are_read_outer_first() {
    let tcp = linux_syn(40002, 25);
    let mut frame = ethernet(ether_type::PROVIDER_BRIDGING);
    frame.extend(vlan(300, ether_type::VLAN_TAGGED_FRAME));
    frame.extend(vlan(42, ether_type::IPV6));
    frame.extend(ipv6(ip_number::TCP, tcp.len()));
    frame.extend(tcp);
    assert!(frame.len() <= MAX_LEN, "QinQ + v6 + Linux SYN fits in 128");
    let sample = parse_sample(&frame).expect("QinQ v6 SYN");
    assert_eq!(sample.vlan_ids, [Some(300), Some(42)]);
    assert_eq!(expect_tcp(&sample).source_port, 40002);
}

#[test]
fn four_vlan_tags_are_not_ip() {
    // etherparse reads three tags; a fourth leaves an unknown ether type behind.
    let tcp = linux_syn(40000, 25);
    let mut frame = ethernet(ether_type::VLAN_TAGGED_FRAME);
    for id in 1..=3 {
        frame.extend(vlan(id, ether_type::VLAN_TAGGED_FRAME));
    }
    frame.extend(vlan(4, ether_type::IPV4));
    frame.extend(ipv4(tcp.len(), 0, false));
    frame.extend(tcp);
    assert_eq!(
        parse_sample(&frame),
        Err(SampleError::NotIp {
            ether_type: ether_type::VLAN_TAGGED_FRAME.0
        })
    );
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let tcp = linux_syn(40003, 25);
    let dest_opts = Ipv6RawExtHeader::new_raw(ip_number::TCP, &[1, 4, 0, 0, 0, 0])
        .expect("8-byte destination options");
    let hop_by_hop = Ipv6RawExtHeader::new_raw(ip_number::IPV6_DEST_OPTIONS, &[1, 4, 0, 0, 0, 0])
        .expect("8-byte hop-by-hop");
    let ext_len = hop_by_hop.header_len() + dest_opts.header_len();
    let mut frame = ethernet(ether_type::IPV6);
    frame.extend(ipv6(ip_number::IPV6_HOP_BY_HOP, ext_len + tcp.len()));
    frame.extend(hop_by_hop.to_bytes());
    frame.extend(dest_opts.to_bytes());
    frame.extend(tcp);
    let sample = parse_sample(cut(&frame)).expect("v6 with extension headers");
    let tcp = expect_tcp(&sample);
    assert_eq!((tcp.source_port, tcp.destination_port), (40003, 25));
    assert!(tcp.is_connection_attempt());
}

#[test]
fn tcp_options_cut_by_the_128_byte_limit_still_give_ports_and_flags() {
    // QinQ (8) + IPv6 (40) + a 40-byte routing header leave 26 bytes of a 40-byte TCP header.
    let tcp = linux_syn(40004, 25);
    let routing = Ipv6RawExtHeader::new_raw(ip_number::TCP, &[0u8; 38]).expect("40-byte ext");
    let mut frame = ethernet(ether_type::PROVIDER_BRIDGING);
    frame.extend(vlan(300, ether_type::VLAN_TAGGED_FRAME));
    frame.extend(vlan(42, ether_type::IPV6));
    frame.extend(ipv6(
        ip_number::IPV6_ROUTE,
        routing.header_len() + tcp.len(),
    ));
    frame.extend(routing.to_bytes());
    frame.extend(tcp);
    assert!(frame.len() > MAX_LEN);
    let sample = parse_sample(cut(&frame)).expect("fixed TCP fields survive the cut");
    let tcp = expect_tcp(&sample);
    assert_eq!((tcp.source_port, tcp.destination_port), (40004, 25));
    assert!(tcp.is_connection_attempt());
}

#[test]
fn ipv4_first_fragment_carries_ports() {
    let tcp = linux_syn(40005, 25);
    let mut frame = ethernet(ether_type::IPV4);
    frame.extend(ipv4(tcp.len(), 0, true));
    frame.extend(tcp);
    let sample = parse_sample(&frame).expect("first fragment");
    let tcp = expect_tcp(&sample);
    assert_eq!((tcp.source_port, tcp.destination_port), (40005, 25));
    assert!(tcp.first_fragment);
}

#[test]
fn ipv4_later_fragment_has_no_ports() {
    let mut frame = ethernet(ether_type::IPV4);
    frame.extend(ipv4(16, 5, false));
    frame.extend([0u8; 16]);
    let sample = parse_sample(&frame).expect("later fragment");
    assert_eq!(
        sample.transport,
        Transport::LaterFragment {
            identification: 0x4242
        }
    );
    assert_eq!(
        sample.destination_ip,
        IpAddr::V4(Ipv4Addr::from(OUTSIDE_V4))
    );
}

#[test]
fn ipv6_fragments_first_has_ports_later_has_none() {
    let tcp = linux_syn(40006, 25);
    let first = Ipv6FragmentHeader::new(ip_number::TCP, IpFragOffset::ZERO, true, 0xabcd_0001);
    let mut frame = ethernet(ether_type::IPV6);
    frame.extend(ipv6(ip_number::IPV6_FRAG, 8 + tcp.len()));
    frame.extend(first.to_bytes());
    frame.extend(tcp);
    let sample = parse_sample(&frame).expect("v6 first fragment");
    let summary = expect_tcp(&sample);
    assert_eq!(summary.source_port, 40006);
    assert!(summary.first_fragment);

    let later = Ipv6FragmentHeader::new(
        ip_number::TCP,
        IpFragOffset::try_new(3).expect("offset"),
        false,
        0xabcd_0001,
    );
    let mut frame = ethernet(ether_type::IPV6);
    frame.extend(ipv6(ip_number::IPV6_FRAG, 8 + 24));
    frame.extend(later.to_bytes());
    frame.extend([0u8; 24]);
    let sample = parse_sample(&frame).expect("v6 later fragment");
    assert_eq!(
        sample.transport,
        Transport::LaterFragment {
            identification: 0xabcd_0001
        }
    );
}

#[test]
fn non_tcp_and_non_ip_are_typed_errors() {
    let mut udp = ethernet(ether_type::IPV4);
    let mut ip = Ipv4Header::new(8, 64, ip_number::UDP, SUBSCRIBER_V4, OUTSIDE_V4).expect("ip");
    ip.header_checksum = ip.calc_header_checksum();
    udp.extend(ip.to_bytes());
    udp.extend([0u8; 8]);
    assert_eq!(
        parse_sample(&udp),
        Err(SampleError::NotTcp {
            protocol: ip_number::UDP.0
        })
    );

    let mut arp = ethernet(ether_type::ARP);
    arp.extend([0u8; 28]);
    assert!(matches!(
        parse_sample(&arp),
        Err(SampleError::NotIp { ether_type: 0x0806 } | SampleError::Truncated { .. })
    ));

    let mut lldp = ethernet(EtherType(0x88cc));
    lldp.extend([0u8; 30]);
    assert_eq!(
        parse_sample(&lldp),
        Err(SampleError::NotIp { ether_type: 0x88cc })
    );
}

#[test]
fn bad_ip_version_and_bad_tcp_offset_are_malformed() {
    let mut frame = ipv4_syn_frame(0);
    frame[14] = 0x55; // version 5
    assert!(matches!(
        parse_sample(&frame),
        Err(SampleError::Malformed { .. })
    ));

    let mut frame = ipv4_syn_frame(0);
    frame[14 + 20 + 12] = 0x30; // TCP data offset 3 (< 5)
    assert!(matches!(
        parse_sample(&frame),
        Err(SampleError::Malformed {
            layer: Layer::TcpHeader,
            ..
        })
    ));
}

/// Every prefix of a frame either parses to the same ports (once the 14 fixed TCP bytes are
/// in) or is a typed error; none panics.
fn check_every_prefix(frame: &[u8], tcp_start: usize, ports: (u16, u16)) {
    for len in 0..=frame.len() {
        let result = parse_sample(&frame[..len]);
        if len >= tcp_start + 14 {
            let sample = result.unwrap_or_else(|e| panic!("prefix {len}: {e}"));
            let tcp = expect_tcp(&sample);
            assert_eq!(
                (tcp.source_port, tcp.destination_port),
                ports,
                "prefix {len}"
            );
        } else {
            let error = result.expect_err("prefix shorter than the TCP fixed fields");
            assert!(
                matches!(error, SampleError::Truncated { .. }),
                "prefix {len}: {error:?}"
            );
        }
    }
}

#[test]
fn truncation_at_every_length_ipv4() {
    check_every_prefix(&ipv4_syn_frame(0), 14 + 20, (40000, 25));
}

#[test]
fn truncation_at_every_length_ipv6() {
    check_every_prefix(&ipv6_syn_frame(), 14 + 40, (40001, 25));
}

#[test]
fn truncation_at_every_length_qinq_ipv6_fragment() {
    let tcp = linux_syn(40007, 25);
    let first = Ipv6FragmentHeader::new(ip_number::TCP, IpFragOffset::ZERO, true, 7);
    let mut frame = ethernet(ether_type::PROVIDER_BRIDGING);
    frame.extend(vlan(300, ether_type::VLAN_TAGGED_FRAME));
    frame.extend(vlan(42, ether_type::IPV6));
    frame.extend(ipv6(ip_number::IPV6_FRAG, 8 + tcp.len()));
    frame.extend(first.to_bytes());
    frame.extend(tcp);
    check_every_prefix(&frame, 14 + 8 + 40 + 8, (40007, 25));
}

#[test]
fn errors_name_the_layer_and_sizes() {
    let frame = ipv4_syn_frame(0);
    let error = parse_sample(&frame[..20]).expect_err("cut inside the IPv4 header");
    let text = error.to_string();
    assert!(text.contains("truncated"), "{text}");
    assert!(matches!(error, SampleError::Truncated { available, .. } if available < 20));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..160)) {
        let _ = parse_sample(&data);
    }

    #[test]
    fn arbitrary_bytes_after_an_ip_ether_type_never_panic(
        ether in prop_oneof![Just(0x0800u16), Just(0x86dd), Just(0x8100), Just(0x88a8)],
        tail in proptest::collection::vec(any::<u8>(), 0..140),
    ) {
        let mut frame = ethernet(EtherType(ether));
        frame.extend(tail);
        let _ = parse_sample(&frame);
    }

    #[test]
    fn a_mutated_syn_never_panics(position in 0usize..74, value in any::<u8>(), cut_at in 0usize..75) {
        let mut frame = ipv4_syn_frame(0);
        frame[position] = value;
        let _ = parse_sample(&frame[..cut_at.min(frame.len())]);
    }

    #[test]
    fn any_ports_round_trip(source in any::<u16>(), destination in any::<u16>()) {
        let tcp = linux_syn(source, destination);
        let mut frame = ethernet(ether_type::IPV6);
        frame.extend(ipv6(ip_number::TCP, tcp.len()));
        frame.extend(tcp);
        let sample = parse_sample(&frame).expect("valid");
        let summary = expect_tcp(&sample);
        prop_assert_eq!((summary.source_port, summary.destination_port), (source, destination));
    }
}

/// Frames sent by this machine's Linux TCP stack (`connect()` to port 25), cut to 128 bytes,
/// made by `testdata/capture_real_syns.sh`.
const REAL_SYN_IPV4: &str = include_str!("testdata/real_syn_ipv4.hex");
const REAL_SYN_IPV6: &str = include_str!("testdata/real_syn_ipv6.hex");

fn real_frame(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text.trim()).expect("fixture is hex")
}

/// Inserts `tags` (each 4 bytes: TPID + TCI) after the MAC addresses, as a switch tagging the
/// frame would.
fn with_tags(frame: &[u8], tags: &[[u8; 4]]) -> Vec<u8> {
    let mut tagged = frame[..12].to_vec();
    for tag in tags {
        tagged.extend(tag);
    }
    tagged.extend(&frame[12..]);
    tagged
}

#[test]
fn real_linux_ipv4_syn() {
    let frame = real_frame(REAL_SYN_IPV4);
    let sample = parse_sample(&frame).expect("kernel SYN");
    assert_eq!(sample.source_mac, MacAddr([0x02, 0, 0, 0, 0, 0x01]));
    assert_eq!(sample.source_ip, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(
        sample.destination_ip,
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7))
    );
    let tcp = expect_tcp(&sample);
    assert_eq!((tcp.source_port, tcp.destination_port), (0xaad8, 25));
    assert!(tcp.is_connection_attempt() && !tcp.first_fragment);
    check_every_prefix(&frame, 14 + 20, (0xaad8, 25));
}

#[test]
fn real_linux_ipv6_syn() {
    let frame = real_frame(REAL_SYN_IPV6);
    let sample = parse_sample(&frame).expect("kernel SYN");
    assert_eq!(
        sample.source_ip,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
    );
    assert_eq!(
        sample.destination_ip,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 7))
    );
    let tcp = expect_tcp(&sample);
    assert_eq!((tcp.source_port, tcp.destination_port), (0x8eee, 25));
    assert!(tcp.is_connection_attempt());
    check_every_prefix(&frame, 14 + 40, (0x8eee, 25));
}

#[test]
fn real_syns_with_vlan_and_qinq_tags() {
    let dot1q_100 = [0x81, 0x00, 0x00, 0x64];
    let dot1ad_300 = [0x88, 0xa8, 0x01, 0x2c];
    let dot1q_42 = [0x81, 0x00, 0x00, 0x2a];

    let v4 = with_tags(&real_frame(REAL_SYN_IPV4), &[dot1q_100]);
    let sample = parse_sample(&v4).expect("802.1Q kernel SYN");
    assert_eq!(sample.vlan_ids, [Some(100), None]);
    assert_eq!(expect_tcp(&sample).source_port, 0xaad8);

    let v6 = with_tags(&real_frame(REAL_SYN_IPV6), &[dot1ad_300, dot1q_42]);
    let sample = parse_sample(&v6).expect("QinQ kernel SYN");
    assert_eq!(sample.vlan_ids, [Some(300), Some(42)]);
    assert_eq!(expect_tcp(&sample).source_port, 0x8eee);
    check_every_prefix(&v6, 14 + 8 + 40, (0x8eee, 25));
}
