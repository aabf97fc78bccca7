//! Property tests: arbitrary well-formed messages survive encode -> decode unchanged, and
//! arbitrary bytes never make the decoder panic; when they do decode, they re-encode to the very
//! same bytes (decoding accepts only the canonical form).

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use op25b_proto::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes_up_to(n: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=n).prop_map(Bytes::from)
}

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn ip4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn ip6() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(Ipv6Addr::from)
}

/// A string that fits a `char[n]` field: no NUL, at most n bytes.
fn fixed_string(n: usize) -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._:-]{0,40}|[a-zé私]{0,5}".prop_map(move |s| {
        let mut end = s.len().min(n);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    })
}

fn m<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    proptest::option::of(s)
}

fn oxm() -> impl Strategy<Value = Oxm> {
    prop_oneof![
        any::<u32>().prop_map(Oxm::InPort),
        any::<u32>().prop_map(Oxm::InPhyPort),
        (any::<u64>(), m(any::<u64>())).prop_map(|(value, mask)| Oxm::Metadata { value, mask }),
        (mac(), m(mac())).prop_map(|(value, mask)| Oxm::EthDst { value, mask }),
        (mac(), m(mac())).prop_map(|(value, mask)| Oxm::EthSrc { value, mask }),
        any::<u16>().prop_map(Oxm::EthType),
        (any::<u16>(), m(any::<u16>())).prop_map(|(value, mask)| Oxm::VlanVid { value, mask }),
        any::<u8>().prop_map(Oxm::VlanPcp),
        any::<u8>().prop_map(Oxm::IpDscp),
        any::<u8>().prop_map(Oxm::IpEcn),
        any::<u8>().prop_map(Oxm::IpProto),
        (ip4(), m(ip4())).prop_map(|(value, mask)| Oxm::Ipv4Src { value, mask }),
        (ip4(), m(ip4())).prop_map(|(value, mask)| Oxm::Ipv4Dst { value, mask }),
        any::<u16>().prop_map(Oxm::TcpSrc),
        any::<u16>().prop_map(Oxm::TcpDst),
        any::<u16>().prop_map(Oxm::UdpSrc),
        any::<u16>().prop_map(Oxm::UdpDst),
        any::<u16>().prop_map(Oxm::SctpSrc),
        any::<u16>().prop_map(Oxm::SctpDst),
        any::<u8>().prop_map(Oxm::Icmpv4Type),
        any::<u8>().prop_map(Oxm::Icmpv4Code),
        any::<u16>().prop_map(Oxm::ArpOp),
        (ip4(), m(ip4())).prop_map(|(value, mask)| Oxm::ArpSpa { value, mask }),
        (ip4(), m(ip4())).prop_map(|(value, mask)| Oxm::ArpTpa { value, mask }),
        (mac(), m(mac())).prop_map(|(value, mask)| Oxm::ArpSha { value, mask }),
        (mac(), m(mac())).prop_map(|(value, mask)| Oxm::ArpTha { value, mask }),
        (ip6(), m(ip6())).prop_map(|(value, mask)| Oxm::Ipv6Src { value, mask }),
        (ip6(), m(ip6())).prop_map(|(value, mask)| Oxm::Ipv6Dst { value, mask }),
        (any::<u32>(), m(any::<u32>())).prop_map(|(value, mask)| Oxm::Ipv6Flabel { value, mask }),
        any::<u8>().prop_map(Oxm::Icmpv6Type),
        any::<u8>().prop_map(Oxm::Icmpv6Code),
        ip6().prop_map(Oxm::Ipv6NdTarget),
        mac().prop_map(Oxm::Ipv6NdSll),
        mac().prop_map(Oxm::Ipv6NdTll),
        any::<u32>().prop_map(Oxm::MplsLabel),
        any::<u8>().prop_map(Oxm::MplsTc),
        any::<u8>().prop_map(Oxm::MplsBos),
        (0..=0xff_ffffu32, m(0..=0xff_ffffu32))
            .prop_map(|(value, mask)| Oxm::PbbIsid { value, mask }),
        (any::<u64>(), m(any::<u64>())).prop_map(|(value, mask)| Oxm::TunnelId { value, mask }),
        (any::<u16>(), m(any::<u16>())).prop_map(|(value, mask)| Oxm::Ipv6Exthdr { value, mask }),
        // Non-basic classes (NXM 0/1, experimenter) are raw: header + payload of its stated length.
        (
            prop_oneof![Just(0x0000u16), Just(0x0001), Just(0xffff)],
            any::<u8>(),
            vec(any::<u8>(), 0..12)
        )
            .prop_map(|(class, fm, payload)| {
                let mut b = class.to_be_bytes().to_vec();
                b.push(fm);
                b.push(u8::try_from(payload.len()).expect("short payload"));
                b.extend(payload);
                Oxm::Raw(Bytes::from(b))
            }),
    ]
}

fn match_() -> impl Strategy<Value = Match> {
    vec(oxm(), 0..6).prop_map(Match::new)
}

/// An experimenter TLV with a 16-bit type/length header and a length that is a multiple of 8.
fn experimenter_tlv() -> impl Strategy<Value = Bytes> {
    (any::<u32>(), 0..3usize, any::<u64>()).prop_map(|(exp, words, fill)| {
        let len = 8 + 8 * words;
        let mut b = vec![0xff, 0xff];
        b.extend_from_slice(&u16::try_from(len).expect("a frame length").to_be_bytes());
        b.extend_from_slice(&exp.to_be_bytes());
        for _ in 0..words {
            b.extend_from_slice(&fill.to_be_bytes());
        }
        Bytes::from(b)
    })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (any::<u32>(), any::<u16>()).prop_map(|(port, max_len)| Action::Output { port, max_len }),
        Just(Action::CopyTtlOut),
        Just(Action::CopyTtlIn),
        any::<u8>().prop_map(Action::SetMplsTtl),
        Just(Action::DecMplsTtl),
        any::<u16>().prop_map(Action::PushVlan),
        Just(Action::PopVlan),
        any::<u16>().prop_map(Action::PushMpls),
        any::<u16>().prop_map(Action::PopMpls),
        any::<u32>().prop_map(Action::SetQueue),
        any::<u32>().prop_map(Action::Group),
        any::<u8>().prop_map(Action::SetNwTtl),
        Just(Action::DecNwTtl),
        oxm().prop_map(Action::SetField),
        any::<u16>().prop_map(Action::PushPbb),
        Just(Action::PopPbb),
        experimenter_tlv().prop_map(Action::Raw),
    ]
}

fn actions() -> impl Strategy<Value = Vec<Action>> {
    vec(action(), 0..5)
}

fn instruction() -> impl Strategy<Value = Instruction> {
    prop_oneof![
        any::<u8>().prop_map(Instruction::GotoTable),
        (any::<u64>(), any::<u64>())
            .prop_map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }),
        actions().prop_map(Instruction::WriteActions),
        actions().prop_map(Instruction::ApplyActions),
        Just(Instruction::ClearActions),
        any::<u32>().prop_map(Instruction::Meter),
        experimenter_tlv().prop_map(Instruction::Raw),
    ]
}

fn instructions() -> impl Strategy<Value = Vec<Instruction>> {
    vec(instruction(), 0..4)
}

fn port() -> impl Strategy<Value = Port> {
    (any::<u32>(), mac(), fixed_string(16), any::<[u32; 8]>()).prop_map(
        |(port_no, hw_addr, name, v)| Port {
            port_no,
            hw_addr,
            name,
            config: v[0],
            state: v[1],
            curr: v[2],
            advertised: v[3],
            supported: v[4],
            peer: v[5],
            curr_speed: v[6],
            max_speed: v[7],
        },
    )
}

fn bucket() -> impl Strategy<Value = Bucket> {
    (any::<u16>(), any::<u32>(), any::<u32>(), actions()).prop_map(
        |(weight, watch_port, watch_group, actions)| Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        },
    )
}

fn band() -> impl Strategy<Value = MeterBand> {
    prop_oneof![
        (any::<u32>(), any::<u32>())
            .prop_map(|(rate, burst_size)| MeterBand::Drop { rate, burst_size }),
        (any::<u32>(), any::<u32>(), any::<u8>()).prop_map(|(rate, burst_size, prec_level)| {
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            }
        }),
        (any::<u32>(), any::<u32>(), any::<u32>(), 0..3usize).prop_map(
            |(rate, burst_size, experimenter, words)| {
                MeterBand::Experimenter {
                    rate,
                    burst_size,
                    experimenter,
                    data: Bytes::from(vec![7u8; 8 * words]),
                }
            }
        ),
        (3u16..0xfffe, 0..3usize).prop_map(|(typ, words)| {
            let len = 8 + 8 * words;
            let mut b = typ.to_be_bytes().to_vec();
            b.extend_from_slice(&u16::try_from(len).expect("a frame length").to_be_bytes());
            b.resize(len, 0x5a);
            MeterBand::Raw(Bytes::from(b))
        }),
    ]
}

fn tlv_id() -> impl Strategy<Value = TlvId> {
    (any::<u16>(), bytes_up_to(6)).prop_map(|(typ, data)| TlvId { typ, data })
}

fn oxm_id() -> impl Strategy<Value = OxmId> {
    (any::<u32>(), any::<u32>()).prop_map(|(header, e)| OxmId {
        header,
        experimenter: (header >> 16 == 0xffff).then_some(e),
    })
}

fn table_feature_prop() -> impl Strategy<Value = TableFeatureProp> {
    prop_oneof![
        (any::<bool>(), vec(tlv_id(), 0..4))
            .prop_map(|(miss, ids)| TableFeatureProp::Instructions { miss, ids }),
        (any::<bool>(), vec(any::<u8>(), 0..10))
            .prop_map(|(miss, tables)| TableFeatureProp::NextTables { miss, tables }),
        (any::<bool>(), vec(tlv_id(), 0..4))
            .prop_map(|(miss, ids)| TableFeatureProp::WriteActions { miss, ids }),
        (any::<bool>(), vec(tlv_id(), 0..4))
            .prop_map(|(miss, ids)| TableFeatureProp::ApplyActions { miss, ids }),
        vec(oxm_id(), 0..4).prop_map(TableFeatureProp::Match),
        vec(oxm_id(), 0..4).prop_map(TableFeatureProp::Wildcards),
        (any::<bool>(), vec(oxm_id(), 0..4))
            .prop_map(|(miss, ids)| TableFeatureProp::WriteSetfield { miss, ids }),
        (any::<bool>(), vec(oxm_id(), 0..4))
            .prop_map(|(miss, ids)| TableFeatureProp::ApplySetfield { miss, ids }),
        (
            prop_oneof![Just(9u16), Just(11), 16u16..=0xffff],
            bytes_up_to(12)
        )
            .prop_map(|(typ, body)| TableFeatureProp::Raw { typ, body }),
    ]
}

fn table_features() -> impl Strategy<Value = TableFeatures> {
    (
        any::<u8>(),
        fixed_string(32),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
        vec(table_feature_prop(), 0..4),
    )
        .prop_map(
            |(table_id, name, metadata_match, metadata_write, config, max_entries, properties)| {
                TableFeatures {
                    table_id,
                    name,
                    metadata_match,
                    metadata_write,
                    config,
                    max_entries,
                    properties,
                }
            },
        )
}

fn flow_stats_request() -> impl Strategy<Value = FlowStatsRequest> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        match_(),
    )
        .prop_map(
            |(table_id, out_port, out_group, cookie, cookie_mask, match_)| FlowStatsRequest {
                table_id,
                out_port,
                out_group,
                cookie,
                cookie_mask,
                match_,
            },
        )
}

fn multipart_request() -> impl Strategy<Value = MultipartRequest> {
    use MultipartRequestBody as B;
    let body = prop_oneof![
        Just(B::Desc),
        flow_stats_request().prop_map(B::Flow),
        flow_stats_request().prop_map(B::Aggregate),
        Just(B::Table),
        any::<u32>().prop_map(|port_no| B::PortStats { port_no }),
        (any::<u32>(), any::<u32>()).prop_map(|(port_no, queue_id)| B::Queue { port_no, queue_id }),
        any::<u32>().prop_map(|group_id| B::Group { group_id }),
        Just(B::GroupDesc),
        Just(B::GroupFeatures),
        any::<u32>().prop_map(|meter_id| B::Meter { meter_id }),
        any::<u32>().prop_map(|meter_id| B::MeterConfig { meter_id }),
        Just(B::MeterFeatures),
        vec(table_features(), 0..3).prop_map(B::TableFeatures),
        Just(B::PortDesc),
        (any::<u32>(), any::<u32>(), bytes_up_to(16)).prop_map(|(experimenter, exp_type, data)| {
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            }
        }),
        (14u16..0xffff, bytes_up_to(16)).prop_map(|(mp_type, body)| B::Unknown { mp_type, body }),
    ];
    (any::<u16>(), body).prop_map(|(flags, body)| MultipartRequest { flags, body })
}

fn flow_stats() -> impl Strategy<Value = FlowStats> {
    (
        any::<(u8, u32, u32, u16, u16, u16, u16)>(),
        any::<(u64, u64, u64)>(),
        match_(),
        instructions(),
    )
        .prop_map(
            |(
                (
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags,
                ),
                (cookie, packet_count, byte_count),
                match_,
                instructions,
            )| {
                FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags,
                    cookie,
                    packet_count,
                    byte_count,
                    match_,
                    instructions,
                }
            },
        )
}

fn multipart_reply() -> impl Strategy<Value = MultipartReply> {
    use MultipartReplyBody as B;
    let body = prop_oneof![
        (
            fixed_string(256),
            fixed_string(256),
            fixed_string(256),
            fixed_string(32),
            fixed_string(256)
        )
            .prop_map(
                |(mfr_desc, hw_desc, sw_desc, serial_num, dp_desc)| B::Desc(Desc {
                    mfr_desc,
                    hw_desc,
                    sw_desc,
                    serial_num,
                    dp_desc
                })
            ),
        vec(flow_stats(), 0..3).prop_map(B::Flow),
        any::<(u64, u64, u32)>().prop_map(|(packet_count, byte_count, flow_count)| B::Aggregate(
            AggregateStats {
                packet_count,
                byte_count,
                flow_count
            }
        )),
        vec(any::<(u8, u32, u64, u64)>(), 0..3).prop_map(|v| B::Table(
            v.into_iter()
                .map(
                    |(table_id, active_count, lookup_count, matched_count)| TableStats {
                        table_id,
                        active_count,
                        lookup_count,
                        matched_count
                    }
                )
                .collect()
        )),
        vec(
            (any::<u32>(), any::<[u64; 12]>(), any::<(u32, u32)>()),
            0..3
        )
        .prop_map(|v| B::PortStats(
            v.into_iter()
                .map(|(port_no, c, (duration_sec, duration_nsec))| PortStats {
                    port_no,
                    rx_packets: c[0],
                    tx_packets: c[1],
                    rx_bytes: c[2],
                    tx_bytes: c[3],
                    rx_dropped: c[4],
                    tx_dropped: c[5],
                    rx_errors: c[6],
                    tx_errors: c[7],
                    rx_frame_err: c[8],
                    rx_over_err: c[9],
                    rx_crc_err: c[10],
                    collisions: c[11],
                    duration_sec,
                    duration_nsec,
                })
                .collect()
        )),
        vec(any::<(u32, u32, u64, u64, u64, u32, u32)>(), 0..3).prop_map(|v| B::Queue(
            v.into_iter()
                .map(
                    |(
                        port_no,
                        queue_id,
                        tx_bytes,
                        tx_packets,
                        tx_errors,
                        duration_sec,
                        duration_nsec,
                    )| QueueStats {
                        port_no,
                        queue_id,
                        tx_bytes,
                        tx_packets,
                        tx_errors,
                        duration_sec,
                        duration_nsec
                    }
                )
                .collect()
        )),
        vec(
            (
                any::<(u32, u32, u64, u64, u32, u32)>(),
                vec(any::<(u64, u64)>(), 0..3)
            ),
            0..3
        )
        .prop_map(|v| B::Group(
            v.into_iter()
                .map(
                    |(
                        (
                            group_id,
                            ref_count,
                            packet_count,
                            byte_count,
                            duration_sec,
                            duration_nsec,
                        ),
                        b,
                    )| GroupStats {
                        group_id,
                        ref_count,
                        packet_count,
                        byte_count,
                        duration_sec,
                        duration_nsec,
                        bucket_stats: b
                            .into_iter()
                            .map(|(packet_count, byte_count)| BucketCounter {
                                packet_count,
                                byte_count
                            })
                            .collect(),
                    }
                )
                .collect()
        )),
        vec((any::<u8>(), any::<u32>(), vec(bucket(), 0..3)), 0..3).prop_map(|v| B::GroupDesc(
            v.into_iter()
                .map(|(group_type, group_id, buckets)| GroupDesc {
                    group_type,
                    group_id,
                    buckets
                })
                .collect()
        )),
        any::<(u32, u32, [u32; 4], [u32; 4])>().prop_map(
            |(types, capabilities, max_groups, actions)| B::GroupFeatures(GroupFeatures {
                types,
                capabilities,
                max_groups,
                actions
            })
        ),
        vec(
            (
                any::<(u32, u32, u64, u64, u32, u32)>(),
                vec(any::<(u64, u64)>(), 0..3)
            ),
            0..3
        )
        .prop_map(|v| B::Meter(
            v.into_iter()
                .map(
                    |(
                        (
                            meter_id,
                            flow_count,
                            packet_in_count,
                            byte_in_count,
                            duration_sec,
                            duration_nsec,
                        ),
                        b,
                    )| MeterStats {
                        meter_id,
                        flow_count,
                        packet_in_count,
                        byte_in_count,
                        duration_sec,
                        duration_nsec,
                        band_stats: b
                            .into_iter()
                            .map(|(packet_band_count, byte_band_count)| MeterBandStats {
                                packet_band_count,
                                byte_band_count
                            })
                            .collect(),
                    }
                )
                .collect()
        )),
        vec((any::<u16>(), any::<u32>(), vec(band(), 0..3)), 0..3).prop_map(|v| B::MeterConfig(
            v.into_iter()
                .map(|(flags, meter_id, bands)| MeterConfig {
                    flags,
                    meter_id,
                    bands
                })
                .collect()
        )),
        any::<(u32, u32, u32, u8, u8)>().prop_map(
            |(max_meter, band_types, capabilities, max_bands, max_color)| {
                B::MeterFeatures(MeterFeatures {
                    max_meter,
                    band_types,
                    capabilities,
                    max_bands,
                    max_color,
                })
            }
        ),
        vec(table_features(), 0..3).prop_map(B::TableFeatures),
        vec(port(), 0..3).prop_map(B::PortDesc),
        (any::<u32>(), any::<u32>(), bytes_up_to(16)).prop_map(|(experimenter, exp_type, data)| {
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            }
        }),
        (14u16..0xffff, bytes_up_to(16)).prop_map(|(mp_type, body)| B::Unknown { mp_type, body }),
    ];
    (any::<u16>(), body).prop_map(|(flags, body)| MultipartReply { flags, body })
}

fn queue_prop() -> impl Strategy<Value = QueueProp> {
    prop_oneof![
        any::<u16>().prop_map(QueueProp::MinRate),
        any::<u16>().prop_map(QueueProp::MaxRate),
        (any::<u32>(), bytes_up_to(9))
            .prop_map(|(experimenter, data)| QueueProp::Experimenter { experimenter, data }),
        (3u16..0xffff, bytes_up_to(9)).prop_map(|(typ, body)| QueueProp::Unknown { typ, body }),
    ]
}

fn hello() -> impl Strategy<Value = Hello> {
    let element = prop_oneof![
        vec(any::<u32>(), 0..3).prop_map(HelloElement::VersionBitmap),
        (2u16..=0xffff, bytes_up_to(10))
            .prop_map(|(typ, body)| HelloElement::Unknown { typ, body }),
    ];
    vec(element, 0..3).prop_map(|elements| Hello { elements })
}

fn message() -> impl Strategy<Value = Message> {
    let async_config = any::<([u32; 2], [u32; 2], [u32; 2])>().prop_map(
        |(packet_in_mask, port_status_mask, flow_removed_mask)| AsyncConfig {
            packet_in_mask,
            port_status_mask,
            flow_removed_mask,
        },
    );
    let error = (any::<u16>(), any::<u16>(), any::<u32>(), bytes_up_to(64)).prop_map(
        |(err_type, code, e, data)| ErrorMsg {
            err_type,
            code,
            experimenter: (err_type == 0xffff).then_some(e),
            data,
        },
    );
    let flow_mod = (
        any::<(u64, u64, u8, u8, u16, u16, u16)>(),
        any::<(u32, u32, u32, u16)>(),
        match_(),
        instructions(),
    )
        .prop_map(
            |(
                (cookie, cookie_mask, table_id, command, idle_timeout, hard_timeout, priority),
                (buffer_id, out_port, out_group, flags),
                match_,
                instructions,
            )| {
                FlowMod {
                    cookie,
                    cookie_mask,
                    table_id,
                    command: FlowModCommand::from(command),
                    idle_timeout,
                    hard_timeout,
                    priority,
                    buffer_id,
                    out_port,
                    out_group,
                    flags,
                    match_,
                    instructions,
                }
            },
        );
    prop_oneof![
        hello().prop_map(Message::Hello),
        error.prop_map(Message::Error),
        bytes_up_to(32).prop_map(Message::EchoRequest),
        bytes_up_to(32).prop_map(Message::EchoReply),
        (any::<u32>(), any::<u32>(), bytes_up_to(32)).prop_map(|(experimenter, exp_type, data)| {
            Message::Experimenter(ExperimenterMsg {
                experimenter,
                exp_type,
                data,
            })
        }),
        Just(Message::FeaturesRequest),
        any::<(u64, u32, u8, u8, u32, u32)>().prop_map(
            |(datapath_id, n_buffers, n_tables, auxiliary_id, capabilities, reserved)| {
                Message::FeaturesReply(FeaturesReply {
                    datapath_id,
                    n_buffers,
                    n_tables,
                    auxiliary_id,
                    capabilities,
                    reserved,
                })
            }
        ),
        Just(Message::GetConfigRequest),
        any::<(u16, u16)>().prop_map(|(flags, miss_send_len)| Message::GetConfigReply(
            SwitchConfig {
                flags,
                miss_send_len
            }
        )),
        any::<(u16, u16)>().prop_map(|(flags, miss_send_len)| Message::SetConfig(SwitchConfig {
            flags,
            miss_send_len
        })),
        (any::<(u32, u16, u8, u8, u64)>(), match_(), bytes_up_to(64)).prop_map(
            |((buffer_id, total_len, reason, table_id, cookie), match_, data)| Message::PacketIn(
                PacketIn {
                    buffer_id,
                    total_len,
                    reason,
                    table_id,
                    cookie,
                    match_,
                    data
                }
            )
        ),
        (
            any::<(u64, u16, u8, u8, u32, u32, u16, u16)>(),
            any::<(u64, u64)>(),
            match_()
        )
            .prop_map(
                |(
                    (
                        cookie,
                        priority,
                        reason,
                        table_id,
                        duration_sec,
                        duration_nsec,
                        idle_timeout,
                        hard_timeout,
                    ),
                    (packet_count, byte_count),
                    match_,
                )| {
                    Message::FlowRemoved(FlowRemoved {
                        cookie,
                        priority,
                        reason,
                        table_id,
                        duration_sec,
                        duration_nsec,
                        idle_timeout,
                        hard_timeout,
                        packet_count,
                        byte_count,
                        match_,
                    })
                }
            ),
        (any::<u8>(), port())
            .prop_map(|(reason, desc)| Message::PortStatus(PortStatus { reason, desc })),
        (any::<u32>(), any::<u32>(), actions(), bytes_up_to(64)).prop_map(
            |(buffer_id, in_port, actions, data)| Message::PacketOut(PacketOut {
                buffer_id,
                in_port,
                actions,
                data
            })
        ),
        flow_mod.prop_map(Message::FlowMod),
        (any::<u16>(), any::<u8>(), any::<u32>(), vec(bucket(), 0..3)).prop_map(
            |(command, group_type, group_id, buckets)| Message::GroupMod(GroupMod {
                command,
                group_type,
                group_id,
                buckets
            })
        ),
        (
            any::<u32>(),
            mac(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(|(port_no, hw_addr, config, mask, advertise)| {
                Message::PortMod(PortMod {
                    port_no,
                    hw_addr,
                    config,
                    mask,
                    advertise,
                })
            }),
        any::<(u8, u32)>()
            .prop_map(|(table_id, config)| Message::TableMod(TableMod { table_id, config })),
        multipart_request().prop_map(Message::MultipartRequest),
        multipart_reply().prop_map(Message::MultipartReply),
        Just(Message::BarrierRequest),
        Just(Message::BarrierReply),
        any::<u32>()
            .prop_map(|port| Message::QueueGetConfigRequest(QueueGetConfigRequest { port })),
        (
            any::<u32>(),
            vec((any::<u32>(), any::<u32>(), vec(queue_prop(), 0..3)), 0..3)
        )
            .prop_map(|(port, q)| {
                Message::QueueGetConfigReply(QueueGetConfigReply {
                    port,
                    queues: q
                        .into_iter()
                        .map(|(queue_id, port, properties)| PacketQueue {
                            queue_id,
                            port,
                            properties,
                        })
                        .collect(),
                })
            }),
        any::<(u32, u64)>().prop_map(|(role, generation_id)| Message::RoleRequest(RoleMsg {
            role,
            generation_id
        })),
        any::<(u32, u64)>().prop_map(|(role, generation_id)| Message::RoleReply(RoleMsg {
            role,
            generation_id
        })),
        Just(Message::GetAsyncRequest),
        async_config.clone().prop_map(Message::GetAsyncReply),
        async_config.prop_map(Message::SetAsync),
        (any::<u16>(), any::<u16>(), any::<u32>(), vec(band(), 0..4)).prop_map(
            |(command, flags, meter_id, bands)| Message::MeterMod(MeterMod {
                command,
                flags,
                meter_id,
                bands
            })
        ),
        (30u8..=255, bytes_up_to(32))
            .prop_map(|(msg_type, body)| Message::Unknown { msg_type, body }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_message_survives_encode_decode(xid in any::<u32>(), body in message()) {
        let m = OfpMessage::new(xid, body);
        let wire = m.to_bytes();
        prop_assert_eq!(usize::from(u16::from_be_bytes([wire[2], wire[3]])), wire.len());
        let back = OfpMessage::decode(&wire);
        prop_assert_eq!(back.as_ref(), Ok(&m), "wire {}", hex::encode(&wire));
    }

    #[test]
    fn any_match_survives_and_wire_is_8_aligned(m in match_()) {
        let wire = m.to_vec();
        prop_assert_eq!(wire.len() % 8, 0);
        prop_assert_eq!(Match::decode(&wire), Ok(m));
    }

    #[test]
    fn computed_sizes_are_the_bytes_written(body in message(), m in match_(), a in action(), i in instruction()) {
        let exact = matches!(
            body,
            Message::FlowMod(_) | Message::PacketIn(_) | Message::EchoRequest(_)
                | Message::EchoReply(_) | Message::Unknown { .. }
        );
        let hint = body.body_size_hint();
        let wire = OfpMessage::new(1, body).to_bytes();
        if exact {
            prop_assert_eq!(hint, wire.len() - 8);
        } else {
            prop_assert_eq!(hint, 0);
        }
        prop_assert_eq!(m.wire_len(), m.to_vec().len());
        for f in &m.fields {
            prop_assert_eq!(f.wire_len(), f.to_vec().len(), "{:?}", f);
        }
        prop_assert_eq!(a.wire_len(), a.to_vec().len(), "{:?}", a);
        prop_assert_eq!(i.wire_len(), i.to_vec().len(), "{:?}", i);
    }

    #[test]
    fn hello_from_any_version_survives(version in any::<u8>(), xid in any::<u32>(), h in hello()) {
        let m = OfpMessage { version, xid, body: Message::Hello(h) };
        prop_assert_eq!(OfpMessage::decode(&m.to_bytes()), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_decoded_means_canonical(mut raw in vec(any::<u8>(), 0..300), version_4 in any::<bool>()) {
        // Make the header plausible half of the time so the body decoders are reached.
        if raw.len() >= 4 && version_4 {
            raw[0] = 4;
            let len = u16::try_from(raw.len()).expect("a frame length");
            raw[2..4].copy_from_slice(&len.to_be_bytes());
            raw[1] %= 32;
        }
        if let Ok(m) = OfpMessage::decode(&raw) {
            prop_assert_eq!(hex::encode(m.to_bytes()), hex::encode(&raw));
        }
    }

    #[test]
    fn check_prerequisites_never_panics(m in match_()) {
        let _ = check_prerequisites(&m).map_err(|e| e.to_ofp_error());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A port-desc or flow-stats reply cut into parts with OFPMPF_REPLY_MORE comes back whole.
    #[test]
    fn split_replies_reassemble(ports in vec(port(), 0..8), flows in vec(flow_stats(), 0..6), cut in 1usize..4, xid in any::<u32>()) {
        let mut a = MultipartAssembler::default();
        for whole in [MultipartReplyBody::PortDesc(ports.clone()), MultipartReplyBody::Flow(flows.clone())] {
            let parts: Vec<MultipartReplyBody> = match &whole {
                MultipartReplyBody::PortDesc(v) if !v.is_empty() => v.chunks(cut).map(|c| MultipartReplyBody::PortDesc(c.to_vec())).collect(),
                MultipartReplyBody::Flow(v) if !v.is_empty() => v.chunks(cut).map(|c| MultipartReplyBody::Flow(c.to_vec())).collect(),
                other => vec![other.clone()],
            };
            let n = parts.len();
            let mut done = None;
            for (i, body) in parts.into_iter().enumerate() {
                let flags = if i + 1 < n { consts::OFPMPF_REPLY_MORE } else { 0 };
                // Each part goes over the wire first, as it would in a session.
                let wire = OfpMessage::new(xid, Message::MultipartReply(MultipartReply { flags, body })).to_bytes();
                let got = a.push(OfpMessage::decode(&wire).expect("part decodes")).expect("part accepted");
                prop_assert_eq!(got.is_some(), i + 1 == n);
                done = got;
            }
            prop_assert_eq!(done, Some(MultipartReply { flags: 0, body: whole }));
            prop_assert_eq!(a.pending(), 0);
        }
    }
}
