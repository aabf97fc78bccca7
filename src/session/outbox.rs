//! The bytes a connection still has to write to its switch, in two lanes: urgent (echo traffic,
//! the HELLO_FAILED error) goes ahead of bulk (flow mods, requests), switching lanes only at
//! OpenFlow message boundaries so an echo reply is never stuck behind a burst of flow mods and
//! never cuts one in half.
//!
//! No I/O: the connection asks for [`Outbox::chunk`], writes what the socket takes, and reports
//! it with [`Outbox::consume`]. Everything queued between two writes leaves in one `write`
//! call, instead of one call (and one task wake-up) per message.

use bytes::{Buf, BytesMut};

/// A lane emptied while holding more than this gives its memory back: an idle switch exchanges
/// 16-byte echoes, and 10,000 connections each keeping the buffer of their last sync would
/// hold megabytes for nothing.
const KEEP_CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct Outbox {
    urgent: BytesMut,
    bulk: BytesMut,
    /// Bytes of the bulk message at the front still to write (0: at a message boundary).
    bulk_front_left: usize,
}

impl Outbox {
    /// Queues whole messages written by `encode` on the urgent lane.
    pub fn urgent(&mut self) -> &mut BytesMut {
        &mut self.urgent
    }

    /// Queues whole messages written by `encode` on the bulk lane.
    pub fn bulk(&mut self) -> &mut BytesMut {
        &mut self.bulk
    }

    pub fn is_empty(&self) -> bool {
        self.urgent.is_empty() && self.bulk.is_empty()
    }

    /// Bytes queued in both lanes.
    pub fn len(&self) -> usize {
        self.urgent.len() + self.bulk.len()
    }

    /// What to write next: the rest of a bulk message already begun, else urgent messages,
    /// else bulk ones. Empty when nothing is queued.
    pub fn chunk(&self) -> &[u8] {
        if self.bulk_front_left > 0 {
            if self.urgent.is_empty() {
                &self.bulk
            } else {
                &self.bulk[..self.bulk_front_left]
            }
        } else if !self.urgent.is_empty() {
            &self.urgent
        } else {
            &self.bulk
        }
    }

    /// `n` bytes of the last [`Outbox::chunk`] were written.
    pub fn consume(&mut self, n: usize) {
        if self.bulk_front_left == 0 && !self.urgent.is_empty() {
            self.urgent.advance(n.min(self.urgent.len()));
            shrink_if_drained(&mut self.urgent);
            return;
        }
        let mut n = n.min(self.bulk.len());
        while n > 0 {
            if self.bulk_front_left == 0 {
                self.bulk_front_left = front_message_len(&self.bulk);
            }
            let k = n.min(self.bulk_front_left);
            self.bulk.advance(k);
            self.bulk_front_left -= k;
            n -= k;
        }
        shrink_if_drained(&mut self.bulk);
    }
}

/// The length of the message at the front of `buf` (from its OpenFlow header), at least 1 and
/// at most what `buf` holds, so a malformed queue can never stall [`Outbox::consume`].
fn front_message_len(buf: &[u8]) -> usize {
    let declared = match buf {
        [_, _, hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => buf.len(),
    };
    declared.clamp(1, buf.len().max(1))
}

fn shrink_if_drained(buf: &mut BytesMut) {
    if buf.is_empty() && buf.capacity() > KEEP_CAPACITY {
        *buf = BytesMut::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;
    use proptest::prelude::*;

    /// An OpenFlow-shaped message: version, type `tag`, length, xid, then `len - 8` bytes of `tag`.
    fn msg(tag: u8, len: u16) -> Vec<u8> {
        let mut m = vec![4, tag];
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, tag]);
        m.resize(usize::from(len), tag);
        m
    }

    /// Writes everything with the socket taking at most `take(i)` bytes per call, queuing
    /// `late` on the urgent lane after the first write; returns the bytes in write order.
    fn drain(outbox: &mut Outbox, mut take: impl FnMut(usize) -> usize, late: &[u8]) -> Vec<u8> {
        let mut wire = Vec::new();
        let mut i = 0;
        if outbox.is_empty() {
            outbox.urgent().put_slice(late);
            i = 1;
        }
        while !outbox.is_empty() {
            let chunk = outbox.chunk();
            let n = take(i).clamp(1, chunk.len());
            wire.extend_from_slice(&chunk[..n]);
            outbox.consume(n);
            if i == 0 {
                outbox.urgent().put_slice(late);
            }
            i += 1;
        }
        wire
    }

    /// Splits a byte stream into messages by their header lengths.
    fn messages(mut wire: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !wire.is_empty() {
            let len = usize::from(u16::from_be_bytes([wire[2], wire[3]]));
            out.push(wire[..len].to_vec());
            wire = &wire[len..];
        }
        out
    }

    #[test]
    fn urgent_goes_first_when_nothing_has_started() {
        let mut o = Outbox::default();
        o.bulk().put_slice(&msg(1, 100));
        o.urgent().put_slice(&msg(2, 16));
        let wire = drain(&mut o, |_| usize::MAX, &[]);
        assert_eq!(messages(&wire), vec![msg(2, 16), msg(1, 100)]);
    }

    #[test]
    fn urgent_waits_for_the_end_of_a_bulk_message_already_begun() {
        let mut o = Outbox::default();
        o.bulk().put_slice(&msg(1, 100));
        o.bulk().put_slice(&msg(3, 50));
        // First write takes 30 bytes of message 1; then an echo reply is queued.
        let wire = drain(
            &mut o,
            |i| if i == 0 { 30 } else { usize::MAX },
            &msg(2, 16),
        );
        assert_eq!(messages(&wire), vec![msg(1, 100), msg(2, 16), msg(3, 50)]);
    }

    #[test]
    fn everything_queued_leaves_in_one_chunk_when_no_urgent_is_waiting() {
        let mut o = Outbox::default();
        for _ in 0..10 {
            o.bulk().put_slice(&msg(1, 80));
        }
        assert_eq!(o.chunk().len(), 800);
        assert_eq!(o.len(), 800);
        o.consume(800);
        assert!(o.is_empty());
        assert!(o.chunk().is_empty());
    }

    #[test]
    fn a_drained_large_lane_gives_its_memory_back() {
        let mut o = Outbox::default();
        o.bulk().put_slice(&vec![0u8; 3 * KEEP_CAPACITY]);
        o.consume(3 * KEEP_CAPACITY);
        assert_eq!(o.bulk.capacity(), 0);
    }

    #[test]
    fn a_lying_length_in_the_queue_cannot_stall_consume() {
        let mut o = Outbox::default();
        o.bulk().put_slice(&[4, 1, 0, 0, 0, 0, 0, 1, 9, 9]); // length 0
        o.consume(10);
        assert!(o.is_empty());
    }

    proptest! {
        /// Whatever the socket takes per call and whenever urgent messages arrive: the wire
        /// carries every message whole, bulk in order, urgent in order.
        #[test]
        fn messages_stay_whole_and_ordered_per_lane(
            bulk in prop::collection::vec(8u16..300, 0..20),
            urgent in prop::collection::vec(8u16..40, 0..5),
            takes in prop::collection::vec(1usize..200, 1..50),
        ) {
            let mut o = Outbox::default();
            for &len in &bulk {
                o.bulk().put_slice(&msg(1, len));
            }
            let late: Vec<u8> = urgent.iter().flat_map(|&l| msg(2, l)).collect();
            let wire = drain(&mut o, |i| takes[i % takes.len()], &late);
            let got = messages(&wire);
            let got_bulk: Vec<_> = got.iter().filter(|m| m[1] == 1).cloned().collect();
            let got_urgent: Vec<_> = got.iter().filter(|m| m[1] == 2).cloned().collect();
            prop_assert_eq!(got_bulk, bulk.iter().map(|&l| msg(1, l)).collect::<Vec<_>>());
            prop_assert_eq!(got_urgent, urgent.iter().map(|&l| msg(2, l)).collect::<Vec<_>>());
            prop_assert_eq!(wire.len(), bulk.iter().chain(&urgent).map(|&l| usize::from(l)).sum::<usize>());
        }
    }
}
