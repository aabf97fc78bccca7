//! A MAC address as people read it: colon hex.

use std::fmt;

use serde::{Serialize, Serializer};

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
}
