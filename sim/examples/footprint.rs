//! Measures what simulated switches cost: memory per connected switch (with an op25b-like flow
//! table) and time to bring them up, against a minimal controller in another process.
//!
//! ```text
//! cargo run --release -p op25b-sim --example footprint -- controller 127.0.0.1:6699 &
//! cargo run --release -p op25b-sim --example footprint -- switches 127.0.0.1:6699 5000
//! ```
//! The controller side answers each switch with HELLO, FEATURES_REQUEST, six FLOW_MODs and a
//! BARRIER, then only answers ECHOs. The switch side prints RSS before and after.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use op25b_proto::consts::*;
use op25b_proto::framer::next_frame;
use op25b_proto::{Action, FlowMod, Hello, Instruction, Match, Message, OfpMessage, Oxm};
use op25b_sim::{SimSwitch, SimSwitchConfig, SwitchEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn flows() -> Vec<FlowMod> {
    let out = |p| vec![Instruction::ApplyActions(vec![Action::output(p)])];
    let tcp = |port: u16, v6: bool| {
        let eth = if v6 { ETH_TYPE_IPV6 } else { ETH_TYPE_IPV4 };
        vec![
            Oxm::EthType(eth),
            Oxm::IpProto(IP_PROTO_TCP),
            Oxm::TcpDst(port),
        ]
    };
    let mut relay = tcp(25, false);
    relay.push(Oxm::Ipv4Dst {
        value: Ipv4Addr::new(192, 0, 2, 25),
        mask: None,
    });
    vec![
        FlowMod::add(0, 0, Match::all(), out(OFPP_NORMAL)),
        FlowMod::add(0, 200, Match::new(tcp(25, false)), vec![]),
        FlowMod::add(0, 200, Match::new(tcp(25, true)), vec![]),
        FlowMod::add(0, 300, Match::new(relay), out(OFPP_NORMAL)),
        FlowMod::add(0, 199, Match::new(tcp(0, false)), vec![]),
        FlowMod::add(0, 199, Match::new(tcp(0, true)), vec![]),
    ]
}

async fn serve_one(mut s: TcpStream) -> std::io::Result<()> {
    let mut out = BytesMut::new();
    let push = |out: &mut BytesMut, xid, body| {
        OfpMessage {
            version: OFP_VERSION,
            xid,
            body,
        }
        .encode(out);
    };
    push(
        &mut out,
        1,
        Message::Hello(Hello::with_versions(&[OFP_VERSION])),
    );
    push(&mut out, 2, Message::FeaturesRequest);
    for (xid, f) in (10..).zip(flows()) {
        push(&mut out, xid, Message::FlowMod(f));
    }
    push(&mut out, 99, Message::BarrierRequest);
    s.write_all(&out).await?;
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        if s.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        while let Ok(Some(frame)) = next_frame(&mut buf) {
            if let Ok(OfpMessage {
                xid,
                body: Message::EchoRequest(d),
                ..
            }) = OfpMessage::decode(&frame)
            {
                let reply = OfpMessage {
                    version: OFP_VERSION,
                    xid,
                    body: Message::EchoReply(d),
                };
                s.write_all(&reply.to_bytes()).await?;
            }
        }
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: footprint controller <addr> | footprint switches <addr> <n>";
    let addr: SocketAddr = args.get(2).ok_or(usage)?.parse()?;
    match args.get(1).map(String::as_str) {
        Some("controller") => {
            let l = TcpListener::bind(addr).await?;
            loop {
                let (s, _) = l.accept().await?;
                tokio::spawn(async move {
                    let _ = serve_one(s).await;
                });
            }
        }
        Some("switches") => {
            let n: u64 = args.get(3).ok_or(usage)?.parse()?;
            let before = rss_kib();
            let start = Instant::now();
            let mut switches = Vec::new();
            for i in 0..n {
                let mut cfg = SimSwitchConfig::new(i + 1, 4);
                cfg.record_limit = 0;
                cfg.event_limit = 8;
                // Spread over 127.0.0.2..=127.0.0.254 so ephemeral ports never run out.
                cfg.local_ip = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 253) as u8)));
                let sw = SimSwitch::new(cfg);
                sw.connect(addr).await?;
                switches.push(sw);
            }
            for sw in &switches {
                sw.wait_until(Duration::from_secs(60), "barrier", |v| {
                    v.events()
                        .any(|e| matches!(e, SwitchEvent::BarrierReplied { .. }))
                })
                .await?;
            }
            let up = start.elapsed();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let after = rss_kib();
            let flows: usize = switches.iter().map(|s| s.flows().len()).sum();
            println!(
                "{n} switches connected and synced ({flows} flows) in {up:?}; RSS {before} KiB -> {after} KiB, {:.1} KiB per switch",
                (after.saturating_sub(before)) as f64 / n as f64
            );
            Ok(())
        }
        _ => Err(usage.into()),
    }
}
