//! Flows in `ovs-ofctl add-flows` syntax, for `op25b plan` and for review.
use super::flow::{FlowAction, FlowSpec, IpFamily};
use super::openflow::IP_PROTO_IPV6_FRAGMENT;
use crate::policy::{Cookie, EtherType, Forwarding};
use ipnet::IpNet;
use std::fmt::Write;

fn prefix(n: &IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// An EtherType match as `ovs-ofctl dump-flows` prints it: a keyword for the types it has one
/// for, `dl_type=0x....` for the rest.
fn eth_type(t: EtherType) -> String {
    match t.0 {
        0x0800 => "ip".into(),
        0x0806 => "arp".into(),
        0x8035 => "rarp".into(),
        0x86dd => "ipv6".into(),
        0x8847 => "mpls".into(),
        0x8848 => "mplsm".into(),
        other => format!("dl_type={other:#06x}"),
    }
}

/// One flow as an `ovs-ofctl -O OpenFlow13 add-flows` line, e.g.
/// `cookie=0x4f50323542000000,table=0,priority=30000,tcp,nw_dst=192.0.2.25,actions=NORMAL`
/// (IPv6 later fragments: `...,ipv6,ipv6_dst=2001:db8::25,nw_proto=44,actions=NORMAL`, the
/// order `ovs-ofctl dump-flows` prints).
pub fn ofctl_line(cookie: Cookie, f: &FlowSpec) -> String {
    let mut s = format!(
        "cookie={:#018x},table={},priority={}",
        cookie.0, f.key.table_id, f.key.priority
    );
    let m = &f.key.match_;
    if let Some(p) = m.in_port {
        let _ = write!(s, ",in_port={p}");
    }
    if let Some(t) = m.eth_type {
        let _ = write!(s, ",{}", eth_type(t));
    }
    if let Some(t) = &m.tcp {
        let (kw, src, dst) = match t.family {
            IpFamily::V4 => ("tcp", "nw_src", "nw_dst"),
            IpFamily::V6 => ("tcp6", "ipv6_src", "ipv6_dst"),
            IpFamily::V6LaterFragment => ("ipv6", "ipv6_src", "ipv6_dst"),
        };
        s.push(',');
        s.push_str(kw);
        if let Some(n) = &t.src {
            let _ = write!(s, ",{src}={}", prefix(n));
        }
        if let Some(n) = &t.dst {
            let _ = write!(s, ",{dst}={}", prefix(n));
        }
        if t.family == IpFamily::V6LaterFragment {
            let _ = write!(s, ",nw_proto={IP_PROTO_IPV6_FRAGMENT}");
        }
        if let Some(p) = t.dst_port {
            let _ = write!(s, ",tp_dst={p}");
        }
    }
    s.push_str(",actions=");
    match f.action {
        FlowAction::Forward(Forwarding::Normal) => s.push_str("NORMAL"),
        FlowAction::Forward(Forwarding::GotoTable(t)) => {
            let _ = write!(s, "goto_table:{t}");
        }
        FlowAction::Drop => s.push_str("drop"),
        FlowAction::Sample { meter_id, max_len } => {
            let _ = write!(s, "meter:{meter_id},controller:{max_len}");
        }
    }
    s
}
