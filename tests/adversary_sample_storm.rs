//! Adversary: a switch floods the controller with trusted samples (an outbreak, or a meter set
//! far too high) faster than the offender service reads them. The sample path is bounded: past
//! the service's queue every sample is shed and counted (`op25b_samples_shed_total`), the
//! flooding switch's echoes are still answered behind its samples, and another switch
//! connecting during the flood is still programmed.

use bytes::Bytes;
use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::{Registry, SyncState};
use op25b::policy::Config;
use op25b_proto::consts::OFPR_ACTION;
use op25b_proto::match_::Match;
use op25b_proto::oxm::Oxm;
use op25b_proto::packet_in::PacketIn;
use op25b_proto::{Message, OfpMessage};
use op25b_test_support::controller::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The offender service's queue in this test; nothing reads it, so it stays full.
const QUEUE: usize = 16;
const ROUNDS: u32 = 40;
const PER_ROUND: usize = 500;
const T: Duration = Duration::from_secs(10);

/// A SYN from 10.0.0.5 to 198.51.100.7:25 as our drop flow on port 1 samples it.
fn sample() -> Bytes {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, 5, 198, 51, 100, 7]);
    f.extend_from_slice(&[
        0x9c, 0x40, 0, 25, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    let p = PacketIn {
        buffer_id: u32::MAX,
        total_len: 54,
        reason: OFPR_ACTION,
        table_id: 0,
        cookie: COOKIE,
        match_: Match::new(vec![Oxm::InPort(1)]),
        data: Bytes::from(f),
    };
    OfpMessage::new(0, Message::PacketIn(p)).to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_flood_is_shed_and_counted_while_echoes_and_syncs_go_on() {
    init_logs();
    let config = Config::parse(&policy_text(60, ""), "policy.toml")
        .expect("valid")
        .config;
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(config, None));
    // The offender service's end of the queue: held, never read (a service that fell behind).
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
    let options = ControllerOptions {
        samples: Some(tx),
        ..ControllerOptions::default()
    };
    let controller = Controller::start(store, registry.clone(), options).expect("starts");
    let addr = controller.local_addr();

    let mut flooder = RawSwitch::connect(addr).await;
    flooder.handshake(0xb1).await;
    let burst: Vec<u8> = std::iter::repeat_n(sample(), PER_ROUND).flatten().collect();
    let flood = tokio::spawn(async move {
        // Each round: 500 samples, then an ECHO_REQUEST behind them, whose reply must come.
        let mut slowest = Duration::ZERO;
        for round in 0..ROUNDS {
            let xid = 0xec00 + round;
            flooder.send_raw(&burst).await;
            let asked = Instant::now();
            flooder
                .send(OfpMessage::new(xid, Message::EchoRequest(Bytes::new())))
                .await;
            flooder
                .recv_until(T, |m| {
                    (matches!(m.body, Message::EchoReply(_)) && m.xid == xid).then_some(())
                })
                .await;
            slowest = slowest.max(asked.elapsed());
        }
        // Handed back so the connection outlives the task: the check below is about the
        // controller keeping it, not about the test's end of it being dropped.
        (slowest, flooder)
    });

    // Flow programming goes on: a switch connecting during the flood gets its flows.
    let sw = sim_switch(0xb2, 3);
    sw.connect(addr).await.expect("connects");
    wait_switch(&registry, 0xb2, "in sync during the flood", T, |s| {
        s.connected && s.sync_state == SyncState::InSync
    })
    .await;
    assert!(flows_with_cookie(&sw, COOKIE) > 0);

    let (slowest, _flooder) = flood.await.expect("every echo behind the samples answered");
    let sent = u64::from(ROUNDS) * PER_ROUND as u64;
    let shed = registry.guards().samples_shed();
    println!("{sent} samples: {shed} shed, slowest echo behind 500 samples {slowest:?}");
    assert_eq!(rx.len(), QUEUE, "the queue holds what fit");
    assert_eq!(
        shed,
        sent - QUEUE as u64,
        "everything past the queue is shed"
    );
    let flooded = registry.switch(0xb1).expect("listed");
    assert!(flooded.connected, "the flooding switch stays connected");
    assert_eq!(flooded.counters.packet_ins, sent);
    assert_eq!(flooded.counters.packet_ins_dropped, shed);
    controller.shutdown().await;
}
