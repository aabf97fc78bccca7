//! `op25b run`, the real binary, as a child process: its stderr read line by line by a thread,
//! signals sent with kill(1), and the process killed on drop (also when a test fails).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::command::run;

pub struct Op25bRun {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Op25bRun {
    /// `<bin> run --config <config> --log-format json --listen <listen> --api-listen
    /// 127.0.0.1:0` with `RUST_LOG=<rust_log>`; `bin` is the op25b binary, which only the
    /// calling test knows (`env!("CARGO_BIN_EXE_op25b")`).
    pub fn start(bin: &str, config: &Path, listen: &str, rust_log: &str) -> Op25bRun {
        let mut cmd = Command::new(bin);
        cmd.args(["run", "--config"]).arg(config).args([
            "--log-format",
            "json",
            "--listen",
            listen,
            "--api-listen",
            "127.0.0.1:0",
        ]);
        cmd.env("RUST_LOG", rust_log);
        Self::spawn(cmd)
    }

    /// Spawns `cmd` (the caller's full `op25b run ...` command line, perhaps behind `ip netns
    /// exec`) with stdin and stdout closed and stderr watched; `RUST_LOG=info` unless the
    /// caller set it.
    pub fn spawn(mut cmd: Command) -> Op25bRun {
        if !cmd.get_envs().any(|(k, _)| k == "RUST_LOG") {
            cmd.env("RUST_LOG", "info");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start op25b run");
        Self::from_child(child)
    }

    /// Watches a child started by the caller (its stderr must be piped).
    pub fn from_child(mut child: Child) -> Op25bRun {
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Op25bRun {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects log lines until a line holds every one of `needles` (returned) or `timeout`.
    pub fn wait_line(&mut self, needles: &[&str], timeout: Duration) -> String {
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

    /// Every log line that arrives within `window`.
    pub fn lines_for(&mut self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            got.push(line);
        }
        got
    }

    /// `kill <sig> <pid>`; fails the test when it fails.
    pub fn signal(&self, sig: &str) {
        let (ok, out) = run("kill", &[sig, &self.child.id().to_string()]);
        assert!(ok, "kill {sig}: {out}");
    }
}

impl Drop for Op25bRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `local_addr` of the JSON "OpenFlow listener ready" log line.
pub fn listener_addr(ready: &str) -> std::net::SocketAddr {
    let v: serde_json::Value =
        serde_json::from_str(ready).unwrap_or_else(|e| panic!("{e}: {ready}"));
    let s = v["local_addr"]
        .as_str()
        .unwrap_or_else(|| panic!("no local_addr in {ready}"));
    s.parse()
        .unwrap_or_else(|e| panic!("local_addr {s:?} is not an address: {e}"))
}
