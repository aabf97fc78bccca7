//! A printing command whose reader goes away (`op25b ofp-print ... | head`) ends quietly, without a
//! panic message, like other Unix tools.
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn ofp_print_into_a_closed_pipe_does_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/testdata/captures/dump-flows-1000");
    // The concatenated captures print far more than a pipe buffer (64 KiB) holds.
    let mut all = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("proto/testdata/captures exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    entries.sort();
    for p in &entries {
        all.extend(std::fs::read(p).expect("capture readable"));
    }
    assert!(
        all.len() > 100_000,
        "need a large input, got {} bytes",
        all.len()
    );
    let input = std::env::temp_dir().join(format!("op25b-sigpipe-{}.bin", std::process::id()));
    std::fs::write(&input, &all).expect("write temp input");

    let mut child = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .arg("ofp-print")
        .arg("--file")
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn op25b");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_exact(&mut first)
        .expect("some output");
    // stdout is dropped here: the reader went away.
    let out = child.wait_with_output().expect("wait");
    let _ = std::fs::remove_file(&input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(
        !out.status.success(),
        "expected to be stopped by SIGPIPE, got {:?}",
        out.status
    );
}
