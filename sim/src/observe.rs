//! What a test can see of a simulated switch: counters, a bounded record of the messages it
//! received, lifecycle events and the first invariant violation.

use std::collections::VecDeque;

use op25b_proto::OfpMessage;

/// Message counts since the switch was created (they survive reconnects).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Every OpenFlow message received (decodable or not), HELLOs included.
    pub messages: u64,
    /// FLOW_MODs received (applied or answered with an error).
    pub flow_mods: u64,
    /// FLOW_MODs answered with an error (validation or injected fault).
    pub flow_mod_errors: u64,
    /// BARRIER_REQUESTs received (each answered in order).
    pub barriers: u64,
    /// Frames that failed to decode (each answered with an OpenFlow error).
    pub undecodable: u64,
    /// PACKET_INs queued to the controller by [`crate::SimSwitch::inject_packet`].
    pub packet_ins: u64,
    /// PACKET_INs that could not be queued (no connection, HELLO not done, queue full).
    pub packet_ins_dropped: u64,
    /// TCP connections established to a controller.
    pub connections: u64,
    /// Of those, TLS connections whose handshake resumed an earlier session (no certificates
    /// exchanged, no signatures).
    pub tls_resumptions: u64,
}

/// A lifecycle event, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchEvent {
    /// TCP connection established (counting from 1).
    Connected { connection: u64 },
    /// HELLO exchange done; the negotiated version.
    HelloDone { version: u8 },
    /// Version negotiation failed; the switch sent OFPET_HELLO_FAILED and closed.
    HelloFailed,
    /// FEATURES_REPLY sent: the controller now knows the datapath id.
    HandshakeDone,
    /// A BARRIER_REPLY was sent for this xid.
    BarrierReplied { xid: u32 },
    /// A connect attempt of [`crate::SimSwitch::spawn_reconnecting`] failed.
    ConnectFailed { reason: String },
    /// The connection ended; why.
    Disconnected { reason: String },
}

/// An invariant that failed after some message was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Index of the message in the switch's receive order (0 = first message ever received).
    pub message_index: u64,
    /// The message after which the invariant failed.
    pub message: OfpMessage,
    /// What the invariant reported.
    pub description: String,
}

/// A FIFO that keeps the newest `limit` items and counts what it dropped.
#[derive(Debug, Clone)]
pub struct BoundedLog<T> {
    items: VecDeque<T>,
    limit: usize,
    dropped: u64,
}

impl<T> BoundedLog<T> {
    /// A log keeping at most `limit` items (0 keeps nothing).
    pub fn new(limit: usize) -> Self {
        Self {
            items: VecDeque::new(),
            limit,
            dropped: 0,
        }
    }

    /// Appends, evicting the oldest item when full.
    pub fn push(&mut self, item: T) {
        if self.limit == 0 {
            self.dropped += 1;
            return;
        }
        if self.items.len() == self.limit {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    /// The kept items, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// The most items kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many items were evicted or never kept.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Number of kept items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_log_keeps_the_newest() {
        let mut log = BoundedLog::new(3);
        for i in 0..5 {
            log.push(i);
        }
        assert_eq!(log.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(log.dropped(), 2);
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn zero_limit_keeps_nothing() {
        let mut log = BoundedLog::new(0);
        log.push(1);
        assert!(log.is_empty());
        assert_eq!(log.dropped(), 1);
    }
}
