//! A MAC address in JSON: the string `aa:bb:cc:dd:ee:ff` (lower-case colon hex).
//!
//! The address type is the codec's [`op25b_proto::MacAddr`], whose `Display` is that text; the
//! codec has no serde, so fields of that type say `#[serde(with = "super::mac_json")]`.

use op25b_proto::MacAddr;
use serde::Serializer;

/// Writes `mac` as its colon-hex string.
pub fn serialize<S: Serializer>(mac: &MacAddr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(mac)
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Field(#[serde(with = "super")] MacAddr);

    #[test]
    fn mac_is_lower_case_colon_hex() {
        let mac = MacAddr([0x00, 0x1b, 0x21, 0xAB, 0xcd, 0xef]);
        assert_eq!(mac.to_string(), "00:1b:21:ab:cd:ef");
        assert_eq!(
            serde_json::to_string(&Field(mac)).expect("serialize"),
            "\"00:1b:21:ab:cd:ef\""
        );
    }
}
