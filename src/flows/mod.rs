//! Policy x switch -> the flows that switch must hold (pure), in op25b's own small flow model,
//! with conversions to OpenFlow messages and to `ovs-ofctl` syntax.
//!
//! Layout of table 0, from the top (see `layout` and docs/policy.md ("Flow layout (table 0)")):
//! uplink ingress forwarded (40000); TCP (and IPv6 later fragments) to relays forwarded (30000);
//! TCP (and IPv6 later fragments) from exempt sources, anywhere or on their bound port,
//! forwarded (29000); TCP to blocked ports, TCP port 0 (fragments) and IPv6 later fragments
//! (`ip_proto=44`) from policed ports dropped or sampled (20000); IPv4, ARP, IPv6 and the
//! policy's `subscriber_ethertypes` forwarded (10000); every other EtherType from policed ports
//! dropped (5000); everything else forwarded (0, only when some port is neither policed nor an
//! uplink).
mod desired;
mod flow;
mod flow_bound;
pub mod layout;
mod meters;
mod normalize;
mod ofctl;
pub mod openflow;
mod reported;
mod switch_config;
mod switch_view;

pub use desired::{desired_flows, DesiredFlows};
pub use flow::{FlowAction, FlowKey, FlowMatch, FlowSpec, IpFamily, TcpMatch};
pub use flow_bound::max_desired_flows;
pub use meters::{desired_meters, MeterSpec};
pub use normalize::{may_forward, parse_instructions, parse_match};
pub use ofctl::ofctl_line;
pub use openflow::{
    flow_mod_add, flow_mod_delete_strict, flow_mods_for, meter_add, meter_modify,
    our_flows_request, to_instructions, to_match,
};
pub use reported::{fold_part, ReportedFlow};
pub use switch_config::{switch_config, MISS_SEND_LEN};
pub use switch_view::SwitchView;

#[cfg(test)]
mod tests;
