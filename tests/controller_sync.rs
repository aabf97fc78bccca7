//! Re-sync on every connect, against simulated switches over loopback TCP. Every switch checks
//! the hitless rule after every message it applies; each test fails on the first message that
//! breaks it.

use op25b::fleet::registry::SyncState;
use op25b::flows::openflow::flow_mod_add;
use op25b::flows::{FlowAction, FlowKey, FlowMatch, FlowSpec, IpFamily, TcpMatch};
use op25b::policy::{Cookie, Forwarding};
use op25b_test_support::controller::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

async fn synced(h: &Harness, dpid: u64, min_syncs: u64) -> op25b::fleet::registry::SwitchStatus {
    h.wait_switch(dpid, "in sync", T, |s| {
        s.connected && s.sync_state == SyncState::InSync && s.counters.syncs_ok >= min_syncs
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_switch_gets_the_policy_hitlessly() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x101, 4);
    sw.connect(h.addr()).await.unwrap();
    let s = synced(&h, 0x101, 1).await;
    assert_hitless(&sw);
    assert!(s.desired_flows > 0);
    assert_eq!(flows_with_cookie(&sw, COOKIE), s.desired_flows);
    assert_eq!(s.flow_count, s.desired_flows);
    assert_eq!(s.synced_generation, Some(1));
    assert!(!tcp_forwarded(&sw, 1, "10.0.0.5", "198.51.100.7", 25));
    assert!(tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25), "relay");
    assert!(
        tcp_forwarded(&sw, 2, "2001:db8:1::5", "2001:db8::25", 25),
        "IPv6 relay"
    );
    assert!(
        tcp_forwarded(&sw, 3, "203.0.113.2", "198.51.100.7", 25),
        "exempt"
    );
    assert!(
        tcp_forwarded(&sw, 4, "10.0.0.5", "198.51.100.7", 587),
        "submission port"
    );
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_with_the_flows_kept_sends_no_flow_mod() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x102, 4);
    sw.connect(h.addr()).await.unwrap();
    let first = synced(&h, 0x102, 1).await;
    let flow_mods = sw.counters().flow_mods;
    sw.disconnect();
    h.wait_switch(0x102, "disconnected", T, |s| !s.connected)
        .await;
    sw.connect(h.addr()).await.unwrap();
    let again = synced(&h, 0x102, first.counters.syncs_ok + 1).await;
    assert_eq!(
        sw.counters().flow_mods,
        flow_mods,
        "no FLOW_MOD on a reconnect with the flows in place"
    );
    assert_eq!(again.counters.reconnects, 1);
    assert_eq!(again.counters.flow_mods_sent, first.counters.flow_mods_sent);
    assert_eq!(
        h.observations
            .get(0x102)
            .expect("observed")
            .actual_flows
            .len(),
        again.desired_flows
    );
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_with_the_flows_wiped_reinstalls_them() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x103, 4);
    sw.connect(h.addr()).await.unwrap();
    let first = synced(&h, 0x103, 1).await;
    sw.disconnect();
    h.wait_switch(0x103, "disconnected", T, |s| !s.connected)
        .await;
    sw.wipe_flows();
    sw.connect(h.addr()).await.unwrap();
    let again = synced(&h, 0x103, first.counters.syncs_ok + 1).await;
    assert_eq!(flows_with_cookie(&sw, COOKIE), again.desired_flows);
    assert_eq!(
        again.counters.flow_mods_sent,
        2 * first.counters.flow_mods_sent
    );
    assert!(tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25));
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

fn foreign_flow(priority: u16, dst: &str) -> op25b_proto::FlowMod {
    let spec = FlowSpec {
        key: FlowKey {
            table_id: 0,
            priority,
            match_: FlowMatch {
                in_port: None,
                eth_type: None,
                tcp: Some(TcpMatch {
                    family: IpFamily::V4,
                    src: None,
                    dst: Some(dst.parse().unwrap()),
                    dst_port: Some(25),
                }),
            },
        },
        action: FlowAction::Forward(Forwarding::Normal),
    };
    flow_mod_add(Cookie(0x1234), &spec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_flows_of_an_older_policy_are_replaced_and_foreign_flows_survive() {
    // Generation A: relay 192.0.2.25.
    let a = Harness::start(&policy_text(60, ""));
    // Another application's flows: one forwards TCP/25 to 198.51.100.0/24 at priority 100 (our
    // drops sit above it), so the blocking rule holds only once our flows are in: the invariant
    // is installed after the first sync and then watches the whole A -> B transition.
    let sw = op25b_sim::SimSwitch::new(op25b_sim::SimSwitchConfig::new(0x104, 4));
    sw.install(&foreign_flow(100, "198.51.100.0/24")).unwrap();
    sw.install(&foreign_flow(7, "198.51.100.77/32")).unwrap();
    let foreign_before: Vec<_> = sw
        .flows()
        .into_iter()
        .filter(|f| f.cookie == 0x1234)
        .collect();
    sw.connect(a.addr()).await.unwrap();
    synced(&a, 0x104, 1).await;
    sw.set_invariant(blocking_invariant(vec![1, 2, 3, 4]));
    assert!(tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25));
    a.controller.shutdown().await;
    sw.disconnect();

    // Another controller with a newer policy: relay moved to 192.0.2.26, exempt range gone.
    let newer = policy_text(60, "")
        .replace("192.0.2.25/32", "192.0.2.26/32")
        .replace(
            "exempt_sources = [\"203.0.113.0/29\"]",
            "exempt_sources = []",
        );
    let b = Harness::start(&newer);
    sw.connect(b.addr()).await.unwrap();
    let s = synced(&b, 0x104, 1).await;
    assert_hitless(&sw);
    assert!(s.counters.flow_mods_sent > 0);
    assert_eq!(
        flows_with_cookie(&sw, COOKIE),
        s.desired_flows,
        "stale flows removed"
    );
    assert!(
        !tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25),
        "old relay closed"
    );
    assert!(
        tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.26", 25),
        "new relay open"
    );
    assert!(
        !tcp_forwarded(&sw, 1, "203.0.113.2", "198.51.100.7", 25),
        "exemption gone"
    );
    let foreign_after: Vec<_> = sw
        .flows()
        .into_iter()
        .filter(|f| f.cookie == 0x1234)
        .collect();
    assert_eq!(foreign_after.len(), 2);
    for (x, y) in foreign_before.iter().zip(&foreign_after) {
        assert_eq!(
            (x.priority, &x.match_, &x.instructions),
            (y.priority, &y.match_, &y.instructions)
        );
    }
    b.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_error_fails_the_sync_which_retries_until_in_sync() {
    let h = Harness::start(&policy_text(60, ""));
    let sw = sim_switch(0x105, 4);
    // OFPET_FLOW_MOD_FAILED / OFPFMFC_TABLE_FULL for the third FLOW_MOD.
    sw.fail_nth_flow_mod(3, 5, 1);
    sw.connect(h.addr()).await.unwrap();
    let s = synced(&h, 0x105, 1).await;
    assert_hitless(&sw);
    assert!(s.counters.syncs_failed >= 1, "{s:?}");
    assert_eq!(
        s.counters
            .errors
            .get("OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL"),
        Some(&1),
        "{s:?}"
    );
    let err = s.last_error.expect("the failure is recorded");
    assert!(
        err.contains("switch rejected OFPT_FLOW_MOD ADD table:0 priority=")
            && err.contains("OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL")
            && !err.contains("FlowMod {"),
        "names the request in ovs-ofctl syntax, not Debug: {err}"
    );
    assert_eq!(flows_with_cookie(&sw, COOKIE), s.desired_flows);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_repairs_drift() {
    let h = Harness::start(&policy_text(1, ""));
    let sw = sim_switch(0x106, 4);
    sw.connect(h.addr()).await.unwrap();
    let s = synced(&h, 0x106, 1).await;
    // Someone deletes our relay flow behind the controller's back.
    let removed = sw.with_datapath(|d| {
        d.flows_mut()
            .remove_where(|f| f.cookie == COOKIE && f.priority == 30000)
    });
    assert!(!removed.is_empty());
    assert!(!tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25));
    let r = h
        .wait_switch(0x106, "audit repair", T, |x| {
            x.counters.audit_repairs >= 1 && x.sync_state == SyncState::InSync
        })
        .await;
    assert_eq!(
        r.counters.flow_mods_sent,
        s.counters.flow_mods_sent + removed.len() as u64
    );
    assert!(tcp_forwarded(&sw, 1, "10.0.0.5", "192.0.2.25", 25));
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

#[test]
fn the_hitless_check_itself_catches_a_forwarding_table() {
    let check = blocking_invariant(vec![1]);
    let mut dp = op25b_sim::Datapath::new(op25b_sim::DatapathConfig::new(1, 1));
    assert_eq!(check(&dp), Ok(()), "an empty OF1.3 table drops");
    let forward_all = FlowSpec {
        key: FlowKey {
            table_id: 0,
            priority: 0,
            match_: FlowMatch {
                in_port: None,
                eth_type: None,
                tcp: None,
            },
        },
        action: FlowAction::Forward(Forwarding::Normal),
    };
    dp.flows_mut()
        .apply(
            &flow_mod_add(Cookie(COOKIE), &forward_all),
            std::time::Instant::now(),
        )
        .unwrap();
    assert!(
        check(&dp).is_err(),
        "a catch-all forward without the drops must be caught"
    );
}
