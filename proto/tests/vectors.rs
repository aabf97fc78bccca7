//! Every OpenFlow 1.3 vector in testdata/openflow13-vectors/packets decodes and re-encodes byte
//! for byte; the truncated marker fails with a typed truncation error.

use std::path::PathBuf;

use op25b_proto::{DecodeErrorKind, OfpMessage};

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/openflow13-vectors")
}

fn packets() -> Vec<(String, Vec<u8>)> {
    let dir = vectors_dir().join("packets");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the OpenFlow 1.3 vectors must be at {} (proto/testdata/openflow13-vectors/packets): {e}",
            dir.display()
        )
    });
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let e = e.expect("readable directory entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap_or_else(|err| panic!("read {name}: {err}"));
            (name, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_packet_vector_round_trips_byte_identical() {
    let all = packets();
    let real: Vec<_> = all.iter().filter(|(n, _)| n.ends_with(".packet")).collect();
    assert!(
        real.len() >= 100,
        "expected the 104 vectors, found {}",
        real.len()
    );
    let mut failures = Vec::new();
    for (name, bytes) in &real {
        match OfpMessage::decode(bytes) {
            Ok(m) => {
                let again = m.to_bytes();
                if again[..] != bytes[..] {
                    failures.push(format!(
                        "{name}: re-encoded bytes differ\n  in:  {}\n  out: {}",
                        hex::encode(bytes),
                        hex::encode(&again)
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        real.len(),
        failures.join("\n")
    );
}

#[test]
fn flow_mod_cut_to_64_bytes_is_a_typed_truncation() {
    let all = packets();
    assert!(
        all.iter()
            .any(|(n, b)| n == "libofproto-OFP13-flow_mod.truncated64" && b.is_empty()),
        "marker libofproto-OFP13-flow_mod.truncated64 missing from {}",
        vectors_dir().display()
    );
    let (_, full) = all
        .iter()
        .find(|(n, _)| n == "libofproto-OFP13-flow_mod.packet")
        .expect("flow_mod vector");
    assert!(full.len() > 64);
    let e = OfpMessage::decode(&full[..64]).unwrap_err();
    assert!(e.is_truncation(), "{e}");
    assert_eq!(
        e.kind,
        DecodeErrorKind::Truncated {
            needed: full.len(),
            available: 64
        }
    );
    assert_eq!(e.msg_type, Some(14));
    assert_eq!(e.to_ofp_error(), (1, 6));
}
