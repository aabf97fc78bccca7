//! Certificate fingerprints: the SHA-256 of a certificate's DER bytes, which binds a switch's
//! dpid to the one certificate that may claim it (`[[switch]] cert_sha256`).
use serde::de::{self, Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;

/// The SHA-256 of a certificate's DER encoding. Parses 64 hex digits, upper or lower case, with
/// or without colons between the bytes (`openssl x509 -noout -fingerprint -sha256` prints
/// `AB:CD:...`); displays the way openssl prints it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CertSha256(pub [u8; 32]);

/// A fingerprint that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid certificate SHA-256 {text:?}: expected 64 hex digits (32 bytes), colons between bytes allowed, as `openssl x509 -noout -fingerprint -sha256 -in CERT` prints it")]
pub struct CertSha256ParseError {
    /// What was given.
    pub text: String,
}

impl FromStr for CertSha256 {
    type Err = CertSha256ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CertSha256ParseError {
            text: s.to_string(),
        };
        let t = s.trim();
        let t = t
            .strip_prefix("sha256:")
            .or_else(|| t.strip_prefix("SHA256:"))
            .unwrap_or(t);
        let digits: Vec<u8> = if t.contains(':') {
            let groups: Vec<&str> = t.split(':').collect();
            if groups.len() != 32 || groups.iter().any(|g| g.len() != 2) {
                return Err(err());
            }
            groups.concat().into_bytes()
        } else {
            t.as_bytes().to_vec()
        };
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| err())?;
            out[i] = u8::from_str_radix(text, 16).map_err(|_| err())?;
        }
        Ok(CertSha256(out))
    }
}

impl fmt::Display for CertSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CertSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertSha256({self})")
    }
}

impl<'de> Deserialize<'de> for CertSha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn parses_plain_and_colon_hex_in_either_case() {
        let plain: CertSha256 = HEX.parse().expect("plain hex");
        let colons: CertSha256 = plain.to_string().parse().expect("its own display");
        let upper: CertSha256 = HEX.to_uppercase().parse().expect("upper case");
        let prefixed: CertSha256 = format!("sha256:{HEX}").parse().expect("prefixed");
        assert_eq!(plain, colons);
        assert_eq!(plain, upper);
        assert_eq!(plain, prefixed);
        assert_eq!(plain.0[0], 0x00);
        assert_eq!(plain.0[10], 0xaa);
        assert_eq!(plain.0[31], 0xff);
    }

    #[test]
    fn displays_like_openssl() {
        let f: CertSha256 = HEX.parse().expect("hex");
        let shown = f.to_string();
        assert!(
            shown.starts_with("00:11:22:33:44:55:66:77:88:99:AA:BB"),
            "{shown}"
        );
        assert_eq!(shown.len(), 32 * 3 - 1);
    }

    #[test]
    fn refuses_wrong_lengths_and_non_hex() {
        for bad in [
            "",
            &HEX[..62],
            &format!("{HEX}00"),
            &HEX.replace('a', "g"),
            "00:11",
            &format!("0:{}", &HEX[1..]),
            &HEX.chars()
                .collect::<Vec<_>>()
                .chunks(2)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-"),
        ] {
            assert!(
                bad.parse::<CertSha256>().is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
