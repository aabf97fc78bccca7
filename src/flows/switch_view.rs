//! What a switch told the controller about itself that the flows may depend on.
use crate::policy::{Dpid, PortNo};
use std::collections::BTreeSet;

/// The switch as seen by the session layer after FEATURES and PORT_DESC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchView {
    /// Its datapath id (selects the `[[switch]]` entry or the defaults).
    pub dpid: Dpid,
    /// Its port numbers from PORT_DESC (physical/logical ports only). The flows do not depend
    /// on them (a new port is policed at once, with no flow change); they are used for
    /// warnings about configured ports the switch does not have.
    pub ports: BTreeSet<PortNo>,
    /// False when the switch rejected our METER_MOD (or has no meters): sampled drops become
    /// plain drops.
    pub meters_supported: bool,
}

impl SwitchView {
    /// A switch with these ports and meter support.
    pub fn new(dpid: Dpid, ports: impl IntoIterator<Item = PortNo>) -> Self {
        SwitchView {
            dpid,
            ports: ports.into_iter().collect(),
            meters_supported: true,
        }
    }

    /// The same switch without meters.
    pub fn without_meters(mut self) -> Self {
        self.meters_supported = false;
        self
    }
}
