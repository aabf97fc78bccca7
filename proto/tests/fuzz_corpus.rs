//! Runs every saved fuzz input (proto/fuzz/seeds: real captures, their byte streams, and inputs
//! the fuzzer found) through the same properties the cargo-fuzz targets check, on stable Rust,
//! so CI checks them without libFuzzer or nightly. A panic anywhere in the codec fails the test
//! and names the input file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

#[path = "../fuzz/src/properties.rs"]
mod properties;

#[test]
fn every_saved_fuzz_input_keeps_the_codec_properties() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|f| f.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    // The corpus is committed; an empty or tiny one means it went missing.
    assert!(
        files.len() >= 100,
        "only {} inputs in {}",
        files.len(),
        dir.display()
    );
    assert!(
        files.len() < 300,
        "keep the committed corpus under 300 files ({})",
        files.len()
    );
    let mut total = 0usize;
    let mut failures = Vec::new();
    for f in &files {
        let data = std::fs::read(f).expect("read input");
        total += data.len();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            properties::decode_round_trips(&data);
            properties::framer_splits_stream(&data);
        }));
        if let Err(panic) = outcome {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
                .unwrap_or_default();
            failures.push(format!("{}: {why}", f.display()));
        }
    }
    assert!(
        total < 1_000_000,
        "keep the committed corpus under 1 MB ({total} bytes)"
    );
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
