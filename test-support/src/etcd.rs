//! A private etcd for a test: Debian's `etcd` binary (package `etcd-server`, installed by
//! `scripts/install-deps`) started as a child process on two free loopback ports (client and
//! peer), its data in a fresh temporary directory. No systemd is needed or touched. Stopped and
//! its directory removed on drop (also when a test fails); [`PrivateEtcd::kill`] and
//! [`PrivateEtcd::restart`] give an outage with the same ports and data.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::net::free_port;
use crate::poll::poll;
use crate::temp::temp_dir;

/// One single-member etcd cluster on 127.0.0.1.
pub struct PrivateEtcd {
    child: Option<Child>,
    client_port: u16,
    peer_port: u16,
    dir: PathBuf,
}

impl PrivateEtcd {
    /// Starts etcd and waits (up to 20 s) until its `/health` says `true`.
    pub fn start() -> PrivateEtcd {
        let mut etcd = PrivateEtcd {
            child: None,
            client_port: free_port().port(),
            peer_port: free_port().port(),
            dir: temp_dir("etcd"),
        };
        etcd.spawn();
        etcd
    }

    /// `http://127.0.0.1:PORT`, the one client endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The etcd process's id while it runs (for /proc readings in benchmarks).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The temporary directory of its data and log (removed on drop).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Whether etcd answers `/health` with `"health":"true"` right now.
    pub fn healthy(&self) -> bool {
        let url = format!("{}/health", self.endpoint());
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .new_agent();
        match agent.get(&url).call() {
            Ok(mut r) => r
                .body_mut()
                .read_to_string()
                .is_ok_and(|b| b.replace(' ', "").contains("\"health\":\"true\"")),
            Err(_) => false,
        }
    }

    /// SIGKILL and reap the process; data and ports are kept for [`PrivateEtcd::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts etcd again on the same ports with the same data (after [`PrivateEtcd::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// `etcdctl --endpoints ENDPOINT ARGS`: its stdout, failing the test when it fails.
    pub fn ctl(&self, args: &[&str]) -> String {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .arg("--endpoints")
            .arg(self.endpoint())
            .args(args)
            .output()
            .expect("run etcdctl (package etcd-client)");
        assert!(
            out.status.success(),
            "etcdctl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn spawn(&mut self) {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::File::create(self.dir.join("etcd.log")).expect("etcd log file");
        let child = Command::new("etcd")
            .arg("--name")
            .arg("op25b-test")
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .arg("--initial-cluster")
            .arg(format!("op25b-test={peer}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start etcd (package etcd-server; scripts/install-deps installs it)");
        self.child = Some(child);
        poll("private etcd healthy", Duration::from_secs(20), || {
            self.healthy().then_some(())
        });
    }
}

impl Drop for PrivateEtcd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
