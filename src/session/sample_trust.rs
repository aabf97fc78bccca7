//! Whether a PACKET_IN is a sample of one of our drop flows, and so may reach the offender
//! table (which can name a subscriber in an abuse report). Pure: the PACKET_IN, the policy and
//! the switch's dpid in, `Ok` or the [`SampleRejection`] out.
//!
//! A sample is trusted only when everything our flows would have produced holds: our cookie;
//! op25b's table ([`TABLE`]); reason `OFPR_ACTION` (our sampling flows send by an output
//! action, never as a table miss); an `in_port` the policy polices on that switch (not an
//! uplink; in the list when the switch has one); and a frame that is a TCP connection opening
//! (SYN without ACK/RST) to a blocked port, neither to a relay nor from an exempt source (those
//! our flows forward). The connection it came on must hold its dpid (checked by the caller,
//! [`super::connection`]): a refused, unclaimed or taken-over connection's samples are never
//! trusted. Everything else is counted by reason and dropped.
use crate::fleet::guard_counters::SampleRejection;
use crate::flows::layout::TABLE;
use crate::offenders::{parse_sample, Transport};
use crate::policy::{Dpid, Policy, PortNo, SubscriberPorts};
use op25b_proto::consts::OFPR_ACTION;
use op25b_proto::packet_in::PacketIn;

/// Port numbers from this one up are reserved (OFPP_MAX + 1 and the logical ports).
const FIRST_RESERVED_PORT: u32 = 0xffff_ff01;

/// `Ok` when `p`, received from switch `dpid`, is a sample of one of our drop flows under
/// `policy` (see the module docs).
pub fn judge(p: &PacketIn, policy: &Policy, dpid: Dpid) -> Result<(), SampleRejection> {
    if p.cookie != policy.cookie().0 {
        return Err(SampleRejection::Cookie);
    }
    if p.table_id != TABLE {
        return Err(SampleRejection::Table);
    }
    if p.reason != OFPR_ACTION {
        return Err(SampleRejection::Reason);
    }
    let in_port = p.in_port().ok_or(SampleRejection::NoInPort)?;
    let roles = policy.roles_for(dpid);
    let policed = in_port < FIRST_RESERVED_PORT
        && !roles.uplinks.contains(&PortNo(in_port))
        && match &roles.subscriber {
            SubscriberPorts::All => true,
            SubscriberPorts::List(ports) => ports.contains(&PortNo(in_port)),
        };
    if !policed {
        return Err(SampleRejection::PortNotPoliced);
    }
    let sample = parse_sample(&p.data).map_err(|_| SampleRejection::Unreadable)?;
    let Transport::Tcp(tcp) = sample.transport else {
        return Err(SampleRejection::NotSyn);
    };
    if !tcp.is_connection_attempt() {
        return Err(SampleRejection::NotSyn);
    }
    if policy
        .blocked_ports()
        .binary_search(&tcp.destination_port)
        .is_err()
    {
        return Err(SampleRejection::NotBlockedPort);
    }
    let forwarded = policy
        .relays()
        .iter()
        .any(|r| r.net().contains(&sample.destination_ip))
        || policy
            .exempt_sources()
            .iter()
            .any(|e| e.net().contains(&sample.source_ip));
    if forwarded {
        return Err(SampleRejection::Allowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Config;
    use bytes::Bytes;
    use op25b_proto::consts::OFPR_NO_MATCH;
    use op25b_proto::match_::Match;
    use op25b_proto::oxm::Oxm;

    const COOKIE: u64 = 0x4f50_3235_4200_0000;

    fn policy() -> Policy {
        let text = r#"
[policy]
blocked_ports = [25, 2525]
relays = ["192.0.2.25/32"]
exempt_sources = ["10.9.0.0/16"]
cookie = "0x4f50323542000000"
[defaults]
uplink_ports = [9]
[[switch]]
dpid = 2
subscriber_ports = [1, 2]
"#;
        match Config::parse(text, "t.toml") {
            Ok(l) => l.config.policy().clone(),
            Err(e) => panic!("{e}"),
        }
    }

    /// An Ethernet + IPv4 + TCP frame from `src` to `dst`:`dport` with TCP `flags`.
    fn frame(src: [u8; 4], dst: [u8; 4], dport: u16, flags: u8) -> Bytes {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        let ip = [
            0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, src[0], src[1], src[2], src[3], dst[0],
            dst[1], dst[2], dst[3],
        ];
        f.extend_from_slice(&ip);
        let [d0, d1] = dport.to_be_bytes();
        let tcp = [
            0x9c, 0x40, d0, d1, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
        ];
        f.extend_from_slice(&tcp);
        Bytes::from(f)
    }

    const SYN: u8 = 0x02;

    fn good() -> PacketIn {
        PacketIn {
            buffer_id: u32::MAX,
            total_len: 54,
            reason: OFPR_ACTION,
            table_id: 0,
            cookie: COOKIE,
            match_: Match::new(vec![Oxm::InPort(3)]),
            data: frame([10, 0, 0, 5], [198, 51, 100, 7], 25, SYN),
        }
    }

    #[test]
    fn a_syn_to_a_blocked_port_from_a_policed_port_with_our_cookie_is_trusted() {
        let p = policy();
        assert_eq!(judge(&good(), &p, Dpid(1)), Ok(()));
        let mut other_blocked = good();
        other_blocked.data = frame([10, 0, 0, 5], [198, 51, 100, 7], 2525, SYN);
        assert_eq!(judge(&other_blocked, &p, Dpid(1)), Ok(()));
        let mut listed = good();
        listed.match_ = Match::new(vec![Oxm::InPort(2)]);
        assert_eq!(judge(&listed, &p, Dpid(2)), Ok(()));
    }

    #[test]
    fn everything_our_drop_flows_would_not_send_is_rejected_with_its_reason() {
        let p = policy();
        let with = |f: &dyn Fn(&mut PacketIn)| {
            let mut pi = good();
            f(&mut pi);
            pi
        };
        let cases: Vec<(PacketIn, Dpid, SampleRejection)> = vec![
            (with(&|p| p.cookie = 0x25), Dpid(1), SampleRejection::Cookie),
            (with(&|p| p.table_id = 1), Dpid(1), SampleRejection::Table),
            (
                with(&|p| p.reason = OFPR_NO_MATCH),
                Dpid(1),
                SampleRejection::Reason,
            ),
            (
                with(&|p| p.match_ = Match::new(vec![])),
                Dpid(1),
                SampleRejection::NoInPort,
            ),
            (
                with(&|p| p.match_ = Match::new(vec![Oxm::InPort(9)])),
                Dpid(1),
                SampleRejection::PortNotPoliced,
            ),
            (good(), Dpid(2), SampleRejection::PortNotPoliced),
            (
                with(&|p| p.match_ = Match::new(vec![Oxm::InPort(0xffff_fffd)])),
                Dpid(1),
                SampleRejection::PortNotPoliced,
            ),
            (
                with(&|p| p.data = Bytes::from_static(&[0; 20])),
                Dpid(1),
                SampleRejection::Unreadable,
            ),
            (
                with(&|p| p.data = frame([10, 0, 0, 5], [198, 51, 100, 7], 25, SYN | 0x10)),
                Dpid(1),
                SampleRejection::NotSyn,
            ),
            (
                with(&|p| p.data = frame([10, 0, 0, 5], [198, 51, 100, 7], 25, 0x10)),
                Dpid(1),
                SampleRejection::NotSyn,
            ),
            (
                with(&|p| p.data = frame([10, 0, 0, 5], [198, 51, 100, 7], 587, SYN)),
                Dpid(1),
                SampleRejection::NotBlockedPort,
            ),
            (
                with(&|p| p.data = frame([10, 0, 0, 5], [192, 0, 2, 25], 25, SYN)),
                Dpid(1),
                SampleRejection::Allowed,
            ),
            (
                with(&|p| p.data = frame([10, 9, 1, 1], [198, 51, 100, 7], 25, SYN)),
                Dpid(1),
                SampleRejection::Allowed,
            ),
        ];
        for (i, (pi, dpid, want)) in cases.iter().enumerate() {
            assert_eq!(judge(pi, &p, *dpid), Err(*want), "case {i}");
        }
    }
}
