//! Unit tests of the sans-I/O session with a fake policy (messages are strings).

use super::machine::*;
use super::output::{CloseReason, Output, SessionEvent};
use super::phase::Phase;
use super::session_policy::*;
use super::sync_reason::SyncReason;
use super::wire::{Inbound, Outbound};
use crate::flows::SwitchView;
use op25b_proto::{AssemblyError, MeterConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct FakePolicy {
    generation: u64,
    desired: Vec<String>,
    meters: Vec<String>,
    frag_flags: u16,
}

impl FakePolicy {
    fn new(generation: u64, desired: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            generation,
            desired: desired.iter().map(|s| s.to_string()).collect(),
            meters: vec![],
            frag_flags: 1,
        })
    }
}

const COOKIE: u64 = 0x4f50;

impl SessionPolicy for FakePolicy {
    type Msg = String;
    type FlowEntry = String;
    type Desired = Vec<String>;
    fn generation(&self) -> u64 {
        self.generation
    }
    fn describe(&self, msg: &String) -> String {
        format!("MSG<{msg}>")
    }
    fn timers(&self) -> SessionTimers {
        SessionTimers {
            echo_interval: Duration::from_secs(5),
            echo_timeout: Duration::from_secs(15),
            handshake_timeout: Duration::from_secs(10),
            audit_interval: Duration::from_secs(60),
            counters_interval: Duration::from_secs(10),
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(8),
        }
    }
    fn switch_config(&self) -> (u16, u16) {
        (self.frag_flags, 128)
    }
    fn switch_name(&self, _dpid: u64) -> Option<String> {
        None
    }
    fn cookie(&self) -> u64 {
        COOKIE
    }
    fn flows_request(&self) -> String {
        "flows?".into()
    }
    fn meter_adds(&self, _view: &SwitchView) -> Vec<String> {
        self.meters.clone()
    }
    fn meter_modify(&self, add: &String) -> Option<String> {
        Some(add.replace("add", "modify"))
    }
    fn meters_request(&self) -> String {
        "meters?".into()
    }
    /// Meter "meter add N" is as desired when the switch reports meter N with flags 1.
    fn meter_plan(&self, _view: &SwitchView, actual: &[MeterConfig]) -> Vec<String> {
        self.meters
            .iter()
            .filter_map(|m| {
                let id: u32 = m.rsplit(' ').next()?.parse().ok()?;
                match actual.iter().find(|c| c.meter_id == id) {
                    None => Some(m.clone()),
                    Some(c) if c.flags == 1 => None,
                    Some(_) => self.meter_modify(m),
                }
            })
            .collect()
    }
    fn plan(&self, view: &SwitchView, actual: &[String]) -> SyncPlan<String, Vec<String>> {
        let mut desired = self.desired.clone();
        if view.meters_supported {
            desired.push("sample-with-meter".into());
        }
        let adds: Vec<String> = desired
            .iter()
            .filter(|d| !actual.contains(d))
            .map(|d| format!("add {d}"))
            .collect();
        let dels: Vec<String> = actual
            .iter()
            .filter(|a| !desired.contains(a))
            .map(|a| format!("del {a}"))
            .collect();
        SyncPlan {
            added: adds.len(),
            removed: dels.len(),
            modified: 0,
            desired: desired.len(),
            batches: vec![adds, dels],
            desired_flows: desired,
        }
    }
}

type Out = Output<String, String, Vec<String>, u32>;
type Session = SwitchSession<FakePolicy, u32>;

fn peer() -> std::net::SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn sends(out: &[Out]) -> Vec<(u32, Outbound<String>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { xid, msg } | Output::SendUrgent { xid, msg } => {
                Some((*xid, msg.clone()))
            }
            _ => None,
        })
        .collect()
}

fn events(out: &[Out]) -> Vec<SessionEvent> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn xid_of(out: &[Out], want: &Outbound<String>) -> u32 {
    sends(out)
        .into_iter()
        .find(|(_, m)| m == want)
        .unwrap_or_else(|| panic!("{want:?} not sent in {out:?}"))
        .0
}

/// Drives a session through the handshake; returns it and the xid of the FLOW stats request.
fn handshake(policy: Arc<FakePolicy>, t0: Instant) -> (Session, u32) {
    let mut s = Session::new(peer(), policy, 100, t0);
    let out = s.start();
    assert_eq!(sends(&out)[0].1, Outbound::Hello);
    let out = s.on_message(
        1,
        Inbound::Hello {
            version: 4,
            supports_13: true,
        },
        t0,
    );
    let fx = xid_of(&out, &Outbound::FeaturesRequest);
    let px = xid_of(&out, &Outbound::PortDescRequest);
    let out = s.on_message(fx, Inbound::FeaturesReply { dpid: 7 }, t0);
    assert!(events(&out).contains(&SessionEvent::DpidLearned { dpid: 7 }));
    assert!(
        sends(&out).is_empty(),
        "PORT_DESC was requested with FEATURES"
    );
    let out = s.on_message(px, Inbound::ReplyPart, t0);
    assert!(sends(&out).is_empty(), "waits for the last PORT_DESC part");
    let out = s.on_message(
        px,
        Inbound::PortDesc {
            ports: vec![1, 2, 3, 0xffff_fffe],
        },
        t0,
    );
    assert_eq!(
        ports(&s),
        vec![1, 2, 3],
        "reserved ports are not switch ports"
    );
    assert!(sends(&out).iter().any(|(_, m)| *m
        == Outbound::SetConfig {
            flags: 1,
            miss_send_len: 128
        }));
    let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    assert_eq!(s.phase(), Phase::Syncing);
    (s, rx)
}

/// The switch's ports as the session knows them.
fn ports(s: &Session) -> Vec<u32> {
    s.view().ports.iter().map(|p| p.0).collect()
}

fn policy_msgs(out: &[Out]) -> Vec<String> {
    sends(out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Outbound::Policy(p) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn full_sync_sends_batches_with_barriers_and_is_in_sync_only_after_the_last_barrier() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a", "b"]), t0);
    let out = s.on_message(rx, Inbound::ReplyPart, t0);
    assert!(sends(&out).is_empty());
    let out = s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["a".into(), "stale".into()],
        },
        t0,
    );
    assert_eq!(policy_msgs(&out), vec!["add b".to_string()]);
    assert_eq!(
        planned(&out),
        vec![vec!["a".to_string(), "b".to_string()]],
        "the plan's desired flows are handed out once, with the read"
    );
    let b1 = xid_of(&out, &Outbound::BarrierRequest);
    assert_eq!(s.phase(), Phase::Syncing);
    let out = s.on_message(b1, Inbound::BarrierReply, t0);
    assert_eq!(
        policy_msgs(&out),
        vec!["del stale".to_string()],
        "deletes only after the adds' barrier"
    );
    let b2 = xid_of(&out, &Outbound::BarrierRequest);
    assert_eq!(s.phase(), Phase::Syncing);
    let out = s.on_message(b2, Inbound::BarrierReply, t0);
    assert_eq!(s.phase(), Phase::InSync);
    let ev = events(&out);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            SessionEvent::SyncSucceeded {
                added: 1,
                removed: 1,
                flows_on_switch: 2,
                generation: 1,
                ..
            }
        )),
        "{ev:?}"
    );
}

#[test]
fn a_switch_that_has_everything_gets_nothing() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a", "b"]), t0);
    let out = s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["b".into(), "a".into()],
        },
        t0,
    );
    assert!(sends(&out).is_empty(), "nothing resent: {out:?}");
    assert_eq!(s.phase(), Phase::InSync);
}

#[test]
fn a_switch_without_openflow_13_gets_hello_failed_and_is_closed() {
    let t0 = Instant::now();
    let mut s = Session::new(peer(), FakePolicy::new(1, &[]), 1, t0);
    s.start();
    let out = s.on_message(
        1,
        Inbound::Hello {
            version: 1,
            supports_13: false,
        },
        t0,
    );
    assert!(
        matches!(
            &out[0],
            Output::SendUrgent {
                msg: Outbound::HelloIncompatible { .. },
                ..
            }
        ),
        "{out:?}"
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Close(CloseReason::Incompatible { version: 1 }))));
    assert_eq!(s.phase(), Phase::Closed);
    assert!(s
        .on_message(2, Inbound::EchoRequest { data: vec![] }, t0)
        .is_empty());
}

#[test]
fn a_first_message_other_than_hello_closes() {
    let t0 = Instant::now();
    let mut s = Session::new(peer(), FakePolicy::new(1, &[]), 1, t0);
    s.start();
    let out = s.on_message(1, Inbound::BarrierReply, t0);
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Close(CloseReason::ProtocolViolation(_)))));
}

#[test]
fn echo_requests_are_answered_urgently_with_the_same_xid_and_data() {
    let t0 = Instant::now();
    let (mut s, _) = handshake(FakePolicy::new(1, &["a"]), t0);
    let out = s.on_message(
        4242,
        Inbound::EchoRequest {
            data: vec![1, 2, 3],
        },
        t0,
    );
    assert!(
        matches!(&out[..], [Output::SendUrgent { xid: 4242, msg: Outbound::EchoReply { data } }] if data == &vec![1, 2, 3])
    );
}

#[test]
fn handshake_never_finished_is_closed_after_the_timeout() {
    let t0 = Instant::now();
    let mut s = Session::new(peer(), FakePolicy::new(1, &[]), 1, t0);
    s.start();
    s.on_message(
        1,
        Inbound::Hello {
            version: 4,
            supports_13: true,
        },
        t0,
    );
    assert_eq!(s.next_deadline(), t0 + Duration::from_secs(10));
    assert!(s.on_tick(t0 + Duration::from_secs(9)).is_empty());
    let out = s.on_tick(t0 + Duration::from_secs(10));
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Close(CloseReason::HandshakeTimeout {
                phase: "await_features",
                ..
            })
        )),
        "{out:?}"
    );
}

#[test]
fn keepalive_sends_echoes_and_closes_a_silent_switch() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &[]), t0);
    s.on_message(rx, Inbound::FlowStats { entries: vec![] }, t0);
    assert_eq!(s.phase(), Phase::InSync);
    let out = s.on_tick(t0 + Duration::from_secs(5));
    assert!(
        matches!(
            &out[..],
            [Output::SendUrgent {
                msg: Outbound::EchoRequest,
                ..
            }]
        ),
        "{out:?}"
    );
    // An answer keeps it alive.
    s.on_message(9, Inbound::EchoReply, t0 + Duration::from_secs(6));
    assert!(!s
        .on_tick(t0 + Duration::from_secs(20))
        .iter()
        .any(|o| matches!(o, Output::Close(_))));
    let out = s.on_tick(t0 + Duration::from_secs(21));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Close(CloseReason::Silent { .. }))),
        "{out:?}"
    );
}

#[test]
fn a_switch_that_spoke_within_the_interval_is_not_probed() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &[]), t0);
    s.on_message(rx, Inbound::FlowStats { entries: vec![] }, t0);
    // The switch's own probe at t0+4 s: answered, and it proves the switch alive.
    let out = s.on_message(
        77,
        Inbound::EchoRequest { data: vec![] },
        t0 + Duration::from_secs(4),
    );
    assert!(
        out.iter().all(|o| !matches!(
            o,
            Output::SendUrgent {
                msg: Outbound::EchoRequest,
                ..
            }
        )),
        "{out:?}"
    );
    assert_eq!(s.next_deadline(), t0 + Duration::from_secs(9));
    let out = s.on_tick(t0 + Duration::from_secs(5));
    assert!(
        !out.iter().any(|o| matches!(
            o,
            Output::SendUrgent {
                msg: Outbound::EchoRequest,
                ..
            }
        )),
        "probed 1 s after the switch spoke: {out:?}"
    );
    // echo_interval of silence: now it is probed, once.
    let out = s.on_tick(t0 + Duration::from_secs(9));
    let probes = out
        .iter()
        .filter(|o| {
            matches!(
                o,
                Output::SendUrgent {
                    msg: Outbound::EchoRequest,
                    ..
                }
            )
        })
        .count();
    assert_eq!(probes, 1, "{out:?}");
    let out = s.on_tick(t0 + Duration::from_secs(10));
    assert!(
        !out.iter().any(|o| matches!(
            o,
            Output::SendUrgent {
                msg: Outbound::EchoRequest,
                ..
            }
        )),
        "{out:?}"
    );
}

#[test]
fn an_error_fails_the_sync_names_the_request_and_retries_with_backoff() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    let out = s.on_message(rx, Inbound::FlowStats { entries: vec![] }, t0);
    let add_xid = xid_of(&out, &Outbound::Policy("add a".into()));
    let barrier = xid_of(&out, &Outbound::BarrierRequest);
    let out = s.on_message(
        add_xid,
        Inbound::Error {
            err_type: 5,
            code: 1,
            names: "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL".into(),
        },
        t0,
    );
    let ev = events(&out);
    assert!(ev.contains(&SessionEvent::SwitchError {
        names: "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL".into()
    }));
    let failed = ev.iter().find_map(|e| match e {
        SessionEvent::SyncFailed { error, retry_in } => Some((error.clone(), *retry_in)),
        _ => None,
    });
    let (error, retry_in) = failed.expect("sync failed event");
    assert!(
        error.contains("switch rejected MSG<add a>: OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL"),
        "the request named by the policy's describe, not Debug: {error}"
    );
    assert_eq!(retry_in, Duration::from_secs(1));
    assert!(matches!(s.phase(), Phase::RetryWait { .. }));
    // The late barrier of the failed run completes nothing.
    let out = s.on_message(barrier, Inbound::BarrierReply, t0);
    assert!(events(&out).is_empty() && sends(&out).is_empty(), "{out:?}");
    // Retry after the back-off re-reads the flows.
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(s.next_deadline(), t1);
    let out = s.on_tick(t1);
    let rx2 = xid_of(&out, &Outbound::Policy("flows?".into()));
    let out = s.on_message(rx2, Inbound::FlowStats { entries: vec![] }, t1);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    let out = s.on_message(b, Inbound::BarrierReply, t1);
    assert_eq!(s.phase(), Phase::InSync);
    assert!(events(&out).iter().any(|e| matches!(
        e,
        SessionEvent::SyncSucceeded {
            reason: SyncReason::Retry,
            ..
        }
    )));
}

#[test]
fn repeated_failures_back_off_exponentially_up_to_the_cap() {
    let t0 = Instant::now();
    let (mut s, mut rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    let mut now = t0;
    let mut delays = vec![];
    for _ in 0..6 {
        let out = s.on_message(rx, Inbound::FlowStats { entries: vec![] }, now);
        let add = xid_of(&out, &Outbound::Policy("add a".into()));
        let out = s.on_message(
            add,
            Inbound::Error {
                err_type: 5,
                code: 1,
                names: "x".into(),
            },
            now,
        );
        let d = events(&out)
            .iter()
            .find_map(|e| match e {
                SessionEvent::SyncFailed { retry_in, .. } => Some(*retry_in),
                _ => None,
            })
            .unwrap();
        delays.push(d.as_secs());
        now += d;
        let out = s.on_tick(now);
        rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    }
    assert_eq!(delays, vec![1, 2, 4, 8, 8, 8]);
}

#[test]
fn a_trigger_during_a_sync_reruns_it_after_never_two_at_once() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    let out = s.on_policy(FakePolicy::new(2, &["a", "c"]), t0);
    assert!(sends(&out).is_empty(), "no second sync while one runs");
    let out = s.on_message(rx, Inbound::FlowStats { entries: vec![] }, t0);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    let out = s.on_message(b, Inbound::BarrierReply, t0);
    // First sync done, immediately followed by the policy re-sync.
    let ev = events(&out);
    assert!(ev
        .iter()
        .any(|e| matches!(e, SessionEvent::SyncSucceeded { .. })));
    let rx2 = xid_of(&out, &Outbound::Policy("flows?".into()));
    assert_eq!(s.phase(), Phase::Syncing);
    let out = s.on_message(
        rx2,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t0,
    );
    assert_eq!(policy_msgs(&out), vec!["add c".to_string()]);
}

#[test]
fn audit_rereads_after_the_interval_and_repairs() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t0,
    );
    assert_eq!(s.phase(), Phase::InSync);
    let t1 = t0 + Duration::from_secs(60);
    // Keep the switch alive in between.
    s.on_message(1, Inbound::EchoReply, t1 - Duration::from_secs(1));
    let out = s.on_tick(t1);
    let rx2 = xid_of(&out, &Outbound::Policy("flows?".into()));
    let out = s.on_message(rx2, Inbound::FlowStats { entries: vec![] }, t1);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    let out = s.on_message(b, Inbound::BarrierReply, t1);
    assert!(events(&out).iter().any(|e| matches!(
        e,
        SessionEvent::SyncSucceeded {
            reason: SyncReason::Audit,
            added: 1,
            ..
        }
    )));
}

#[test]
fn our_flow_removed_and_port_changes_trigger_a_sync_foreign_ones_do_not() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &[]), t0);
    s.on_message(rx, Inbound::FlowStats { entries: vec![] }, t0);
    assert!(sends(&s.on_message(1, Inbound::FlowRemoved { cookie: 99 }, t0)).is_empty());
    assert_eq!(s.phase(), Phase::InSync);
    let out = s.on_message(1, Inbound::FlowRemoved { cookie: COOKIE }, t0);
    let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    s.on_message(rx, Inbound::FlowStats { entries: vec![] }, t0);
    // A known port re-announced is not a change.
    assert!(sends(&s.on_message(
        1,
        Inbound::PortStatus {
            reason: 2,
            port_no: 1
        },
        t0
    ))
    .is_empty());
    let out = s.on_message(
        1,
        Inbound::PortStatus {
            reason: 0,
            port_no: 9,
        },
        t0,
    );
    assert!(!policy_msgs(&out).is_empty());
    assert_eq!(ports(&s), vec![1, 2, 3, 9]);
}

#[test]
fn packet_ins_with_our_cookie_are_forwarded_others_are_not() {
    let t0 = Instant::now();
    let (mut s, _) = handshake(FakePolicy::new(1, &[]), t0);
    let out = s.on_message(
        1,
        Inbound::PacketIn {
            cookie: COOKIE,
            packet_in: 77,
        },
        t0,
    );
    assert!(matches!(&out[..], [Output::PacketIn(77)]));
    assert!(s
        .on_message(
            1,
            Inbound::PacketIn {
                cookie: 1,
                packet_in: 78
            },
            t0
        )
        .is_empty());
}

fn metered(generation: u64) -> Arc<FakePolicy> {
    Arc::new(FakePolicy {
        generation,
        desired: vec!["a".into()],
        meters: vec!["meter add 1".into()],
        frag_flags: 1,
    })
}

/// A metered session through the handshake: the METER_CONFIG request and the FLOW stats
/// request read ahead, both just sent, nothing else. Returns their xids.
fn metered_handshake(t0: Instant) -> (Session, u32, u32) {
    let mut s = Session::new(peer(), metered(1), 1, t0);
    s.start();
    let out = s.on_message(
        1,
        Inbound::Hello {
            version: 4,
            supports_13: true,
        },
        t0,
    );
    let fx = xid_of(&out, &Outbound::FeaturesRequest);
    let px = xid_of(&out, &Outbound::PortDescRequest);
    s.on_message(fx, Inbound::FeaturesReply { dpid: 1 }, t0);
    let out = s.on_message(px, Inbound::PortDesc { ports: vec![1] }, t0);
    assert_eq!(
        policy_msgs(&out),
        vec!["meters?".to_string(), "flows?".to_string()],
        "the meters and our flows are read (in one round trip) before anything is sent"
    );
    let mx = xid_of(&out, &Outbound::Policy("meters?".into()));
    let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    (s, mx, rx)
}

fn flow_reply(entries: &[&str]) -> Inbound<String, u32> {
    Inbound::FlowStats {
        entries: entries.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn meters_go_first_an_existing_meter_is_modified() {
    let t0 = Instant::now();
    let (mut s, mx, rx) = metered_handshake(t0);
    let out = s.on_message(mx, Inbound::MeterConfig { entries: vec![] }, t0);
    let add = xid_of(&out, &Outbound::Policy("meter add 1".into()));
    let b = xid_of(&out, &Outbound::BarrierRequest);
    // The flows read ahead arrive while the meter is being added: no flow mod before the
    // meter is confirmed.
    let out = s.on_message(rx, flow_reply(&[]), t0);
    assert!(
        sends(&out).is_empty(),
        "flow mods wait for the meter: {out:?}"
    );
    s.on_message(
        add,
        Inbound::Error {
            err_type: 12,
            code: 1,
            names: "METER_EXISTS".into(),
        },
        t0,
    );
    let out = s.on_message(b, Inbound::BarrierReply, t0);
    assert_eq!(policy_msgs(&out), vec!["meter modify 1".to_string()]);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    let out = s.on_message(b, Inbound::BarrierReply, t0);
    assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
    assert_eq!(
        policy_msgs(&out),
        vec!["add a".to_string(), "add sample-with-meter".to_string()],
        "planned from the flows read ahead, with no second read"
    );
}

fn meter(id: u32, flags: u16) -> MeterConfig {
    MeterConfig {
        flags,
        meter_id: id,
        bands: vec![],
    }
}

#[test]
fn an_identical_meter_is_left_alone_after_a_restart() {
    let t0 = Instant::now();
    let (mut s, mx, rx) = metered_handshake(t0);
    // Split over two replies (REPLY_MORE); another controller's meter 7 is ignored.
    let out = s.on_message(mx, Inbound::ReplyPart, t0);
    assert!(policy_msgs(&out).is_empty(), "{out:?}");
    let out = s.on_message(
        mx,
        Inbound::MeterConfig {
            entries: vec![meter(7, 9), meter(1, 1)],
        },
        t0,
    );
    assert!(
        sends(&out).is_empty(),
        "no METER_MOD at all, and the flows are already asked for: {out:?}"
    );
    assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
    // The read ahead arrives in two parts, after the meters were settled.
    let out = s.on_message(rx, Inbound::ReplyPart, t0);
    assert!(sends(&out).is_empty(), "{out:?}");
    let out = s.on_message(rx, flow_reply(&["a", "sample-with-meter"]), t0);
    assert!(sends(&out).is_empty(), "{out:?}");
    assert_eq!(
        s.phase(),
        Phase::InSync,
        "nothing to change, so nothing sent"
    );
}

#[test]
fn a_changed_meter_is_modified_without_an_add() {
    let t0 = Instant::now();
    let (mut s, mx, rx) = metered_handshake(t0);
    let out = s.on_message(
        mx,
        Inbound::MeterConfig {
            entries: vec![meter(1, 2)],
        },
        t0,
    );
    assert_eq!(policy_msgs(&out), vec!["meter modify 1".to_string()]);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    let out = s.on_message(b, Inbound::BarrierReply, t0);
    assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
    assert!(sends(&out).is_empty(), "waits for the flows read ahead");
    let out = s.on_message(rx, flow_reply(&[]), t0);
    assert_eq!(
        policy_msgs(&out),
        vec!["add a".to_string(), "add sample-with-meter".to_string()]
    );
}

#[test]
fn a_switch_that_cannot_list_meters_gets_the_add() {
    let t0 = Instant::now();
    let (mut s, mx, rx) = metered_handshake(t0);
    let out = s.on_message(
        mx,
        Inbound::Error {
            err_type: 1,
            code: 2,
            names: "OFPET_BAD_REQUEST/OFPBRC_BAD_MULTIPART".into(),
        },
        t0,
    );
    assert_eq!(policy_msgs(&out), vec!["meter add 1".to_string()]);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    s.on_message(rx, flow_reply(&["a"]), t0);
    let out = s.on_message(b, Inbound::BarrierReply, t0);
    assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
    assert_eq!(policy_msgs(&out), vec!["add sample-with-meter".to_string()]);
}

#[test]
fn an_audit_reads_the_meters_and_repairs_a_missing_one() {
    let t0 = Instant::now();
    let (mut s, mx, rx) = metered_handshake(t0);
    s.on_message(
        mx,
        Inbound::MeterConfig {
            entries: vec![meter(1, 1)],
        },
        t0,
    );
    let out = s.on_message(rx, flow_reply(&["a", "sample-with-meter"]), t0);
    assert!(policy_msgs(&out).is_empty(), "{out:?}");
    assert_eq!(s.phase(), Phase::InSync);
    // The audit (60 s later; the switch kept talking) re-reads the meters and the flows.
    s.on_message(50, Inbound::EchoReply, t0 + Duration::from_secs(59));
    let out = s.on_tick(t0 + Duration::from_secs(60));
    assert!(
        policy_msgs(&out).contains(&"meters?".to_string()),
        "the audit reads the meters: {out:?}"
    );
    let mx = xid_of(&out, &Outbound::Policy("meters?".into()));
    let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    // Someone deleted the meter (and so the flow using it): the audit puts both back.
    let t1 = t0 + Duration::from_secs(60);
    let out = s.on_message(mx, Inbound::MeterConfig { entries: vec![] }, t1);
    assert_eq!(policy_msgs(&out), vec!["meter add 1".to_string()]);
    let b = xid_of(&out, &Outbound::BarrierRequest);
    s.on_message(rx, flow_reply(&["a"]), t1);
    let out = s.on_message(b, Inbound::BarrierReply, t1);
    assert_eq!(policy_msgs(&out), vec!["add sample-with-meter".to_string()]);
}

#[test]
fn a_switch_rejecting_meters_still_gets_the_blocking_flows() {
    let t0 = Instant::now();
    let (mut s, mx, rx) = metered_handshake(t0);
    let out = s.on_message(mx, Inbound::MeterConfig { entries: vec![] }, t0);
    let add = xid_of(&out, &Outbound::Policy("meter add 1".into()));
    let b = xid_of(&out, &Outbound::BarrierRequest);
    s.on_message(
        add,
        Inbound::Error {
            err_type: 1,
            code: 1,
            names: "OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE".into(),
        },
        t0,
    );
    s.on_message(rx, flow_reply(&[]), t0);
    let out = s.on_message(b, Inbound::BarrierReply, t0);
    assert!(events(&out).contains(&SessionEvent::MetersInUse(false)));
    assert_eq!(policy_msgs(&out), vec!["add a".to_string()]);
    // The same generation does not retry the meter on the next sync (audit).
    let b = xid_of(&out, &Outbound::BarrierRequest);
    s.on_message(b, Inbound::BarrierReply, t0);
    s.on_message(1, Inbound::EchoReply, t0 + Duration::from_secs(59));
    let out = s.on_tick(t0 + Duration::from_secs(60));
    assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
}

#[test]
fn a_stuck_sync_fails_after_the_step_deadline() {
    let t0 = Instant::now();
    let (mut s, _rx) = handshake(FakePolicy::new(1, &[]), t0);
    s.on_message(1, Inbound::EchoReply, t0 + Duration::from_secs(14));
    let out = s.on_tick(t0 + Duration::from_secs(15));
    assert!(
        events(&out).iter().any(
            |e| matches!(e, SessionEvent::SyncFailed { error, .. } if error.contains("FLOW stats"))
        ),
        "{out:?}"
    );
}

#[test]
fn an_endless_flow_stats_reply_fails_the_sync_instead_of_growing_memory() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    // The codec bridge joins the parts within its bounds (tested there) and refuses the rest.
    for _ in 0..20 {
        let out = s.on_message(rx, Inbound::ReplyPart, t0);
        assert!(out.is_empty(), "{out:?}");
    }
    let refused = AssemblyError::TooManyBytes {
        xid: rx,
        max_bytes: 1 << 25,
    };
    let out = s.on_message(rx, Inbound::ReplyRefused(refused), t0);
    let failed = events(&out).iter().any(
        |e| matches!(e, SessionEvent::SyncFailed { error, .. } if error.contains("more than")),
    );
    assert!(failed, "{out:?}");
    assert!(matches!(s.phase(), Phase::RetryWait { .. }));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Msg { kind: u8, xid_pick: usize },
        Tick { ms: u64 },
        Policy,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0u8..14, 0usize..8).prop_map(|(kind, xid_pick)| Step::Msg { kind, xid_pick }),
            2 => (0u64..20_000).prop_map(|ms| Step::Tick { ms }),
            1 => Just(Step::Policy),
        ]
    }

    fn inbound(kind: u8) -> Inbound<String, u32> {
        match kind {
            0 => Inbound::Hello {
                version: 4,
                supports_13: true,
            },
            1 => Inbound::FeaturesReply { dpid: 9 },
            2 => Inbound::PortDesc { ports: vec![1, 2] },
            3 => Inbound::FlowStats {
                entries: vec!["a".into(), "x".into()],
            },
            4 => Inbound::BarrierReply,
            5 => Inbound::Error {
                err_type: 5,
                code: 1,
                names: "e".into(),
            },
            6 => Inbound::EchoRequest { data: vec![1] },
            7 => Inbound::EchoReply,
            8 => Inbound::FlowRemoved { cookie: COOKIE },
            9 => Inbound::PortStatus {
                reason: 0,
                port_no: 7,
            },
            10 => Inbound::PacketIn {
                cookie: COOKIE,
                packet_in: 1,
            },
            11 => Inbound::ReplyPart,
            12 => Inbound::ReplyRefused(AssemblyError::TooManyParts {
                xid: 1,
                max_parts: 2,
            }),
            _ => Inbound::Other { msg_type: 99 },
        }
    }

    proptest! {
        /// Whatever a switch sends and whenever: no panic, one Close at most and silence after
        /// it, and never a second sync before the first one ended (success or failure).
        #[test]
        fn any_sequence_keeps_the_session_sane(steps in proptest::collection::vec(step(), 1..120)) {
            let mut now = Instant::now();
            let mut s = Session::new(peer(), FakePolicy::new(1, &["a", "b"]), 1, now);
            let mut recent: Vec<u32> = Vec::new();
            let mut closed = false;
            let mut run_open = false;
            let mut gen = 1;
            let mut all = s.start();
            for st in steps {
                for o in all.drain(..) {
                    match &o {
                        Output::Send { xid, msg } | Output::SendUrgent { xid, msg } => {
                            prop_assert!(!closed, "sent after close: {o:?}");
                            recent.push(*xid);
                            if *msg == Outbound::Policy("flows?".to_string()) {
                                prop_assert!(!run_open, "a second sync started before the first ended");
                                run_open = true;
                            }
                        }
                        Output::Event(SessionEvent::SyncSucceeded { .. }) | Output::Event(SessionEvent::SyncFailed { .. }) => {
                            run_open = false;
                        }
                        Output::Close(_) => {
                            prop_assert!(!closed, "closed twice");
                            closed = true;
                        }
                        _ => prop_assert!(!closed || matches!(o, Output::Event(_)), "{o:?} after close"),
                    }
                }
                all = match st {
                    Step::Msg { kind, xid_pick } => {
                        let xid = recent.iter().rev().nth(xid_pick).copied().unwrap_or(12345);
                        s.on_message(xid, inbound(kind), now)
                    }
                    Step::Tick { ms } => {
                        now += Duration::from_millis(ms);
                        s.on_tick(now)
                    }
                    Step::Policy => {
                        gen += 1;
                        s.on_policy(FakePolicy::new(gen, &["a", "c"]), now)
                    }
                };
                if closed {
                    prop_assert!(all.is_empty(), "output after close: {all:?}");
                }
            }
        }
    }
}

#[test]
fn a_reload_that_changes_the_fragment_mode_resends_set_config_first() {
    let t0 = Instant::now();
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t0,
    );
    // Same config: no SET_CONFIG.
    let out = s.on_policy(FakePolicy::new(2, &["a"]), t0);
    assert!(!sends(&out)
        .iter()
        .any(|(_, m)| matches!(m, Outbound::SetConfig { .. })));
    let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t0,
    );
    let changed = Arc::new(FakePolicy {
        generation: 3,
        desired: vec!["a".into()],
        meters: vec![],
        frag_flags: 0,
    });
    let out = s.on_policy(changed, t0);
    let kinds: Vec<_> = sends(&out).into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        kinds[0],
        Outbound::SetConfig {
            flags: 0,
            miss_send_len: 128
        }
    );
    assert_eq!(kinds[1], Outbound::Policy("flows?".into()));
}

/// Finishes the connect sync of [`handshake`] with a switch that already has `["a"]`.
fn in_sync(t0: Instant) -> Session {
    let (mut s, rx) = handshake(FakePolicy::new(1, &["a"]), t0);
    s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t0,
    );
    assert_eq!(s.phase(), Phase::InSync);
    s
}

fn planned(out: &[Out]) -> Vec<Vec<String>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Planned(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn flows_read(out: &[Out]) -> Vec<Vec<String>> {
    out.iter()
        .filter_map(|o| match o {
            Output::FlowsRead(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn counters_are_polled_on_their_own_timer_without_a_sync() {
    let t0 = Instant::now();
    let mut s = in_sync(t0);
    let before = s.on_tick(t0 + Duration::from_secs(9));
    assert!(policy_msgs(&before).is_empty(), "{before:?}");
    assert!(s.next_deadline() <= t0 + Duration::from_secs(10));
    let t1 = t0 + Duration::from_secs(10);
    let out = s.on_tick(t1);
    assert_eq!(policy_msgs(&out), vec!["flows?".to_string()], "{out:?}");
    let px = xid_of(&out, &Outbound::Policy("flows?".into()));
    assert_eq!(s.phase(), Phase::InSync, "a poll is not a sync");
    let out = s.on_message(px, Inbound::ReplyPart, t1);
    assert!(flows_read(&out).is_empty(), "waits for the last part");
    let out = s.on_message(
        px,
        Inbound::FlowStats {
            entries: vec!["a".into(), "stale".into()],
        },
        t1,
    );
    assert_eq!(
        flows_read(&out),
        vec![vec!["a".to_string(), "stale".to_string()]]
    );
    assert!(
        sends(&out).is_empty(),
        "a poll repairs nothing, even seeing drift: {out:?}"
    );
    assert!(events(&out).is_empty(), "no sync event: {out:?}");
    assert!(planned(&out).is_empty(), "a poll plans nothing: {out:?}");
    assert_eq!(s.phase(), Phase::InSync);
    // The next poll an interval later.
    assert!(policy_msgs(&s.on_tick(t1 + Duration::from_secs(9))).is_empty());
    let out = s.on_tick(t1 + Duration::from_secs(10));
    assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
}

#[test]
fn a_poll_never_disturbs_a_running_sync() {
    let t0 = Instant::now();
    let mut s = in_sync(t0);
    let t1 = t0 + Duration::from_secs(10);
    let out = s.on_tick(t1);
    let px = xid_of(&out, &Outbound::Policy("flows?".into()));
    // A reload starts a sync while the poll is out.
    let out = s.on_policy(FakePolicy::new(2, &["a", "b"]), t1);
    assert_eq!(s.phase(), Phase::Syncing);
    let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
    assert_ne!(rx, px);
    // The poll's reply is not taken for the sync's.
    let out = s.on_message(
        px,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t1,
    );
    assert_eq!(flows_read(&out).len(), 1);
    assert!(sends(&out).is_empty(), "{out:?}");
    assert_eq!(s.phase(), Phase::Syncing);
    // The sync goes on with its own reply.
    let out = s.on_message(
        rx,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t1,
    );
    assert_eq!(policy_msgs(&out), vec!["add b".to_string()]);
    // No poll is sent while the sync runs.
    let out = s.on_tick(t1 + Duration::from_secs(10));
    assert!(
        !policy_msgs(&out).contains(&"flows?".to_string()),
        "{out:?}"
    );
}

#[test]
fn a_poll_past_the_flow_bound_is_dropped_and_a_later_reply_ignored() {
    let t0 = Instant::now();
    let mut s = in_sync(t0);
    let t1 = t0 + Duration::from_secs(10);
    let px = xid_of(&s.on_tick(t1), &Outbound::Policy("flows?".into()));
    let out = s.on_message(
        px,
        Inbound::FlowStats {
            entries: vec!["a".into(); MAX_FLOW_ENTRIES + 1],
        },
        t1,
    );
    assert!(flows_read(&out).is_empty(), "{} outputs", out.len());
    let out = s.on_message(
        px,
        Inbound::FlowStats {
            entries: vec!["b".into()],
        },
        t1,
    );
    assert!(flows_read(&out).is_empty(), "the poll was dropped: {out:?}");
    assert!(sends(&out).is_empty(), "{out:?}");
    assert_eq!(s.phase(), Phase::InSync);
}

#[test]
fn a_rejected_or_unanswered_poll_is_dropped_without_failing_anything() {
    let t0 = Instant::now();
    let mut s = in_sync(t0);
    let t1 = t0 + Duration::from_secs(10);
    let px = xid_of(&s.on_tick(t1), &Outbound::Policy("flows?".into()));
    let out = s.on_message(
        px,
        Inbound::Error {
            err_type: 1,
            code: 2,
            names: "OFPET_BAD_REQUEST/OFPBRC_BAD_STAT".into(),
        },
        t1,
    );
    assert_eq!(s.phase(), Phase::InSync, "{out:?}");
    assert!(!events(&out)
        .iter()
        .any(|e| matches!(e, SessionEvent::SyncFailed { .. })));
    // Next poll, never answered: dropped after the echo timeout, then polled again.
    let t2 = t1 + Duration::from_secs(10);
    let out = s.on_tick(t2);
    assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    let t3 = t2 + Duration::from_secs(14);
    let out = s.on_message(0, Inbound::EchoReply, t3);
    assert!(out.is_empty());
    let out = s.on_tick(t2 + Duration::from_secs(15));
    assert_eq!(s.phase(), Phase::InSync);
    assert_eq!(
        policy_msgs(&out),
        vec!["flows?".to_string()],
        "dropped and re-polled: {out:?}"
    );
}

#[test]
fn an_audit_reads_the_switch_config_back_and_repairs_a_changed_fragment_mode() {
    let t0 = Instant::now();
    let mut s = in_sync(t0);
    let t1 = t0 + Duration::from_secs(60);
    s.on_message(0, Inbound::EchoReply, t1 - Duration::from_secs(1));
    let out = s.on_tick(t1);
    let gx = xid_of(&out, &Outbound::GetConfigRequest);
    let ax = xid_of(&out, &Outbound::Policy("flows?".into()));
    assert_eq!(s.phase(), Phase::Syncing, "the audit sync runs alongside");
    // Someone ran `ovs-ofctl set-frags br0 normal` (flags 0); the policy wants 1.
    let drifted = Inbound::GetConfigReply {
        flags: 0,
        miss_send_len: 128,
    };
    let out = s.on_message(gx, drifted.clone(), t1);
    assert_eq!(
        sends(&out).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        vec![Outbound::SetConfig {
            flags: 1,
            miss_send_len: 128
        }]
    );
    let out = s.on_message(gx, drifted, t1);
    assert!(sends(&out).is_empty(), "a stale reply is ignored: {out:?}");
    s.on_message(
        ax,
        Inbound::FlowStats {
            entries: vec!["a".into()],
        },
        t1,
    );
    assert_eq!(s.phase(), Phase::InSync);
    // The next audit finds the mode kept: nothing sent for it.
    let t2 = t1 + Duration::from_secs(60);
    s.on_message(0, Inbound::EchoReply, t2 - Duration::from_secs(1));
    let out = s.on_tick(t2);
    let gx = xid_of(&out, &Outbound::GetConfigRequest);
    let out = s.on_message(
        gx,
        Inbound::GetConfigReply {
            flags: 1,
            miss_send_len: 128,
        },
        t2,
    );
    assert!(sends(&out).is_empty(), "{out:?}");
}

#[test]
fn features_and_port_desc_go_out_together_and_their_replies_may_come_in_either_order() {
    let t0 = Instant::now();
    let mut s = Session::new(peer(), FakePolicy::new(1, &["a"]), 1, t0);
    s.start();
    let out = s.on_message(
        1,
        Inbound::Hello {
            version: 4,
            supports_13: true,
        },
        t0,
    );
    assert_eq!(
        sends(&out).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        vec![Outbound::FeaturesRequest, Outbound::PortDescRequest]
    );
    let fx = xid_of(&out, &Outbound::FeaturesRequest);
    let px = xid_of(&out, &Outbound::PortDescRequest);
    let out = s.on_message(px, Inbound::PortDesc { ports: vec![4, 5] }, t0);
    assert!(sends(&out).is_empty(), "no sync before the dpid is known");
    assert_eq!(s.phase(), Phase::AwaitFeatures);
    let out = s.on_message(fx, Inbound::FeaturesReply { dpid: 9 }, t0);
    assert!(events(&out).contains(&SessionEvent::DpidLearned { dpid: 9 }));
    assert_eq!(ports(&s), vec![4, 5]);
    assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    assert_eq!(s.phase(), Phase::Syncing);
    // A second PORT_DESC reply (a confused switch) changes nothing.
    let out = s.on_message(px, Inbound::PortDesc { ports: vec![6] }, t0);
    assert!(sends(&out).is_empty());
    assert_eq!(ports(&s), vec![4, 5]);
}

#[test]
fn a_read_ahead_past_the_flow_bound_fails_the_sync() {
    let t0 = Instant::now();
    let (mut s, _mx, rx) = metered_handshake(t0);
    let many: Vec<String> = (0..=MAX_FLOW_ENTRIES).map(|i| i.to_string()).collect();
    let out = s.on_message(rx, Inbound::FlowStats { entries: many }, t0);
    assert!(
        events(&out).iter().any(
            |e| matches!(e, SessionEvent::SyncFailed { error, .. } if error.contains("more than"))
        ),
        "{out:?}"
    );
}

#[test]
fn a_refused_reply_fails_its_read_drops_its_poll_or_closes_the_handshake() {
    let refused = |xid| {
        Inbound::ReplyRefused(AssemblyError::TooManyParts {
            xid,
            max_parts: 4096,
        })
    };
    let t0 = Instant::now();
    // The FLOW stats read ahead of a sync: the sync fails.
    let (mut s, _mx, rx) = metered_handshake(t0);
    let out = s.on_message(rx, refused(rx), t0);
    assert!(
        events(&out).iter().any(
            |e| matches!(e, SessionEvent::SyncFailed { error, .. } if error.contains("more than 4096 parts"))
        ),
        "{out:?}"
    );
    // A counter poll: dropped, nothing failed, the next poll goes out.
    let mut s = in_sync(t0);
    let t1 = t0 + Duration::from_secs(10);
    let px = xid_of(&s.on_tick(t1), &Outbound::Policy("flows?".into()));
    let out = s.on_message(px, refused(px), t1);
    assert!(
        events(&out).is_empty() && flows_read(&out).is_empty(),
        "{out:?}"
    );
    assert_eq!(s.phase(), Phase::InSync);
    let late = s.on_message(px, flow_reply(&["a"]), t1);
    assert!(
        flows_read(&late).is_empty(),
        "the poll was dropped: {late:?}"
    );
    let out = s.on_tick(t1 + Duration::from_secs(10));
    assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    // A reply no read awaits: ignored.
    assert!(s.on_message(12345, refused(12345), t1).is_empty());
    // The PORT_DESC reply: the handshake cannot finish, the connection closes.
    let mut s = Session::new(peer(), FakePolicy::new(1, &[]), 1, t0);
    s.start();
    let out = s.on_message(
        1,
        Inbound::Hello {
            version: 4,
            supports_13: true,
        },
        t0,
    );
    let px = xid_of(&out, &Outbound::PortDescRequest);
    let out = s.on_message(px, refused(px), t0);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Close(CloseReason::ProtocolViolation(why)) if why.contains("PORT_DESC"))),
        "{out:?}"
    );
}
