//! HELLO version negotiation (OpenFlow 1.3.5, 6.3.1), pure.

use op25b_proto::Hello;

/// The version both sides speak, or `None` (the switch then answers OFPET_HELLO_FAILED /
/// OFPHFC_INCOMPATIBLE and closes).
///
/// "If both HELLO messages contain a version bitmap, the negotiated version must be the
/// highest version set in both bitmaps. Otherwise, the negotiated version must be the
/// smallest of the version number that was sent and the one that was received", which must
/// then be one this side supports.
pub fn negotiate(ours: &[u8], their_header_version: u8, theirs: &Hello) -> Option<u8> {
    let has_bitmap = theirs.supports(0).is_some();
    if has_bitmap {
        return ours
            .iter()
            .copied()
            .filter(|v| theirs.supports(*v) == Some(true))
            .max();
    }
    let our_max = ours.iter().copied().max()?;
    let v = our_max.min(their_header_version);
    ours.contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmaps_pick_the_highest_common_version() {
        assert_eq!(negotiate(&[4], 4, &Hello::with_versions(&[1, 4])), Some(4));
        assert_eq!(
            negotiate(&[1, 4], 6, &Hello::with_versions(&[4, 5, 6])),
            Some(4)
        );
        assert_eq!(negotiate(&[1], 4, &Hello::with_versions(&[4])), None);
    }

    #[test]
    fn without_bitmap_the_smaller_header_version_decides() {
        let plain = Hello::default();
        assert_eq!(negotiate(&[4], 4, &plain), Some(4));
        assert_eq!(negotiate(&[4], 6, &plain), Some(4));
        assert_eq!(negotiate(&[4], 1, &plain), None);
        assert_eq!(negotiate(&[1, 4], 1, &plain), Some(1));
        assert_eq!(negotiate(&[], 4, &plain), None);
    }
}
