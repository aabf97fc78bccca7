//! A flow's match in normal form: fields sorted by (class, field), each a value and a mask
//! right-aligned in a u128. Two matches that differ only in field order, or in spelling an
//! exact field as "masked with all ones", are equal here.
//!
//! The three relations the flow table needs (OpenFlow 1.3.5, 6.4):
//! - [`FlowMatch::matches_packet`], for lookup;
//! - [`FlowMatch::covers`], for "match or are more specific than" (non-strict MODIFY/DELETE, stats);
//! - [`FlowMatch::overlaps`], for "a single packet may match both" (OFPFF_CHECK_OVERLAP).

use crate::packet::PacketHeaders;

/// OXM class of the OpenFlow-basic fields.
pub const OFPXMC_OPENFLOW_BASIC: u16 = 0x8000;

/// An OXM field's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldKey {
    /// `oxm_class`.
    pub class: u16,
    /// `oxm_field` (7 bits).
    pub field: u8,
}

impl FieldKey {
    /// An OpenFlow-basic field.
    pub const fn basic(field: u8) -> Self {
        Self {
            class: OFPXMC_OPENFLOW_BASIC,
            field,
        }
    }
}

/// A field's value under its mask; bits where the mask is 0 are 0 in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaskedValue {
    /// The value, right-aligned.
    pub value: u128,
    /// The mask, right-aligned; all ones over the field's width for an exact match.
    pub mask: u128,
}

impl MaskedValue {
    /// Whether `v` (a field value) satisfies this masked value.
    pub fn accepts(&self, v: u128) -> bool {
        v & self.mask == self.value
    }
}

/// One OXM TLV as raw big-endian bytes, the input to [`FlowMatch::from_fields`].
#[derive(Debug, Clone, Copy)]
pub struct RawField<'a> {
    /// Which field.
    pub key: FieldKey,
    /// The value's bytes, big-endian.
    pub value: &'a [u8],
    /// The mask's bytes for a masked OXM (same length as `value`).
    pub mask: Option<&'a [u8]>,
}

/// Why a list of OXM fields is not a valid match. Each maps to an OFPET_BAD_MATCH code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// The same field appears twice (OFPBMC_DUP_FIELD).
    #[error("field {0:?} appears more than once")]
    DuplicateField(FieldKey),
    /// A value has bits set where its mask is 0 (OFPBMC_BAD_WILDCARDS).
    #[error("field {0:?} has value bits outside its mask")]
    ValueOutsideMask(FieldKey),
    /// Value and mask lengths differ, or the field is wider than 128 bits (OFPBMC_BAD_LEN).
    #[error("field {key:?}: value of {value_len} bytes, mask of {mask_len} bytes (at most 16 each, equal)")]
    BadWidth {
        /// The field.
        key: FieldKey,
        /// Length of the value.
        value_len: usize,
        /// Length of the mask (0 when unmasked).
        mask_len: usize,
    },
}

/// A match in normal form. The empty match matches every packet. The order (`Ord`) is
/// arbitrary but total, for sorting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FlowMatch {
    /// Sorted by key, keys unique, no zero masks.
    fields: Vec<(FieldKey, MaskedValue)>,
}

fn be_to_u128(bytes: &[u8]) -> u128 {
    bytes
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

fn full_mask(len_bytes: usize) -> u128 {
    if len_bytes >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * len_bytes)) - 1
    }
}

impl FlowMatch {
    /// The match that matches everything.
    pub fn any() -> Self {
        Self::default()
    }

    /// Normalise a list of OXM TLVs: sort, reject duplicates, reject value bits outside the
    /// mask, drop fields whose mask is all zeros (they match anything).
    pub fn from_fields<'a>(
        raw: impl IntoIterator<Item = RawField<'a>>,
    ) -> Result<Self, MatchError> {
        let mut fields = Vec::new();
        for f in raw {
            let mask_len = f.mask.map_or(0, <[u8]>::len);
            if f.value.len() > 16 || f.mask.is_some_and(|m| m.len() != f.value.len()) {
                return Err(MatchError::BadWidth {
                    key: f.key,
                    value_len: f.value.len(),
                    mask_len,
                });
            }
            let value = be_to_u128(f.value);
            let mask = f.mask.map_or(full_mask(f.value.len()), be_to_u128);
            if value & !mask != 0 {
                return Err(MatchError::ValueOutsideMask(f.key));
            }
            fields.push((f.key, MaskedValue { value, mask }));
        }
        fields.sort_by_key(|(k, _)| *k);
        if let Some(w) = fields.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(MatchError::DuplicateField(w[0].0));
        }
        fields.retain(|(_, mv)| mv.mask != 0);
        Ok(Self { fields })
    }

    /// The fields, sorted by key.
    pub fn fields(&self) -> &[(FieldKey, MaskedValue)] {
        &self.fields
    }

    /// The constraint on one field, if any.
    pub fn get(&self, key: FieldKey) -> Option<MaskedValue> {
        self.fields
            .binary_search_by_key(&key, |(k, _)| *k)
            .ok()
            .map(|i| self.fields[i].1)
    }

    /// Whether a packet (with pipeline metadata `metadata`) matches. A field the packet does not
    /// have (e.g. a TCP port on a UDP packet, any non-basic class) never matches.
    pub fn matches_packet(&self, pkt: &PacketHeaders, metadata: u64) -> bool {
        self.fields.iter().all(|(k, mv)| {
            k.class == OFPXMC_OPENFLOW_BASIC
                && pkt
                    .field_value(k.field, metadata)
                    .is_some_and(|v| mv.accepts(v))
        })
    }

    /// Whether `self` is equal to or less specific than `other`: every field `self` constrains,
    /// `other` constrains at least as tightly (its mask covers `self`'s) and to the same bits.
    /// This is the spec's "flow entries that match or are more specific than the description".
    pub fn covers(&self, other: &FlowMatch) -> bool {
        self.fields.iter().all(|(k, mine)| {
            other.get(*k).is_some_and(|theirs| {
                theirs.mask & mine.mask == mine.mask && theirs.value & mine.mask == mine.value
            })
        })
    }

    /// Whether a single packet may match both (fields present in both agree on the bits both
    /// masks care about).
    pub fn overlaps(&self, other: &FlowMatch) -> bool {
        self.fields.iter().all(|(k, a)| match other.get(*k) {
            None => true,
            Some(b) => {
                let m = a.mask & b.mask;
                a.value & m == b.value & m
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::field;
    use proptest::prelude::*;

    fn exact(field: u8, value: &[u8]) -> RawField<'_> {
        RawField {
            key: FieldKey::basic(field),
            value,
            mask: None,
        }
    }

    fn masked<'a>(field: u8, value: &'a [u8], mask: &'a [u8]) -> RawField<'a> {
        RawField {
            key: FieldKey::basic(field),
            value,
            mask: Some(mask),
        }
    }

    fn tcp_dst_25() -> FlowMatch {
        FlowMatch::from_fields([
            exact(field::ETH_TYPE, &[0x08, 0x00]),
            exact(field::IP_PROTO, &[6]),
            exact(field::TCP_DST, &[0, 25]),
        ])
        .expect("valid")
    }

    #[test]
    fn field_order_does_not_matter() {
        let reordered = FlowMatch::from_fields([
            exact(field::TCP_DST, &[0, 25]),
            exact(field::ETH_TYPE, &[0x08, 0x00]),
            exact(field::IP_PROTO, &[6]),
        ])
        .expect("valid");
        assert_eq!(reordered, tcp_dst_25());
    }

    #[test]
    fn full_mask_equals_exact_and_zero_mask_is_dropped() {
        let a = FlowMatch::from_fields([masked(field::TCP_DST, &[0, 25], &[0xff, 0xff])])
            .expect("valid");
        let b = FlowMatch::from_fields([exact(field::TCP_DST, &[0, 25])]).expect("valid");
        assert_eq!(a, b);
        let z = FlowMatch::from_fields([masked(field::TCP_DST, &[0, 0], &[0, 0])]).expect("valid");
        assert_eq!(z, FlowMatch::any());
    }

    #[test]
    fn rejects_duplicates_bad_wildcards_and_bad_widths() {
        let dup =
            FlowMatch::from_fields([exact(field::IP_PROTO, &[6]), exact(field::IP_PROTO, &[6])]);
        assert_eq!(
            dup,
            Err(MatchError::DuplicateField(FieldKey::basic(field::IP_PROTO)))
        );
        let bad =
            FlowMatch::from_fields([masked(field::IPV4_SRC, &[10, 0, 0, 1], &[255, 255, 255, 0])]);
        assert_eq!(
            bad,
            Err(MatchError::ValueOutsideMask(FieldKey::basic(
                field::IPV4_SRC
            )))
        );
        let width = FlowMatch::from_fields([masked(field::IPV4_SRC, &[10, 0, 0, 0], &[255, 255])]);
        assert!(matches!(width, Err(MatchError::BadWidth { .. })));
        let wide = FlowMatch::from_fields([exact(99, &[0u8; 17])]);
        assert!(matches!(wide, Err(MatchError::BadWidth { .. })));
    }

    #[test]
    fn matches_packets_by_prefix() {
        let m = FlowMatch::from_fields([
            exact(field::ETH_TYPE, &[0x08, 0x00]),
            masked(field::IPV4_SRC, &[10, 0, 0, 0], &[255, 255, 255, 0]),
        ])
        .expect("valid");
        let inside = PacketHeaders::tcp(
            1,
            "10.0.0.9".parse().expect("ip"),
            1,
            "1.2.3.4".parse().expect("ip"),
            25,
        );
        let outside = PacketHeaders::tcp(
            1,
            "10.0.1.9".parse().expect("ip"),
            1,
            "1.2.3.4".parse().expect("ip"),
            25,
        );
        assert!(m.matches_packet(&inside, 0));
        assert!(!m.matches_packet(&outside, 0));
        assert!(tcp_dst_25().matches_packet(&inside, 0));
    }

    #[test]
    fn covers_and_overlaps() {
        let any = FlowMatch::any();
        let tcp25 = tcp_dst_25();
        let tcp = FlowMatch::from_fields([
            exact(field::ETH_TYPE, &[0x08, 0x00]),
            exact(field::IP_PROTO, &[6]),
        ])
        .expect("valid");
        let udp = FlowMatch::from_fields([
            exact(field::ETH_TYPE, &[0x08, 0x00]),
            exact(field::IP_PROTO, &[17]),
        ])
        .expect("valid");
        assert!(any.covers(&tcp25));
        assert!(tcp.covers(&tcp25));
        assert!(!tcp25.covers(&tcp));
        assert!(!udp.covers(&tcp25));
        assert!(tcp.overlaps(&tcp25));
        assert!(!udp.overlaps(&tcp25));
        let net8 =
            FlowMatch::from_fields([masked(field::IPV4_DST, &[10, 0, 0, 0], &[255, 0, 0, 0])])
                .expect("v");
        let net16 =
            FlowMatch::from_fields([masked(field::IPV4_DST, &[10, 1, 0, 0], &[255, 255, 0, 0])])
                .expect("v");
        let other16 =
            FlowMatch::from_fields([masked(field::IPV4_DST, &[11, 1, 0, 0], &[255, 255, 0, 0])])
                .expect("v");
        assert!(net8.covers(&net16));
        assert!(!net16.covers(&net8));
        assert!(net8.overlaps(&net16) && net16.overlaps(&net8));
        assert!(!net8.overlaps(&other16));
    }

    /// Small matches over three fields whose masks stay within the low 4 bits, so the points
    /// 0..16 of each field witness every relation.
    fn arb_match() -> impl Strategy<Value = FlowMatch> {
        let f = |field: u8| {
            proptest::option::of((
                0u8..4,
                prop_oneof![Just(0x0fu8), Just(0x0e), Just(0x07), Just(0x03), Just(0)],
            ))
            .prop_map(move |o| o.map(|(v, m)| (field, v & m, m)))
        };
        (f(field::IN_PORT), f(field::IP_PROTO), f(field::TCP_DST)).prop_map(|(a, b, c)| {
            let owned: Vec<(u8, [u8; 1], [u8; 1])> = [a, b, c]
                .into_iter()
                .flatten()
                .map(|(f, v, m)| (f, [v], [m]))
                .collect();
            FlowMatch::from_fields(owned.iter().map(|(f, v, m)| masked(*f, v, m)))
                .expect("valid by construction")
        })
    }

    /// Enumerate every "packet" over the three fields' small domain.
    fn fits(m: &FlowMatch, in_port: u8, proto: u8, dst: u8) -> bool {
        m.fields().iter().all(|(k, mv)| {
            let v = match k.field {
                f if f == field::IN_PORT => in_port,
                f if f == field::IP_PROTO => proto,
                _ => dst,
            };
            mv.accepts(u128::from(v))
        })
    }

    fn all_points() -> impl Iterator<Item = (u8, u8, u8)> {
        (0u8..16).flat_map(|a| (0u8..16).flat_map(move |b| (0u8..16).map(move |c| (a, b, c))))
    }

    proptest! {
        #[test]
        fn covers_iff_every_point_of_other_is_in_self(a in arb_match(), b in arb_match()) {
            let subset = all_points().all(|(x, y, z)| !fits(&b, x, y, z) || fits(&a, x, y, z));
            prop_assert_eq!(a.covers(&b), subset);
        }

        #[test]
        fn overlaps_iff_a_common_point_exists(a in arb_match(), b in arb_match()) {
            let common = all_points().any(|(x, y, z)| fits(&a, x, y, z) && fits(&b, x, y, z));
            prop_assert_eq!(a.overlaps(&b), common);
            prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
        }

        #[test]
        fn covers_is_reflexive_and_any_covers_all(a in arb_match()) {
            prop_assert!(a.covers(&a));
            prop_assert!(FlowMatch::any().covers(&a));
            prop_assert!(a.overlaps(&a));
        }
    }
}
