//! Adversary: forged PACKET_IN samples, which would otherwise feed the offender table and get an
//! innocent subscriber reported in an X-ARF `bot-infection` report. Only a sample from a
//! connection that holds its dpid, with our cookie, table and reason, from a policed port, of a
//! TCP SYN to a blocked port reaches the offender service's channel; everything else is counted
//! by reason (`op25b_samples_rejected_total{reason}`) and dropped.

use bytes::Bytes;
use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::guard_counters::SampleRejection;
use op25b::fleet::registry::Registry;
use op25b::policy::Config;
use op25b::session::codec_bridge::PacketInSample;
use op25b_proto::consts::{OFPR_ACTION, OFPR_NO_MATCH};
use op25b_proto::match_::Match;
use op25b_proto::oxm::Oxm;
use op25b_proto::packet_in::PacketIn;
use op25b_proto::{Message, OfpMessage};
use op25b_test_support::controller::*;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

struct Setup {
    controller: Controller,
    registry: Arc<Registry>,
    samples: mpsc::Receiver<PacketInSample>,
}

/// A controller whose samples go to a channel we read; port 3 of every switch is an uplink.
fn start() -> Setup {
    init_logs();
    let text = policy_text(60, "[defaults]\nuplink_ports = [3]\n");
    let config = Config::parse(&text, "policy.toml").expect("valid").config;
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(config, None));
    let (tx, samples) = mpsc::channel(1024);
    let options = ControllerOptions {
        samples: Some(tx),
        ..ControllerOptions::default()
    };
    let controller = Controller::start(store, registry.clone(), options).expect("starts");
    Setup {
        controller,
        registry,
        samples,
    }
}

/// Ethernet + IPv4 + TCP from `src` to `dst`:`dport` with TCP `flags`.
fn frame(src: [u8; 4], dst: [u8; 4], dport: u16, flags: u8) -> Bytes {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    let [d0, d1] = dport.to_be_bytes();
    f.extend_from_slice(&[
        0x9c, 0x40, d0, d1, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff,
    ]);
    f.extend_from_slice(&[0, 0, 0, 0]);
    Bytes::from(f)
}

/// A sample as our drop flow on `in_port` would send it: subscriber 10.0.0.5 (innocent, in the
/// forged ones) SYN to 198.51.100.7:25.
fn sample(in_port: u32) -> PacketIn {
    PacketIn {
        buffer_id: u32::MAX,
        total_len: 54,
        reason: OFPR_ACTION,
        table_id: 0,
        cookie: COOKIE,
        match_: Match::new(vec![Oxm::InPort(in_port)]),
        data: frame([10, 0, 0, 5], [198, 51, 100, 7], 25, SYN),
    }
}

fn msg(p: PacketIn) -> OfpMessage {
    OfpMessage::new(0, Message::PacketIn(p))
}

/// Sends `n` copies of `p` (35: what produced a report before).
/// Sends `n` copies of `p`; stops early if the controller has closed the connection (a refused
/// impostor may be cut off while it is still sending, which is the point).
async fn forge(sw: &mut RawSwitch, p: &PacketIn, n: usize) {
    use tokio::io::AsyncWriteExt;
    let bytes = msg(p.clone()).to_bytes();
    for _ in 0..n {
        if sw.stream.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Samples that reached the offender channel within `wait`.
async fn drain(rx: &mut mpsc::Receiver<PacketInSample>, wait: Duration) -> Vec<PacketInSample> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        got.push(s);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_samples_from_a_claimed_switch_are_counted_and_dropped_real_ones_pass() {
    let mut s = start();
    let mut sw = RawSwitch::connect(s.controller.local_addr()).await;
    sw.handshake(0xa1).await;
    let forged: Vec<(PacketIn, SampleRejection)> = vec![
        (
            PacketIn {
                cookie: 0x25,
                ..sample(1)
            },
            SampleRejection::Cookie,
        ),
        (
            PacketIn {
                table_id: 1,
                ..sample(1)
            },
            SampleRejection::Table,
        ),
        (
            PacketIn {
                reason: OFPR_NO_MATCH,
                ..sample(1)
            },
            SampleRejection::Reason,
        ),
        (sample(3), SampleRejection::PortNotPoliced),
        (
            PacketIn {
                data: frame([10, 0, 0, 5], [198, 51, 100, 7], 25, SYN | ACK),
                ..sample(1)
            },
            SampleRejection::NotSyn,
        ),
        (
            PacketIn {
                data: frame([10, 0, 0, 5], [198, 51, 100, 7], 587, SYN),
                ..sample(1)
            },
            SampleRejection::NotBlockedPort,
        ),
        (
            PacketIn {
                data: frame([10, 0, 0, 5], [192, 0, 2, 25], 25, SYN),
                ..sample(1)
            },
            SampleRejection::Allowed,
        ),
    ];
    for (p, _) in &forged {
        forge(&mut sw, p, 35).await;
    }
    let got = drain(&mut s.samples, Duration::from_secs(2)).await;
    println!(
        "forged samples that reached the offender table: {}",
        got.len()
    );
    assert!(got.is_empty(), "{} forged samples got through", got.len());
    let guards = s.registry.guards();
    for (_, why) in &forged {
        assert_eq!(guards.samples_rejected(*why), 35, "{}", why.name());
    }
    // A real sample still passes.
    sw.send(msg(sample(2))).await;
    let got = drain(&mut s.samples, Duration::from_millis(500)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].dpid, 0xa1);
    s.controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_from_a_connection_that_does_not_hold_its_dpid_are_dropped() {
    let mut s = start();
    let addr = s.controller.local_addr();
    let mut real = RawSwitch::connect(addr).await;
    real.handshake(0xa2).await;
    // Unclaimed: samples before the FEATURES_REPLY.
    let mut early = RawSwitch::connect(addr).await;
    early
        .recv_until(Duration::from_secs(2), |m| {
            matches!(m.body, Message::Hello(_)).then_some(())
        })
        .await;
    early
        .send(OfpMessage::new(
            1,
            Message::Hello(op25b_proto::Hello::with_versions(&[4])),
        ))
        .await;
    forge(&mut early, &sample(1), 35).await;
    // Refused: an impostor claiming the live switch's dpid, its samples right behind its claim.
    let mut imp = RawSwitch::connect_from(addr, IpAddr::from([127, 0, 0, 2])).await;
    imp.hello_and_features(0xa2).await;
    forge(&mut imp, &sample(1), 35).await;
    let got = drain(&mut s.samples, Duration::from_secs(2)).await;
    println!(
        "samples from unclaimed/refused connections that got through: {}",
        got.len()
    );
    assert!(got.is_empty(), "{} got through", got.len());
    assert_eq!(
        s.registry
            .guards()
            .samples_rejected(SampleRejection::Unclaimed),
        35
    );
    s.controller.shutdown().await;
}
