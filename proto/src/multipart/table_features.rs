//! `ofp_table_features` and its properties (spec 7.3.5.18). Experimenter and unknown properties
//! are kept raw.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Codec;
use crate::error::{DecodeError, DecodeErrorKind, Scope};
use crate::reader::Reader;
use crate::tlv::{self, TlvLen};
use crate::writer;

pub const OFPTFPT_INSTRUCTIONS: u16 = 0;
pub const OFPTFPT_INSTRUCTIONS_MISS: u16 = 1;
pub const OFPTFPT_NEXT_TABLES: u16 = 2;
pub const OFPTFPT_NEXT_TABLES_MISS: u16 = 3;
pub const OFPTFPT_WRITE_ACTIONS: u16 = 4;
pub const OFPTFPT_WRITE_ACTIONS_MISS: u16 = 5;
pub const OFPTFPT_APPLY_ACTIONS: u16 = 6;
pub const OFPTFPT_APPLY_ACTIONS_MISS: u16 = 7;
pub const OFPTFPT_MATCH: u16 = 8;
pub const OFPTFPT_WILDCARDS: u16 = 10;
pub const OFPTFPT_WRITE_SETFIELD: u16 = 12;
pub const OFPTFPT_WRITE_SETFIELD_MISS: u16 = 13;
pub const OFPTFPT_APPLY_SETFIELD: u16 = 14;
pub const OFPTFPT_APPLY_SETFIELD_MISS: u16 = 15;
pub const OFPTFPT_EXPERIMENTER: u16 = 0xfffe;
pub const OFPTFPT_EXPERIMENTER_MISS: u16 = 0xffff;

/// Fixed part of `ofp_table_features`.
pub const OFP_TABLE_FEATURES_LEN: usize = 64;
/// OFP_MAX_TABLE_NAME_LEN.
pub const OFP_MAX_TABLE_NAME_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableFeatures {
    pub table_id: u8,
    /// NUL-trimmed `name[32]`.
    pub name: String,
    pub metadata_match: u64,
    pub metadata_write: u64,
    pub config: u32,
    pub max_entries: u32,
    pub properties: Vec<TableFeatureProp>,
}

/// An instruction or action id in a table-features list: its type and, for experimenter ids,
/// the bytes after the 4-byte header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TlvId {
    pub typ: u16,
    pub data: Bytes,
}

/// An OXM id: a 32-bit OXM header, plus the experimenter id for class 0xffff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OxmId {
    pub header: u32,
    pub experimenter: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TableFeatureProp {
    /// OFPTFPT_INSTRUCTIONS (miss = false) or _MISS.
    Instructions {
        miss: bool,
        ids: Vec<TlvId>,
    },
    NextTables {
        miss: bool,
        tables: Vec<u8>,
    },
    WriteActions {
        miss: bool,
        ids: Vec<TlvId>,
    },
    ApplyActions {
        miss: bool,
        ids: Vec<TlvId>,
    },
    Match(Vec<OxmId>),
    Wildcards(Vec<OxmId>),
    WriteSetfield {
        miss: bool,
        ids: Vec<OxmId>,
    },
    ApplySetfield {
        miss: bool,
        ids: Vec<OxmId>,
    },
    /// Experimenter or unknown property: type and body (after the 4-byte header, before padding).
    Raw {
        typ: u16,
        body: Bytes,
    },
}

fn read_tlv_ids(r: &mut Reader<'_>) -> Result<Vec<TlvId>, DecodeError> {
    let mut v = Vec::new();
    while r.remaining() > 0 {
        let at = r.offset();
        let typ = r.u16()?;
        let len = usize::from(r.u16()?);
        if len < 4 {
            return Err(r.error_at(
                at,
                DecodeErrorKind::BadLength {
                    declared: len,
                    rule: "id shorter than 4",
                },
            ));
        }
        if len - 4 > r.remaining() {
            return Err(r.error_at(
                at,
                DecodeErrorKind::LengthLies {
                    declared: len,
                    available: r.remaining() + 4,
                },
            ));
        }
        let data = Bytes::copy_from_slice(r.take(len - 4)?);
        v.push(TlvId { typ, data });
    }
    Ok(v)
}

fn read_oxm_ids(r: &mut Reader<'_>) -> Result<Vec<OxmId>, DecodeError> {
    let mut v = Vec::new();
    while r.remaining() > 0 {
        let header = r.u32()?;
        let experimenter = if header >> 16 == 0xffff {
            Some(r.u32()?)
        } else {
            None
        };
        v.push(OxmId {
            header,
            experimenter,
        });
    }
    Ok(v)
}

impl TableFeatureProp {
    fn typ(&self) -> u16 {
        let pick = |miss: bool, a: u16, b: u16| if miss { b } else { a };
        match self {
            TableFeatureProp::Instructions { miss, .. } => {
                pick(*miss, OFPTFPT_INSTRUCTIONS, OFPTFPT_INSTRUCTIONS_MISS)
            }
            TableFeatureProp::NextTables { miss, .. } => {
                pick(*miss, OFPTFPT_NEXT_TABLES, OFPTFPT_NEXT_TABLES_MISS)
            }
            TableFeatureProp::WriteActions { miss, .. } => {
                pick(*miss, OFPTFPT_WRITE_ACTIONS, OFPTFPT_WRITE_ACTIONS_MISS)
            }
            TableFeatureProp::ApplyActions { miss, .. } => {
                pick(*miss, OFPTFPT_APPLY_ACTIONS, OFPTFPT_APPLY_ACTIONS_MISS)
            }
            TableFeatureProp::Match(_) => OFPTFPT_MATCH,
            TableFeatureProp::Wildcards(_) => OFPTFPT_WILDCARDS,
            TableFeatureProp::WriteSetfield { miss, .. } => {
                pick(*miss, OFPTFPT_WRITE_SETFIELD, OFPTFPT_WRITE_SETFIELD_MISS)
            }
            TableFeatureProp::ApplySetfield { miss, .. } => {
                pick(*miss, OFPTFPT_APPLY_SETFIELD, OFPTFPT_APPLY_SETFIELD_MISS)
            }
            TableFeatureProp::Raw { typ, .. } => *typ,
        }
    }

    fn from_tlv(t: tlv::Tlv<'_>) -> Result<Self, DecodeError> {
        let mut r = Reader::with_base(
            t.whole,
            t.offset,
            "ofp_table_feature_prop",
            Scope::TableFeatures,
        );
        r.take(4)?;
        let miss = t.typ % 2 == 1;
        Ok(match t.typ {
            OFPTFPT_INSTRUCTIONS | OFPTFPT_INSTRUCTIONS_MISS => TableFeatureProp::Instructions {
                miss,
                ids: read_tlv_ids(&mut r)?,
            },
            OFPTFPT_NEXT_TABLES | OFPTFPT_NEXT_TABLES_MISS => TableFeatureProp::NextTables {
                miss,
                tables: r.rest().to_vec(),
            },
            OFPTFPT_WRITE_ACTIONS | OFPTFPT_WRITE_ACTIONS_MISS => TableFeatureProp::WriteActions {
                miss,
                ids: read_tlv_ids(&mut r)?,
            },
            OFPTFPT_APPLY_ACTIONS | OFPTFPT_APPLY_ACTIONS_MISS => TableFeatureProp::ApplyActions {
                miss,
                ids: read_tlv_ids(&mut r)?,
            },
            OFPTFPT_MATCH => TableFeatureProp::Match(read_oxm_ids(&mut r)?),
            OFPTFPT_WILDCARDS => TableFeatureProp::Wildcards(read_oxm_ids(&mut r)?),
            OFPTFPT_WRITE_SETFIELD | OFPTFPT_WRITE_SETFIELD_MISS => {
                TableFeatureProp::WriteSetfield {
                    miss: t.typ == OFPTFPT_WRITE_SETFIELD_MISS,
                    ids: read_oxm_ids(&mut r)?,
                }
            }
            OFPTFPT_APPLY_SETFIELD | OFPTFPT_APPLY_SETFIELD_MISS => {
                TableFeatureProp::ApplySetfield {
                    miss: t.typ == OFPTFPT_APPLY_SETFIELD_MISS,
                    ids: read_oxm_ids(&mut r)?,
                }
            }
            typ => TableFeatureProp::Raw {
                typ,
                body: r.rest_bytes(),
            },
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        out.put_u16(self.typ());
        let at = writer::placeholder_u16(out);
        let tlv_ids = |ids: &[TlvId], out: &mut BytesMut| {
            for id in ids {
                out.put_u16(id.typ);
                out.put_u16(u16::try_from(4 + id.data.len()).unwrap_or(u16::MAX));
                out.put_slice(&id.data);
            }
        };
        let oxm_ids = |ids: &[OxmId], out: &mut BytesMut| {
            for id in ids {
                out.put_u32(id.header);
                if let Some(e) = id.experimenter {
                    out.put_u32(e);
                }
            }
        };
        match self {
            TableFeatureProp::Instructions { ids, .. }
            | TableFeatureProp::WriteActions { ids, .. }
            | TableFeatureProp::ApplyActions { ids, .. } => tlv_ids(ids, out),
            TableFeatureProp::NextTables { tables, .. } => out.put_slice(tables),
            TableFeatureProp::Match(ids)
            | TableFeatureProp::Wildcards(ids)
            | TableFeatureProp::WriteSetfield { ids, .. }
            | TableFeatureProp::ApplySetfield { ids, .. } => oxm_ids(ids, out),
            TableFeatureProp::Raw { body, .. } => out.put_slice(body),
        }
        writer::patch_len_since(out, at, start);
        writer::pad_to_8(out, start);
    }
}

impl Codec for TableFeatures {
    const NAME: &'static str = "ofp_table_features";
    const SCOPE: Scope = Scope::TableFeatures;

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let len = usize::from(r.u16()?);
        // Spec 7.3.5.18: "length: length is padded to 64 bits" and covers the 64-byte fixed part.
        if len < OFP_TABLE_FEATURES_LEN || len % 8 != 0 {
            return Err(r.error_at(
                at,
                DecodeErrorKind::BadLength {
                    declared: len,
                    rule: "ofp_table_features shorter than 64 or not a multiple of 8",
                },
            ));
        }
        let mut b = r.sub(len - 2, "ofp_table_features", Scope::TableFeatures)?;
        let table_id = b.u8()?;
        b.pad(5)?;
        let name = b.fixed_str(OFP_MAX_TABLE_NAME_LEN)?;
        let metadata_match = b.u64()?;
        let metadata_write = b.u64()?;
        let config = b.u32()?;
        let max_entries = b.u32()?;
        let mut properties = Vec::new();
        for t in tlv::tlv_list(&mut b, TlvLen::ExcludesPadding)? {
            properties.push(TableFeatureProp::from_tlv(t)?);
        }
        Ok(TableFeatures {
            table_id,
            name,
            metadata_match,
            metadata_write,
            config,
            max_entries,
            properties,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        let start = out.len();
        let at = writer::placeholder_u16(out);
        out.put_u8(self.table_id);
        out.put_bytes(0, 5);
        writer::fixed_str(out, &self.name, OFP_MAX_TABLE_NAME_LEN);
        out.put_u64(self.metadata_match);
        out.put_u64(self.metadata_write);
        out.put_u32(self.config);
        out.put_u32(self.max_entries);
        for p in &self.properties {
            p.encode(out);
        }
        writer::patch_len_since(out, at, start);
    }
}

/// Reads table-features entries until the reader is exhausted.
pub(crate) fn read_table_features(r: &mut Reader<'_>) -> Result<Vec<TableFeatures>, DecodeError> {
    let mut v = Vec::new();
    while r.remaining() > 0 {
        v.push(TableFeatures::read(r)?);
    }
    Ok(v)
}
