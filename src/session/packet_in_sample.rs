//! A sampled blocked attempt on its way to the offender table, bounded in bytes whatever the
//! switch sent, so the sample channel (bounded in entries) is bounded in bytes too.

use bytes::Bytes;
use op25b_proto::packet_in::PacketIn;
use std::time::SystemTime;

/// A sampled blocked attempt, for the offender table.
#[derive(Debug, Clone)]
pub struct PacketInSample {
    pub dpid: u64,
    pub received: SystemTime,
    pub packet_in: PacketIn,
}

/// The most packet bytes a sample keeps. op25b's sampling flows ask for 128 (the headers the
/// offender table reads); a switch sending more (up to 64 KiB) gets the rest dropped here.
pub const SAMPLE_DATA_MAX: usize = 256;

impl PacketInSample {
    /// A sample of `packet_in` bounded in bytes whatever the switch sent: at most
    /// [`SAMPLE_DATA_MAX`] bytes of the packet, and of the match only the input port (all the
    /// offender table reads). So the sample channel, bounded in entries, is bounded in bytes
    /// too: at most its capacity times about 400 bytes.
    pub fn bounded(dpid: u64, received: SystemTime, mut packet_in: PacketIn) -> Self {
        if packet_in.data.len() > SAMPLE_DATA_MAX {
            packet_in.data = packet_in.data.slice(..SAMPLE_DATA_MAX);
            // A slice of a copy decoded from the frame: copy again so the tail is freed.
            packet_in.data = Bytes::copy_from_slice(&packet_in.data);
        }
        let in_port = packet_in.in_port();
        packet_in.match_ =
            op25b_proto::Match::new(in_port.map(op25b_proto::Oxm::InPort).into_iter().collect());
        Self {
            dpid,
            received,
            packet_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_keeps_the_input_port_and_the_headers_only() {
        let mut fields: Vec<op25b_proto::Oxm> = (0..2000)
            .map(|_| op25b_proto::Oxm::Raw(Bytes::from_static(&[0, 1, 2, 0])))
            .collect();
        fields.push(op25b_proto::Oxm::InPort(7));
        let p = PacketIn {
            buffer_id: u32::MAX,
            total_len: 60_000,
            reason: 1,
            table_id: 0,
            cookie: 1,
            match_: op25b_proto::Match::new(fields),
            data: Bytes::from(vec![0xab; 60_000]),
        };
        let s = PacketInSample::bounded(1, SystemTime::UNIX_EPOCH, p);
        assert_eq!(s.packet_in.data.len(), SAMPLE_DATA_MAX);
        assert_eq!(s.packet_in.in_port(), Some(7));
        assert_eq!(s.packet_in.match_.fields.len(), 1);
    }
}
