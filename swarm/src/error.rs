//! Everything that can stop a swarm run, with the context needed to act on it.
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a swarm run failed.
#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    #[error("cannot write policy file {path}: {source}")]
    WritePolicy {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the swarm's own policy is invalid (a bug in the swarm): {0}")]
    InvalidPolicy(String),
    #[error("cannot start controller {bin}: {source}")]
    SpawnController {
        bin: PathBuf,
        source: std::io::Error,
    },
    #[error("controller exited before listening on {addr} (status {status}); see its log {log}")]
    ControllerExited {
        addr: SocketAddr,
        status: String,
        log: PathBuf,
    },
    #[error("controller not listening on {addr} after {waited_ms} ms; see its log {log}")]
    ControllerNotListening {
        addr: SocketAddr,
        waited_ms: u128,
        log: PathBuf,
    },
    #[error("cannot signal controller pid {pid}: {detail}")]
    Signal { pid: u32, detail: String },
    #[error("cannot read /proc/{pid}/{file}: {detail}")]
    Proc {
        pid: u32,
        file: &'static str,
        detail: String,
    },
    #[error("cannot pick a free loopback port: {0}")]
    FreePort(std::io::Error),
    #[error("controller API {addr}: {detail}")]
    Api { addr: SocketAddr, detail: String },
    #[error("cannot build the expected flow table: {0}")]
    Template(String),
    #[error("cannot make the TLS certificates: {0}")]
    Pki(#[from] op25b_test_support::pki::PkiError),
    #[error("cannot create work directory {path}: {source}")]
    WorkDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "--tls starts its own controller with fresh certificates; it cannot attach (--controller)"
    )]
    TlsAttach,
    #[error("--tls is not supported by the {scenario} scenario (it speaks plain TCP only)")]
    TlsUnsupported { scenario: &'static str },
    #[error("cannot create log file {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
}
