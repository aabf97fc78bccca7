//! OpenFlow port numbers as the policy names them.
use std::fmt;

/// An OpenFlow 1.3 port number (`ofp_port_no`). Physical and logical ports are 1..=0xffffff00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortNo(pub u32);

impl PortNo {
    /// The largest number a real port can have (`OFPP_MAX`).
    pub const MAX: u32 = 0xffff_ff00;

    /// A port number if `v` is in 1..=OFPP_MAX.
    pub fn new(v: i64) -> Option<PortNo> {
        u32::try_from(v)
            .ok()
            .filter(|p| (1..=Self::MAX).contains(p))
            .map(PortNo)
    }
}

impl fmt::Display for PortNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_real_port_numbers() {
        assert_eq!(PortNo::new(1), Some(PortNo(1)));
        assert_eq!(PortNo::new(0xffff_ff00), Some(PortNo(0xffff_ff00)));
        assert_eq!(PortNo::new(0), None);
        assert_eq!(PortNo::new(-1), None);
        assert_eq!(PortNo::new(0xffff_fffe), None); // OFPP_LOCAL is not configurable
        assert_eq!(PortNo::new(1 << 40), None);
    }
}
