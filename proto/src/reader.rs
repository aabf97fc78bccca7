//! A bounds-checked cursor over an already-framed slice (after rustls' `Reader`): every read
//! checks the remaining length first, so no accessor can panic, and every error carries the
//! absolute offset and the name of the structure being read.

use bytes::Bytes;

use crate::error::{DecodeError, DecodeErrorKind, Scope};

/// Cursor over `buf`, whose first byte sits at `base` bytes from the start of the frame.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    context: &'static str,
    scope: Scope,
}

impl<'a> Reader<'a> {
    /// A reader over a whole frame or standalone structure.
    pub fn new(buf: &'a [u8], context: &'static str, scope: Scope) -> Self {
        Reader::with_base(buf, 0, context, scope)
    }

    /// A reader over `buf`, which starts `base` bytes into the frame (so error offsets stay absolute).
    pub fn with_base(buf: &'a [u8], base: usize, context: &'static str, scope: Scope) -> Self {
        Reader {
            buf,
            pos: 0,
            base,
            context,
            scope,
        }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The structure name errors are reported against.
    pub fn context(&self) -> &'static str {
        self.context
    }

    /// The scope errors are reported against.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// An error at the current offset.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        self.error_at(self.offset(), kind)
    }

    /// An error at an absolute offset.
    pub fn error_at(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            msg_type: None,
            context: self.context,
            scope: self.scope,
            offset,
            kind,
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let s = self.peek(n)?;
        self.pos += n;
        Ok(s)
    }

    /// Takes every remaining byte.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Takes every remaining byte as an owned `Bytes`.
    pub fn rest_bytes(&mut self) -> Bytes {
        Bytes::copy_from_slice(self.rest())
    }

    /// A sub-reader over the next `n` bytes, for length-bounded parsing; `n` beyond what is left is a
    /// lying length field.
    pub fn sub(
        &mut self,
        n: usize,
        context: &'static str,
        scope: Scope,
    ) -> Result<Reader<'a>, DecodeError> {
        if self.remaining() < n {
            return Err(self.error(DecodeErrorKind::LengthLies {
                declared: n,
                available: self.remaining(),
            }));
        }
        let base = self.offset();
        let buf = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(Reader::with_base(buf, base, context, scope))
    }

    /// A sub-reader over everything left.
    pub fn sub_rest(&mut self, context: &'static str, scope: Scope) -> Reader<'a> {
        let base = self.offset();
        let buf = self.rest();
        Reader::with_base(buf, base, context, scope)
    }

    /// Looks at the next `n` bytes without consuming them.
    pub fn peek(&self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.error(DecodeErrorKind::Truncated {
                needed: n,
                available: self.remaining(),
            }));
        }
        Ok(&self.buf[self.pos..self.pos + n])
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let b = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// Skips `n` padding bytes. The spec makes every pad field zero; a non-zero one is rejected so
    /// that whatever decodes also re-encodes byte for byte.
    pub fn pad(&mut self, n: usize) -> Result<(), DecodeError> {
        let at = self.offset();
        let b = self.take(n)?;
        if b.iter().any(|&x| x != 0) {
            return Err(self.error_at(at, DecodeErrorKind::BadPadding));
        }
        Ok(())
    }

    /// Reads a fixed-width, NUL-padded string field (`char name[N]`).
    pub fn fixed_str(&mut self, n: usize) -> Result<String, DecodeError> {
        let at = self.offset();
        let b = self.take(n)?;
        let end = b.iter().position(|&x| x == 0).unwrap_or(n);
        if b[end..].iter().any(|&x| x != 0) {
            return Err(self.error_at(at, DecodeErrorKind::BadString));
        }
        match std::str::from_utf8(&b[..end]) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(self.error_at(at, DecodeErrorKind::BadString)),
        }
    }

    /// Fails when bytes remain.
    pub fn expect_empty(&self) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return Err(self.error(DecodeErrorKind::TrailingBytes {
                count: self.remaining(),
            }));
        }
        Ok(())
    }
}
