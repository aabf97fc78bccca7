//! Bytes as a classic hex dump: payloads, undecoded bodies and the data of errors.

use std::fmt::Write as _;

/// Classic 16-bytes-per-line hex dump, each line indented by two spaces.
pub fn hexdump(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, "  {:08x} ", i * 16);
        for (j, b) in chunk.iter().enumerate() {
            let _ = write!(out, "{}{b:02x}", if j == 8 { "  " } else { " " });
        }
        for j in chunk.len()..16 {
            out.push_str(if j == 8 { "    " } else { "   " });
        }
        out.push_str("  |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexdump_lines() {
        let d: Vec<u8> = (0u8..20).collect();
        let text = hexdump(&d);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("  00000000  00 01 02 03 04 05 06 07  08 09"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("  00000010  10 11 12 13"),
            "{}",
            lines[1]
        );
        assert_eq!(hexdump(&[]), "");
    }
}
