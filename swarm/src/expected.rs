//! The flow table every swarm switch must end with, computed from the same policy file by the
//! controller's own pure core (`op25b::flows::desired_flows`) and put in the simulated switch's
//! canonical form, so that it compares with [`op25b_sim::FlowTable::canonical`].
use std::time::Instant;

use op25b::flows::{desired_flows, flow_mods_for, SwitchView};
use op25b::policy::{Config, Dpid, PortNo};
use op25b_sim::flow_table::sort_canonical;
use op25b_sim::{CanonicalFlow, Datapath, DatapathConfig, FlowTable};

use crate::error::SwarmError;

/// What a swarm switch must hold under one policy.
#[derive(Debug, Clone)]
pub struct ExpectedFlows {
    /// Canonical, sorted: equal to `FlowTable::canonical()` of a switch that holds exactly them.
    pub canonical: Vec<CanonicalFlow>,
    /// The same flows applied to an empty table (to pre-load switches in the growth runs).
    pub table: FlowTable,
}

/// The flows a switch with `dpid` and ports `1..=ports` (meters supported) must hold.
pub fn expected_flows(config: &Config, dpid: u64, ports: u32) -> Result<ExpectedFlows, SwarmError> {
    let view = SwitchView::new(Dpid(dpid), (1..=ports).map(PortNo));
    let desired = desired_flows(config.policy(), &view);
    let mods = flow_mods_for(&desired);
    let mut canonical = mods
        .iter()
        .map(|fm| CanonicalFlow::of_flow_mod(fm).map_err(|e| SwarmError::Template(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    sort_canonical(&mut canonical);
    let mut dp = Datapath::new(DatapathConfig::new(dpid, ports));
    let now = Instant::now();
    for fm in &mods {
        dp.flows_mut()
            .apply(fm, now)
            .map_err(|e| SwarmError::Template(e.to_string()))?;
    }
    Ok(ExpectedFlows {
        canonical,
        table: dp.flows().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy_text::SwarmPolicy;

    fn config(extra_relays: usize, exempt: usize) -> Config {
        let p = SwarmPolicy {
            listen: "127.0.0.1:6653".parse().unwrap(),
            tls: None,
            api_listen: "127.0.0.1:9325".parse().unwrap(),
            extra_relays,
            exempt_prefixes: exempt,
            echo_interval_secs: 5,
            reporting: true,
            counters_interval_secs: 10,
        };
        Config::parse(&p.to_toml(), "t").unwrap().config
    }

    #[test]
    fn count_follows_the_documented_formula() {
        // relays + 1 IPv6 later-fragment allow (for the IPv6 relay) + exempt
        // + 2 x blocked port (IPv4, IPv6) + 2 fragment drops (tp_dst=0) + 1 IPv6 later-fragment
        // drop + 3 EtherTypes allowed (IPv4, ARP, IPv6) + 1 drop of every other EtherType
        let e = expected_flows(&config(0, 10), 1, 4).unwrap();
        assert_eq!(e.canonical.len(), 2 + 1 + 10 + 2 + 2 + 1 + 3 + 1);
        let e = expected_flows(&config(1, 10), 1, 4).unwrap();
        assert_eq!(e.canonical.len(), 3 + 1 + 10 + 2 + 2 + 1 + 3 + 1);
    }

    #[test]
    fn the_preloaded_table_is_exactly_the_expected_set() {
        let e = expected_flows(&config(0, 50), 7, 4).unwrap();
        assert_eq!(e.table.canonical(), e.canonical);
        assert!(e.table.entries().all(|f| f.cookie == 0x4f50_3235_4200_0000));
    }

    #[test]
    fn a_new_relay_changes_the_set() {
        let a = expected_flows(&config(0, 3), 1, 4).unwrap();
        let b = expected_flows(&config(1, 3), 1, 4).unwrap();
        assert_ne!(a.canonical, b.canonical);
    }
}
