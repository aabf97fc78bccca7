//! The OpenFlow side of one connection, sans I/O: each frame the controller sent is decoded,
//! counted and recorded under the switch's lock; the HELLO exchange negotiates the version;
//! then injected FLOW_MOD faults fire or the [`crate::datapath::Datapath`] answers, handshake
//! and barrier events are recorded, the invariant is checked, and the replies are queued for
//! the connection task to write.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use op25b_proto::error_codes::{ErrorType, HelloFailedCode};
use op25b_proto::{ErrorMsg, Message, OfpMessage};

use crate::faults::HandshakeBehaviour;
use crate::handshake::negotiate;
use crate::observe::{SwitchEvent, Violation};
use crate::switch_state::{Inner, State};

/// Per-connection protocol state.
pub(crate) struct Connection {
    pub(crate) negotiated: Option<u8>,
    pub(crate) out: BytesMut,
}

impl Connection {
    /// Handles one frame under the switch's lock; queues replies in `self.out`. Returns a
    /// reason when the connection must close.
    pub(crate) fn on_frame(&mut self, inner: &Inner, frame: &Bytes) -> Option<String> {
        let decoded = OfpMessage::decode(frame);
        let mut guard = inner.state.lock();
        let st = &mut *guard;
        st.counters.messages += 1;
        let index = st.next_index;
        st.next_index += 1;
        let header_version = frame.first().copied().unwrap_or(0);
        let xid = frame
            .get(4..8)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let mut close = None;
        match decoded {
            Err(e) => {
                st.counters.undecodable += 1;
                if inner.handshake != HandshakeBehaviour::NoHello {
                    self.queue(&OfpMessage {
                        version: self.negotiated.unwrap_or(header_version),
                        xid,
                        body: Message::Error(e.to_error_msg(frame)),
                    });
                }
            }
            Ok(msg) => {
                if st.received.limit() > 0 {
                    st.received.push(msg.clone());
                }
                close = self.on_message(inner, st, &msg, frame);
                if st.violation.is_none() {
                    if let Some(check) = &st.invariant {
                        if let Err(description) = check(&st.datapath) {
                            st.violation = Some(Violation {
                                message_index: index,
                                message: msg,
                                description,
                            });
                        }
                    }
                }
            }
        }
        drop(guard);
        inner.bump();
        close
    }

    fn on_message(
        &mut self,
        inner: &Inner,
        st: &mut State,
        msg: &OfpMessage,
        frame: &Bytes,
    ) -> Option<String> {
        if inner.handshake == HandshakeBehaviour::NoHello {
            return None;
        }
        let Some(version) = self.negotiated else {
            let agreed = match &msg.body {
                Message::Hello(h) => negotiate(&inner.versions, msg.version, h),
                _ => None,
            };
            return match agreed {
                Some(v) => {
                    self.negotiated = Some(v);
                    st.version = Some(v);
                    st.events.push(SwitchEvent::HelloDone { version: v });
                    None
                }
                None => {
                    // Spec 6.3.1: OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE with an ASCII
                    // explanation, then terminate the connection.
                    let err = ErrorMsg::new(
                        ErrorType::HelloFailed as u16,
                        HelloFailedCode::Incompatible as u16,
                        Bytes::from_static(b"no common OpenFlow version"),
                    );
                    self.queue(&OfpMessage {
                        version: inner.versions.iter().copied().max().unwrap_or(msg.version),
                        xid: msg.xid,
                        body: Message::Error(err),
                    });
                    st.events.push(SwitchEvent::HelloFailed);
                    Some("version negotiation failed".into())
                }
            };
        };
        let replies = match &msg.body {
            Message::FeaturesRequest if inner.handshake == HandshakeBehaviour::NoFeaturesReply => {
                Vec::new()
            }
            Message::FlowMod(fm) => {
                st.counters.flow_mods += 1;
                let nth = st.counters.flow_mods;
                let fault = st.flow_mod_faults.iter().position(|f| f.fires(nth, fm));
                let replies = match fault {
                    Some(i) => {
                        let f = st.flow_mod_faults.remove(i);
                        vec![OfpMessage {
                            version,
                            xid: msg.xid,
                            body: Message::Error(ErrorMsg::for_request(f.err_type, f.code, frame)),
                        }]
                    }
                    None => st.datapath.handle(msg, frame, Instant::now()),
                };
                if replies.iter().any(|r| matches!(r.body, Message::Error(_))) {
                    st.counters.flow_mod_errors += 1;
                }
                replies
            }
            _ => st.datapath.handle(msg, frame, Instant::now()),
        };
        for r in &replies {
            match r.body {
                Message::BarrierReply => st.events.push(SwitchEvent::BarrierReplied { xid: r.xid }),
                Message::FeaturesReply(_) if !st.handshake_done => {
                    st.handshake_done = true;
                    st.events.push(SwitchEvent::HandshakeDone);
                }
                _ => {}
            }
            self.queue(r);
        }
        if matches!(msg.body, Message::BarrierRequest) {
            st.counters.barriers += 1;
        }
        None
    }

    fn queue(&mut self, msg: &OfpMessage) {
        msg.encode(&mut self.out);
    }
}
