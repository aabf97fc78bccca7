//! EtherTypes a policed (subscriber) port may send: the names the policy file accepts, and
//! which of them hide IP from the switch.
//!
//! Open vSwitch matches TCP ports only in frames it parses as IPv4 or IPv6 (after at most
//! `vlan-limit` VLAN tags, 1 by default). A frame of any other EtherType that carries IPv4/TCP
//! inside (a second VLAN tag, MPLS, a PPPoE session) is invisible to a `tcp,tp_dst=25` drop, so
//! on policed ports only the allowed EtherTypes are forwarded and everything else is dropped.
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// An Ethernet EtherType (0x0600..=0xffff: smaller values are IEEE 802.3 lengths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EtherType(pub u16);

/// The names the policy file accepts, with their values.
const NAMES: &[(&str, u16)] = &[
    ("ipv4", 0x0800),
    ("arp", 0x0806),
    ("rarp", 0x8035),
    ("vlan", 0x8100),
    ("ipv6", 0x86dd),
    ("slow-protocols", 0x8809),
    ("mpls", 0x8847),
    ("mpls-multicast", 0x8848),
    ("pppoe-discovery", 0x8863),
    ("pppoe-session", 0x8864),
    ("eapol", 0x888e),
    ("qinq", 0x88a8),
    ("lldp", 0x88cc),
    ("macsec", 0x88e5),
    ("ptp", 0x88f7),
    ("cfm", 0x8902),
    ("fcoe", 0x8906),
    ("fip", 0x8914),
    ("vlan-9100", 0x9100),
];

impl EtherType {
    /// IPv4.
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP.
    pub const ARP: EtherType = EtherType(0x0806);
    /// IPv6.
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// What a policed port may always send: IPv4, ARP, IPv6 (IPv6 covers neighbour discovery).
    pub const ALWAYS_ALLOWED: [EtherType; 3] = [EtherType::IPV4, EtherType::ARP, EtherType::IPV6];
    /// The smallest EtherType (below it the field is an IEEE 802.3 length).
    pub const MIN: u16 = 0x0600;

    /// `"lldp"`, `"0x88cc"` or `"0X88CC"`.
    pub fn parse(text: &str) -> Result<EtherType, EtherTypeError> {
        let t = text.trim();
        if let Some(&(_, v)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(t)) {
            return Ok(EtherType(v));
        }
        let hex = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .filter(|h| (1..=8).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()));
        match hex.map(|h| u32::from_str_radix(h, 16)) {
            Some(Ok(v)) => Self::from_number(i64::from(v)),
            _ => Err(EtherTypeError::Unknown(text.to_string())),
        }
    }

    /// A number written as a TOML integer (e.g. `0x88cc`).
    pub fn from_number(v: i64) -> Result<EtherType, EtherTypeError> {
        u16::try_from(v)
            .ok()
            .filter(|&n| n >= Self::MIN)
            .map(EtherType)
            .ok_or(EtherTypeError::OutOfRange(v))
    }

    /// The policy file's name for it, if it has one.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(_, v)| *v == self.0).map(|(n, _)| *n)
    }

    /// True for the types a policed port may always send.
    pub fn is_always_allowed(self) -> bool {
        Self::ALWAYS_ALLOWED.contains(&self)
    }

    /// Why Open vSwitch cannot see IP (and so TCP ports) inside frames of this type, when they
    /// can carry it: allowing such a type on policed ports opens a way around the blocking.
    pub fn hides_ip(self) -> Option<&'static str> {
        match self.0 {
            0x8847 | 0x8848 => Some("Open vSwitch matches the MPLS label stack, not the packet under it"),
            0x8864 => Some("Open vSwitch does not parse PPPoE sessions"),
            0x8100 | 0x88a8 | 0x9100 => Some(
                "it is what a frame with a second VLAN tag shows after the tags Open vSwitch parses (other_config:vlan-limit, 1 by default), and the switch does not look inside",
            ),
            0x88e5 => Some("MACsec frames are encrypted"),
            _ => None,
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{:#06x} ({n})", self.0),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// Why an EtherType was rejected. The Display is what the operator reads after the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EtherTypeError {
    /// Neither a known name nor a hex number.
    #[error("{0:?} is not an EtherType: expected a hex value like \"0x88cc\" or a name ({names})", names = name_list())]
    Unknown(String),
    /// A number outside 0x0600..=0xffff.
    #[error("{} is not an EtherType: expected 0x0600..=0xffff (smaller values are IEEE 802.3 lengths)", hex(.0))]
    OutOfRange(i64),
}

/// `v` in hex, or in decimal when negative.
fn hex(v: &i64) -> String {
    if *v < 0 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn name_list() -> String {
    NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// The file's spelling: a string (name or hex) or an integer.
#[derive(Debug, Clone)]
pub(crate) enum RawEtherType {
    Text(String),
    Number(i64),
}

impl RawEtherType {
    /// Validates it.
    pub(crate) fn resolve(&self) -> Result<EtherType, EtherTypeError> {
        match self {
            RawEtherType::Text(t) => EtherType::parse(t),
            RawEtherType::Number(n) => EtherType::from_number(*n),
        }
    }
}

impl<'de> Deserialize<'de> for RawEtherType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawEtherType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an EtherType: a name like \"lldp\" or a number like \"0x88cc\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawEtherType, E> {
                Ok(RawEtherType::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawEtherType, E> {
                Ok(RawEtherType::Number(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hex_spellings() {
        assert_eq!(EtherType::parse("lldp"), Ok(EtherType(0x88cc)));
        assert_eq!(EtherType::parse("LLDP"), Ok(EtherType(0x88cc)));
        assert_eq!(EtherType::parse("0x88cc"), Ok(EtherType(0x88cc)));
        assert_eq!(EtherType::parse("0X88CC"), Ok(EtherType(0x88cc)));
        assert_eq!(EtherType::parse("pppoe-session"), Ok(EtherType(0x8864)));
        assert_eq!(EtherType::parse("mpls"), Ok(EtherType(0x8847)));
        assert_eq!(EtherType::from_number(0x88cc), Ok(EtherType(0x88cc)));
        assert_eq!(EtherType(0x88cc).to_string(), "0x88cc (lldp)");
        assert_eq!(EtherType(0x88b5).to_string(), "0x88b5");
        // Every name reads back as itself.
        for (n, v) in NAMES {
            assert_eq!(EtherType::parse(n), Ok(EtherType(*v)));
            assert_eq!(EtherType(*v).name(), Some(*n));
        }
    }

    #[test]
    fn lengths_junk_and_too_big_are_rejected() {
        assert_eq!(
            EtherType::parse("0x05ff"),
            Err(EtherTypeError::OutOfRange(0x5ff))
        );
        assert_eq!(
            EtherType::parse("0x10000"),
            Err(EtherTypeError::OutOfRange(0x10000))
        );
        assert_eq!(
            EtherType::from_number(-1),
            Err(EtherTypeError::OutOfRange(-1))
        );
        assert!(EtherTypeError::OutOfRange(-1)
            .to_string()
            .starts_with("-1 is not an EtherType"));
        let e = EtherType::parse("88cc").unwrap_err().to_string();
        assert!(e.starts_with("\"88cc\" is not an EtherType: expected a hex value like \"0x88cc\" or a name (ipv4, arp,"), "{e}");
        assert!(EtherType::parse("0x").is_err());
        assert!(EtherType::parse("0x-1").is_err());
        assert!(EtherType::parse("0x+88cc").is_err());
        assert!(EtherType::parse("").is_err());
    }

    #[test]
    fn the_types_that_hide_ip_from_the_switch() {
        for t in [0x8847, 0x8848, 0x8864, 0x8100, 0x88a8, 0x9100, 0x88e5] {
            assert!(EtherType(t).hides_ip().is_some(), "{t:#x}");
        }
        for t in [0x0800, 0x0806, 0x86dd, 0x88cc, 0x8863, 0x888e] {
            assert!(EtherType(t).hides_ip().is_none(), "{t:#x}");
        }
    }
}
