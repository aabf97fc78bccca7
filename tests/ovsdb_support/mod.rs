//! A private Open vSwitch database for tests (tests/ovs_doctor.rs,
//! tests/ovs_doctor_monitor.rs): its own `ovsdb-server` as a child process, on a socket in a
//! fresh temp dir, so the tests never touch the machine's bridges. No `ovs-vswitchd` runs on it:
//! `ovs-vsctl --no-wait` edits the database without waiting for one, and `datapath_id` stays
//! unset (dpids come from `other-config:datapath-id`). Killed and removed on drop.
//!
//! When `ovsdb-server` or `ovsdb-tool` is missing the test FAILS with install instructions.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Debian's Open vSwitch schema.
pub const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// The `op25b` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_op25b");

/// Runs `cmd args`; fails the test, with its output, unless it succeeds; returns stdout.
pub fn must(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd} (install openvswitch-switch: apt-get install -y openvswitch-switch): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh directory under the system temp dir, unique per process and call.
pub fn fresh_dir(what: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("op25b-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir
}

/// Polls `f` every 10 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A private `ovsdb-server` with an initialised Open_vSwitch database.
pub struct PrivateOvsdb {
    dir: PathBuf,
    db: PathBuf,
    sock: PathBuf,
    child: Option<Child>,
}

impl PrivateOvsdb {
    /// Creates the database and starts the server; waits until `ovs-vsctl` can use it.
    pub fn start() -> PrivateOvsdb {
        assert!(
            Path::new(SCHEMA).exists(),
            "{SCHEMA} is missing: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openvswitch-switch"
        );
        let dir = fresh_dir("ovsdb");
        let db = dir.join("conf.db");
        must("ovsdb-tool", &["create", &db.to_string_lossy(), SCHEMA]);
        let mut me = PrivateOvsdb {
            sock: dir.join("db.sock"),
            db,
            dir,
            child: None,
        };
        me.serve();
        me.vsctl(&["init"]);
        me
    }

    /// Starts `ovsdb-server` on the database (again, after [`PrivateOvsdb::stop`]).
    pub fn serve(&mut self) {
        let child = Command::new("ovsdb-server")
            .arg(&self.db)
            .arg(format!("--remote=punix:{}", self.sock.display()))
            .arg(format!("--unixctl={}", self.dir.join("ctl").display()))
            .arg(format!(
                "--log-file={}",
                self.dir.join("ovsdb.log").display()
            ))
            .arg("--no-chdir")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start ovsdb-server (apt-get install -y openvswitch-switch): {e}")
            });
        self.child = Some(child);
        let sock = self.sock.clone();
        let up = wait_for(Duration::from_secs(5), || {
            std::os::unix::net::UnixStream::connect(&sock).ok()
        });
        assert!(up.is_some(), "ovsdb-server did not open {}", sock.display());
    }

    /// Kills the server (the database file and the directory stay).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.sock);
    }

    /// `unix:SOCK`.
    pub fn endpoint(&self) -> String {
        format!("unix:{}", self.sock.display())
    }

    /// `ovs-vsctl --db=unix:SOCK --no-wait --timeout=5 ARGS`; fails the test on error.
    pub fn vsctl(&self, args: &[&str]) -> String {
        let db = format!("--db={}", self.endpoint());
        let mut all = vec![db.as_str(), "--no-wait", "--timeout=5"];
        all.extend_from_slice(args);
        must("ovs-vsctl", &all)
    }

    /// Adds bridge `name` with its settings (`ovs-vsctl set bridge` arguments) and controller
    /// targets.
    pub fn add_bridge(&self, name: &str, settings: &[&str], targets: &[&str]) {
        let mut args = vec!["add-br", name];
        if !settings.is_empty() {
            args.extend_from_slice(&["--", "set", "bridge", name]);
            args.extend_from_slice(settings);
        }
        if !targets.is_empty() {
            args.extend_from_slice(&["--", "set-controller", name]);
            args.extend_from_slice(targets);
        }
        self.vsctl(&args);
    }

    /// A file in the server's directory.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }
}

impl Drop for PrivateOvsdb {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
