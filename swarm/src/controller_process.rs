//! The controller under test as a child process (`op25b run --config FILE`), or an already
//! running one the swarm attaches to.
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::SwarmError;

/// A free TCP port on 127.0.0.1 (bound, then released for the controller to take).
pub fn free_loopback_port() -> Result<SocketAddr, SwarmError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(SwarmError::FreePort)?;
    l.local_addr().map_err(SwarmError::FreePort)
}

/// How the swarm reaches the controller.
#[derive(Debug)]
pub struct ControllerHandle {
    /// OpenFlow address.
    pub addr: SocketAddr,
    /// Its pid, when known (for /proc readings and SIGHUP).
    pub pid: Option<u32>,
    /// Milliseconds from spawn until the listener accepted a connection (child only).
    pub listening_after_ms: Option<f64>,
    child: Option<Child>,
    log: Option<PathBuf>,
}

impl ControllerHandle {
    /// Starts `bin run --config policy [--workers N]`, stderr to `log`, and waits until `addr`
    /// accepts.
    pub fn spawn(
        bin: &Path,
        policy: &Path,
        addr: SocketAddr,
        log: &Path,
        rust_log: &str,
        workers: Option<usize>,
    ) -> Result<Self, SwarmError> {
        let log_file = std::fs::File::create(log).map_err(|source| SwarmError::Log {
            path: log.to_path_buf(),
            source,
        })?;
        let start = Instant::now();
        let mut command = Command::new(bin);
        command.arg("run").arg("--config").arg(policy);
        if let Some(n) = workers {
            command.arg("--workers").arg(n.to_string());
        }
        let mut child = command
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|source| SwarmError::SpawnController {
                bin: bin.to_path_buf(),
                source,
            })?;
        let limit = Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(SwarmError::ControllerExited {
                    addr,
                    status: status.to_string(),
                    log: log.to_path_buf(),
                });
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                break;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SwarmError::ControllerNotListening {
                    addr,
                    waited_ms: limit.as_millis(),
                    log: log.to_path_buf(),
                });
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let listening_after_ms = Some(start.elapsed().as_secs_f64() * 1000.0);
        Ok(Self {
            addr,
            pid: Some(child.id()),
            listening_after_ms,
            child: Some(child),
            log: Some(log.to_path_buf()),
        })
    }

    /// A controller someone else runs.
    pub fn attach(addr: SocketAddr, pid: Option<u32>) -> Self {
        Self {
            addr,
            pid,
            listening_after_ms: None,
            child: None,
            log: None,
        }
    }

    /// Whether the swarm started (and so may signal) the controller.
    pub fn is_child(&self) -> bool {
        self.child.is_some()
    }

    /// The child's log file.
    pub fn log(&self) -> Option<&Path> {
        self.log.as_deref()
    }

    /// Sends `signal` (e.g. "HUP", "TERM") with kill(1).
    pub fn signal(&self, signal: &str) -> Result<(), SwarmError> {
        let pid = self.pid.ok_or(SwarmError::Signal {
            pid: 0,
            detail: "the controller's pid is unknown (pass --controller-pid)".into(),
        })?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .map_err(|e| SwarmError::Signal {
                pid,
                detail: e.to_string(),
            })?;
        if status.success() {
            Ok(())
        } else {
            Err(SwarmError::Signal {
                pid,
                detail: format!("kill -{signal} exited with {status}"),
            })
        }
    }

    /// Stops the child (SIGTERM, then SIGKILL after 10 s); an attached controller is left alone.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ControllerHandle {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
