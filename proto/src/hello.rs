//! OFPT_HELLO and its elements (spec 7.5.1): version negotiation by bitmap.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::consts::OFPHET_VERSIONBITMAP;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::reader::Reader;
use crate::tlv::{self, TlvLen};
use crate::writer;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Hello {
    pub elements: Vec<HelloElement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HelloElement {
    /// Bit n of the bitmap set means version n is supported; word 0 holds versions 0-31.
    VersionBitmap(Vec<u32>),
    /// Any other element: its type and body (after the 4-byte header, before padding).
    Unknown { typ: u16, body: Bytes },
}

impl Hello {
    /// A hello advertising exactly `versions` in a version bitmap.
    pub fn with_versions(versions: &[u8]) -> Self {
        let words = versions
            .iter()
            .map(|v| usize::from(*v) / 32 + 1)
            .max()
            .unwrap_or(0);
        let mut bitmap = vec![0u32; words];
        for v in versions {
            bitmap[usize::from(*v) / 32] |= 1 << (v % 32);
        }
        Hello {
            elements: vec![HelloElement::VersionBitmap(bitmap)],
        }
    }

    /// Whether the peer advertised `version` in a bitmap; `None` when it sent no bitmap (then the
    /// header version alone decides, spec 6.3.1).
    pub fn supports(&self, version: u8) -> Option<bool> {
        self.elements.iter().find_map(|e| match e {
            HelloElement::VersionBitmap(words) => {
                let w = words.get(usize::from(version) / 32).copied().unwrap_or(0);
                Some(w & (1 << (version % 32)) != 0)
            }
            HelloElement::Unknown { .. } => None,
        })
    }
}

impl Codec for Hello {
    const NAME: &'static str = "ofp_hello";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut elements = Vec::new();
        for t in tlv::tlv_list(r, TlvLen::ExcludesPadding)? {
            let body = &t.whole[4..];
            if t.typ == OFPHET_VERSIONBITMAP {
                if body.len() % 4 != 0 {
                    return Err(r.error_at(
                        t.offset,
                        DecodeErrorKind::BadLength {
                            declared: t.whole.len(),
                            rule: "version bitmap not whole 32-bit words",
                        },
                    ));
                }
                let words = body
                    .chunks_exact(4)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                elements.push(HelloElement::VersionBitmap(words));
            } else {
                elements.push(HelloElement::Unknown {
                    typ: t.typ,
                    body: Bytes::copy_from_slice(body),
                });
            }
        }
        Ok(Hello { elements })
    }

    fn encode(&self, out: &mut BytesMut) {
        for e in &self.elements {
            let start = out.len();
            match e {
                HelloElement::VersionBitmap(words) => {
                    out.put_u16(OFPHET_VERSIONBITMAP);
                    let at = writer::placeholder_u16(out);
                    for w in words {
                        out.put_u32(*w);
                    }
                    writer::patch_len_since(out, at, start);
                }
                HelloElement::Unknown { typ, body } => {
                    out.put_u16(*typ);
                    let at = writer::placeholder_u16(out);
                    out.put_slice(body);
                    writer::patch_len_since(out, at, start);
                }
            }
            writer::pad_to_8(out, start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_for_1_3() {
        let h = Hello::with_versions(&[4]);
        assert_eq!(h.to_vec(), [0, 1, 0, 8, 0, 0, 0, 0x10]);
        assert_eq!(h.supports(4), Some(true));
        assert_eq!(h.supports(1), Some(false));
        assert_eq!(h.supports(200), Some(false));
        assert_eq!(Hello::default().supports(4), None);
    }
}
