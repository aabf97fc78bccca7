//! The flow layout of table 0: priorities from the top, and why.
//!
//! Every level holds flows of one kind of action only (all forwarding, or all dropping), and the
//! levels are constants: the reconcile ordering relies on this (see `reconcile`).

/// The table op25b owns.
pub const TABLE: u8 = 0;
/// `in_port=<uplink>` -> forward: uplink ingress is never policed.
pub const PRIO_UPLINK: u16 = 40_000;
/// `tcp,nw_dst=<relay>` -> forward: the blocked ports (and fragments) stay open towards relays;
/// an IPv6 relay also gets `ipv6,ipv6_dst=<relay>,nw_proto=44` for its later fragments.
pub const PRIO_RELAY: u16 = 30_000;
/// `tcp,nw_src=<exempt>` -> forward: exempt sources reach any host (an IPv6 prefix also gets
/// `ipv6,ipv6_src=<exempt>,nw_proto=44` for its later fragments).
pub const PRIO_EXEMPT: u16 = 29_000;
/// `[in_port=<subscriber>,]tcp,tp_dst=<blocked>` -> drop (or sample), and for fragments
/// `tcp,tp_dst=0`, `tcp6,tp_dst=0` and `ipv6,nw_proto=44` (IPv6 later fragments) -> drop.
pub const PRIO_DROP: u16 = 20_000;
/// Everything else -> forward (the table-miss entry).
pub const PRIO_FORWARD: u16 = 0;
/// Bytes of a sampled packet sent to the controller: enough for Ethernet + IPv6 + TCP headers.
pub const SAMPLE_MAX_LEN: u16 = 128;
/// The meter that rate-limits samples.
pub const SAMPLE_METER_ID: u32 = 1;
