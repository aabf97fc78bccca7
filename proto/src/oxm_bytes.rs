//! The value or mask of one OXM field as it is on the wire (at most 16 bytes, an IPv6 address),
//! held inline so encoding a match allocates nothing.

use std::ops::Deref;

/// Up to 16 wire bytes of an OXM value or mask; derefs to the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OxmBytes {
    buf: [u8; 16],
    len: u8,
}

impl OxmBytes {
    /// The first `N` bytes of `b` (`N` at most 16; every OpenFlow-basic field fits).
    pub(crate) fn from_array<const N: usize>(b: [u8; N]) -> Self {
        const { assert!(N <= 16) };
        let mut buf = [0u8; 16];
        buf[..N].copy_from_slice(&b);
        #[allow(
            clippy::cast_possible_truncation,
            reason = "N <= 16, asserted at compile time"
        )]
        OxmBytes { buf, len: N as u8 }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl Deref for OxmBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exactly_the_given_bytes() {
        assert_eq!(&*OxmBytes::from_array([1, 2, 3]), &[1, 2, 3]);
        assert_eq!(OxmBytes::from_array([7u8; 16]).len(), 16);
        assert!(OxmBytes::from_array([]).is_empty());
    }
}
