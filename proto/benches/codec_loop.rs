//! Runs one codec operation N times on the same real messages as `codec.rs`, untimed, for
//! counting instructions with `valgrind --tool=callgrind` (scripts/bench-codec --instructions):
//! (count at N) - (count at 0), divided by N, is the cost of one operation, and unlike a time it
//! does not change with the load of the machine.
//!
//! Usage: codec_loop CASE N, CASE one of flow_mod_decode, flow_mod_encode, flow_reply_decode,
//! flow_reply_encode, packet_in_decode, packet_in_encode. Run it through
//! `cargo bench -p op25b-proto --bench codec_loop -- CASE N`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bytes::BytesMut;
use op25b_proto::OfpMessage;

fn capture(scenario: &str, kind: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/captures")
        .join(scenario);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|f| f.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(kind))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read capture"))
        .collect()
}

fn main() -> ExitCode {
    // cargo bench passes --bench; take the first two other arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(case), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: codec_loop CASE N");
        return ExitCode::from(2);
    };
    let flow_mod = capture("add-flow-relay-ipv4", "FLOW_MOD").remove(0);
    let packet_in = capture("monitor-packet-in-port-status", "PACKET_IN").remove(0);
    let replies = capture("dump-flows-1000", "MULTIPART_REPLY-FLOW");
    let decode = |b: &[u8]| OfpMessage::decode(b).expect("capture decodes");
    let fm = decode(&flow_mod);
    let pin = decode(&packet_in);
    let reps: Vec<OfpMessage> = replies.iter().map(|r| decode(r)).collect();
    let mut buf = BytesMut::with_capacity(256 * 1024);
    for _ in 0..n {
        match case.as_str() {
            "flow_mod_decode" => drop(black_box(OfpMessage::decode(black_box(&flow_mod)))),
            "flow_mod_encode" => {
                buf.clear();
                black_box(&fm).encode(&mut buf);
            }
            "flow_reply_decode" => {
                for r in &replies {
                    drop(black_box(OfpMessage::decode(black_box(r))));
                }
            }
            "flow_reply_encode" => {
                buf.clear();
                for r in &reps {
                    black_box(r).encode(&mut buf);
                }
            }
            "packet_in_decode" => drop(black_box(OfpMessage::decode(black_box(&packet_in)))),
            "packet_in_encode" => {
                buf.clear();
                black_box(&pin).encode(&mut buf);
            }
            other => {
                eprintln!("codec_loop: unknown case {other}");
                return ExitCode::from(2);
            }
        }
        black_box(buf.len());
    }
    ExitCode::SUCCESS
}
