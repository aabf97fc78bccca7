//! IP prefixes from the policy: relays and exempt sources.
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// Why a prefix was rejected. The Display is what the operator reads after the location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Not an address or address/length at all.
    #[error("{text:?} is not an IP prefix: expected an address like \"192.0.2.25\" or a prefix like \"192.0.2.0/24\" or \"2001:db8::/32\"")]
    Malformed {
        /// What was given.
        text: String,
    },
    /// A prefix length longer than the address.
    #[error("{text:?} has prefix length /{len}, but an {family} prefix is at most /{max}")]
    LengthTooLong {
        /// What was given.
        text: String,
        /// The length given.
        len: String,
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// 32 or 128.
        max: u8,
    },
    /// Bits set beyond the mask: the switch would reject it (OFPBMC_BAD_WILDCARDS) or the
    /// operator meant something else.
    #[error("{text:?} has host bits set beyond /{len} (did you mean {suggestion}?)")]
    HostBits {
        /// What was given.
        text: String,
        /// The prefix length.
        len: u8,
        /// The network the operator probably meant.
        suggestion: IpNet,
    },
}

/// A validated IPv4 or IPv6 prefix with no host bits set. A bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpPrefix(IpNet);

impl IpPrefix {
    /// Parses `text`, rejecting host bits beyond the mask.
    pub fn parse(text: &str) -> Result<IpPrefix, PrefixError> {
        let t = text.trim();
        let (addr_text, len_text) = match t.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (t, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| PrefixError::Malformed {
            text: text.to_string(),
        })?;
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len_text {
            None => max,
            Some(l) => {
                if l.is_empty() || l.len() > 3 || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(PrefixError::Malformed {
                        text: text.to_string(),
                    });
                }
                let n: u16 = l.parse().map_err(|_| PrefixError::Malformed {
                    text: text.to_string(),
                })?;
                let Some(n) = u8::try_from(n).ok().filter(|n| *n <= max) else {
                    return Err(PrefixError::LengthTooLong {
                        text: text.to_string(),
                        len: l.to_string(),
                        family: if addr.is_ipv4() { "IPv4" } else { "IPv6" },
                        max,
                    });
                };
                n
            }
        };
        let net = IpNet::new(addr, len).map_err(|_| PrefixError::Malformed {
            text: text.to_string(),
        })?;
        let trunc = net.trunc();
        if trunc != net {
            return Err(PrefixError::HostBits {
                text: text.to_string(),
                len,
                suggestion: trunc,
            });
        }
        Ok(IpPrefix(net))
    }

    /// The network.
    pub fn net(&self) -> IpNet {
        self.0
    }

    /// True for IPv4.
    pub fn is_ipv4(&self) -> bool {
        matches!(self.0, IpNet::V4(_))
    }

    /// True when the prefix covers every address of its family (`0.0.0.0/0`, `::/0`).
    pub fn is_everything(&self) -> bool {
        self.0.prefix_len() == 0
    }
}

impl From<IpNet> for IpPrefix {
    fn from(n: IpNet) -> Self {
        IpPrefix(n.trunc())
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bare_addresses_are_host_prefixes() {
        assert_eq!(
            IpPrefix::parse("192.0.2.25").unwrap().to_string(),
            "192.0.2.25/32"
        );
        assert_eq!(
            IpPrefix::parse("2001:db8::25").unwrap().to_string(),
            "2001:db8::25/128"
        );
    }

    #[test]
    fn host_bits_suggest_the_network() {
        let e = IpPrefix::parse("192.0.2.1/24").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"192.0.2.1/24\" has host bits set beyond /24 (did you mean 192.0.2.0/24?)"
        );
        let e = IpPrefix::parse("2001:db8::1/32").unwrap_err();
        assert!(e.to_string().contains("did you mean 2001:db8::/32?"), "{e}");
    }

    #[test]
    fn rejects_malformed_and_too_long() {
        assert!(matches!(
            IpPrefix::parse("relay.example"),
            Err(PrefixError::Malformed { .. })
        ));
        assert!(matches!(
            IpPrefix::parse("192.0.2.0/"),
            Err(PrefixError::Malformed { .. })
        ));
        assert!(matches!(
            IpPrefix::parse("192.0.2.0/-1"),
            Err(PrefixError::Malformed { .. })
        ));
        assert!(matches!(
            IpPrefix::parse("192.0.2.0/24/1"),
            Err(PrefixError::Malformed { .. })
        ));
        let e = IpPrefix::parse("192.0.2.0/33").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"192.0.2.0/33\" has prefix length /33, but an IPv4 prefix is at most /32"
        );
        assert!(matches!(
            IpPrefix::parse("::/129"),
            Err(PrefixError::LengthTooLong { max: 128, .. })
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,60}") {
            let _ = IpPrefix::parse(&s);
        }

        #[test]
        fn accepts_exactly_the_truncated_networks(a: [u8; 4], len in 0u8..=32) {
            let addr = std::net::Ipv4Addr::from(a);
            let text = format!("{addr}/{len}");
            let net = IpNet::new(addr.into(), len).unwrap();
            match IpPrefix::parse(&text) {
                Ok(p) => prop_assert_eq!(p.net(), net),
                Err(PrefixError::HostBits { suggestion, .. }) => {
                    prop_assert_ne!(net.trunc(), net);
                    prop_assert_eq!(suggestion, net.trunc());
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
