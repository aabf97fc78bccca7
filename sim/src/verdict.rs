//! What the switch does with one packet: the flows it hit, the meters it passed, where it goes.

use op25b_proto::consts::OFPP_CONTROLLER;

/// A flow a packet hit on its way through the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hit {
    /// Table of the flow.
    pub table_id: u8,
    /// Its priority.
    pub priority: u16,
    /// Its cookie.
    pub cookie: u64,
}

/// The result of [`crate::FlowTable::classify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Flows hit, in pipeline order.
    pub hits: Vec<Hit>,
    /// Meters the packet passed through (rates are not modelled: a meter never drops here).
    pub meters: Vec<u32>,
    /// Output ports (physical or reserved, OFPP_CONTROLLER included), Apply-Actions outputs
    /// first, then the action set's.
    pub outputs: Vec<u32>,
    /// The table where no flow matched, if the packet fell off the pipeline. As in OVS, the
    /// action set written by earlier tables still executes; with none, the packet is dropped.
    pub miss: Option<u8>,
}

/// The short answer: what happens to the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Not output anywhere (no matching flow, or a matching flow without output).
    Drop,
    /// Sent to the controller only (e.g. sampled, then dropped).
    ToController,
    /// Output to these ports (OFPP_CONTROLLER excluded), maybe also to the controller.
    Forward(Vec<u32>),
}

impl Verdict {
    /// What happens to the packet.
    pub fn fate(&self) -> Fate {
        let ports: Vec<u32> = self
            .outputs
            .iter()
            .copied()
            .filter(|p| *p != OFPP_CONTROLLER)
            .collect();
        if !ports.is_empty() {
            Fate::Forward(ports)
        } else if self.sends_to_controller() {
            Fate::ToController
        } else {
            Fate::Drop
        }
    }

    /// Whether no copy of the packet leaves through a port (the controller is not a port).
    pub fn is_blocked(&self) -> bool {
        !matches!(self.fate(), Fate::Forward(_))
    }

    /// Whether a copy goes to the controller.
    pub fn sends_to_controller(&self) -> bool {
        self.outputs.contains(&OFPP_CONTROLLER)
    }

    /// The flow that decided the packet's fate in the last table it reached.
    pub fn last_hit(&self) -> Option<Hit> {
        self.hits.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use op25b_proto::consts::OFPP_NORMAL;

    #[test]
    fn fate_of_outputs() {
        let drop = Verdict::default();
        assert_eq!(drop.fate(), Fate::Drop);
        assert!(drop.is_blocked());
        let sampled = Verdict {
            outputs: vec![OFPP_CONTROLLER],
            ..Default::default()
        };
        assert_eq!(sampled.fate(), Fate::ToController);
        assert!(sampled.is_blocked() && sampled.sends_to_controller());
        let fwd = Verdict {
            outputs: vec![OFPP_CONTROLLER, OFPP_NORMAL],
            ..Default::default()
        };
        assert_eq!(fwd.fate(), Fate::Forward(vec![OFPP_NORMAL]));
        assert!(!fwd.is_blocked());
    }
}
