//! Typed encode errors: what the wire cannot express.

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EncodeError {
    /// The message would be longer than the 65,535 bytes its 16-bit header length can say.
    /// Every inner length lies within the message, so this also covers any inner structure
    /// (match, action list, property) too long for its own 16-bit length.
    #[error(
        "message type {msg_type} encodes to {len} bytes, more than the {max} an OpenFlow \
         length can express",
        max = u16::MAX
    )]
    TooLong { msg_type: u8, len: usize },
}
