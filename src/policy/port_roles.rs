//! Which ports of a switch are policed (subscriber side) and which are never policed (uplinks).
use super::bound_exemption::BoundExemptions;
use super::cert_sha256::CertSha256;
use super::dpid::Dpid;
use super::port::PortNo;
use std::collections::BTreeSet;

/// The ports whose ingress traffic is policed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriberPorts {
    /// Every port except the uplinks (flow count independent of the number of ports).
    All,
    /// Only these ports (drop flows are per port).
    List(BTreeSet<PortNo>),
}

/// The port roles of one switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRoles {
    /// Policed ports.
    pub subscriber: SubscriberPorts,
    /// Never policed.
    pub uplinks: BTreeSet<PortNo>,
}

impl Default for PortRoles {
    fn default() -> Self {
        PortRoles {
            subscriber: SubscriberPorts::All,
            uplinks: BTreeSet::new(),
        }
    }
}

/// A switch listed in the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchPolicy {
    /// Its datapath id.
    pub dpid: Dpid,
    /// Operator's name for it, if any.
    pub name: Option<String>,
    /// Its port roles (fields not given fall back to `[defaults]`).
    pub ports: PortRoles,
    /// Sources exempt only on one of its subscriber ports (`[[switch.exempt]]`).
    pub exempt: BoundExemptions,
    /// `cert_sha256`: the SHA-256 of the DER of the one certificate this switch presents over
    /// mutual TLS, if pinned.
    pub cert_sha256: Option<CertSha256>,
}
