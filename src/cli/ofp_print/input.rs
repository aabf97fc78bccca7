//! Where `op25b ofp-print` gets its bytes: hex on the command line, or a file holding raw
//! OpenFlow bytes or hex text.

use std::path::{Path, PathBuf};

/// Why the input could not be turned into bytes.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: character {found:?} at position {position} is not a hex digit")]
    NotHex {
        origin: String,
        found: char,
        position: usize,
    },
    #[error("{origin}: odd number of hex digits ({count})")]
    OddDigits { origin: String, count: usize },
    #[error("{origin}: no bytes")]
    Empty { origin: String },
}

/// Parses hex text: digits in either case, with any whitespace, `:` or `-` between them, and an
/// optional `0x` before each group. `origin` names the text in errors.
pub fn parse_hex(text: &str, origin: &str) -> Result<Vec<u8>, InputError> {
    let mut digits = Vec::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_group = i == 0 || is_separator(chars[i - 1]);
        if starts_group && c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
            i += 2;
            continue;
        }
        if let Some(d) = c.to_digit(16) {
            // to_digit(16) is at most 15.
            digits.push(u8::try_from(d).unwrap_or(0));
        } else if !is_separator(c) {
            return Err(InputError::NotHex {
                origin: origin.to_string(),
                found: c,
                position: i,
            });
        }
        i += 1;
    }
    if digits.len() % 2 != 0 {
        return Err(InputError::OddDigits {
            origin: origin.to_string(),
            count: digits.len(),
        });
    }
    if digits.is_empty() {
        return Err(InputError::Empty {
            origin: origin.to_string(),
        });
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == ':' || c == '-'
}

/// Reads a file: hex text if every byte is a hex digit, `x`, a separator or whitespace (a file of
/// OpenFlow bytes never is: its first byte is the version, 0x04), raw bytes otherwise.
pub fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    let data = std::fs::read(path).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    if data.is_empty() {
        return Err(InputError::Empty { origin });
    }
    let looks_hex = data.iter().all(|b| {
        b.is_ascii_hexdigit() || b.is_ascii_whitespace() || matches!(b, b':' | b'-' | b'x' | b'X')
    });
    match std::str::from_utf8(&data) {
        Ok(text) if looks_hex => parse_hex(text, &origin),
        _ => Ok(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_spaces_colons_and_prefixes() {
        assert_eq!(parse_hex("04 00 00 08", "arg").unwrap(), vec![4, 0, 0, 8]);
        assert_eq!(parse_hex("0x04000008\n", "arg").unwrap(), vec![4, 0, 0, 8]);
        assert_eq!(
            parse_hex("04:00:00:08 0x00 0X01", "arg").unwrap(),
            vec![4, 0, 0, 8, 0, 1]
        );
        assert_eq!(parse_hex("AbCd", "arg").unwrap(), vec![0xab, 0xcd]);
    }

    #[test]
    fn a_zero_inside_a_group_is_a_digit_not_a_prefix() {
        assert_eq!(
            parse_hex("100x", "arg")
                .map_err(|e| e.to_string())
                .unwrap_err(),
            "arg: character 'x' at position 3 is not a hex digit"
        );
        assert_eq!(parse_hex("0a0b", "arg").unwrap(), vec![0x0a, 0x0b]);
    }

    #[test]
    fn rejects_non_hex_odd_and_empty() {
        assert!(matches!(
            parse_hex("04 0g", "arg"),
            Err(InputError::NotHex {
                found: 'g',
                position: 4,
                ..
            })
        ));
        assert!(matches!(
            parse_hex("040", "arg"),
            Err(InputError::OddDigits { count: 3, .. })
        ));
        assert!(matches!(
            parse_hex(" \n", "arg"),
            Err(InputError::Empty { .. })
        ));
    }

    #[test]
    fn file_of_raw_bytes_or_hex_text() {
        let dir =
            std::env::temp_dir().join(format!("op25b-ofp-print-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = dir.join("raw.bin");
        std::fs::write(&raw, [4u8, 2, 0, 8, 0, 0, 0, 1]).unwrap();
        assert_eq!(read_file(&raw).unwrap(), vec![4, 2, 0, 8, 0, 0, 0, 1]);
        let text = dir.join("msg.hex");
        std::fs::write(&text, "04 02 00 08\n00 00 00 01\n").unwrap();
        assert_eq!(read_file(&text).unwrap(), vec![4, 2, 0, 8, 0, 0, 0, 1]);
        assert!(matches!(
            read_file(&dir.join("missing")),
            Err(InputError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
