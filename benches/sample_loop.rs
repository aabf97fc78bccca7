//! The controller's per-sample work, N times, untimed, for counting instructions with
//! `valgrind --tool=callgrind` (scripts/bench-outbreak-cost): (count at N) - (count at 0),
//! divided by N, is the cost of one sample whatever the load of the machine.
//!
//! One sample is what a session and the offender service do with one PACKET_IN of a blocked
//! SYN: decode the OpenFlow message, judge it a sample of our drop flows
//! ([`op25b::session::sample_trust::judge`]), bound it ([`PacketInSample::bounded`]), parse
//! the frame ([`op25b::offenders::parse_sample`]) and count it in the offender table. Not
//! counted: reading the socket and the bounded queue between the two tasks.
//!
//! Usage: `sample_loop write DIR` writes `DIR/samples.bin`, 4,096 PACKET_INs as Open vSwitch
//! sends them (a real captured SYN, src/offenders/testdata/real_syn_ipv4.hex, re-addressed:
//! 2,048 subscribers on 48 ports, each to a few of 250 hosts, our cookie, table 0,
//! OFPR_ACTION, the in_port match); `sample_loop FILE N` runs N samples from it (cycling).
//! The os-ken side (bench/osken/sample_bench.py) reads the same file.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::SystemTime;

use bytes::Bytes;
use op25b::offenders::{parse_sample, OffenderConfig, OffenderTable, SampleContext, UnixMillis};
use op25b::policy::{Config, Dpid};
use op25b::session::packet_in_sample::PacketInSample;
use op25b::session::sample_trust::judge;
use op25b_proto::consts::OFPR_ACTION;
use op25b_proto::{Match, Message, OfpMessage, Oxm, PacketIn};

const REAL_SYN: &str = include_str!("../src/offenders/testdata/real_syn_ipv4.hex");
const POLICY: &str = r#"
[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]
cookie = "0x4f50323542000000"
"#;
const COOKIE: u64 = 0x4f50_3235_4200_0000;
const VECTORS: u32 = 4096;

fn write(dir: &str) -> Result<(), String> {
    let syn = hex::decode(REAL_SYN.trim()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for i in 0..VECTORS {
        let mut frame = syn.clone();
        let subscriber = i % 2048;
        let [_, _, hi, lo] = subscriber.to_be_bytes();
        frame[26..30].copy_from_slice(&[10, 1, hi, lo]);
        let host = u8::try_from(1 + (i * 7) % 250).map_err(|e| e.to_string())?;
        frame[30..34].copy_from_slice(&[198, 51, 100, host]);
        let [s0, s1] = u16::try_from(20_000 + i)
            .map_err(|e| e.to_string())?
            .to_be_bytes();
        frame[34..36].copy_from_slice(&[s0, s1]);
        let p = PacketIn {
            buffer_id: u32::MAX,
            total_len: u16::try_from(frame.len()).map_err(|e| e.to_string())?,
            reason: OFPR_ACTION,
            table_id: 0,
            cookie: COOKIE,
            match_: Match::new(vec![Oxm::InPort(1 + subscriber % 48)]),
            data: Bytes::from(frame),
        };
        out.extend_from_slice(&OfpMessage::new(i, Message::PacketIn(p)).to_bytes());
    }
    std::fs::write(format!("{dir}/samples.bin"), out).map_err(|e| e.to_string())
}

/// Splits an OpenFlow byte stream into messages.
fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 8 {
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]])).max(8);
        let (one, tail) = rest.split_at(len.min(rest.len()));
        out.push(one);
        rest = tail;
    }
    out
}

fn run(file: &str, n: usize) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let frames = frames(&bytes);
    let loaded = Config::parse(POLICY, "bench").map_err(|e| e.to_string())?;
    let policy = loaded.config.policy().clone();
    let mut table = OffenderTable::new(OffenderConfig::default()).map_err(|e| e.to_string())?;
    let mut trusted = 0usize;
    for i in 0..n {
        let frame = frames[i % frames.len()];
        let Ok(msg) = OfpMessage::decode(black_box(frame)) else {
            continue;
        };
        let Message::PacketIn(p) = msg.body else {
            continue;
        };
        if judge(&p, &policy, Dpid(1)).is_err() {
            continue;
        }
        let s = PacketInSample::bounded(1, SystemTime::UNIX_EPOCH, p);
        let (Some(in_port), Ok(parsed)) = (s.packet_in.in_port(), parse_sample(&s.packet_in.data))
        else {
            continue;
        };
        let context = SampleContext {
            dpid: s.dpid,
            in_port,
            now: UnixMillis(1_800_000_000_000 + i as u64),
        };
        black_box(table.record(&parsed, context));
        trusted += 1;
    }
    if trusted != n {
        return Err(format!("only {trusted} of {n} samples were trusted"));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let result = match (args.first().map(String::as_str), args.get(1)) {
        (Some("write"), Some(dir)) => write(dir),
        (Some(file), Some(n)) => match n.parse() {
            Ok(n) => run(file, n),
            Err(e) => Err(format!("N: {e}")),
        },
        _ => Err("usage: sample_loop write DIR | sample_loop FILE N".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sample_loop: {e}");
            ExitCode::FAILURE
        }
    }
}
