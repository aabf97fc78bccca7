//! What every multipart request and reply starts with after the OpenFlow header (spec 7.3.5:
//! `ofp_multipart_request` and `ofp_multipart_reply` share it): the multipart type, the flags,
//! then 4 pad bytes.

use bytes::{BufMut, BytesMut};

use crate::error::DecodeError;
use crate::reader::Reader;

/// Reads the multipart type and flags, then skips the 4 pad bytes.
pub(super) fn read_multipart_header(r: &mut Reader<'_>) -> Result<(u16, u16), DecodeError> {
    let mp_type = r.u16()?;
    let flags = r.u16()?;
    r.pad(4)?;
    Ok((mp_type, flags))
}

/// Writes the multipart type and flags, then 4 zero pad bytes.
pub(super) fn write_multipart_header(out: &mut BytesMut, mp_type: u16, flags: u16) {
    out.put_u16(mp_type);
    out.put_u16(flags);
    out.put_u32(0);
}
