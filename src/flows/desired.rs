//! Policy x switch -> the flows that switch must hold. Pure.
use super::flow::{FlowAction, FlowKey, FlowMatch, FlowSpec, IpFamily, TcpMatch};
use super::layout::{
    PRIO_DROP, PRIO_EXEMPT, PRIO_FORWARD, PRIO_OTHER_ETHERTYPES, PRIO_RELAY,
    PRIO_SUBSCRIBER_ETHERTYPES, PRIO_UPLINK, SAMPLE_MAX_LEN, SAMPLE_METER_ID, TABLE,
};
use super::switch_view::SwitchView;
use crate::policy::{Cookie, FragmentMode, IpPrefix, Policy, PortNo, SubscriberPorts};
use std::collections::BTreeSet;

/// The flows one switch must hold, sorted from the highest priority down, plus notes for the
/// operator (e.g. a configured port the switch does not have).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredFlows {
    /// The cookie every flow carries.
    pub cookie: Cookie,
    /// The flows, sorted by descending priority then match; no two share a key.
    pub flows: Vec<FlowSpec>,
    /// Things worth logging; they do not change the flows.
    pub notes: Vec<String>,
}

fn family(p: &IpPrefix) -> IpFamily {
    if p.is_ipv4() {
        IpFamily::V4
    } else {
        IpFamily::V6
    }
}

/// The kinds of packet an allow for a prefix of `family` must cover: TCP, and for IPv6 with
/// fragments dropped also the later fragments (IPv4 later fragments still read as TCP).
fn families(family: IpFamily, drop_fragments: bool) -> Vec<IpFamily> {
    if family == IpFamily::V6 && drop_fragments {
        vec![IpFamily::V6, IpFamily::V6LaterFragment]
    } else {
        vec![family]
    }
}

fn flow(priority: u16, match_: FlowMatch, action: FlowAction) -> FlowSpec {
    FlowSpec {
        key: FlowKey {
            table_id: TABLE,
            priority,
            match_,
        },
        action,
    }
}

fn tcp(family: IpFamily) -> TcpMatch {
    TcpMatch {
        family,
        src: None,
        dst: None,
        dst_port: None,
    }
}

/// The flows `switch` must hold under `policy`.
///
/// With `subscriber_ports = "all"` the count is
/// `uplinks + relays + exempt + 2 x blocked ports + EtherTypes + 1`, plus in "drop-tcp" mode
/// (with a port blocked) `3` fragment drops and one IPv6-later-fragment allow per IPv6 relay
/// and per IPv6 exempt prefix, whatever the number of subscriber ports (`EtherTypes` is 3,
/// IPv4, ARP and IPv6, plus `subscriber_ethertypes`; the 1 is the drop of every other
/// EtherType). With a port list, the drop flows and the other-EtherType drop are per listed
/// port, plus the catch-all forward. A bound exemption (`[[switch.exempt]]`) adds one flow per
/// (port, prefix), two for an IPv6 prefix in "drop-tcp" mode. With nothing blocked there are
/// no drops at all.
pub fn desired_flows(policy: &Policy, switch: &SwitchView) -> DesiredFlows {
    let roles = policy.roles_for(switch.dpid);
    let bound = policy.exemptions_for(switch.dpid);
    let forward = FlowAction::Forward(policy.forwarding());
    let blocked = policy.blocked_ports();
    // "drop-tcp": TCP fragments hide their ports, so they are dropped from policed ports like a
    // blocked port: IPv4 and IPv6 first fragments as `tcp,tp_dst=0`/`tcp6,tp_dst=0`, IPv6 later
    // fragments (which carry no TCP header) as `ipv6,nw_proto=44`. The IPv6-later-fragment
    // allows for relays and exempt sources exist only next to that drop.
    let drop_fragments = policy.fragments() == FragmentMode::DropTcp && !blocked.is_empty();
    let block_action = if policy.reporting().enabled && switch.meters_supported {
        FlowAction::Sample {
            meter_id: SAMPLE_METER_ID,
            max_len: SAMPLE_MAX_LEN,
        }
    } else {
        FlowAction::Drop
    };
    let mut flows = BTreeSet::new();

    for &port in &roles.uplinks {
        let m = FlowMatch {
            in_port: Some(port),
            ..FlowMatch::default()
        };
        flows.insert(flow(PRIO_UPLINK, m, forward));
    }
    // Relays: all TCP towards them passes, so both the blocked ports and fragments (port 0)
    // stay open with one flow per relay, plus one for an IPv6 relay's later fragments.
    for r in policy.relays() {
        for fam in families(family(r), drop_fragments) {
            let m = FlowMatch {
                tcp: Some(TcpMatch {
                    dst: Some(r.net()),
                    ..tcp(fam)
                }),
                ..FlowMatch::default()
            };
            flows.insert(flow(PRIO_RELAY, m, forward));
        }
    }
    // Exempt sources: anywhere (`exempt_sources`), or only on their bound port.
    let exempt = policy.exempt_sources().iter().map(|e| (None, *e));
    for (in_port, e) in exempt.chain(bound.iter().map(|(p, e)| (Some(p), e))) {
        for fam in families(family(&e), drop_fragments) {
            let m = FlowMatch {
                in_port,
                tcp: Some(TcpMatch {
                    src: Some(e.net()),
                    ..tcp(fam)
                }),
                ..FlowMatch::default()
            };
            flows.insert(flow(PRIO_EXEMPT, m, forward));
        }
    }
    let policed: Vec<Option<PortNo>> = match &roles.subscriber {
        SubscriberPorts::All => vec![None],
        SubscriberPorts::List(ports) => ports.iter().copied().map(Some).collect(),
    };
    for &in_port in &policed {
        for fam in [IpFamily::V4, IpFamily::V6] {
            for &p in blocked {
                let m = FlowMatch {
                    in_port,
                    tcp: Some(TcpMatch {
                        dst_port: Some(p),
                        ..tcp(fam)
                    }),
                    ..FlowMatch::default()
                };
                flows.insert(flow(PRIO_DROP, m, block_action));
            }
            if drop_fragments {
                let m = FlowMatch {
                    in_port,
                    tcp: Some(TcpMatch {
                        dst_port: Some(0),
                        ..tcp(fam)
                    }),
                    ..FlowMatch::default()
                };
                flows.insert(flow(PRIO_DROP, m, FlowAction::Drop));
            }
        }
        if drop_fragments {
            let m = FlowMatch {
                in_port,
                tcp: Some(tcp(IpFamily::V6LaterFragment)),
                ..FlowMatch::default()
            };
            flows.insert(flow(PRIO_DROP, m, FlowAction::Drop));
        }
    }
    // Frames the switch does not parse as IP (a second VLAN tag, MPLS, PPPoE sessions...) can
    // carry TCP to a blocked port past the drops above: from policed ports only the allowed
    // EtherTypes pass, everything else is dropped. The allows need no in_port: on a port that
    // is not policed they forward what the catch-all would.
    let filter_ethertypes = !blocked.is_empty() && !policed.is_empty();
    if filter_ethertypes {
        for &t in policy.subscriber_ethertypes() {
            let m = FlowMatch {
                eth_type: Some(t),
                ..FlowMatch::default()
            };
            flows.insert(flow(PRIO_SUBSCRIBER_ETHERTYPES, m, forward));
        }
        for &in_port in &policed {
            let m = FlowMatch {
                in_port,
                ..FlowMatch::default()
            };
            flows.insert(flow(PRIO_OTHER_ETHERTYPES, m, FlowAction::Drop));
        }
    }
    // Everything else is forwarded, unless every port but the uplinks is policed and its other
    // EtherTypes dropped: then nothing would ever reach the catch-all.
    let all_policed = matches!(roles.subscriber, SubscriberPorts::All);
    if !(filter_ethertypes && all_policed) {
        flows.insert(flow(PRIO_FORWARD, FlowMatch::default(), forward));
    }

    let mut flows: Vec<FlowSpec> = flows.into_iter().collect();
    flows.sort_by(|a, b| b.key.priority.cmp(&a.key.priority).then(a.cmp(b)));

    let mut notes = Vec::new();
    if !switch.ports.is_empty() {
        let mut configured: Vec<(PortNo, &str)> =
            roles.uplinks.iter().map(|&p| (p, "uplink")).collect();
        if let SubscriberPorts::List(l) = &roles.subscriber {
            configured.extend(l.iter().map(|&p| (p, "subscriber")));
        }
        for p in bound.ports() {
            if !configured.iter().any(|(c, _)| *c == p) {
                configured.push((p, "exempt"));
            }
        }
        for (p, role) in configured {
            if !switch.ports.contains(&p) {
                notes.push(format!(
                    "switch {} has no port {p} (configured as {role} port); its flows are installed anyway and apply when the port appears",
                    switch.dpid
                ));
            }
        }
    }
    DesiredFlows {
        cookie: policy.cookie(),
        flows,
        notes,
    }
}
