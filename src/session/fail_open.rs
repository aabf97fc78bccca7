//! A switch that failed open, seen from the OpenFlow side.
//!
//! A bridge in Open vSwitch's `fail_mode=standalone` (the default when unset) that has not been
//! admitted by a controller for 3 × its inactivity probe (at least 3 × 5 s) flushes every flow,
//! meter and group and adds a hidden `priority=15790320 (0xf0f0f0), actions=NORMAL` flow: port
//! 25 is open for everyone until a controller admits it again. What op25b can see of that, found
//! on Open vSwitch 3.1 (docs/operating.md, "A bridge that fails open", has the commands):
//!
//! - **Probes.** While failed open and connected to a controller that has not admitted it yet,
//!   the switch sends a PACKET_IN every 2 s: reason `NO_MATCH`, table 0, cookie all-ones,
//!   `in_port=LOCAL`, and a 42-byte RARP frame (EtherType 0x8035, opcode 3) from a random
//!   Nicira-OUI source (`00:23:20:xx:xx:xx`) to broadcast. [`is_fail_open_probe`] recognises
//!   one. op25b admits a switch at once (its PORT_DESC request on connect counts), and the switch
//!   leaves fail-open mode on the first admitting message, before its first probe is due, so a
//!   healthy op25b does not normally receive them: they are a sure sign when they do come.
//! - **The hidden flow** is not in FLOW stats, AGGREGATE stats or the TABLE stats active count,
//!   and it is deleted as soon as op25b's first admitting message arrives: never visible here.
//! - **The flush.** Every one of our flows is gone when the switch comes back. A `secure` bridge
//!   keeps its flows however long the controller is away. So a switch that held our flows, came
//!   back after at least [`FAIL_OPEN_MIN_ABSENCE`] without us, and holds none of them any more,
//!   most likely failed open ([`flows_wiped_while_away`]). Other causes of the same picture (an
//!   `ovs-vswitchd` restart that took that long, the bridge deleted and re-added, a `del-flows`
//!   while op25b was away) are named in the report. It needs memory of the previous connection,
//!   so an op25b that was itself restarted cannot tell.
//!
//! Neither signal comes before the leak: OpenFlow does not carry `fail_mode`. Reading it from
//! OVSDB is the only way to warn before.

use op25b_proto::consts::{OFPP_LOCAL, OFPR_NO_MATCH};
use op25b_proto::packet_in::PacketIn;
use std::time::{Duration, SystemTime};

/// The shortest controller absence after which Open vSwitch can fail open: 3 × its smallest
/// inactivity probe (5 s). Flows gone after a shorter absence had another cause.
pub const FAIL_OPEN_MIN_ABSENCE: Duration = Duration::from_secs(15);

/// RARP, the EtherType of Open vSwitch's fail-open probe frame.
const ETH_TYPE_RARP: u16 = 0x8035;
/// Nicira's OUI, the first half of the probe's random source MAC.
const NICIRA_OUI: [u8; 3] = [0x00, 0x23, 0x20];
/// RARP "request reverse".
const RARP_REQUEST_REVERSE: u16 = 3;
/// Ethernet header (14) + RARP for Ethernet/IPv4 (28).
const PROBE_FRAME_LEN: usize = 42;

/// True when `pi` is one of Open vSwitch's fail-open probes (see the module doc for the form).
pub fn is_fail_open_probe(pi: &PacketIn) -> bool {
    pi.reason == OFPR_NO_MATCH
        && pi.cookie == u64::MAX
        && pi.in_port() == Some(OFPP_LOCAL)
        && is_probe_frame(&pi.data)
}

/// The RARP frame of a probe: broadcast destination, Nicira-OUI source, EtherType RARP, opcode
/// "request reverse", Ethernet/IPv4 sizes, sender hardware address equal to the source.
fn is_probe_frame(frame: &[u8]) -> bool {
    if frame.len() < PROBE_FRAME_LEN {
        return false;
    }
    let be16 = |at: usize| u16::from_be_bytes([frame[at], frame[at + 1]]);
    let src = &frame[6..12];
    frame[..6] == [0xff; 6]
        && src[..3] == NICIRA_OUI
        && be16(12) == ETH_TYPE_RARP
        && be16(14) == 1 // hardware type: Ethernet
        && be16(16) == 0x0800 // protocol type: IPv4
        && frame[18] == 6
        && frame[19] == 4
        && be16(20) == RARP_REQUEST_REVERSE
        && &frame[22..28] == src
}

/// How long the switch was without us, when what it reports now says its flows were wiped while
/// it was: it held `prior_flows` of ours when we last heard from it at `last_heard`, and the
/// first read of this connection (at `now`) found `flows_now`. `None` unless all of them are
/// gone after an absence of at least [`FAIL_OPEN_MIN_ABSENCE`].
pub fn flows_wiped_while_away(
    prior_flows: usize,
    last_heard: Option<SystemTime>,
    now: SystemTime,
    flows_now: usize,
) -> Option<Duration> {
    if prior_flows == 0 || flows_now != 0 {
        return None;
    }
    let away = now.duration_since(last_heard?).ok()?;
    (away >= FAIL_OPEN_MIN_ABSENCE).then_some(away)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use op25b_proto::message::{Message, OfpMessage};

    /// A probe as Open vSwitch 3.1 sent it to a controller that had not admitted the bridge
    /// (captured with a raw TCP listener, see docs/operating.md).
    pub(crate) const CAPTURED_PROBE: &str =
        "040a005400000000ffffffff002a0000ffffffffffffffff0001000c80000004\
         fffffffe000000000000ffffffffffff002320dd5a0f80350001080006040003002320dd5a0f00000000\
         002320dd5a0f00000000";

    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn captured() -> PacketIn {
        match OfpMessage::decode(&unhex(CAPTURED_PROBE)).unwrap().body {
            Message::PacketIn(p) => p,
            other => panic!("not a PACKET_IN: {other:?}"),
        }
    }

    #[test]
    fn the_captured_probe_is_recognised() {
        assert!(is_fail_open_probe(&captured()));
    }

    #[test]
    fn a_packet_in_differing_in_any_part_is_not_a_probe() {
        type Change = Box<dyn Fn(&mut PacketIn)>;
        let cases: Vec<(&str, Change)> = vec![
            ("our cookie", Box::new(|p| p.cookie = 0x4f50_3235_4200_0000)),
            ("reason ACTION", Box::new(|p| p.reason = 1)),
            (
                "in_port 1",
                Box::new(|p| {
                    p.match_ =
                        op25b_proto::match_::Match::new(vec![op25b_proto::oxm::Oxm::InPort(1)]);
                }),
            ),
            ("EtherType ARP", Box::new(|p| set(p, 12, &[0x08, 0x06]))),
            ("unicast destination", Box::new(|p| set(p, 0, &[0x02]))),
            ("another OUI", Box::new(|p| set(p, 6, &[0x02, 0, 0]))),
            ("RARP reply", Box::new(|p| set(p, 20, &[0, 4]))),
            (
                "sender is not the source",
                Box::new(|p| set(p, 27, &[0x00])),
            ),
            (
                "cut short",
                Box::new(|p| p.data = p.data.slice(..PROBE_FRAME_LEN - 1)),
            ),
        ];
        for (what, change) in cases {
            let mut p = captured();
            change(&mut p);
            assert!(!is_fail_open_probe(&p), "{what} taken for a probe");
        }
    }

    fn set(p: &mut PacketIn, at: usize, bytes: &[u8]) {
        let mut data = p.data.to_vec();
        data[at..at + bytes.len()].copy_from_slice(bytes);
        p.data = data.into();
    }

    #[test]
    fn only_all_flows_gone_after_a_long_enough_absence_counts_as_wiped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ago = |s| Some(now - Duration::from_secs(s));
        assert_eq!(
            flows_wiped_while_away(7, ago(20), now, 0),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            flows_wiped_while_away(7, ago(15), now, 0),
            Some(FAIL_OPEN_MIN_ABSENCE)
        );
        assert_eq!(
            flows_wiped_while_away(7, ago(14), now, 0),
            None,
            "too short"
        );
        assert_eq!(flows_wiped_while_away(7, ago(60), now, 7), None, "kept");
        assert_eq!(
            flows_wiped_while_away(7, ago(60), now, 1),
            None,
            "some kept"
        );
        assert_eq!(flows_wiped_while_away(0, ago(60), now, 0), None, "had none");
        assert_eq!(flows_wiped_while_away(7, None, now, 0), None, "never left");
        let future = Some(now + Duration::from_secs(30));
        assert_eq!(flows_wiped_while_away(7, future, now, 0), None);
    }
}
