//! The OpenFlow cookie that marks every flow this controller owns.
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// A flow cookie. Flows carrying the policy's cookie belong to op25b; it reads, replaces and
/// deletes only those (cookie mask all-ones). Never 0: 0 is what every other tool uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cookie(pub u64);

impl Cookie {
    /// The default cookie: "OP25B" in ASCII followed by zero bytes.
    pub const DEFAULT: Cookie = Cookie(0x4f50_3235_4200_0000);
    /// The mask that selects exactly one cookie value.
    pub const EXACT_MASK: u64 = u64::MAX;
}

impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

fn parse_cookie_text(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok();
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

impl<'de> Deserialize<'de> for Cookie {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Cookie;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a 64-bit cookie as a hex string like \"0x4f50323542000000\" or an integer",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cookie, E> {
                u64::try_from(v)
                    .map(Cookie)
                    .map_err(|_| E::custom(format!("invalid cookie {v}: must not be negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cookie, E> {
                Ok(Cookie(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cookie, E> {
                parse_cookie_text(v).map(Cookie).ok_or_else(|| {
                    E::custom(format!(
                        "invalid cookie {v:?}: expected a 64-bit hex string like \"0x4f50323542000000\" or a decimal integer"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_decimal() {
        assert_eq!(
            parse_cookie_text("0x4f50323542000000"),
            Some(Cookie::DEFAULT.0)
        );
        assert_eq!(parse_cookie_text("42"), Some(42));
        assert_eq!(parse_cookie_text("0xffffffffffffffff"), Some(u64::MAX));
    }

    #[test]
    fn rejects_bad_text() {
        for bad in ["", "0x", "0x1_0", "ab", "0x10000000000000000", "-3"] {
            assert_eq!(parse_cookie_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn displays_as_hex() {
        assert_eq!(Cookie::DEFAULT.to_string(), "0x4f50323542000000");
    }
}
