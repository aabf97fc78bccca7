//! How many flows the policy can want on any one switch, counted from the policy alone (no
//! switch, no flow built): an upper bound of `desired_flows(policy, view).len()` for every
//! `view`. The session sizes its read of our flows by it (`session::read_cap`), so a policy of
//! any size can be read back from the switches it was installed on.

use crate::policy::{Policy, PortRoles, SubscriberPorts};

/// The most flows [`super::desired_flows`] gives for any switch under `policy`: the defaults'
/// port roles, or a listed switch's roles and bound exemptions, whichever is largest. Counts
/// every prefix as IPv6 with its later-fragment twin (two flows), so it never falls short.
pub fn max_desired_flows(policy: &Policy) -> usize {
    let defaults = for_roles(policy, policy.defaults(), 0);
    policy
        .switches()
        .values()
        .map(|s| for_roles(policy, &s.ports, s.exempt.len()))
        .fold(defaults, usize::max)
}

/// The bound for a switch with `roles` and `bound_exemptions` exemptions bound to its ports.
fn for_roles(policy: &Policy, roles: &PortRoles, bound_exemptions: usize) -> usize {
    let policed = match &roles.subscriber {
        SubscriberPorts::All => 1,
        SubscriberPorts::List(ports) => ports.len(),
    };
    let prefixes = policy.relays().len() + policy.exempt_sources().len() + bound_exemptions;
    // Per policed port: each blocked port for IPv4 and IPv6, the two TCP-fragment drops, the
    // IPv6 later-fragment drop and the other-EtherType drop.
    let per_policed = 2 * policy.blocked_ports().len() + 2 + 1 + 1;
    roles.uplinks.len()
        + 2 * prefixes
        + policed * per_policed
        + policy.subscriber_ethertypes().len()
        // The catch-all forward.
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::{desired_flows, SwitchView};
    use crate::policy::{Config, Dpid, PortNo};

    fn policy(text: &str) -> Policy {
        Config::parse(text, "t.toml")
            .expect("valid policy")
            .config
            .policy()
            .clone()
    }

    const BASE: &str = r#"
[policy]
blocked_ports = [25, 587]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29", "2001:db8:e::/48", "198.51.100.0/24"]
fragments = "drop-tcp"
subscriber_ethertypes = [0x8100]
"#;

    /// Every switch's desired flows stay within the bound, and the bound is not far above
    /// the largest of them.
    fn check(p: &Policy, dpids: &[u64]) {
        let bound = max_desired_flows(p);
        let largest = dpids
            .iter()
            .map(|&d| {
                let view = SwitchView::new(Dpid(d), (1..=8).map(PortNo));
                let n = desired_flows(p, &view).flows.len();
                assert!(n <= bound, "dpid {d}: {n} flows > bound {bound}");
                n
            })
            .max()
            .unwrap_or(0);
        assert!(
            bound <= 2 * largest + 8,
            "the bound {bound} is far above the largest set {largest}"
        );
    }

    #[test]
    fn the_bound_covers_the_defaults_and_every_listed_switch() {
        check(&policy(BASE), &[1]);
        let listed = format!(
            r#"{BASE}
[defaults]
subscriber_ports = [1, 2]
uplink_ports = [8]

[[switch]]
dpid = 7
subscriber_ports = [1, 2, 3, 4, 5]
uplink_ports = [6, 7]

[[switch.exempt]]
port = 1
sources = ["10.1.0.0/16", "2001:db8:99::/48"]
"#
        );
        check(&policy(&listed), &[1, 7]);
    }

    #[test]
    fn a_large_policy_bounds_its_own_size() {
        let exempt: Vec<String> = (0..3000u32)
            .map(|i| format!("\"10.{}.{}.0/24\"", i / 256, i % 256))
            .collect();
        let text = format!(
            "[policy]\nblocked_ports = [25]\nrelays = [\"192.0.2.25/32\"]\nexempt_sources = [{}]\n",
            exempt.join(", ")
        );
        let p = policy(&text);
        assert!(max_desired_flows(&p) >= 3001);
        check(&p, &[1]);
    }
}
