//! `op25b run` as a real process: it listens at once, syncs a simulated switch, reloads on SIGHUP
//! (and rejects an invalid file), and on SIGTERM closes cleanly with the flows left in place.

use op25b_test_support::controller::*;
use op25b_test_support::op25b_run::{listener_addr, Op25bRun};
use op25b_test_support::temp::temp_dir;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_listens_at_once_syncs_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir("bin");
    let path = dir.join("policy.toml");
    std::fs::write(&path, policy_text(60, "")).unwrap();
    let started = Instant::now();
    let mut run = Op25bRun::start(env!("CARGO_BIN_EXE_op25b"), &path, "127.0.0.1:0", "info");
    let ready = run.wait_line(&["OpenFlow listener ready"], Duration::from_secs(10));
    let listening_after = started.elapsed();
    eprintln!("listening {listening_after:?} after spawn");
    assert!(
        listening_after < Duration::from_secs(2),
        "{listening_after:?}"
    );
    let addr = listener_addr(&ready);

    let sw = sim_switch(0x401, 4);
    sw.connect(addr).await.unwrap();
    let synced = run.wait_line(&["in sync after applying changes"], Duration::from_secs(10));
    assert!(
        synced.contains("00:00:00:00:00:00:04:01"),
        "the dpid is on the line: {synced}"
    );
    let flows = flows_with_cookie(&sw, COOKIE);
    assert!(flows > 0);

    run.signal("-HUP");
    let reread = run.wait_line(&["policy file re-read: unchanged"], Duration::from_secs(5));
    assert!(reread.contains("SIGHUP"), "{reread}");

    std::fs::write(&path, "[policy]\nrelays = [\"192.0.2.25/24\"]\n").unwrap();
    run.signal("-HUP");
    let rejected = run.wait_line(
        &["policy reload rejected", "SIGHUP"],
        Duration::from_secs(5),
    );
    assert!(rejected.contains("policy.toml"), "{rejected}");

    run.signal("-TERM");
    run.wait_line(&["controller stopped"], Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = run.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "op25b did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    sw.wait_until(Duration::from_secs(5), "disconnect", |v| !v.is_connected())
        .await
        .unwrap();
    assert_eq!(flows_with_cookie(&sw, COOKIE), flows, "flows left in place");
    assert_hitless(&sw);
}
