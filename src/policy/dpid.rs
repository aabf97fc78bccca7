//! Datapath ids: the 64-bit name of an OpenFlow switch.
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;
use std::str::FromStr;

/// An OpenFlow datapath id. Parses `"00:00:00:00:00:00:00:01"`, `"0x1"`, `"1"` (and the TOML
/// integer `1`); displays as eight colon-separated hex bytes, like `ovs-ofctl show` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dpid(pub u64);

/// A datapath id that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid dpid {text:?}: expected 8 colon-separated hex bytes like \"00:00:00:00:00:00:00:01\", a decimal integer, or hex like \"0x1\"")]
pub struct DpidParseError {
    /// What was given.
    pub text: String,
}

impl FromStr for Dpid {
    type Err = DpidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DpidParseError {
            text: s.to_string(),
        };
        let t = s.trim();
        if t.contains(':') {
            let groups: Vec<&str> = t.split(':').collect();
            if groups.len() != 8 {
                return Err(err());
            }
            let mut v: u64 = 0;
            for g in groups {
                if g.len() != 2 || !g.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err());
                }
                let byte = u8::from_str_radix(g, 16).map_err(|_| err())?;
                v = (v << 8) | u64::from(byte);
            }
            return Ok(Dpid(v));
        }
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            return u64::from_str_radix(hex, 16).map(Dpid).map_err(|_| err());
        }
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        t.parse::<u64>().map(Dpid).map_err(|_| err())
    }
}

impl fmt::Display for Dpid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0.to_be_bytes();
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }
}

impl<'de> Deserialize<'de> for Dpid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dpid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dpid: \"00:00:00:00:00:00:00:01\", an integer, or \"0x1\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dpid, E> {
                u64::try_from(v)
                    .map(Dpid)
                    .map_err(|_| E::custom(format!("invalid dpid {v}: must not be negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dpid, E> {
                Ok(Dpid(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dpid, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_three_spellings() {
        assert_eq!("00:00:00:00:00:00:00:01".parse::<Dpid>(), Ok(Dpid(1)));
        assert_eq!("0x1".parse::<Dpid>(), Ok(Dpid(1)));
        assert_eq!("1".parse::<Dpid>(), Ok(Dpid(1)));
        assert_eq!("0XfF".parse::<Dpid>(), Ok(Dpid(255)));
        assert_eq!(
            "de:ad:be:ef:00:00:00:2a".parse::<Dpid>(),
            Ok(Dpid(0xdead_beef_0000_002a))
        );
    }

    #[test]
    fn rejects_malformed_dpids() {
        for bad in [
            "",
            "0x",
            "0x1g",
            "0x12345678901234567",
            "00:00:00:00:00:00:01",
            "00:00:00:00:00:00:00:001",
            "00:00:00:00:00:00:00:zz",
            "-1",
            "18446744073709551616",
            "edge-1",
        ] {
            let e = bad.parse::<Dpid>().unwrap_err();
            assert_eq!(e.text, bad);
            assert!(e
                .to_string()
                .contains("expected 8 colon-separated hex bytes"));
        }
    }

    #[test]
    fn displays_as_colon_hex() {
        assert_eq!(Dpid(1).to_string(), "00:00:00:00:00:00:00:01");
        assert_eq!(Dpid(u64::MAX).to_string(), "ff:ff:ff:ff:ff:ff:ff:ff");
    }

    proptest! {
        #[test]
        fn display_parse_round_trips(v: u64) {
            prop_assert_eq!(Dpid(v).to_string().parse::<Dpid>(), Ok(Dpid(v)));
            prop_assert_eq!(format!("{v:#x}").parse::<Dpid>(), Ok(Dpid(v)));
            prop_assert_eq!(v.to_string().parse::<Dpid>(), Ok(Dpid(v)));
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,40}") {
            let _ = s.parse::<Dpid>();
        }
    }
}
