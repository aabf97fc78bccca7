//! What happens to traffic the policy does not drop.
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;

/// Where allowed traffic goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Forwarding {
    /// `actions=NORMAL`: the switch's own L2/L3 forwarding.
    Normal,
    /// `goto_table:N`: hand the packet to the operator's pipeline in table N (1..=254).
    GotoTable(u8),
}

impl fmt::Display for Forwarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forwarding::Normal => f.write_str("NORMAL"),
            Forwarding::GotoTable(t) => write!(f, "goto_table:{t}"),
        }
    }
}

/// The file's spelling, before the table number is range-checked.
#[derive(Debug, Clone)]
pub(crate) enum RawForwarding {
    Normal,
    GotoTable(toml::Spanned<i64>),
}

impl<'de> Deserialize<'de> for RawForwarding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawForwarding;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"normal\" or { goto_table = N }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawForwarding, E> {
                if v == "normal" {
                    Ok(RawForwarding::Normal)
                } else {
                    Err(E::custom(format!(
                        "unknown forwarding {v:?}: expected \"normal\" or {{ goto_table = N }}"
                    )))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawForwarding, A::Error> {
                let mut table = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "goto_table" {
                        if table.is_some() {
                            return Err(de::Error::duplicate_field("goto_table"));
                        }
                        table = Some(map.next_value::<toml::Spanned<i64>>()?);
                    } else {
                        return Err(de::Error::unknown_field(&key, &["goto_table"]));
                    }
                }
                table
                    .map(RawForwarding::GotoTable)
                    .ok_or_else(|| de::Error::missing_field("goto_table"))
            }
        }
        d.deserialize_any(V)
    }
}
