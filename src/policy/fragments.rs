//! How the policy closes the IP-fragment hole.
//!
//! Open vSwitch's default fragment handling matches every IP fragment (the first included) with
//! TCP ports 0, so a SYN to port 25 sent as fragments walks past a `tcp,tp_dst=25` drop.
use std::fmt;
use std::str::FromStr;

/// The policy's `fragments` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FragmentMode {
    /// `"drop-tcp"` (default): from policed ports, TCP with destination port 0 (every IPv4 TCP
    /// fragment, every IPv6 first fragment, and the invalid port 0) and every IPv6 *later*
    /// fragment (`ipv6,nw_proto=44`: Open vSwitch sees the Fragment header, not TCP) are dropped
    /// like a blocked port, except towards relays and from exempt sources (each IPv6 relay and
    /// IPv6 exempt prefix gets its own `nw_proto=44` allow). Costs: fragmented TCP from
    /// subscribers to other hosts is lost, whatever its port (TCP is almost never fragmented: it
    /// sets DF and uses PMTU discovery); over IPv6 the later-fragment drop cannot tell the
    /// protocol, so fragmented UDP/ICMPv6 a subscriber's host sends to a non-relay host is lost
    /// too (its first fragment passes, it is never reassembled: big IKE, UDP VPNs, large DNS
    /// queries). IPv4 UDP/ICMP fragments and uplink traffic are untouched. Three drop flows
    /// (per policed port in list mode) plus one allow per IPv6 relay and per IPv6 exempt prefix;
    /// see docs/policy.md ("Fragments: the choice and its cost").
    #[default]
    DropTcp,
    /// `"drop-all"`: the switch drops every IP fragment (SET_CONFIG `OFPC_FRAG_DROP`) on every
    /// port, any protocol, uplinks included. Costs: breaks fragmented UDP (large DNS/EDNS
    /// answers, IKE/IPsec, some VPNs and games) for everyone. No extra flows.
    DropAll,
    /// `"pass"`: no protection; a fragmented SYN to port 25 gets through. Only for switches that
    /// reassemble or drop fragments by other means. Produces a warning.
    Pass,
}

impl FragmentMode {
    /// The spelling in the policy file.
    pub fn as_str(&self) -> &'static str {
        match self {
            FragmentMode::DropTcp => "drop-tcp",
            FragmentMode::DropAll => "drop-all",
            FragmentMode::Pass => "pass",
        }
    }
}

impl fmt::Display for FragmentMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown `fragments` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fragments mode {0:?}: expected \"drop-tcp\" (default), \"drop-all\" or \"pass\"")]
pub struct UnknownFragmentMode(pub String);

impl FromStr for FragmentMode {
    type Err = UnknownFragmentMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "drop-tcp" => Ok(FragmentMode::DropTcp),
            "drop-all" => Ok(FragmentMode::DropAll),
            "pass" => Ok(FragmentMode::Pass),
            other => Err(UnknownFragmentMode(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for m in [
            FragmentMode::DropTcp,
            FragmentMode::DropAll,
            FragmentMode::Pass,
        ] {
            assert_eq!(m.as_str().parse::<FragmentMode>(), Ok(m));
        }
        assert_eq!(FragmentMode::default(), FragmentMode::DropTcp);
        assert!("reassemble".parse::<FragmentMode>().is_err());
    }
}
