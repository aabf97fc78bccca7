//! Typed decode errors: which structure, at which byte offset of the frame, and why.
//! Every error maps to the OpenFlow error a switch or controller should send back.

use crate::error_codes::{
    ErrorType, OFPBAC_BAD_LEN, OFPBIC_BAD_LEN, OFPBMC_BAD_LEN, OFPBMC_BAD_TYPE, OFPBRC_BAD_LEN,
    OFPBRC_BAD_VERSION, OFPMMFC_BAD_BAND, OFPTFFC_BAD_LEN,
};

/// The part of the protocol a decode error happened in; decides which OpenFlow error type answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The 8-byte header or a message body's fixed part.
    Message,
    /// An `ofp_match` or one of its OXM TLVs.
    Match,
    /// An action TLV.
    Action,
    /// An instruction TLV.
    Instruction,
    /// A meter band.
    MeterBand,
    /// A table-features body or property.
    TableFeatures,
}

/// Why a decode failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DecodeErrorKind {
    /// Fewer bytes remain than the structure needs.
    #[error("truncated: needed {needed} bytes, {available} available")]
    Truncated { needed: usize, available: usize },
    /// A length field holds a value the layout forbids (too small, not a multiple of 8...).
    #[error("bad length field {declared}: {rule}")]
    BadLength { declared: usize, rule: &'static str },
    /// A length field claims more bytes than its enclosing structure holds.
    #[error("length lies: declares {declared} bytes, only {available} available")]
    LengthLies { declared: usize, available: usize },
    /// The header's length differs from the size of the frame handed to the decoder.
    #[error("header length {declared} but frame holds {actual} bytes")]
    FrameLengthMismatch { declared: usize, actual: usize },
    /// Bytes remain after a fixed-size structure or a body that must be empty.
    #[error("{count} trailing bytes")]
    TrailingBytes { count: usize },
    /// A version other than OpenFlow 1.3 (0x04) on a message whose layout depends on it.
    #[error("unsupported OpenFlow version {version:#04x}")]
    BadVersion { version: u8 },
    /// `ofp_match.type` is not OFPMT_OXM.
    #[error("match type {match_type} is not OFPMT_OXM (1)")]
    BadMatchType { match_type: u16 },
    /// An OpenFlow-basic OXM whose payload length does not fit its field.
    #[error(
        "OXM field {field} (hasmask={hasmask}) has payload length {length}, expected {expected}"
    )]
    BadOxmLength {
        field: u8,
        hasmask: bool,
        length: u8,
        expected: u8,
    },
    /// Padding or reserved bytes that the spec requires to be zero are not.
    #[error("non-zero padding")]
    BadPadding,
    /// A fixed-width string field is not NUL-terminated UTF-8 followed by NUL bytes only.
    #[error("fixed-width string is not NUL-padded UTF-8")]
    BadString,
}

/// A failed decode: which message type (when known), which structure, the byte offset from the
/// start of the frame, and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("decoding {context}{} at byte {offset}: {kind}", msg_type_suffix(*.msg_type))]
pub struct DecodeError {
    /// `ofp_header.type` of the message being decoded, once the header was read.
    pub msg_type: Option<u8>,
    /// Name of the innermost structure being decoded (spec names: "ofp_match", "ofp_action_output"...).
    pub context: &'static str,
    /// Part of the protocol, for [`DecodeError::to_ofp_error`].
    pub scope: Scope,
    /// Byte offset from the start of the frame (or of the slice given to a standalone decode).
    pub offset: usize,
    /// Why.
    pub kind: DecodeErrorKind,
}

fn msg_type_suffix(t: Option<u8>) -> String {
    match t {
        Some(t) => format!(" (message type {t})"),
        None => String::new(),
    }
}

impl DecodeError {
    /// The OpenFlow error (type, code) to answer the offending message with.
    pub fn to_ofp_error(&self) -> (u16, u16) {
        use DecodeErrorKind as K;
        if let K::BadVersion { .. } = self.kind {
            return (ErrorType::BadRequest as u16, OFPBRC_BAD_VERSION);
        }
        match self.scope {
            Scope::Match => match self.kind {
                K::BadMatchType { .. } => (ErrorType::BadMatch as u16, OFPBMC_BAD_TYPE),
                _ => (ErrorType::BadMatch as u16, OFPBMC_BAD_LEN),
            },
            Scope::Action => (ErrorType::BadAction as u16, OFPBAC_BAD_LEN),
            Scope::Instruction => (ErrorType::BadInstruction as u16, OFPBIC_BAD_LEN),
            Scope::MeterBand => (ErrorType::MeterModFailed as u16, OFPMMFC_BAD_BAND),
            Scope::TableFeatures => (ErrorType::TableFeaturesFailed as u16, OFPTFFC_BAD_LEN),
            Scope::Message => (ErrorType::BadRequest as u16, OFPBRC_BAD_LEN),
        }
    }

    /// Whether the frame was cut short (fewer bytes than a length field or layout requires).
    pub fn is_truncation(&self) -> bool {
        matches!(
            self.kind,
            DecodeErrorKind::Truncated { .. }
                | DecodeErrorKind::LengthLies { .. }
                | DecodeErrorKind::FrameLengthMismatch { .. }
        )
    }
}
