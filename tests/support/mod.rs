//! Shared by the tests that drive a real Open vSwitch (tests/flows_ovs_trace.rs,
//! tests/ovs_controller.rs, tests/ovs_flow_removed.rs, tests/api_ovs.rs) and the `op25b run`
//! binary (those and tests/controller_binary.rs). Each test file uses only part of it.
#![allow(dead_code)]

pub mod op25b_run;
pub mod ovs;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A 127.0.0.1 port nobody listens on right now (bound and released).
pub fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr")
}

/// `text` written to a fresh file under the system temp dir, unique per process and call,
/// its name ending in `suffix`.
pub fn temp_file(suffix: &str, text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("op25b-test-{}-{n}-{suffix}", std::process::id()));
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    p
}
