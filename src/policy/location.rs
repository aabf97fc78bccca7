//! Where in the policy file something is: byte offsets turned into the line:column an operator reads.
//!
//! [`Location::at`] scans the text from its start, fine for one lookup. Validation asks for a
//! location per mistake, and a file may hold tens of thousands of them (one line of 40,000
//! duplicate prefixes took 3.1 s by rescanning), so it builds a [`LineIndex`] once: line starts
//! and a character count every [`CHECKPOINT`] bytes, each lookup a binary search plus a count of
//! at most `CHECKPOINT` bytes.
use std::fmt;
use std::ops::Range;

/// Bytes between two character-count checkpoints of a [`LineIndex`].
const CHECKPOINT: usize = 1024;

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

/// One text's line starts and character-count checkpoints, built in one pass, for many
/// [`Location`]s.
#[derive(Debug)]
pub struct LineIndex<'a> {
    origin: &'a str,
    text: &'a str,
    /// Byte offset of each line's first character (the first is 0).
    line_starts: Vec<usize>,
    /// (byte offset on a character boundary, characters before it), about every
    /// [`CHECKPOINT`] bytes; the first is (0, 0).
    checkpoints: Vec<(usize, usize)>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`, the contents of the file named `origin`.
    pub fn new(origin: &'a str, text: &'a str) -> Self {
        let mut line_starts = vec![0];
        let mut checkpoints = vec![(0, 0)];
        let mut next_checkpoint = CHECKPOINT;
        for (chars, (byte, c)) in text.char_indices().enumerate() {
            if byte >= next_checkpoint {
                checkpoints.push((byte, chars));
                next_checkpoint = byte + CHECKPOINT;
            }
            if c == '\n' {
                line_starts.push(byte + 1);
            }
        }
        Self {
            origin,
            text,
            line_starts,
            checkpoints,
        }
    }

    /// The location of byte `offset` (clamped to the text's end, moved back to a character
    /// boundary): the same answer as [`Location::at`].
    pub fn at(&self, offset: usize) -> Location {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The line whose start is the last one at or before `offset`.
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.chars_before(offset) - self.chars_before(line_start) + 1;
        Location {
            origin: self.origin.to_string(),
            line,
            column,
        }
    }

    /// The location of the start of `span`.
    pub fn of_span(&self, span: &Range<usize>) -> Location {
        self.at(span.start)
    }

    /// Characters before byte `offset` (a character boundary): from the last checkpoint at or
    /// before it, counting at most about [`CHECKPOINT`] bytes.
    fn chars_before(&self, offset: usize) -> usize {
        let i = self.checkpoints.partition_point(|&(b, _)| b <= offset);
        let (byte, chars) = self.checkpoints[i - 1];
        chars + self.text[byte..offset].chars().count()
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
        let index = LineIndex::new("f", text);
        assert_eq!(index.at(1).column, 1);
        assert_eq!(index.at(99).column, 2);
    }

    #[test]
    fn the_index_agrees_with_the_scan_at_every_offset() {
        // Several lines, multi-byte characters, and lines longer than a checkpoint stride.
        let long = "é".repeat(700) + &"x".repeat(1500);
        let text = format!("a = 1\nbé = \"x\"\n\n{long}\n\u{1F600}z\n{long}");
        let index = LineIndex::new("p", &text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                index.at(offset),
                Location::at("p", &text, offset),
                "{offset}"
            );
        }
        assert_eq!(LineIndex::new("e", "").at(0).to_string(), "e:1:1");
    }
}
