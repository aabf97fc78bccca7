//! Where in the policy file something is: byte offsets turned into the line:column an operator reads.
use std::fmt;
use std::ops::Range;

/// A 1-based line and column (counted in characters) in a named file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file name as the operator gave it (e.g. `policy.toml`).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text's end).
    pub fn at(origin: &str, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        // Walk back to a char boundary so slicing cannot panic.
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            origin: origin.to_string(),
            line,
            column,
        }
    }

    /// The location of the start of `span`.
    pub fn of_span(origin: &str, text: &str, span: &Range<usize>) -> Self {
        Self::at(origin, text, span.start)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.origin, self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_character_is_line_one_column_one() {
        assert_eq!(Location::at("f", "abc", 0).to_string(), "f:1:1");
    }

    #[test]
    fn counts_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        // 'x' is at byte 12: line 2, after `bé = "` (6 characters).
        let off = text.find('x').unwrap();
        assert_eq!(Location::at("p.toml", text, off).to_string(), "p.toml:2:7");
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_do_not_panic() {
        let text = "é";
        assert_eq!(Location::at("f", text, 1).column, 1);
        assert_eq!(Location::at("f", text, 99).column, 2);
    }
}
