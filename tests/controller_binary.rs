//! `op25b run` as a real process: it listens at once, syncs a simulated switch, reloads on SIGHUP
//! (and rejects an invalid file), and on SIGTERM closes cleanly with the flows left in place.

mod controller_support;

use controller_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Waits for a stderr line containing every one of `needles`; returns it.
    fn wait_line(&mut self, needles: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if needles.iter().all(|n| line.contains(n)) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line with {needles:?} within {timeout:?}; lines so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_field(line: &str, field: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_listens_at_once_syncs_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir("bin");
    let path = dir.join("policy.toml");
    std::fs::write(&path, policy_text(60, "")).unwrap();
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&path)
        .args([
            "--log-format",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start op25b run");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut run = Running {
        child,
        lines,
        seen: Vec::new(),
    };
    let ready = run.wait_line(&["OpenFlow listener ready"], Duration::from_secs(10));
    let listening_after = started.elapsed();
    eprintln!("listening {listening_after:?} after spawn");
    assert!(
        listening_after < Duration::from_secs(2),
        "{listening_after:?}"
    );
    let addr: std::net::SocketAddr = json_field(&ready, "local_addr").parse().unwrap();

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
