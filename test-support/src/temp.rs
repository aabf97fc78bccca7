//! Scratch files and directories under the system temp dir, unique per process and call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `text` written to a fresh file under the system temp dir, unique per process and call,
/// its name ending in `suffix`.
pub fn temp_file(suffix: &str, text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("op25b-test-{}-{n}-{suffix}", std::process::id()));
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    p
}

/// A fresh directory `op25b-{tag}-{pid}-{n}` under the system temp dir, unique per process and
/// call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "op25b-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}
