//! A MAC address in JSON: the string `aa:bb:cc:dd:ee:ff` (lower-case colon hex).
//!
//! The address type is the codec's [`op25b_proto::MacAddr`], whose `Display` is that text; the
//! codec has no serde, so fields of that type say `#[serde(with = "super::mac_json")]`.

use op25b_proto::MacAddr;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// Writes `mac` as its colon-hex string.
pub fn serialize<S: Serializer>(mac: &MacAddr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(mac)
}

/// Reads a colon-hex string; anything else is an error naming the text.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<MacAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Field(#[serde(with = "super")] MacAddr);

    #[test]
    fn mac_is_lower_case_colon_hex_both_ways() {
        let mac = MacAddr([0x00, 0x1b, 0x21, 0xAB, 0xcd, 0xef]);
        let json = serde_json::to_string(&Field(mac)).expect("serialize");
        assert_eq!(json, "\"00:1b:21:ab:cd:ef\"");
        assert_eq!(
            serde_json::from_str::<Field>(&json).expect("deserialize"),
            Field(mac)
        );
    }

    #[test]
    fn text_that_is_not_a_mac_does_not_deserialize() {
        let err = serde_json::from_str::<Field>("\"00:1b:21:ab:cd\"").expect_err("five bytes");
        assert!(err.to_string().contains("not an Ethernet address"), "{err}");
    }
}
