//! Decoding and encoding speed of op25b-proto on real Open vSwitch messages
//! (proto/testdata/captures): a typical OP25B FLOW_MOD (128 bytes: in_port, eth_type, masked
//! ipv4_src, ipv4_dst, ip_proto, tcp_dst, apply output:NORMAL), the three OFPMP_FLOW replies of a
//! 1,000-flow dump (OVS splits them at 64 KiB), and a PACKET_IN of a TCP SYN to port 25.
//!
//! Encoding writes into a reused `BytesMut` (what a connection's writer does); `flow_mod_to_bytes`
//! also allocates a fresh buffer each time. With OP25B_BENCH_VECTORS_DIR set, the exact bytes are
//! written there for bench/osken/bench.py (scripts/bench-codec runs both).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion};
use op25b_proto::OfpMessage;

/// Files of one capture scenario whose name contains `kind`, sorted.
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
    assert!(!files.is_empty(), "no {kind} in {}", dir.display());
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read capture"))
        .collect()
}

fn write_vectors(flow_mod: &[u8], packet_in: &[u8], replies: &[Vec<u8>]) {
    let Some(dir) = std::env::var_os("OP25B_BENCH_VECTORS_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("create vectors dir");
    std::fs::write(dir.join("flow_mod.bin"), flow_mod).expect("write vector");
    std::fs::write(dir.join("packet_in.bin"), packet_in).expect("write vector");
    for (i, r) in replies.iter().enumerate() {
        std::fs::write(dir.join(format!("flow_reply_{i}.bin")), r).expect("write vector");
    }
}

fn codec(c: &mut Criterion) {
    let flow_mod = capture("add-flow-relay-ipv4", "FLOW_MOD").remove(0);
    let packet_in = capture("monitor-packet-in-port-status", "PACKET_IN").remove(0);
    let replies = capture("dump-flows-1000", "MULTIPART_REPLY-FLOW");
    write_vectors(&flow_mod, &packet_in, &replies);

    let decode = |b: &[u8]| OfpMessage::decode(b).expect("capture decodes");
    let fm = decode(&flow_mod);
    let pin = decode(&packet_in);
    let reps: Vec<OfpMessage> = replies.iter().map(|r| decode(r)).collect();
    let mut buf = BytesMut::with_capacity(256 * 1024);

    let mut g = c.benchmark_group("codec");
    g.bench_function("flow_mod_decode", |b| {
        b.iter(|| OfpMessage::decode(black_box(&flow_mod)));
    });
    g.bench_function("flow_mod_encode", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&fm).encode(&mut buf);
            black_box(buf.len())
        });
    });
    g.bench_function("flow_mod_to_bytes", |b| {
        b.iter(|| black_box(&fm).to_bytes());
    });
    g.bench_function("flow_reply_decode", |b| {
        b.iter(|| {
            for r in &replies {
                black_box(OfpMessage::decode(black_box(r)).ok());
            }
        });
    });
    g.bench_function("flow_reply_encode", |b| {
        b.iter(|| {
            buf.clear();
            for r in &reps {
                black_box(r).encode(&mut buf);
            }
            black_box(buf.len())
        });
    });
    g.bench_function("packet_in_decode", |b| {
        b.iter(|| OfpMessage::decode(black_box(&packet_in)));
    });
    g.bench_function("packet_in_encode", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pin).encode(&mut buf);
            black_box(buf.len())
        });
    });
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
