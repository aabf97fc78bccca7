//! One flow as op25b thinks of it: table, priority, a small match, and what to do.
//! Plain data with a total order, so flow sets compare by sorting/hashing, never pairwise.
use crate::policy::{EtherType, Forwarding, PortNo};
use ipnet::IpNet;

/// Which IP packets a [`TcpMatch`] selects: its `eth_type` and the `ip_proto` that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpFamily {
    /// IPv4 TCP: `eth_type=0x0800,ip_proto=6` (`tcp`). IPv4 fragments all carry `ip_proto=6`.
    V4,
    /// IPv6 TCP: `eth_type=0x86dd,ip_proto=6` (`tcp6`); this includes an IPv6 *first* fragment.
    V6,
    /// IPv6 *later* fragments: `eth_type=0x86dd,ip_proto=44` (`ipv6,nw_proto=44`). Open vSwitch
    /// classifies an IPv6 fragment other than the first by its Fragment extension header (44):
    /// the TCP header is only in the first fragment, so such a packet may carry TCP or anything
    /// else, and no port can be matched (`dst_port` must be `None`). Seen with
    /// `ofproto/trace` on Open vSwitch 3.1; see docs/policy.md ("Fragments: the choice and its cost").
    V6LaterFragment,
}

impl IpFamily {
    /// True for the IPv6 kinds (addresses are `ipv6_src`/`ipv6_dst`).
    pub fn is_ipv6(self) -> bool {
        !matches!(self, IpFamily::V4)
    }
}

/// The TCP part of a match: `eth_type` and `ip_proto` (TCP, or for
/// [`IpFamily::V6LaterFragment`] the IPv6 Fragment header that hides TCP), and optionally
/// addresses and a destination port. Prefixes are always truncated (no host bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TcpMatch {
    /// Address family.
    pub family: IpFamily,
    /// Source prefix.
    pub src: Option<IpNet>,
    /// Destination prefix.
    pub dst: Option<IpNet>,
    /// TCP destination port (0 matches every TCP fragment under OVS's default frag handling).
    pub dst_port: Option<u16>,
}

/// The fields op25b matches on. `eth_type` and `tcp` both `None` means any packet (catch-all or
/// per-port rule); at most one of them is set (`tcp` implies its own `eth_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FlowMatch {
    /// Ingress port.
    pub in_port: Option<PortNo>,
    /// An EtherType alone (`dl_type=T`: after the VLAN tags Open vSwitch parses).
    pub eth_type: Option<EtherType>,
    /// TCP fields.
    pub tcp: Option<TcpMatch>,
}

/// What a flow does with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowAction {
    /// Hand it on (NORMAL or goto_table).
    Forward(Forwarding),
    /// No instructions: dropped.
    Drop,
    /// Dropped for forwarding, but a copy truncated to `max_len` bytes goes to the controller
    /// through meter `meter_id` (which rate-limits the samples).
    Sample {
        /// The meter limiting samples.
        meter_id: u32,
        /// Bytes of each sampled packet sent to the controller.
        max_len: u16,
    },
}

impl FlowAction {
    /// True when the switch forwards the packet (anything but drop/sample).
    pub fn forwards(&self) -> bool {
        matches!(self, FlowAction::Forward(_))
    }
}

/// A flow's identity on the switch: two flows with equal keys are the same flow entry
/// (OpenFlow: same table, priority and match).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    /// Table id.
    pub table_id: u8,
    /// Priority.
    pub priority: u16,
    /// Match.
    pub match_: FlowMatch,
}

/// A desired flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowSpec {
    /// Identity.
    pub key: FlowKey,
    /// Action.
    pub action: FlowAction,
}
