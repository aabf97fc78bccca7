//! Identifiers shown to people: a MAC address and an OpenFlow datapath id, both as colon hex.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::policy::Dpid;

/// An Ethernet MAC address, printed (and serialized) as `aa:bb:cc:dd:ee:ff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A datapath id as Open vSwitch prints it in `ovs-ofctl show`'s long form:
/// eight colon-separated bytes, most significant first (`00:00:00:00:00:00:00:01`): the
/// policy's [`Dpid`] display.
pub fn dpid_colon_hex(dpid: u64) -> String {
    Dpid(dpid).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_prints_lower_case_colon_hex() {
        let mac = MacAddr([0x00, 0x1b, 0x21, 0xAB, 0xcd, 0xef]);
        assert_eq!(mac.to_string(), "00:1b:21:ab:cd:ef");
        assert_eq!(
            serde_json::to_string(&mac).expect("serialize"),
            "\"00:1b:21:ab:cd:ef\""
        );
    }

    #[test]
    fn dpid_prints_eight_bytes_most_significant_first() {
        assert_eq!(dpid_colon_hex(1), "00:00:00:00:00:00:00:01");
        assert_eq!(
            dpid_colon_hex(0x0123_4567_89ab_cdef),
            "01:23:45:67:89:ab:cd:ef"
        );
        assert_eq!(dpid_colon_hex(u64::MAX), "ff:ff:ff:ff:ff:ff:ff:ff");
    }
}
