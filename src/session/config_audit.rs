//! The switch configuration (SET_CONFIG: fragment handling, miss_send_len): what was last sent
//! on this connection, and the audit's read-back, since someone may have changed the fragment
//! mode (e.g. `ovs-ofctl set-frags`) behind our back.

use op25b_proto::consts::OFPC_FRAG_MASK;
use tracing::{debug, warn};

/// What a GET_CONFIG_REPLY showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigCheck {
    /// Not the reply to the audit's request.
    Ignored,
    /// The fragment mode is as wanted.
    Kept,
    /// The fragment mode changed: send SET_CONFIG again.
    Drifted,
}

/// The SET_CONFIG last sent and the audit's GET_CONFIG_REQUEST waiting for its reply.
#[derive(Debug, Clone, Default)]
pub struct ConfigAudit {
    sent: Option<(u16, u16)>,
    checking: Option<u32>,
}

impl ConfigAudit {
    /// SET_CONFIG `(flags, miss_send_len)` went out.
    pub fn sent(&mut self, config: (u16, u16)) {
        self.sent = Some(config);
    }

    /// `config` is not what was last sent (a reload changed it).
    pub fn differs(&self, config: (u16, u16)) -> bool {
        self.sent != Some(config)
    }

    /// The audit's GET_CONFIG_REQUEST went out with `xid`.
    pub fn checking(&mut self, xid: u32) {
        self.checking = Some(xid);
    }

    /// The GET_CONFIG_REPLY `xid` showed `flags`; `want` is the flags the policy wants.
    pub fn on_reply(&mut self, xid: u32, flags: u16, want: u16) -> ConfigCheck {
        if self.checking != Some(xid) {
            debug!(xid, "GET_CONFIG_REPLY for another request ignored");
            return ConfigCheck::Ignored;
        }
        self.checking = None;
        if flags & OFPC_FRAG_MASK == want & OFPC_FRAG_MASK {
            return ConfigCheck::Kept;
        }
        warn!(
            found = format_args!("{:#x}", flags & OFPC_FRAG_MASK),
            want = format_args!("{:#x}", want & OFPC_FRAG_MASK),
            "audit found the switch's fragment mode changed; re-sending SET_CONFIG"
        );
        ConfigCheck::Drifted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_what_was_sent() {
        let mut a = ConfigAudit::default();
        assert!(a.differs((1, 128)), "nothing sent yet");
        a.sent((1, 128));
        assert!(!a.differs((1, 128)));
        assert!(a.differs((0, 128)));
        assert!(a.differs((1, 0)));
    }

    #[test]
    fn only_the_fragment_bits_of_the_awaited_reply_count() {
        let mut a = ConfigAudit::default();
        assert_eq!(a.on_reply(5, 0, 1), ConfigCheck::Ignored, "nothing asked");
        a.checking(5);
        assert_eq!(a.on_reply(6, 0, 1), ConfigCheck::Ignored);
        assert_eq!(a.on_reply(5, 0x81, 1), ConfigCheck::Kept, "other bits");
        assert_eq!(a.on_reply(5, 0, 1), ConfigCheck::Ignored, "answered");
        a.checking(7);
        assert_eq!(a.on_reply(7, 0, 1), ConfigCheck::Drifted);
        assert_eq!(a.on_reply(7, 0, 1), ConfigCheck::Ignored, "a stale reply");
    }
}
