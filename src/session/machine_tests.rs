//! Unit tests of the sans-I/O session, grouped by concern, each one given / when / then with a
//! [`Scenario`](super::scenario::Scenario) (the fake policy's messages are strings).

use super::fake_policy::{FakePolicy, COOKIE};
use super::output::{CloseReason, Output, SessionEvent};
use super::phase::Phase;
use super::read_cap::MIN_FLOW_READ;
use super::scenario::*;
use super::sync_reason::SyncReason;
use super::wire::{Inbound, Outbound};
use op25b_proto::AssemblyError;
use std::time::Duration;

/// A reply the codec bridge refused to join.
fn refused(xid: u32) -> Inbound<String, u32> {
    Inbound::ReplyRefused(AssemblyError::TooManyParts {
        xid,
        max_parts: 4096,
    })
}

mod handshake {
    use super::*;

    #[test]
    fn a_switch_without_openflow_13_gets_hello_failed_and_is_closed() {
        let mut sw = Scenario::new(&[]).started();
        let out = sw.reply(
            1,
            Inbound::Hello {
                version: 1,
                supports_13: false,
            },
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
        assert_eq!(
            closed(&out),
            Some(&CloseReason::Incompatible { version: 1 })
        );
        assert_eq!(sw.s.phase(), Phase::Closed);
        assert!(sw
            .reply(2, Inbound::EchoRequest { data: vec![] })
            .is_empty());
    }

    #[test]
    fn a_first_message_other_than_hello_closes() {
        let mut sw = Scenario::new(&[]).started();
        let out = sw.reply(1, Inbound::BarrierReply);
        assert!(matches!(
            closed(&out),
            Some(CloseReason::ProtocolViolation(_))
        ));
    }

    #[test]
    fn handshake_never_finished_is_closed_after_the_timeout() {
        let mut sw = Scenario::new(&[]).hello();
        assert_eq!(sw.s.next_deadline(), sw.secs(10));
        assert!(sw.at(9).tick().is_empty());
        let out = sw.at(10).tick();
        assert!(
            matches!(
                closed(&out),
                Some(CloseReason::HandshakeTimeout {
                    phase: "await_features",
                    ..
                })
            ),
            "{out:?}"
        );
    }

    #[test]
    fn features_and_port_desc_go_out_together_and_their_replies_may_come_in_either_order() {
        let mut sw = Scenario::new(&["a"]).hello();
        assert_eq!(
            sends(&sw.out)
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>(),
            vec![Outbound::FeaturesRequest, Outbound::PortDescRequest]
        );
        let out = sw.reply(sw.port_desc, Inbound::PortDesc { ports: vec![4, 5] });
        assert!(sends(&out).is_empty(), "no sync before the dpid is known");
        assert_eq!(sw.s.phase(), Phase::AwaitFeatures);
        let out = sw.reply(sw.features, Inbound::FeaturesReply { dpid: 9 });
        assert!(events(&out).contains(&SessionEvent::DpidLearned { dpid: 9 }));
        assert_eq!(sw.ports(), vec![4, 5]);
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
        assert_eq!(sw.s.phase(), Phase::Syncing);
        // A second PORT_DESC reply (a confused switch) changes nothing.
        let out = sw.reply(sw.port_desc, Inbound::PortDesc { ports: vec![6] });
        assert!(sends(&out).is_empty());
        assert_eq!(sw.ports(), vec![4, 5]);
    }

    #[test]
    fn a_refused_port_desc_reply_closes_the_handshake() {
        let mut sw = Scenario::new(&[]).hello();
        let out = sw.reply(sw.port_desc, refused(sw.port_desc));
        assert!(
            matches!(closed(&out), Some(CloseReason::ProtocolViolation(why)) if why.contains("PORT_DESC")),
            "{out:?}"
        );
    }

    #[test]
    fn port_changes_after_the_handshake_trigger_a_sync_a_known_port_does_not() {
        let mut sw = Scenario::new(&[]).with_ports(&[1, 2, 3]).synced(&[]);
        // A known port re-announced is not a change.
        let out = sw.reply(
            1,
            Inbound::PortStatus {
                reason: 2,
                port_no: 1,
            },
        );
        assert!(sends(&out).is_empty());
        let out = sw.reply(
            1,
            Inbound::PortStatus {
                reason: 0,
                port_no: 9,
            },
        );
        assert!(!policy_msgs(&out).is_empty());
        assert_eq!(sw.ports(), vec![1, 2, 3, 9]);
    }
}

mod keepalive {
    use super::*;

    #[test]
    fn echo_requests_are_answered_urgently_with_the_same_xid_and_data() {
        let mut sw = Scenario::new(&["a"]).connected();
        let out = sw.reply(
            4242,
            Inbound::EchoRequest {
                data: vec![1, 2, 3],
            },
        );
        assert!(
            matches!(&out[..], [Output::SendUrgent { xid: 4242, msg: Outbound::EchoReply { data } }] if data == &vec![1, 2, 3])
        );
    }

    #[test]
    fn keepalive_sends_echoes_and_closes_a_silent_switch() {
        let mut sw = Scenario::new(&[]).synced(&[]);
        let out = sw.at(5).tick();
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
        sw.at(6).reply(9, Inbound::EchoReply);
        assert_eq!(closed(&sw.at(20).tick()), None);
        let out = sw.at(21).tick();
        assert!(
            matches!(closed(&out), Some(CloseReason::Silent { .. })),
            "{out:?}"
        );
    }

    #[test]
    fn a_switch_that_spoke_within_the_interval_is_not_probed() {
        let mut sw = Scenario::new(&[]).synced(&[]);
        // The switch's own probe at t0+4 s: answered, and it proves the switch alive.
        let out = sw.at(4).reply(77, Inbound::EchoRequest { data: vec![] });
        assert_eq!(probes(&out), 0, "{out:?}");
        assert_eq!(sw.s.next_deadline(), sw.secs(9));
        let out = sw.at(5).tick();
        assert_eq!(
            probes(&out),
            0,
            "probed 1 s after the switch spoke: {out:?}"
        );
        // echo_interval of silence: now it is probed, once.
        let out = sw.at(9).tick();
        assert_eq!(probes(&out), 1, "{out:?}");
        let out = sw.at(10).tick();
        assert_eq!(probes(&out), 0, "{out:?}");
    }
}

mod sync {
    use super::*;

    #[test]
    fn full_sync_sends_batches_with_barriers_and_is_in_sync_only_after_the_last_barrier() {
        let mut sw = Scenario::new(&["a", "b"]).connected();
        let out = sw.reply(sw.flows, Inbound::ReplyPart);
        assert!(sends(&out).is_empty());
        let out = sw.reply(sw.flows, flows(&["a", "stale"]));
        assert_eq!(policy_msgs(&out), vec!["add b".to_string()]);
        assert_eq!(
            planned(&out),
            vec![vec!["a".to_string(), "b".to_string()]],
            "the plan's desired flows are handed out once, with the read"
        );
        let b1 = xid_of(&out, &Outbound::BarrierRequest);
        assert_eq!(sw.s.phase(), Phase::Syncing);
        let out = sw.reply(b1, Inbound::BarrierReply);
        assert_eq!(
            policy_msgs(&out),
            vec!["del stale".to_string()],
            "deletes only after the adds' barrier"
        );
        let b2 = xid_of(&out, &Outbound::BarrierRequest);
        assert_eq!(sw.s.phase(), Phase::Syncing);
        let out = sw.reply(b2, Inbound::BarrierReply);
        assert_eq!(sw.s.phase(), Phase::InSync);
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
        let mut sw = Scenario::new(&["a", "b"]).connected();
        let out = sw.reply(sw.flows, flows(&["b", "a"]));
        assert!(sends(&out).is_empty(), "nothing resent: {out:?}");
        assert_eq!(sw.s.phase(), Phase::InSync);
    }

    #[test]
    fn an_error_fails_the_sync_names_the_request_and_retries_with_backoff() {
        let mut sw = Scenario::new(&["a"]).connected();
        let out = sw.reply(sw.flows, flows(&[]));
        let add_xid = xid_of(&out, &Outbound::Policy("add a".into()));
        let barrier = xid_of(&out, &Outbound::BarrierRequest);
        let out = sw.reply(
            add_xid,
            error(5, 1, "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL"),
        );
        assert!(events(&out).contains(&SessionEvent::SwitchError {
            names: "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL".into()
        }));
        let (error, retry_in) = sync_failed(&out).expect("sync failed event");
        assert!(
            error.contains("switch rejected MSG<add a>: OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL"),
            "the request named by the policy's describe, not Debug: {error}"
        );
        assert_eq!(retry_in, Duration::from_secs(1));
        assert!(matches!(sw.s.phase(), Phase::RetryWait { .. }));
        // Counted as a finished sync too (op25b_sync_runs_total, sync durations by result).
        assert!(
            events(&out).iter().any(|e| matches!(
                e,
                SessionEvent::SyncFinished {
                    reason: SyncReason::Connect,
                    ok: false,
                    ..
                }
            )),
            "{out:?}"
        );
        // The late barrier of the failed run completes nothing.
        let out = sw.reply(barrier, Inbound::BarrierReply);
        assert!(events(&out).is_empty() && sends(&out).is_empty(), "{out:?}");
        // Retry after the back-off re-reads the flows.
        assert_eq!(sw.s.next_deadline(), sw.secs(1));
        let out = sw.at(1).tick();
        let rx2 = xid_of(&out, &Outbound::Policy("flows?".into()));
        let out = sw.reply(rx2, flows(&[]));
        let b = xid_of(&out, &Outbound::BarrierRequest);
        let out = sw.reply(b, Inbound::BarrierReply);
        assert_eq!(sw.s.phase(), Phase::InSync);
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
        let mut sw = Scenario::new(&["a"]).connected();
        let mut rx = sw.flows;
        let mut delays = vec![];
        for _ in 0..6 {
            let out = sw.reply(rx, flows(&[]));
            let add = xid_of(&out, &Outbound::Policy("add a".into()));
            let out = sw.reply(add, error(5, 1, "x"));
            let (_, d) = sync_failed(&out).unwrap();
            delays.push(d.as_secs());
            sw.now += d;
            let out = sw.tick();
            rx = xid_of(&out, &Outbound::Policy("flows?".into()));
        }
        assert_eq!(delays, vec![1, 2, 4, 8, 8, 8]);
    }

    #[test]
    fn a_trigger_during_a_sync_reruns_it_after_never_two_at_once() {
        let mut sw = Scenario::new(&["a"]).connected();
        let out = sw.reload(FakePolicy::new(2, &["a", "c"]));
        assert!(sends(&out).is_empty(), "no second sync while one runs");
        let out = sw.reply(sw.flows, flows(&[]));
        let b = xid_of(&out, &Outbound::BarrierRequest);
        let out = sw.reply(b, Inbound::BarrierReply);
        // First sync done, immediately followed by the policy re-sync.
        let ev = events(&out);
        assert!(ev
            .iter()
            .any(|e| matches!(e, SessionEvent::SyncSucceeded { .. })));
        let rx2 = xid_of(&out, &Outbound::Policy("flows?".into()));
        assert_eq!(sw.s.phase(), Phase::Syncing);
        let out = sw.reply(rx2, flows(&["a"]));
        assert_eq!(policy_msgs(&out), vec!["add c".to_string()]);
    }

    #[test]
    fn audit_rereads_after_the_interval_and_repairs() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        // Keep the switch alive in between.
        sw.at(59).reply(1, Inbound::EchoReply);
        let out = sw.at(60).tick();
        let rx2 = xid_of(&out, &Outbound::Policy("flows?".into()));
        let out = sw.reply(rx2, flows(&[]));
        let b = xid_of(&out, &Outbound::BarrierRequest);
        let out = sw.reply(b, Inbound::BarrierReply);
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
    fn our_flow_removed_triggers_a_sync_a_foreign_one_does_not() {
        let mut sw = Scenario::new(&[]).synced(&[]);
        assert!(sends(&sw.reply(1, Inbound::FlowRemoved { cookie: 99 })).is_empty());
        assert_eq!(sw.s.phase(), Phase::InSync);
        let out = sw.reply(1, Inbound::FlowRemoved { cookie: COOKIE });
        let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
        sw.reply(rx, flows(&[]));
        assert_eq!(sw.s.phase(), Phase::InSync);
    }

    #[test]
    fn a_stuck_sync_fails_after_the_step_deadline() {
        let mut sw = Scenario::new(&[]).connected();
        sw.at(14).reply(1, Inbound::EchoReply);
        let out = sw.at(15).tick();
        assert!(
            sync_failed(&out).is_some_and(|(error, _)| error.contains("FLOW stats")),
            "{out:?}"
        );
    }

    #[test]
    fn an_endless_flow_stats_reply_over_the_byte_cap_drops_the_switch() {
        let mut sw = Scenario::new(&["a"]).connected();
        // The codec bridge joins the parts within its bounds (tested there) and refuses the rest.
        for _ in 0..20 {
            let out = sw.reply(sw.flows, Inbound::ReplyPart);
            assert!(out.is_empty(), "{out:?}");
        }
        for too_big in [
            AssemblyError::TooManyBytes {
                xid: sw.flows,
                max_bytes: 1 << 24,
            },
            AssemblyError::TooManyBytesPending {
                xid: sw.flows,
                max_total_bytes: 1 << 24,
            },
        ] {
            let mut sw = Scenario::new(&["a"]).connected();
            let out = sw.reply(sw.flows, Inbound::ReplyRefused(too_big));
            let closed = out.iter().find_map(|o| match o {
                Output::Close(reason) => Some(reason.to_string()),
                _ => None,
            });
            assert!(
                closed.as_ref().is_some_and(
                    |why| why.contains("16 MiB") && why.contains("max_multipart_bytes")
                ),
                "{out:?}"
            );
            assert_eq!(sw.s.phase(), Phase::Closed);
        }
        assert!(matches!(sw.s.phase(), Phase::Syncing));
    }

    #[test]
    fn an_error_flood_is_counted_in_full_and_logged_in_part() {
        let mut sw = Scenario::new(&["a"]).connected();
        let mut keys = std::collections::BTreeSet::new();
        for i in 0..500u16 {
            let out = sw.reply(
                0xee00_0000 | u32::from(i),
                Inbound::Error {
                    err_type: 300 + i,
                    code: i,
                    names: format!("type {}/code {i}", 300 + i),
                },
            );
            for o in &out {
                if let Output::Event(SessionEvent::SwitchError { names }) = o {
                    keys.insert(names.clone());
                }
            }
        }
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            vec!["other".to_owned()],
            "500 unnamed pairs, one key"
        );
    }

    #[test]
    fn a_refused_reply_to_a_read_ahead_fails_the_sync_one_to_no_read_is_ignored() {
        let mut sw = Scenario::metered().connected();
        assert!(sw.reply(12345, refused(12345)).is_empty());
        let out = sw.reply(sw.flows, refused(sw.flows));
        assert!(
            sync_failed(&out).is_some_and(|(error, _)| error.contains("more than 4096 parts")),
            "{out:?}"
        );
    }
}

mod packet_in {
    use super::*;

    #[test]
    fn every_packet_in_is_handed_up_for_the_connection_to_judge() {
        let mut sw = Scenario::new(&[]).connected();
        for (cookie, packet_in) in [(COOKIE, 77), (1, 78)] {
            let out = sw.reply(1, Inbound::PacketIn { cookie, packet_in });
            assert!(
                matches!(&out[..], [Output::PacketIn(p)] if *p == packet_in),
                "{out:?}"
            );
        }
    }

    #[test]
    fn a_fail_open_probe_is_an_event_for_the_registry() {
        let mut sw = Scenario::new(&[]).connected();
        let out = sw.reply(1, Inbound::FailOpenProbe);
        assert!(
            matches!(&out[..], [Output::Event(SessionEvent::FailOpenProbe)]),
            "{out:?}"
        );
    }
}

mod meters {
    use super::*;

    #[test]
    fn meters_go_first_an_existing_meter_is_modified() {
        let mut sw = Scenario::metered().connected();
        let out = sw.reply(sw.meters, meters(vec![]));
        let add = xid_of(&out, &Outbound::Policy("meter add 1".into()));
        let b = xid_of(&out, &Outbound::BarrierRequest);
        // The flows read ahead arrive while the meter is being added: no flow mod before the
        // meter is confirmed.
        let out = sw.reply(sw.flows, flows(&[]));
        assert!(
            sends(&out).is_empty(),
            "flow mods wait for the meter: {out:?}"
        );
        sw.reply(add, error(12, 1, "METER_EXISTS"));
        let out = sw.reply(b, Inbound::BarrierReply);
        assert_eq!(policy_msgs(&out), vec!["meter modify 1".to_string()]);
        let b = xid_of(&out, &Outbound::BarrierRequest);
        let out = sw.reply(b, Inbound::BarrierReply);
        assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
        assert_eq!(
            policy_msgs(&out),
            vec!["add a".to_string(), "add sample-with-meter".to_string()],
            "planned from the flows read ahead, with no second read"
        );
    }

    #[test]
    fn an_identical_meter_is_left_alone_after_a_restart() {
        let mut sw = Scenario::metered().connected();
        // Split over two replies (REPLY_MORE); another controller's meter 7 is ignored.
        let out = sw.reply(sw.meters, Inbound::ReplyPart);
        assert!(policy_msgs(&out).is_empty(), "{out:?}");
        let out = sw.reply(sw.meters, meters(vec![meter(7, 9), meter(1, 1)]));
        assert!(
            sends(&out).is_empty(),
            "no METER_MOD at all, and the flows are already asked for: {out:?}"
        );
        assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
        // The read ahead arrives in two parts, after the meters were settled.
        let out = sw.reply(sw.flows, Inbound::ReplyPart);
        assert!(sends(&out).is_empty(), "{out:?}");
        let out = sw.reply(sw.flows, flows(&["a", "sample-with-meter"]));
        assert!(sends(&out).is_empty(), "{out:?}");
        assert_eq!(
            sw.s.phase(),
            Phase::InSync,
            "nothing to change, so nothing sent"
        );
    }

    #[test]
    fn a_changed_meter_is_modified_without_an_add() {
        let mut sw = Scenario::metered().connected();
        let out = sw.reply(sw.meters, meters(vec![meter(1, 2)]));
        assert_eq!(policy_msgs(&out), vec!["meter modify 1".to_string()]);
        let b = xid_of(&out, &Outbound::BarrierRequest);
        let out = sw.reply(b, Inbound::BarrierReply);
        assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
        assert!(sends(&out).is_empty(), "waits for the flows read ahead");
        let out = sw.reply(sw.flows, flows(&[]));
        assert_eq!(
            policy_msgs(&out),
            vec!["add a".to_string(), "add sample-with-meter".to_string()]
        );
    }

    #[test]
    fn a_switch_that_cannot_list_meters_gets_the_add() {
        let mut sw = Scenario::metered().connected();
        let out = sw.reply(
            sw.meters,
            error(1, 2, "OFPET_BAD_REQUEST/OFPBRC_BAD_MULTIPART"),
        );
        assert_eq!(policy_msgs(&out), vec!["meter add 1".to_string()]);
        let b = xid_of(&out, &Outbound::BarrierRequest);
        sw.reply(sw.flows, flows(&["a"]));
        let out = sw.reply(b, Inbound::BarrierReply);
        assert!(events(&out).contains(&SessionEvent::MetersInUse(true)));
        assert_eq!(policy_msgs(&out), vec!["add sample-with-meter".to_string()]);
    }

    #[test]
    fn an_audit_reads_the_meters_and_repairs_a_missing_one() {
        let mut sw = Scenario::metered().connected();
        sw.reply(sw.meters, meters(vec![meter(1, 1)]));
        let out = sw.reply(sw.flows, flows(&["a", "sample-with-meter"]));
        assert!(policy_msgs(&out).is_empty(), "{out:?}");
        assert_eq!(sw.s.phase(), Phase::InSync);
        // The audit (60 s later; the switch kept talking) re-reads the meters and the flows.
        sw.at(59).reply(50, Inbound::EchoReply);
        let out = sw.at(60).tick();
        assert!(
            policy_msgs(&out).contains(&"meters?".to_string()),
            "the audit reads the meters: {out:?}"
        );
        let mx = xid_of(&out, &Outbound::Policy("meters?".into()));
        let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
        // Someone deleted the meter (and so the flow using it): the audit puts both back.
        let out = sw.reply(mx, meters(vec![]));
        assert_eq!(policy_msgs(&out), vec!["meter add 1".to_string()]);
        let b = xid_of(&out, &Outbound::BarrierRequest);
        sw.reply(rx, flows(&["a"]));
        let out = sw.reply(b, Inbound::BarrierReply);
        assert_eq!(policy_msgs(&out), vec!["add sample-with-meter".to_string()]);
    }

    #[test]
    fn a_switch_rejecting_meters_still_gets_the_blocking_flows() {
        let mut sw = Scenario::metered().connected();
        let out = sw.reply(sw.meters, meters(vec![]));
        let add = xid_of(&out, &Outbound::Policy("meter add 1".into()));
        let b = xid_of(&out, &Outbound::BarrierRequest);
        sw.reply(add, error(1, 1, "OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE"));
        sw.reply(sw.flows, flows(&[]));
        let out = sw.reply(b, Inbound::BarrierReply);
        assert!(events(&out).contains(&SessionEvent::MetersInUse(false)));
        assert_eq!(policy_msgs(&out), vec!["add a".to_string()]);
        // The same generation does not retry the meter on the next sync (audit).
        let b = xid_of(&out, &Outbound::BarrierRequest);
        sw.reply(b, Inbound::BarrierReply);
        sw.at(59).reply(1, Inbound::EchoReply);
        let out = sw.at(60).tick();
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    }

    #[test]
    fn a_policy_larger_than_the_floor_is_read_back_and_synced() {
        let names: Vec<String> = (0..MIN_FLOW_READ + 50).map(|i| i.to_string()).collect();
        let desired: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut sw = Scenario::new(&desired).connected();
        // The switch already holds every desired flow and one stale flow: more than the old
        // fixed cap of 100,000, within the policy's own.
        let mut on_switch = desired.clone();
        on_switch.push("stale");
        let out = sw.reply(sw.flows, flows(&on_switch));
        assert!(sync_failed(&out).is_none(), "{:?}", sync_failed(&out));
        assert_eq!(policy_msgs(&out), vec!["del stale".to_string()]);
        let b = xid_of(&out, &Outbound::BarrierRequest);
        sw.reply(b, Inbound::BarrierReply);
        assert_eq!(sw.s.phase(), Phase::InSync);
    }

    #[test]
    fn a_read_ahead_past_the_flow_bound_fails_the_sync() {
        let mut sw = Scenario::metered().connected();
        let many: Vec<String> = (0..=MIN_FLOW_READ).map(|i| i.to_string()).collect();
        let out = sw.reply(sw.flows, Inbound::FlowStats { entries: many });
        assert!(
            sync_failed(&out).is_some_and(|(error, _)| error.contains("more than")),
            "{out:?}"
        );
    }
}

mod counter_poll {
    use super::*;

    #[test]
    fn counters_are_polled_on_their_own_timer_without_a_sync() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        let before = sw.at(9).tick();
        assert!(policy_msgs(&before).is_empty(), "{before:?}");
        assert!(sw.s.next_deadline() <= sw.secs(10));
        let out = sw.at(10).tick();
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()], "{out:?}");
        let px = xid_of(&out, &Outbound::Policy("flows?".into()));
        assert_eq!(sw.s.phase(), Phase::InSync, "a poll is not a sync");
        let out = sw.reply(px, Inbound::ReplyPart);
        assert!(flows_read(&out).is_empty(), "waits for the last part");
        let out = sw.reply(px, flows(&["a", "stale"]));
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
        assert_eq!(sw.s.phase(), Phase::InSync);
        // The next poll an interval later.
        assert!(policy_msgs(&sw.at(19).tick()).is_empty());
        let out = sw.at(20).tick();
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    }

    #[test]
    fn a_sync_reading_the_flows_counts_as_a_poll() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        let out = sw.at(8).reload(FakePolicy::new(2, &["a"]));
        let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
        let out = sw.reply(rx, flows(&["a"]));
        assert_eq!(flows_read(&out).len(), 1);
        assert_eq!(sw.s.phase(), Phase::InSync);
        let out = sw.at(10).tick();
        assert!(
            policy_msgs(&out).is_empty(),
            "polled right after a read: {out:?}"
        );
        let out = sw.at(18).tick();
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    }

    #[test]
    fn a_poll_never_disturbs_a_running_sync() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        let out = sw.at(10).tick();
        let px = xid_of(&out, &Outbound::Policy("flows?".into()));
        // A reload starts a sync while the poll is out.
        let out = sw.reload(FakePolicy::new(2, &["a", "b"]));
        assert_eq!(sw.s.phase(), Phase::Syncing);
        let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
        assert_ne!(rx, px);
        // The poll's reply is not taken for the sync's.
        let out = sw.reply(px, flows(&["a"]));
        assert_eq!(flows_read(&out).len(), 1);
        assert!(sends(&out).is_empty(), "{out:?}");
        assert_eq!(sw.s.phase(), Phase::Syncing);
        // The sync goes on with its own reply.
        let out = sw.reply(rx, flows(&["a"]));
        assert_eq!(policy_msgs(&out), vec!["add b".to_string()]);
        // No poll is sent while the sync runs.
        let out = sw.at(20).tick();
        assert!(
            !policy_msgs(&out).contains(&"flows?".to_string()),
            "{out:?}"
        );
    }

    #[test]
    fn a_poll_past_the_flow_bound_is_dropped_and_a_later_reply_ignored() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        let out = sw.at(10).tick();
        let px = xid_of(&out, &Outbound::Policy("flows?".into()));
        let out = sw.reply(
            px,
            Inbound::FlowStats {
                entries: vec!["a".into(); MIN_FLOW_READ + 1],
            },
        );
        assert!(flows_read(&out).is_empty(), "{} outputs", out.len());
        let out = sw.reply(px, flows(&["b"]));
        assert!(flows_read(&out).is_empty(), "the poll was dropped: {out:?}");
        assert!(sends(&out).is_empty(), "{out:?}");
        assert_eq!(sw.s.phase(), Phase::InSync);
    }

    #[test]
    fn a_rejected_or_unanswered_poll_is_dropped_without_failing_anything() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        let out = sw.at(10).tick();
        let px = xid_of(&out, &Outbound::Policy("flows?".into()));
        let out = sw.reply(px, error(1, 2, "OFPET_BAD_REQUEST/OFPBRC_BAD_STAT"));
        assert_eq!(sw.s.phase(), Phase::InSync, "{out:?}");
        assert!(sync_failed(&out).is_none());
        // Next poll, never answered: dropped after the echo timeout, then polled again.
        let out = sw.at(20).tick();
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
        let out = sw.at(34).reply(0, Inbound::EchoReply);
        assert!(out.is_empty());
        let out = sw.at(35).tick();
        assert_eq!(sw.s.phase(), Phase::InSync);
        assert_eq!(
            policy_msgs(&out),
            vec!["flows?".to_string()],
            "dropped and re-polled: {out:?}"
        );
    }

    #[test]
    fn a_refused_poll_reply_drops_the_poll_and_the_next_one_goes_out() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        let out = sw.at(10).tick();
        let px = xid_of(&out, &Outbound::Policy("flows?".into()));
        let out = sw.reply(px, refused(px));
        assert!(
            events(&out).is_empty() && flows_read(&out).is_empty(),
            "{out:?}"
        );
        assert_eq!(sw.s.phase(), Phase::InSync);
        let late = sw.reply(px, flows(&["a"]));
        assert!(
            flows_read(&late).is_empty(),
            "the poll was dropped: {late:?}"
        );
        let out = sw.at(20).tick();
        assert_eq!(policy_msgs(&out), vec!["flows?".to_string()]);
    }
}

mod config_audit {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_reload_that_changes_the_fragment_mode_resends_set_config_first() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        // Same config: no SET_CONFIG.
        let out = sw.reload(FakePolicy::new(2, &["a"]));
        assert!(!sends(&out)
            .iter()
            .any(|(_, m)| matches!(m, Outbound::SetConfig { .. })));
        let rx = xid_of(&out, &Outbound::Policy("flows?".into()));
        sw.reply(rx, flows(&["a"]));
        let changed = Arc::new(FakePolicy {
            generation: 3,
            desired: vec!["a".into()],
            meters: vec![],
            frag_flags: 0,
        });
        let out = sw.reload(changed);
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

    #[test]
    fn an_audit_reads_the_switch_config_back_and_repairs_a_changed_fragment_mode() {
        let mut sw = Scenario::new(&["a"]).synced(&["a"]);
        sw.at(59).reply(0, Inbound::EchoReply);
        let out = sw.at(60).tick();
        let gx = xid_of(&out, &Outbound::GetConfigRequest);
        let ax = xid_of(&out, &Outbound::Policy("flows?".into()));
        assert_eq!(
            sw.s.phase(),
            Phase::Syncing,
            "the audit sync runs alongside"
        );
        // Someone ran `ovs-ofctl set-frags br0 normal` (flags 0); the policy wants 1.
        let drifted = Inbound::GetConfigReply {
            flags: 0,
            miss_send_len: 128,
        };
        let out = sw.reply(gx, drifted.clone());
        assert_eq!(
            sends(&out).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
            vec![Outbound::SetConfig {
                flags: 1,
                miss_send_len: 128
            }]
        );
        let out = sw.reply(gx, drifted);
        assert!(sends(&out).is_empty(), "a stale reply is ignored: {out:?}");
        sw.reply(ax, flows(&["a"]));
        assert_eq!(sw.s.phase(), Phase::InSync);
        // The next audit finds the mode kept: nothing sent for it.
        sw.at(119).reply(0, Inbound::EchoReply);
        let out = sw.at(120).tick();
        let gx = xid_of(&out, &Outbound::GetConfigRequest);
        let out = sw.reply(
            gx,
            Inbound::GetConfigReply {
                flags: 1,
                miss_send_len: 128,
            },
        );
        assert!(sends(&out).is_empty(), "{out:?}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::time::Instant;

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
            0 => hello13(),
            1 => Inbound::FeaturesReply { dpid: 9 },
            2 => Inbound::PortDesc { ports: vec![1, 2] },
            3 => flows(&["a", "x"]),
            4 => Inbound::BarrierReply,
            5 => error(5, 1, "e"),
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
                            Output::Event(SessionEvent::SyncSucceeded { .. } | SessionEvent::SyncFailed {
    .. }) => {
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
