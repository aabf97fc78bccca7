//! From a controller's `Match` to a [`FlowMatch`]: the switch's checks (prerequisites,
//! duplicates, masks), then normalisation.

use op25b_proto::{Match, Oxm};

use crate::flow_match::{FieldKey, FlowMatch, MatchError, RawField};
use crate::table_error::TableError;

/// Checks `m` as a switch does before installing or selecting flows, and normalises it.
pub fn normalise(m: &Match) -> Result<FlowMatch, TableError> {
    op25b_proto::check_prerequisites(m).map_err(|e| TableError::BadMatch {
        code: e.code,
        detail: e.to_string(),
    })?;
    let owned = m
        .fields
        .iter()
        .map(owned_field)
        .collect::<Result<Vec<_>, MatchError>>()?;
    Ok(FlowMatch::from_fields(owned.iter().map(
        |(key, value, mask)| RawField {
            key: *key,
            value,
            mask: mask.as_deref(),
        },
    ))?)
}

type OwnedField = (FieldKey, Vec<u8>, Option<Vec<u8>>);

/// One OXM's key, value and mask bytes. A `Raw` OXM (experimenter class or a field the codec
/// does not model) is split by its own header.
fn owned_field(oxm: &Oxm) -> Result<OwnedField, MatchError> {
    if let Oxm::Raw(bytes) = oxm {
        let header = oxm.header();
        let payload = bytes.get(4..).unwrap_or_default();
        let key = header.map_or(FieldKey { class: 0, field: 0 }, |h| FieldKey {
            class: h.class,
            field: h.field,
        });
        let bad = || MatchError::BadWidth {
            key,
            value_len: payload.len(),
            mask_len: 0,
        };
        let h = header.ok_or_else(bad)?;
        if usize::from(h.length) != payload.len() || (h.hasmask && payload.len() % 2 != 0) {
            return Err(bad());
        }
        return Ok(if h.hasmask {
            let (v, m) = payload.split_at(payload.len() / 2);
            (key, v.to_vec(), Some(m.to_vec()))
        } else {
            (key, payload.to_vec(), None)
        });
    }
    let field = oxm.field().ok_or(MatchError::BadWidth {
        key: FieldKey { class: 0, field: 0 },
        value_len: 0,
        mask_len: 0,
    })?;
    let (value, mask) = oxm.value_and_mask();
    Ok((FieldKey::basic(field), value, mask))
}
