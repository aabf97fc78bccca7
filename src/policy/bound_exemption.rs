//! Exempt sources bound to where they come from: `[[switch.exempt]]`, a source prefix that is
//! exempt only when it arrives on one subscriber port of one switch.
//!
//! `[policy] exempt_sources` matches the source address alone, on every policed port, so any
//! subscriber who writes an exempt address into its packets is exempt too. A bound exemption
//! matches `in_port` and the source together: a spoofed exempt source from another port is
//! blocked like any other subscriber.
use super::port::PortNo;
use super::prefix::IpPrefix;
use std::collections::BTreeSet;

/// One switch's bound exemptions: (port, source prefix) pairs, sorted, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoundExemptions(BTreeSet<(PortNo, IpPrefix)>);

/// No exemptions: what a switch that is not listed has.
pub(crate) static NO_EXEMPTIONS: BoundExemptions = BoundExemptions(BTreeSet::new());

impl BoundExemptions {
    /// Adds `source` on `port`; false when it was already there.
    pub(crate) fn insert(&mut self, port: PortNo, source: IpPrefix) -> bool {
        self.0.insert((port, source))
    }

    /// Every (port, source) pair, by port then prefix.
    pub fn iter(&self) -> impl Iterator<Item = (PortNo, IpPrefix)> + '_ {
        self.0.iter().copied()
    }

    /// The ports that have at least one exemption.
    pub fn ports(&self) -> BTreeSet<PortNo> {
        self.0.iter().map(|(p, _)| *p).collect()
    }

    /// How many (port, source) pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
