//! How much of a switch's answer a session reads, sized by the policy in force: the flow count
//! a FLOW stats reply may list ([`ReadCaps::flows`]) and the bytes of reply parts a connection
//! may hold ([`ReadCaps::reply_bytes`]). Pure.
//!
//! Both follow the policy, so that every valid policy can be read back from the switches it was
//! installed on, and both stay bounded, so that a broken or hostile switch cannot make a
//! connection hold more than a small multiple of what the operator's own policy costs:
//!
//! - **flows**: twice the largest flow set the policy (or the one before it, see
//!   `ActivePolicy::next`) wants on any switch (`flows::max_desired_flows`), never below
//!   [`MIN_FLOW_READ`]. Twice: a switch whose hitless change was cut short after its ADDs and
//!   before its DELETEs holds the old set and the new one together, and a sync must still read
//!   it to finish the job.
//! - **reply bytes**: `[controller] max_multipart_bytes`, raised to that many flows at
//!   [`FLOW_WEIGHT_BOUND`] bytes each when the policy needs more. The configured value is the
//!   floor; a hostile switch can make one connection hold at most the larger of the two.
//!   For a policy of 100,000 IPv4 prefixes (about 100,000 flows) that is 2 x 100,000 x 1 KiB =
//!   195 MiB per connection, and a connection holds it only while its reply is arriving.

/// The fewest flows a read accepts, whatever the policy: the fixed cap op25b had before the
/// cap followed the policy (a small policy's switch may still hold a much larger earlier
/// policy's flows, e.g. after a controller restart).
pub const MIN_FLOW_READ: usize = 100_000;

/// What one flow of ours weighs at most, held as decoded (`session::held_replies::weight`):
/// the largest (an IPv6 prefix with an input port, a TCP port, a meter and an action) weighs
/// 888 bytes; rounded up. A FLOW stats read holds far less (each part is folded into compact
/// entries as it arrives, 112 bytes a flow of ours): the cap stays sized this way so
/// that a read is never refused for what op25b's own flows cost.
pub const FLOW_WEIGHT_BOUND: usize = 1024;

/// The read bounds of one policy generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCaps {
    /// Most flows with our cookie a FLOW stats reply may list.
    pub flows: usize,
    /// Most bytes of multipart reply parts a connection may hold, weighed as decoded.
    pub reply_bytes: usize,
}

/// The caps for a policy wanting at most `flow_bound` flows on a switch, with `[controller]
/// max_multipart_bytes` = `configured_bytes`.
pub fn read_caps(flow_bound: usize, configured_bytes: usize) -> ReadCaps {
    let margin = flow_bound.saturating_mul(2);
    ReadCaps {
        flows: margin.max(MIN_FLOW_READ),
        reply_bytes: margin
            .saturating_mul(FLOW_WEIGHT_BOUND)
            .max(configured_bytes),
    }
}

impl Default for ReadCaps {
    /// The caps of a small policy with the default `max_multipart_bytes`.
    fn default() -> Self {
        read_caps(
            0,
            crate::policy::ControllerSettings::default().max_multipart_bytes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn a_small_policy_keeps_the_floor_and_the_configured_bytes() {
        assert_eq!(
            read_caps(30, 96 * MIB),
            ReadCaps {
                flows: MIN_FLOW_READ,
                reply_bytes: 96 * MIB
            }
        );
        assert_eq!(read_caps(0, 2 * MIB).reply_bytes, 2 * MIB);
        assert_eq!(ReadCaps::default().flows, MIN_FLOW_READ);
    }

    #[test]
    fn a_large_policy_raises_both_caps_to_twice_its_flows() {
        let caps = read_caps(150_011, 96 * MIB);
        assert_eq!(caps.flows, 300_022);
        assert_eq!(caps.reply_bytes, 300_022 * FLOW_WEIGHT_BOUND);
        // Every flow of the policy fits, with room for a second set.
        assert!(caps.reply_bytes >= caps.flows * 888);
        // A larger configured value still wins.
        assert_eq!(read_caps(150_011, 1024 * MIB).reply_bytes, 1024 * MIB);
    }

    #[test]
    fn the_caps_never_overflow() {
        let caps = read_caps(usize::MAX, 96 * MIB);
        assert_eq!((caps.flows, caps.reply_bytes), (usize::MAX, usize::MAX));
    }

    #[test]
    fn the_floor_fits_in_the_default_bytes() {
        let default = crate::policy::ControllerSettings::default().max_multipart_bytes;
        assert!(MIN_FLOW_READ * 888 <= default);
    }
}
