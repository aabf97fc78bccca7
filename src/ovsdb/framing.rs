//! OVSDB's JSON-RPC stream is JSON texts back to back, with no length or delimiter between
//! them (RFC 7047 section 4). [`JsonFramer`] finds where each top-level object ends by
//! counting brackets outside strings, once per byte, however the bytes arrive, and only then
//! hands the complete text to `serde_json`. Pure: bytes in, values out.
use serde_json::Value;

/// The largest single message accepted: a database with thousands of bridges answers a
/// `monitor` with a few MB; anything past this is refused instead of buffered.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Why the stream cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// A top-level value that is not an object or array.
    #[error("expected a JSON object, found byte {0:#04x}")]
    NotAnObject(u8),
    /// The brackets balanced but the text is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// One message larger than [`MAX_MESSAGE_BYTES`].
    #[error("a message longer than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
}

/// Bytes in, complete JSON values out.
#[derive(Debug, Default)]
pub struct JsonFramer {
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned.
    scanned: usize,
    /// Where the value being scanned starts, once its first bracket is seen.
    start: Option<usize>,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl JsonFramer {
    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete value, `None` when more bytes are needed.
    pub fn next_value(&mut self) -> Result<Option<Value>, FramingError> {
        while self.scanned < self.buf.len() {
            let i = self.scanned;
            let b = self.buf[i];
            self.scanned += 1;
            if self.start.is_none() {
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => continue,
                    b'{' | b'[' => {
                        self.start = Some(i);
                        self.depth = 1;
                        continue;
                    }
                    other => return Err(FramingError::NotAnObject(other)),
                }
            }
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let start = self.start.take().unwrap_or(0);
                        let parsed = serde_json::from_slice(&self.buf[start..=i])
                            .map_err(|e| FramingError::Json(e.to_string()));
                        self.buf.drain(..=i);
                        self.scanned = 0;
                        return parsed.map(Some);
                    }
                }
                _ => {}
            }
        }
        let pending = self.start.map_or(0, |s| self.buf.len() - s);
        if pending > MAX_MESSAGE_BYTES {
            return Err(FramingError::TooLarge);
        }
        if self.start.is_none() {
            // Only whitespace so far: nothing to keep.
            self.buf.clear();
            self.scanned = 0;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(f: &mut JsonFramer) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = f.next_value().expect("valid") {
            out.push(v);
        }
        out
    }

    #[test]
    fn values_back_to_back_split_anywhere_come_out_whole() {
        let text = br#"{"id":1,"result":{"a":"}{]["},"error":null}  {"method":"echo","params":["\"\\"],"id":"echo"}[1,[2]]"#;
        for cut in 0..text.len() {
            let mut f = JsonFramer::default();
            f.push(&text[..cut]);
            let mut got = all(&mut f);
            f.push(&text[cut..]);
            got.extend(all(&mut f));
            assert_eq!(
                got,
                vec![
                    json!({"id": 1, "result": {"a": "}{]["}, "error": null}),
                    json!({"method": "echo", "params": ["\"\\"], "id": "echo"}),
                    json!([1, [2]]),
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_hang() {
        let mut f = JsonFramer::default();
        f.push(b"HTTP/1.1 400");
        assert_eq!(f.next_value(), Err(FramingError::NotAnObject(b'H')));
        let mut f = JsonFramer::default();
        f.push(b"{\"a\" 1}");
        assert!(matches!(f.next_value(), Err(FramingError::Json(_))));
    }

    #[test]
    fn an_endless_message_is_refused() {
        let mut f = JsonFramer::default();
        f.push(b"[\"");
        let chunk = vec![b'x'; 1024 * 1024];
        let mut result = Ok(None);
        for _ in 0..=64 {
            f.push(&chunk);
            result = f.next_value();
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(FramingError::TooLarge));
    }
}
