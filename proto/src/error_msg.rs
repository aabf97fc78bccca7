//! OFPT_ERROR (spec 7.5.4), including the experimenter error (type 0xffff).

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::error_codes;
use crate::reader::Reader;

/// OFPET_EXPERIMENTER.
pub const OFPET_EXPERIMENTER: u16 = 0xffff;

/// An error message. For `err_type == 0xffff` (experimenter) `code` holds `exp_type` and
/// `experimenter` the experimenter id; for every other type `experimenter` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorMsg {
    pub err_type: u16,
    pub code: u16,
    pub experimenter: Option<u32>,
    /// At least 64 bytes of the failed request, or an ASCII text for hello failures.
    pub data: Bytes,
}

impl ErrorMsg {
    /// A standard (non-experimenter) error.
    pub fn new(err_type: u16, code: u16, data: Bytes) -> Self {
        ErrorMsg {
            err_type,
            code,
            experimenter: None,
            data,
        }
    }

    /// An error answering `request`, carrying its first 64 bytes (spec 7.5.4: "at least 64
    /// bytes of the failed request").
    pub fn for_request(err_type: u16, code: u16, request: &[u8]) -> Self {
        let n = request.len().min(64);
        ErrorMsg::new(err_type, code, Bytes::copy_from_slice(&request[..n]))
    }

    /// "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ".
    pub fn describe(&self) -> String {
        error_codes::describe(self.err_type, self.code)
    }
}

impl DecodeError {
    /// The OFPT_ERROR body to answer the undecodable `frame` with: the mapped type and code and,
    /// as the spec asks, at least the first 64 bytes of the offending request.
    ///
    /// Lives here, not in `error.rs`, so that `error.rs` does not depend on the message it maps to.
    pub fn to_error_msg(&self, frame: &[u8]) -> ErrorMsg {
        let (err_type, code) = self.to_ofp_error();
        ErrorMsg::for_request(err_type, code, frame)
    }
}

impl std::fmt::Display for ErrorMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Codec for ErrorMsg {
    const NAME: &'static str = "ofp_error_msg";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let err_type = r.u16()?;
        let code = r.u16()?;
        let experimenter = if err_type == OFPET_EXPERIMENTER {
            Some(r.u32()?)
        } else {
            None
        };
        Ok(ErrorMsg {
            err_type,
            code,
            experimenter,
            data: r.rest_bytes(),
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.err_type);
        out.put_u16(self.code);
        if self.err_type == OFPET_EXPERIMENTER {
            out.put_u32(self.experimenter.unwrap_or(0));
        }
        out.put_slice(&self.data);
    }
}
