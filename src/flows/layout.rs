//! The flow layout of table 0: priorities from the top, and why.
//!
//! Every level holds flows of one kind of action only (all forwarding, or all dropping), and the
//! levels are constants: the reconcile ordering relies on this (see `reconcile`). From the top:
//! forward (uplinks, relays, exempt sources), drop (blocked ports, fragments), forward (the
//! EtherTypes policed ports may send), drop (every other EtherType from policed ports), forward
//! (the catch-all).

/// The table op25b owns.
pub const TABLE: u8 = 0;
/// `in_port=<uplink>` -> forward: uplink ingress is never policed.
pub const PRIO_UPLINK: u16 = 40_000;
/// `tcp,nw_dst=<relay>` -> forward: the blocked ports (and fragments) stay open towards relays;
/// an IPv6 relay also gets `ipv6,ipv6_dst=<relay>,nw_proto=44` for its later fragments.
pub const PRIO_RELAY: u16 = 30_000;
/// `tcp,nw_src=<exempt>` -> forward: exempt sources reach any host (an IPv6 prefix also gets
/// `ipv6,ipv6_src=<exempt>,nw_proto=44` for its later fragments); a source bound to a port
/// (`[[switch.exempt]]`) matches `in_port=<port>` too.
pub const PRIO_EXEMPT: u16 = 29_000;
/// `[in_port=<subscriber>,]tcp,tp_dst=<blocked>` -> drop (or sample), and for fragments
/// `tcp,tp_dst=0`, `tcp6,tp_dst=0` and `ipv6,nw_proto=44` (IPv6 later fragments) -> drop.
pub const PRIO_DROP: u16 = 20_000;
/// `dl_type=<allowed>` -> forward: IPv4, ARP, IPv6 and `subscriber_ethertypes`, from any port
/// (only where a drop below would otherwise catch them: on policed ports).
pub const PRIO_SUBSCRIBER_ETHERTYPES: u16 = 10_000;
/// `[in_port=<subscriber>]` -> drop: every other EtherType from a policed port (stacked VLAN
/// tags, MPLS, PPPoE sessions: frames whose TCP the switch cannot see).
pub const PRIO_OTHER_ETHERTYPES: u16 = 5_000;
/// Everything else -> forward (the table-miss entry). Absent when every port but the uplinks
/// is policed (`subscriber_ports = "all"`): nothing would reach it.
pub const PRIO_FORWARD: u16 = 0;
/// Bytes of a sampled packet sent to the controller: enough for Ethernet + IPv6 + TCP headers.
pub const SAMPLE_MAX_LEN: u16 = 128;
/// The meter that rate-limits samples.
pub const SAMPLE_METER_ID: u32 = 1;
