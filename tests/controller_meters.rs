//! Reporting on: the sampling meter goes in before the flows, the controller reads the switch's
//! meters first (an identical meter is left alone after a reconnect, a changed one is modified,
//! never an ADD answered METER_EXISTS), a switch that rejects meters still gets the blocking
//! flows, and sampled packet-ins reach the offender channel.

use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::{Registry, SyncState};
use op25b::policy::Config;
use op25b_proto::error_codes::MeterModFailedCode;
use op25b_proto::Message;
use op25b_sim::{Fate, PacketHeaders, SimSwitch, SimSwitchConfig};
use op25b_test_support::controller::*;
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn reporting_policy() -> String {
    policy_text(60, "sample_rate_pps = 10").replace("enabled = false", "enabled = true")
}

fn meter_commands(sw: &SimSwitch) -> Vec<u16> {
    sw.received()
        .into_iter()
        .filter_map(|m| match m.body {
            Message::MeterMod(mm) => Some(mm.command),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_meter_goes_first_and_is_read_not_re_added_on_reconnect() {
    let h = Harness::start(&reporting_policy());
    let sw = sim_switch(0x301, 4);
    sw.connect(h.addr()).await.unwrap();
    let s = h
        .wait_switch(0x301, "in sync", T, |s| s.sync_state == SyncState::InSync)
        .await;
    assert!(s.meters_in_use);
    assert_eq!(meter_commands(&sw), vec![0], "one METER_MOD ADD");
    // The METER_MOD came before the first FLOW_MOD.
    let kinds: Vec<bool> = sw
        .received()
        .iter()
        .filter_map(|m| match m.body {
            Message::MeterMod(_) => Some(true),
            Message::FlowMod(_) => Some(false),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.first(), Some(&true));
    let pkt = PacketHeaders::tcp(
        1,
        "10.0.0.5".parse().unwrap(),
        40000,
        "198.51.100.7".parse().unwrap(),
        25,
    );
    assert_eq!(
        sw.classify(&pkt).fate(),
        Fate::ToController,
        "blocked and sampled"
    );

    let flow_mods = sw.counters().flow_mods;
    sw.disconnect();
    h.wait_switch(0x301, "disconnected", T, |s| !s.connected)
        .await;
    sw.connect(h.addr()).await.unwrap();
    let again = h
        .wait_switch(0x301, "in sync again", T, |x| {
            x.connected
                && x.sync_state == SyncState::InSync
                && x.counters.syncs_ok > s.counters.syncs_ok
        })
        .await;
    assert_eq!(
        meter_commands(&sw),
        vec![0],
        "the meter was read back identical: no METER_MOD on reconnect"
    );
    assert_eq!(
        sw.counters().flow_mods,
        flow_mods,
        "no FLOW_MOD on reconnect"
    );
    assert!(
        again.counters.errors.is_empty(),
        "no METER_EXISTS (or any) error: {:?}",
        again.counters.errors
    );
    assert!(again.meters_in_use);
    let wanted = sw.with_datapath(|d| d.meters().configs(1));
    assert_eq!(wanted.len(), 1, "meter 1 installed");

    // While disconnected, someone changes the meter's rate: the reconnect modifies it back.
    sw.disconnect();
    h.wait_switch(0x301, "disconnected", T, |s| !s.connected)
        .await;
    let mut changed = sw
        .received()
        .into_iter()
        .find_map(|m| match m.body {
            Message::MeterMod(mm) => Some(mm),
            _ => None,
        })
        .expect("the switch received the meter ADD earlier");
    changed.bands = vec![op25b_proto::MeterBand::Drop {
        rate: 99_999,
        burst_size: 1,
    }];
    changed.command = 1; // OFPMC_MODIFY
    let msg = op25b_proto::OfpMessage::new(77, Message::MeterMod(changed));
    let frame = msg.to_bytes();
    sw.with_datapath(|d| d.handle(&msg, &frame, std::time::Instant::now()));
    assert_ne!(
        sw.with_datapath(|d| d.meters().configs(1)),
        wanted,
        "changed out of band"
    );
    sw.connect(h.addr()).await.unwrap();
    let third = h
        .wait_switch(0x301, "in sync a third time", T, |x| {
            x.connected
                && x.sync_state == SyncState::InSync
                && x.counters.syncs_ok > again.counters.syncs_ok
        })
        .await;
    assert_eq!(
        meter_commands(&sw),
        vec![0, 1],
        "the controller's MODIFY (no ADD, so no METER_EXISTS)"
    );
    assert_eq!(
        sw.with_datapath(|d| d.meters().configs(1)),
        wanted,
        "meter repaired"
    );
    assert!(
        third.counters.errors.is_empty(),
        "{:?}",
        third.counters.errors
    );
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_without_meters_still_blocks() {
    let h = Harness::start(&reporting_policy());
    let mut cfg = SimSwitchConfig::new(0x302, 4);
    cfg.datapath.reject_meters = Some(MeterModFailedCode::OutOfMeters);
    let sw = SimSwitch::new(cfg);
    sw.set_invariant(blocking_invariant(vec![1, 2, 3, 4]));
    sw.connect(h.addr()).await.unwrap();
    let s = h
        .wait_switch(0x302, "in sync", T, |s| s.sync_state == SyncState::InSync)
        .await;
    assert!(!s.meters_in_use);
    assert_eq!(
        s.counters.syncs_failed, 0,
        "a rejected meter is not a failed sync"
    );
    let pkt = PacketHeaders::tcp(
        1,
        "10.0.0.5".parse().unwrap(),
        40000,
        "198.51.100.7".parse().unwrap(),
        25,
    );
    assert_eq!(
        sw.classify(&pkt).fate(),
        Fate::Drop,
        "plain drop without a meter"
    );
    assert_eq!(flows_with_cookie(&sw, COOKIE), s.desired_flows);
    assert_hitless(&sw);
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_packet_ins_reach_the_offender_channel_and_overflow_is_counted() {
    init_logs();
    let config = Config::parse(&reporting_policy(), "meters.toml")
        .unwrap()
        .config;
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(config, None));
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let controller = Controller::start(
        store,
        registry.clone(),
        ControllerOptions {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            tls_listen: None,
            samples: Some(tx),
            masterships: None,
        },
    )
    .unwrap();
    let sw = sim_switch(0x303, 4);
    sw.connect(controller.local_addr()).await.unwrap();
    let start = std::time::Instant::now();
    while registry.switch(0x303).map(|s| s.sync_state) != Some(SyncState::InSync) {
        assert!(start.elapsed() < T);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..5u8 {
        let pkt = PacketHeaders::tcp(
            1,
            [10, 0, 0, 5 + i].into(),
            40000,
            "198.51.100.7".parse().unwrap(),
            25,
        );
        assert_eq!(sw.inject_packet(&pkt).fate(), Fate::ToController);
    }
    // Nothing reads the channel until all five arrived: two fit, three are dropped and counted.
    let start = std::time::Instant::now();
    loop {
        let s = registry.switch(0x303).unwrap();
        if s.counters.packet_ins == 5 {
            assert_eq!(s.counters.packet_ins_dropped, 3, "{s:?}");
            break;
        }
        assert!(start.elapsed() < T, "{s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..2 {
        let sample = tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap();
        assert_eq!(sample.dpid, 0x303);
        assert_eq!(sample.packet_in.cookie, COOKIE);
        assert!(!sample.packet_in.data.is_empty());
    }
    assert!(rx.try_recv().is_err());
    controller.shutdown().await;
}
