//! Where an ERROR from the switch goes: to the request it answers (by xid), or closing the
//! connection for HELLO_FAILED. The order matters: a counter poll's ERROR only drops the poll,
//! a HELLO_FAILED always closes, a handshake request's closes while handshaking, and one for a
//! request of the running sync is the sync's; any other is only logged and counted.
//!
//! Counted under [`counted_as`]: the pair's spec names when the spec names both, else one
//! `other` key, so a peer cannot choose how many keys (and metric series) there are.

use super::session_policy::SessionPolicy;
use super::wire::Outbound;
use op25b_proto::error_codes::ErrorType;

/// Who an ERROR concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorRoute {
    /// It answers the counter poll's request: drop that poll.
    CounterPoll,
    /// OFPET_HELLO_FAILED: the switch refuses the session.
    HelloFailed,
    /// It answers FEATURES or PORT_DESC during the handshake: the handshake fails.
    Handshake,
    /// It answers a request of the running sync.
    Sync,
    /// Nothing waits for it.
    Unrelated,
}

/// Which parts of the session sent the request with the ERROR's xid.
#[derive(Debug, Clone, Copy, Default)]
pub struct Askers {
    pub counter_poll: bool,
    /// A handshake request, while the handshake runs.
    pub handshake: bool,
    pub sync: bool,
}

/// Where an ERROR of type `err_type` goes, given who sent the request it answers.
pub fn route(err_type: u16, askers: Askers) -> ErrorRoute {
    if askers.counter_poll {
        ErrorRoute::CounterPoll
    } else if err_type == ErrorType::HelloFailed as u16 {
        ErrorRoute::HelloFailed
    } else if askers.handshake {
        ErrorRoute::Handshake
    } else if askers.sync {
        ErrorRoute::Sync
    } else {
        ErrorRoute::Unrelated
    }
}

/// The key an ERROR of (`err_type`, `code`) is counted under: "TYPE/CODE" by the spec's names
/// when it names both, else [`OTHER_ERRORS`].
pub fn counted_as(err_type: u16, code: u16) -> String {
    match op25b_proto::error_codes::known_names(err_type, code) {
        Some((t, c)) => format!("{t}/{c}"),
        None => OTHER_ERRORS.to_owned(),
    }
}

/// The one key of every ERROR whose type or code the spec does not name (experimenter errors
/// included).
pub const OTHER_ERRORS: &str = "other";

/// One line naming the request an ERROR answers (`None`: no longer remembered), for its logs.
pub fn describe<P: SessionPolicy + ?Sized>(
    policy: &P,
    request: Option<&Outbound<P::Msg>>,
) -> String {
    match request {
        Some(Outbound::Policy(m)) => policy.describe(m),
        Some(Outbound::SetConfig {
            flags,
            miss_send_len,
        }) => format!("SET_CONFIG flags={flags:#x} miss_send_len={miss_send_len}"),
        Some(other) => other.kind().to_owned(),
        None => "<not among recently sent messages>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW_MOD_FAILED: u16 = ErrorType::FlowModFailed as u16;
    const HELLO_FAILED: u16 = ErrorType::HelloFailed as u16;

    #[test]
    fn known_pairs_are_counted_by_name_and_the_rest_together() {
        assert_eq!(counted_as(5, 1), "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL");
        assert_eq!(counted_as(5, 1000), OTHER_ERRORS);
        assert_eq!(counted_as(300, 1), OTHER_ERRORS);
        assert_eq!(counted_as(0xffff, 7), OTHER_ERRORS);
    }

    #[test]
    fn the_counter_poll_first_then_hello_failed_then_the_handshake_then_the_sync() {
        let all = Askers {
            counter_poll: true,
            handshake: true,
            sync: true,
        };
        assert_eq!(route(HELLO_FAILED, all), ErrorRoute::CounterPoll);
        let not_poll = Askers {
            counter_poll: false,
            ..all
        };
        assert_eq!(route(HELLO_FAILED, not_poll), ErrorRoute::HelloFailed);
        assert_eq!(
            route(HELLO_FAILED, Askers::default()),
            ErrorRoute::HelloFailed,
            "whoever it answers"
        );
        assert_eq!(route(FLOW_MOD_FAILED, not_poll), ErrorRoute::Handshake);
        let sync = Askers {
            sync: true,
            ..Askers::default()
        };
        assert_eq!(route(FLOW_MOD_FAILED, sync), ErrorRoute::Sync);
        assert_eq!(
            route(FLOW_MOD_FAILED, Askers::default()),
            ErrorRoute::Unrelated
        );
    }
}
