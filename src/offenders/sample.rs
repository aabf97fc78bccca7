//! One sampled blocked packet, as a switch sends it in a PACKET_IN: parsed down to who sent
//! what to whom.
//!
//! The bytes are untrusted and cut short: the drop flows send at most 128 bytes
//! (`controller:128`). Parsing uses [`etherparse`]'s *lax* slicer, which accepts a packet whose
//! IP length fields claim more bytes than arrived (the normal slicer rejects exactly the
//! truncated packets we get). etherparse was picked because it is a well-kept, `no_std`-capable,
//! fuzzed parser that already handles 802.1Q / 802.1ad / QinQ tags, IPv4 options, the IPv6
//! extension headers (hop-by-hop, routing, fragment, destination options, authentication) and
//! IPv4/IPv6 fragmentation, with typed length errors; none of that is re-written here.
//!
//! Two things etherparse does not do, and this module adds:
//! - A *first* fragment (offset 0, more-fragments set) carries the TCP header, but etherparse
//!   stops at any fragmented payload. We read that TCP header ourselves (with etherparse's
//!   `TcpSlice`). A *later* fragment has no TCP header: it becomes
//!   [`Transport::LaterFragment`], without ports.
//! - When the 128-byte cut falls inside the TCP options, etherparse refuses the header. The
//!   fields we need (ports, flags) sit in its first 14 bytes, so those are read at their fixed
//!   RFC 9293 offsets when at least 14 bytes arrived.
//!
//! Nothing here panics on any input (a proptest feeds arbitrary bytes).

use std::net::IpAddr;

use etherparse::err::packet::SliceError;
use etherparse::err::{Layer, LenError};
use etherparse::{
    ip_number, EtherType, Ipv6ExtensionSlice, LaxIpPayloadSlice, LaxLinkExtSlice, LaxNetSlice,
    LaxSlicedPacket, LinkSlice, TcpSlice,
};

use op25b_proto::MacAddr;

/// At most this many VLAN tags are reported (outer first). etherparse reads up to three.
pub const MAX_VLAN_TAGS: usize = 2;

/// What a sampled packet says about a connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Ethernet source: the subscriber's device (or its CPE router).
    pub source_mac: MacAddr,
    /// 802.1Q/802.1ad VLAN ids, outer first; unused slots are `None`.
    pub vlan_ids: [Option<u16>; MAX_VLAN_TAGS],
    /// IP source address.
    pub source_ip: IpAddr,
    /// IP destination address.
    pub destination_ip: IpAddr,
    /// The TCP header's content, or the fact that this is a later fragment without one.
    pub transport: Transport,
}

/// The transport part of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP header was present (unfragmented packet, or the first fragment).
    Tcp(TcpSummary),
    /// A non-first IP fragment of a TCP packet: its TCP header travelled in another fragment,
    /// so ports and flags are unknown. The switch's drop flow for fragments (`tcp,tp_dst=0`
    /// in OVS's default fragment mode) matches these whatever the real destination port.
    LaterFragment {
        /// IPv4 identification (16 bits, widened) or IPv6 fragment header identification.
        identification: u32,
    },
}

/// The TCP header fields that matter for counting connection attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSummary {
    pub source_port: u16,
    pub destination_port: u16,
    pub syn: bool,
    pub ack: bool,
    pub rst: bool,
    /// True when this TCP header came in the first fragment of a fragmented IP packet.
    pub first_fragment: bool,
}

impl TcpSummary {
    /// A connection opening: SYN without ACK (not a SYN-ACK, not a reset).
    pub fn is_connection_attempt(&self) -> bool {
        self.syn && !self.ack && !self.rst
    }
}

/// Why a sample could not be turned into a [`Sample`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// Fewer bytes than a header needs (the 128-byte cut never causes this for the headers we
    /// read unless extension headers are enormous).
    #[error(
        "sample truncated in the {layer}: needs {needed} bytes from offset {offset}, has {available}"
    )]
    Truncated {
        layer: Layer,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A header was present but its content is invalid (bad IP version, IHL < 5, TCP data
    /// offset < 5, ...).
    #[error("malformed {layer} in sample")]
    Malformed {
        layer: Layer,
        #[source]
        source: SliceError,
    },
    /// The frame does not carry IPv4 or IPv6 (ARP, MACsec, more than three VLAN tags, ...).
    #[error("sample is not IP: ether type {ether_type:#06x}")]
    NotIp { ether_type: u16 },
    /// IP, but the payload is not TCP.
    #[error("sample is not TCP: IP protocol {protocol}")]
    NotTcp { protocol: u8 },
}

/// Parses one sampled frame (Ethernet II first, as OVS sends it in a PACKET_IN).
pub fn parse_sample(data: &[u8]) -> Result<Sample, SampleError> {
    let packet = LaxSlicedPacket::from_ethernet(data).map_err(|e| truncated(&e))?;

    let Some(LinkSlice::Ethernet2(ethernet)) = &packet.link else {
        // from_ethernet always yields an Ethernet II link; stay total anyway.
        return Err(SampleError::NotIp { ether_type: 0 });
    };
    let source_mac = MacAddr(ethernet.source());

    let mut vlan_ids = [None; MAX_VLAN_TAGS];
    let vlans = packet.link_exts.iter().filter_map(|ext| match ext {
        LaxLinkExtSlice::Vlan(vlan) => Some(vlan.vlan_identifier().value()),
        LaxLinkExtSlice::Macsec(_) => None,
    });
    for (slot, id) in vlan_ids.iter_mut().zip(vlans) {
        *slot = Some(id);
    }

    let Some(net) = &packet.net else {
        if let Some((error, layer)) = &packet.stop_err {
            return Err(slice_error(error, *layer));
        }
        let ether_type = packet
            .ether_payload()
            .map(|p| p.ether_type)
            .unwrap_or(EtherType(0));
        return Err(SampleError::NotIp {
            ether_type: ether_type.0,
        });
    };

    // An error in IP extension headers leaves the transport unknown. An error etherparse hit
    // in the TCP header is ignored: the TCP header is read again below, more leniently.
    if let Some((error, layer)) = &packet.stop_err {
        if *layer != Layer::TcpHeader {
            return Err(slice_error(error, *layer));
        }
    }

    let (source_ip, destination_ip, payload, fragment) = match net {
        LaxNetSlice::Ipv4(ipv4) => {
            let header = ipv4.header();
            let fragment = Fragment {
                offset: header.fragments_offset().value(),
                more: header.more_fragments(),
                identification: u32::from(header.identification()),
            };
            (
                IpAddr::V4(header.source_addr()),
                IpAddr::V4(header.destination_addr()),
                ipv4.payload(),
                fragment,
            )
        }
        LaxNetSlice::Ipv6(ipv6) => {
            let header = ipv6.header();
            let mut fragment = Fragment::NONE;
            for ext in ipv6.extensions().clone().into_iter() {
                if let Ipv6ExtensionSlice::Fragment(frag) = ext {
                    fragment = Fragment {
                        offset: frag.fragment_offset().value(),
                        more: frag.more_fragments(),
                        identification: frag.identification(),
                    };
                }
            }
            (
                IpAddr::V6(header.source_addr()),
                IpAddr::V6(header.destination_addr()),
                ipv6.payload(),
                fragment,
            )
        }
        LaxNetSlice::Arp(_) => {
            return Err(SampleError::NotIp {
                ether_type: EtherType::ARP.0,
            })
        }
    };

    if payload.ip_number != ip_number::TCP {
        return Err(SampleError::NotTcp {
            protocol: payload.ip_number.0,
        });
    }

    let transport = if fragment.offset != 0 {
        Transport::LaterFragment {
            identification: fragment.identification,
        }
    } else {
        let mut tcp = tcp_summary(payload)?;
        tcp.first_fragment = fragment.more;
        Transport::Tcp(tcp)
    };

    Ok(Sample {
        source_mac,
        vlan_ids,
        source_ip,
        destination_ip,
        transport,
    })
}

/// Fragmentation fields of the IP layer (IPv4 header or IPv6 fragment header).
#[derive(Clone, Copy)]
struct Fragment {
    /// Offset in 8-byte units; non-zero means "not the first fragment".
    offset: u16,
    /// More-fragments flag.
    more: bool,
    identification: u32,
}

impl Fragment {
    const NONE: Fragment = Fragment {
        offset: 0,
        more: false,
        identification: 0,
    };
}

/// The TCP header's first 14 bytes hold everything read here (RFC 9293 section 3.1):
/// source port [0..2], destination port [2..4], data offset (high nibble of byte 12),
/// flags (byte 13: CWR ECE URG ACK PSH RST SYN FIN).
const TCP_FIXED_FIELDS_LEN: usize = 14;
const TCP_FLAG_ACK: u8 = 0x10;
const TCP_FLAG_RST: u8 = 0x04;
const TCP_FLAG_SYN: u8 = 0x02;
/// Smallest legal data offset, in 32-bit words (a 20-byte header without options).
const TCP_MIN_DATA_OFFSET: u8 = 5;

fn tcp_summary(payload: &LaxIpPayloadSlice<'_>) -> Result<TcpSummary, SampleError> {
    let bytes = payload.payload;
    match TcpSlice::from_slice(bytes) {
        Ok(tcp) => Ok(TcpSummary {
            source_port: tcp.source_port(),
            destination_port: tcp.destination_port(),
            syn: tcp.syn(),
            ack: tcp.ack(),
            rst: tcp.rst(),
            first_fragment: false,
        }),
        Err(etherparse::err::tcp::HeaderSliceError::Content(content)) => {
            Err(SampleError::Malformed {
                layer: Layer::TcpHeader,
                source: SliceError::Tcp(content),
            })
        }
        // The cut fell inside the TCP options: the fixed fields are still there.
        Err(etherparse::err::tcp::HeaderSliceError::Len(len_error)) => {
            match bytes.get(..TCP_FIXED_FIELDS_LEN) {
                Some(&[sp0, sp1, dp0, dp1, _, _, _, _, _, _, _, _, offset_byte, flags]) => {
                    if offset_byte >> 4 < TCP_MIN_DATA_OFFSET {
                        return Err(SampleError::Malformed {
                            layer: Layer::TcpHeader,
                            source: SliceError::Tcp(
                                etherparse::err::tcp::HeaderError::DataOffsetTooSmall {
                                    data_offset: offset_byte >> 4,
                                },
                            ),
                        });
                    }
                    Ok(TcpSummary {
                        source_port: u16::from_be_bytes([sp0, sp1]),
                        destination_port: u16::from_be_bytes([dp0, dp1]),
                        syn: flags & TCP_FLAG_SYN != 0,
                        ack: flags & TCP_FLAG_ACK != 0,
                        rst: flags & TCP_FLAG_RST != 0,
                        first_fragment: false,
                    })
                }
                _ => Err(truncated(&len_error)),
            }
        }
    }
}

fn truncated(error: &LenError) -> SampleError {
    SampleError::Truncated {
        layer: error.layer,
        offset: error.layer_start_offset,
        needed: error.required_len,
        available: error.len,
    }
}

fn slice_error(error: &SliceError, layer: Layer) -> SampleError {
    match error {
        SliceError::Len(len_error) => truncated(len_error),
        other => SampleError::Malformed {
            layer,
            source: other.clone(),
        },
    }
}

#[cfg(test)]
#[path = "sample_tests.rs"]
mod tests;
