//! A FLOW stats reply in several parts, read by the real session over loopback TCP: each part
//! is normalised as it arrives (`session::held_replies`), and the sync plans from the whole
//! table as if it had come in one piece; a part cut inside an entry closes that switch at once
//! and no other.

use op25b::fleet::registry::SyncState;
use op25b::flows::openflow::flow_mods_for;
use op25b::flows::{desired_flows, DesiredFlows, SwitchView};
use op25b::policy::{Config, Dpid, PortNo};
use op25b_proto::consts::OFPMPF_REPLY_MORE;
use op25b_proto::{FlowStats, Message, MultipartReply, MultipartReplyBody, OfpMessage};
use op25b_test_support::controller::*;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

/// The flows the policy at `h` wants on a switch with ports 1..=3 (what `RawSwitch` reports).
fn desired(h: &Harness, dpid: u64) -> DesiredFlows {
    let config = Config::load(&h.policy_path).expect("valid policy").config;
    desired_flows(
        config.policy(),
        &SwitchView::new(Dpid(dpid), (1..=3).map(PortNo)),
    )
}

/// The desired flows as the switch would list them once installed.
fn installed(desired: &DesiredFlows) -> Vec<FlowStats> {
    flow_mods_for(desired)
        .into_iter()
        .map(|fm| FlowStats {
            table_id: fm.table_id,
            duration_sec: 5,
            duration_nsec: 0,
            priority: fm.priority,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: fm.flags,
            cookie: fm.cookie,
            packet_count: 3,
            byte_count: 300,
            match_: fm.match_,
            instructions: fm.instructions,
        })
        .collect()
}

/// `entries[range]` as one part of FLOW stats reply `xid`, as wire bytes.
fn flow_part(xid: u32, more: bool, entries: &[FlowStats]) -> Vec<u8> {
    OfpMessage::new(
        xid,
        Message::MultipartReply(MultipartReply {
            flags: if more { OFPMPF_REPLY_MORE } else { 0 },
            body: MultipartReplyBody::Flow(entries.to_vec()),
        }),
    )
    .to_bytes()
    .to_vec()
}

/// What the controller sends within `window`, echo requests answered.
async fn messages_for(sw: &mut RawSwitch, window: Duration) -> Vec<OfpMessage> {
    let end = Instant::now() + window;
    let mut got = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, sw.recv(T)).await {
            Ok(Received::Msg(m)) => {
                if let Message::EchoRequest(data) = &m.body {
                    sw.send(OfpMessage::new(m.xid, Message::EchoReply(data.clone())))
                        .await;
                }
                got.push(m);
            }
            Ok(Received::Closed) => panic!("controller closed the connection"),
            Err(_) => break,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_sent_in_parts_cut_between_any_entries_is_read_whole() {
    let h = Harness::start(&policy_text(60, ""));
    let want = desired(&h, 0x71);
    let table = installed(&want);
    assert!(table.len() >= 6, "enough flows to cut: {}", table.len());
    let mut sw = RawSwitch::connect(h.addr()).await;
    let xid = sw.handshake(0x71).await;
    // Three parts, and an empty one in the middle (a switch may send one).
    let (a, b) = (table.len() / 3, 2 * table.len() / 3);
    sw.send_raw(&flow_part(xid, true, &table[..a])).await;
    sw.send_raw(&flow_part(xid, true, &[])).await;
    sw.send_raw(&flow_part(xid, true, &table[a..b])).await;
    sw.send_raw(&flow_part(xid, false, &table[b..])).await;
    let s = h
        .wait_switch(0x71, "in sync", T, |s| {
            s.connected && s.sync_state == SyncState::InSync && s.counters.syncs_ok >= 1
        })
        .await;
    let after = messages_for(&mut sw, Duration::from_millis(300)).await;
    assert!(
        !after
            .iter()
            .any(|m| matches!(m.body, Message::FlowMod(_) | Message::BarrierRequest)),
        "the table read whole needs no change: {after:?}"
    );
    assert_eq!(s.counters.flow_mods_sent, 0);
    assert_eq!(s.flow_count, want.flows.len());
    let o = h.observations.get(0x71).expect("observed");
    assert_eq!(o.actual_flows.len(), table.len());
    assert!(
        o.actual_flows
            .iter()
            .all(|r| r.flow.is_some() && r.packets == 3),
        "every entry read back as one of ours, with its counters"
    );
    h.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_cut_inside_an_entry_closes_that_switch_only() {
    let h = Harness::start(&policy_text(60, ""));
    let table = installed(&desired(&h, 0x72));
    let mut good = RawSwitch::connect(h.addr()).await;
    let good_xid = good.handshake(0x73).await;
    let mut bad = RawSwitch::connect(h.addr()).await;
    let xid = bad.handshake(0x72).await;
    let half = table.len() / 2;
    bad.send_raw(&flow_part(xid, true, &table[..half])).await;
    // The second part loses the last 10 bytes of its last entry; its header length agrees.
    let mut cut = flow_part(xid, false, &table[half..]);
    cut.truncate(cut.len() - 10);
    let len = u16::try_from(cut.len()).expect("one frame").to_be_bytes();
    cut[2..4].copy_from_slice(&len);
    bad.send_raw(&cut).await;
    let (_, took) = bad.until_closed(Duration::from_secs(3)).await;
    assert!(
        took < Duration::from_secs(1),
        "closed at once, not by a timeout: {took:?}"
    );
    let s = h
        .wait_switch(0x72, "bad one disconnected", T, |s| !s.connected)
        .await;
    assert_eq!(s.sync_state, SyncState::Disconnected);
    assert_eq!(s.counters.syncs_ok, 0, "nothing planned from half a table");
    // The other switch's read goes on: it answers and gets in sync.
    good.send_raw(&flow_part(good_xid, false, &installed(&desired(&h, 0x73))))
        .await;
    h.wait_switch(0x73, "good one in sync", T, |s| {
        s.connected && s.sync_state == SyncState::InSync
    })
    .await;
    h.controller.shutdown().await;
}
