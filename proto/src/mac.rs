//! Ethernet addresses.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet address; `Display` gives `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Why a string is not an Ethernet address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an Ethernet address (want aa:bb:cc:dd:ee:ff): {0:?}")]
pub struct ParseMacError(pub String);

impl FromStr for MacAddr {
    type Err = ParseMacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for slot in out.iter_mut() {
            let p = parts.next().ok_or_else(|| ParseMacError(s.to_owned()))?;
            if p.len() != 2 {
                return Err(ParseMacError(s.to_owned()));
            }
            *slot = u8::from_str_radix(p, 16).map_err(|_| ParseMacError(s.to_owned()))?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError(s.to_owned()));
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_parses_colon_hex() {
        let m = MacAddr([0xf2, 0x0b, 0xa4, 0xd0, 0x3f, 0x70]);
        assert_eq!(m.to_string(), "f2:0b:a4:d0:3f:70");
        assert_eq!("f2:0b:a4:d0:3f:70".parse::<MacAddr>(), Ok(m));
        assert!("f2:0b:a4:d0:3f".parse::<MacAddr>().is_err());
        assert!("f2:0b:a4:d0:3f:70:00".parse::<MacAddr>().is_err());
        assert!("g2:0b:a4:d0:3f:70".parse::<MacAddr>().is_err());
    }
}
