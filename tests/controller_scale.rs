//! 1,000 simulated switches connecting at once to one controller: every one reaches in-sync, and
//! every one checks the hitless rule after every message it applies.

use op25b::fleet::registry::SyncState;
use op25b_sim::{SimSwitch, SimSwitchConfig};
use op25b_test_support::controller::*;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const SWITCHES: u64 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_switches_at_once_all_reach_in_sync() {
    let h = Harness::start(&policy_text(60, ""));
    let addr = h.addr();
    let switches: Vec<SimSwitch> = (1..=SWITCHES)
        .map(|i| {
            let mut cfg = SimSwitchConfig::new(0x10_0000 + i, 4);
            cfg.record_limit = 0;
            cfg.event_limit = 16;
            // Spread the sources over 127.0.0.0/8 so no one address's ephemeral ports run out.
            cfg.local_ip = Some(IpAddr::from([
                127,
                0,
                u8::try_from(i / 250).expect("4 blocks") + 1,
                (i % 250) as u8 + 1,
            ]));
            let sw = SimSwitch::new(cfg);
            sw.set_invariant(blocking_invariant(vec![1, 2, 3, 4]));
            sw
        })
        .collect();
    let start = Instant::now();
    let connects: Vec<_> = switches
        .iter()
        .cloned()
        .map(|sw| tokio::spawn(async move { sw.connect(addr).await }))
        .collect();
    for c in connects {
        c.await.expect("connect task").expect("TCP connect");
    }
    let deadline = Duration::from_secs(120);
    loop {
        let snap = h.registry.snapshot();
        let in_sync = snap
            .switches
            .iter()
            .filter(|s| s.sync_state == SyncState::InSync)
            .count();
        if in_sync as u64 == SWITCHES {
            break;
        }
        assert!(
            start.elapsed() < deadline,
            "only {in_sync}/{SWITCHES} in sync after {deadline:?}; handshaking={}",
            snap.handshaking
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = start.elapsed();
    eprintln!("{SWITCHES} switches in sync after {took:?}");
    let snap = h.registry.snapshot();
    let desired = snap.switches[0].desired_flows;
    for (sw, s) in switches.iter().zip(&snap.switches) {
        assert_hitless(sw);
        assert_eq!(s.dpid, sw.dpid());
        assert_eq!(s.counters.syncs_failed, 0, "{s:?}");
        assert_eq!(flows_with_cookie(sw, COOKIE), desired);
    }
    h.controller.shutdown().await;
}
