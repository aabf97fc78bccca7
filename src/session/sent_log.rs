//! Xids of one connection: allocation, and the recently sent messages kept by xid (bounded) so an
//! ERROR from the switch can name the request that caused it.
//!
//! A `SentLog` belongs to one connection's session and dies with it: a reply arriving on a new
//! connection can never complete or be blamed on a request sent on an old one (os-ken deadlocked
//! after reconnects because its pending xids were global).

use std::collections::VecDeque;

/// How many sent messages are kept for naming the cause of an ERROR.
pub const SENT_LOG_CAPACITY: usize = 512;

/// Xid allocator plus a ring of recently sent (xid, message).
#[derive(Debug)]
pub struct SentLog<T> {
    next_xid: u32,
    recent: VecDeque<(u32, T)>,
    capacity: usize,
}

impl<T> SentLog<T> {
    /// Xids start at `first_xid` (vary it per connection to make stray replies obvious in logs).
    pub fn new(first_xid: u32, capacity: usize) -> Self {
        Self {
            next_xid: first_xid.max(1),
            // Grows on use: most connections send a few dozen messages between syncs.
            recent: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// A fresh xid (never 0, wraps around).
    pub fn next_xid(&mut self) -> u32 {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        xid
    }

    /// Remembers that `msg` went out with `xid`, forgetting the oldest past capacity.
    pub fn record(&mut self, xid: u32, msg: T) {
        if self.recent.len() == self.capacity {
            self.recent.pop_front();
        }
        self.recent.push_back((xid, msg));
    }

    /// The message sent with `xid`, if still remembered.
    pub fn find(&self, xid: u32) -> Option<&T> {
        self.recent
            .iter()
            .rev()
            .find(|(x, _)| *x == xid)
            .map(|(_, m)| m)
    }

    /// Forgets every recorded message and frees the ring (after a barrier confirmed them all:
    /// the switch reports an error before the reply to a later barrier, so none can still come).
    pub fn forget_all(&mut self) {
        self.recent = VecDeque::new();
    }

    pub fn len(&self) -> usize {
        self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_recent_and_forgets_old() {
        let mut log = SentLog::new(1, 3);
        for i in 0..5 {
            let x = log.next_xid();
            log.record(x, i);
        }
        assert_eq!(log.len(), 3);
        assert_eq!(log.find(1), None);
        assert_eq!(log.find(2), None);
        assert_eq!(log.find(3), Some(&2));
        assert_eq!(log.find(5), Some(&4));
    }

    #[test]
    fn forget_all_empties_the_ring_and_keeps_the_xid_sequence() {
        let mut log = SentLog::new(1, 8);
        for i in 0..5 {
            let x = log.next_xid();
            log.record(x, i);
        }
        log.forget_all();
        assert!(log.is_empty());
        assert_eq!(log.find(5), None);
        assert_eq!(log.next_xid(), 6);
    }

    #[test]
    fn xid_zero_is_never_handed_out() {
        let mut log: SentLog<()> = SentLog::new(u32::MAX, 4);
        assert_eq!(log.next_xid(), u32::MAX);
        assert_eq!(log.next_xid(), 1);
        let mut log0: SentLog<()> = SentLog::new(0, 4);
        assert_eq!(log0.next_xid(), 1);
    }

    proptest! {
        #[test]
        fn never_grows_past_capacity(cap in 1usize..50, n in 0usize..500) {
            let mut log = SentLog::new(7, cap);
            for i in 0..n {
                let x = log.next_xid();
                log.record(x, i);
                prop_assert!(log.len() <= cap);
                prop_assert_eq!(log.find(x), Some(&i));
            }
        }
    }
}
