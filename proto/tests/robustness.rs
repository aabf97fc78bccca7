//! Robustness as a plain test: the decoder fed truncated, bit-flipped and length-lying versions
//! of every vector, and random frames, must return (Ok or a typed Err) without panicking; whatever
//! it accepts must re-encode to the same bytes. The framer must cut any chunking of a stream
//! back into the same frames.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use bytes::BytesMut;
use op25b_proto::framer::{next_frame, FrameError};
use op25b_proto::*;

/// xorshift64*: deterministic, so a failure is reproducible from the seed in the message.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).expect("below n")
    }
}

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/openflow13-vectors/packets");
    let rd = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the OpenFlow 1.3 vectors must be at {}: {e}", dir.display()));
    let mut v: Vec<(String, Vec<u8>)> = rd
        .map(|e| {
            let e = e.expect("dir entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read vector"),
            )
        })
        .filter(|(n, _)| n.ends_with(".packet"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 100,
        "expected the 104 vectors in {}, found {}",
        dir.display(),
        v.len()
    );
    v
}

/// Decodes `frame`; panics (failing the test) with the input when the decoder panicked or when
/// an accepted frame does not re-encode identically. Returns whether it decoded.
fn probe(frame: &[u8], what: impl Fn() -> String) -> bool {
    let result = catch_unwind(AssertUnwindSafe(|| OfpMessage::decode(frame)));
    match result {
        Err(_) => panic!("decoder panicked on {}: {}", what(), hex::encode(frame)),
        Ok(Ok(m)) => {
            let again = catch_unwind(AssertUnwindSafe(|| m.to_bytes())).unwrap_or_else(|_| {
                panic!(
                    "encoder panicked re-encoding {}: {}",
                    what(),
                    hex::encode(frame)
                )
            });
            if again[..] != frame[..] {
                panic!(
                    "{}: accepted but not canonical\n in:  {}\n out: {}",
                    what(),
                    hex::encode(frame),
                    hex::encode(&again)
                );
            }
            true
        }
        Ok(Err(e)) => {
            // Every error maps to an OpenFlow error and formats.
            let (t, _) = e.to_ofp_error();
            assert!(t <= 13, "{}: error type {t} out of range", what());
            assert!(
                e.offset <= frame.len(),
                "{}: offset {} beyond frame of {}",
                what(),
                e.offset,
                frame.len()
            );
            false
        }
    }
}

/// Positions to try in a vector of `len` bytes: all of them for small vectors; for the two 11 KB
/// table-features vectors, the first 96 and an evenly spread 96 more (keeps the run in seconds).
fn positions(len: usize, from: usize, step: usize) -> Vec<usize> {
    let all: Vec<usize> = (from..len).step_by(step).collect();
    if all.len() <= 1024 {
        return all;
    }
    let stride = all.len() / 96;
    all.iter()
        .take(96)
        .copied()
        .chain(all.iter().skip(96).step_by(stride).copied())
        .collect()
}

fn set_len(frame: &mut [u8]) {
    let n = u16::try_from(frame.len()).expect("a frame length");
    frame[2..4].copy_from_slice(&n.to_be_bytes());
}

#[test]
fn every_prefix_of_every_vector() {
    let mut decoded = 0usize;
    let mut total = 0usize;
    for (name, bytes) in vectors() {
        for cut in positions(bytes.len(), 0, 1) {
            // As received: the header claims more than there is -> always an error.
            assert!(
                !probe(&bytes[..cut], || format!("{name} cut to {cut}")),
                "{name} cut to {cut} decoded"
            );
            // With the header length patched to the cut: the body decoders see a short body.
            if cut >= 8 {
                let mut f = bytes[..cut].to_vec();
                set_len(&mut f);
                decoded +=
                    usize::from(probe(&f, || format!("{name} cut to {cut}, length patched")));
                total += 1;
            }
        }
    }
    assert!(total > 3_000, "only {total} patched prefixes tried");
    // Cuts at structure boundaries do decode (e.g. a flow stats reply with fewer entries).
    assert!(decoded > 0);
}

#[test]
fn random_bit_flips_in_every_vector() {
    let mut rng = Rng(0x6f70_3235_6221);
    let mut accepted = 0usize;
    let mut tries = 0usize;
    for (name, bytes) in vectors() {
        for round in 0..300 {
            let mut f = bytes.clone();
            for _ in 0..=rng.below(3) {
                let i = rng.below(f.len());
                f[i] ^= 1 << rng.below(8);
            }
            // Keep the frame length honest half of the time so the body gets exercised.
            if round % 2 == 0 {
                set_len(&mut f);
            }
            accepted += usize::from(probe(&f, || format!("{name} flip round {round}")));
            tries += 1;
        }
    }
    assert_eq!(tries, vectors().len() * 300);
    assert!(
        accepted > 0,
        "no mutation decoded at all: the mutator is not reaching the bodies"
    );
}

#[test]
fn lying_length_fields_in_every_vector() {
    let lies = [0u16, 1, 3, 4, 7, 8, 9, 15, 16, 17, 0x7fff, 0xfff8, 0xffff];
    let mut tries = 0usize;
    let mut rng = Rng(0x1e57_1e57);
    for (name, bytes) in vectors() {
        // Every even offset past the header may hold a u16 length (match, action, instruction,
        // bucket, band, property, entry lengths).
        for at in positions(bytes.len().saturating_sub(1), 8, 2) {
            for lie in lies
                .iter()
                .copied()
                .chain(std::iter::once(low_u16(rng.next())))
            {
                let mut f = bytes.clone();
                f[at..at + 2].copy_from_slice(&lie.to_be_bytes());
                probe(&f, || format!("{name} u16 at {at} = {lie}"));
                tries += 1;
            }
        }
        // And the header length itself.
        for lie in lies {
            let mut f = bytes.clone();
            f[2..4].copy_from_slice(&lie.to_be_bytes());
            let ok = probe(&f, || format!("{name} header length {lie}"));
            assert!(
                !ok || usize::from(lie) == bytes.len(),
                "{name}: header length {lie} accepted"
            );
        }
    }
    assert!(tries > 10_000, "only {tries} lies tried");
}

#[test]
fn random_frames_of_every_type() {
    let mut rng = Rng(0xdead_beef);
    for i in 0..10_000 {
        let len = 8 + rng.below(200);
        let mut f: Vec<u8> = (0..len).map(|_| low_byte(rng.next())).collect();
        f[0] = if i % 10 == 0 { low_byte(rng.next()) } else { 4 };
        f[1] = u8::try_from(i % 34).expect("below 34");
        set_len(&mut f);
        // Multipart frames: pick a real multipart type and zero the pad so the body is reached.
        if (f[1] == 18 || f[1] == 19) && len >= 16 {
            f[8] = if rng.below(8) == 0 { 0xff } else { 0 };
            f[9] = u8::try_from(rng.below(16)).expect("below 16");
            f[12..16].fill(0);
        }
        probe(&f, || format!("random frame {i}"));
    }
}

#[test]
fn standalone_structure_decoders_never_panic() {
    let mut rng = Rng(42);
    for i in 0..20_000 {
        let len = rng.below(96);
        let b: Vec<u8> = (0..len).map(|_| low_byte(rng.next())).collect();
        let what = format!("structure input {i}: {}", hex::encode(&b));
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = Oxm::decode(&b);
            let _ = Action::decode(&b);
            let _ = Instruction::decode(&b);
            let _ = Match::decode(&b);
            let _ = TableFeatures::decode(&b);
            let _ = Port::decode(&b);
            let _ = Bucket::decode(&b);
            let _ = FlowStats::decode(&b);
            let _ = PacketQueue::decode(&b);
            let _ = Hello::decode(&b);
        }));
        assert!(r.is_ok(), "panicked on {what}");
    }
}

#[test]
fn framer_reassembles_any_chunking_of_the_vector_stream() {
    let vs = vectors();
    let stream: Vec<u8> = vs.iter().flat_map(|(_, b)| b.clone()).collect();
    let mut rng = Rng(7);
    for round in 0..50 {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        let mut pos = 0;
        while pos < stream.len() {
            let n = 1 + rng.below(if round % 2 == 0 { 7 } else { 3000 });
            let end = (pos + n).min(stream.len());
            buf.extend_from_slice(&stream[pos..end]);
            pos = end;
            while let Some(f) = next_frame(&mut buf).expect("vectors frame cleanly") {
                frames.push(f);
            }
        }
        assert!(
            buf.is_empty(),
            "round {round}: {} bytes left over",
            buf.len()
        );
        assert_eq!(frames.len(), vs.len(), "round {round}");
        for (f, (name, b)) in frames.iter().zip(&vs) {
            assert_eq!(&f[..], &b[..], "round {round}: frame for {name} differs");
        }
    }
}

#[test]
fn framer_on_random_streams_never_panics_and_never_spins() {
    let mut rng = Rng(99);
    for i in 0..5_000 {
        let len = rng.below(64);
        let mut buf =
            BytesMut::from(&(0..len).map(|_| low_byte(rng.next())).collect::<Vec<u8>>()[..]);
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps <= 64, "stream {i}: framer did not make progress");
            match next_frame(&mut buf) {
                Ok(Some(f)) => assert!(f.len() >= 8),
                Ok(None) => break,
                Err(FrameError::LengthBelowHeader { length, .. }) => {
                    assert!(length < 8);
                    break;
                }
            }
        }
    }
}

#[test]
fn assembler_fed_every_decodable_vector_never_panics() {
    let mut a = MultipartAssembler::new(AssemblyLimits {
        max_parts: 4,
        max_bytes: 4096,
        max_pending: 2,
        ..AssemblyLimits::default()
    });
    let mut completed = 0;
    for (_, b) in vectors() {
        let m = OfpMessage::decode(&b).expect("vectors decode");
        let is_reply = matches!(m.body, Message::MultipartReply(_));
        match a.push(m) {
            Ok(Some(_)) => completed += 1,
            Ok(None) => {}
            Err(e) => assert!(!is_reply || !e.to_string().is_empty()),
        }
    }
    assert!(completed > 10, "only {completed} replies completed");
}

/// The low byte of a random word (the rest is thrown away on purpose).
fn low_byte(x: u64) -> u8 {
    x.to_le_bytes()[0]
}

/// The low 16 bits of a random word.
fn low_u16(x: u64) -> u16 {
    let b = x.to_le_bytes();
    u16::from_le_bytes([b[0], b[1]])
}
