//! The monitor against a scripted OVSDB server on a unix socket: it answers the server's
//! `echo`, reports `update` notifications, and gives up on a server that goes silent.
use super::framing::JsonFramer;
use super::monitor::VswitchMonitor;
use super::OvsdbError;
use crate::policy::OvsdbEndpoint;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

fn socket_path() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("op25b-fake-ovsdb-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// The server's side of one connection.
struct Peer {
    stream: UnixStream,
    framer: JsonFramer,
}

impl Peer {
    async fn recv(&mut self) -> Value {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(v) = self.framer.next_value().expect("the client sends JSON") {
                return v;
            }
            let n = self.stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "the client closed the connection");
            self.framer.push(&buf[..n]);
        }
    }

    async fn send(&mut self, v: Value) {
        let bytes = serde_json::to_vec(&v).expect("JSON");
        self.stream.write_all(&bytes).await.expect("write");
    }

    /// Accepts the monitor request and answers it with an empty database.
    async fn accept_monitor(listener: &UnixListener) -> Peer {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut peer = Peer {
            stream,
            framer: JsonFramer::default(),
        };
        let req = peer.recv().await;
        assert_eq!(req["method"], "monitor");
        peer.send(json!({"id": req["id"], "result": {}, "error": null}))
            .await;
        peer
    }
}

fn bridge_update(fail_mode: &str) -> Value {
    json!({"method": "update", "id": null, "params": ["op25b", {"Bridge": {"b-1": {"new": {
        "name": "br0", "fail_mode": fail_mode, "protocols": ["set", []],
        "other_config": ["map", []], "datapath_id": ["set", []], "controller": ["set", []]}}}}]})
}

#[tokio::test]
async fn answers_the_servers_echo_and_reports_each_update() {
    let path = socket_path();
    let listener = UnixListener::bind(&path).expect("bind");
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept_monitor(&listener).await;
        peer.send(json!({"method": "echo", "params": ["ping", 7], "id": "echo-1"}))
            .await;
        let reply = peer.recv().await;
        assert_eq!(
            reply,
            json!({"result": ["ping", 7], "error": null, "id": "echo-1"})
        );
        // An update of another monitor is not ours.
        peer.send(json!({"method": "update", "id": null, "params": ["other", {"Bridge": {}}]}))
            .await;
        peer.send(bridge_update("standalone")).await;
        peer
    });
    let endpoint = OvsdbEndpoint::Unix(path.clone());
    let (mut monitor, db) = VswitchMonitor::start(&endpoint, Duration::from_secs(5))
        .await
        .expect("monitors");
    assert!(db.bridges.is_empty());
    let db = tokio::time::timeout(Duration::from_secs(5), monitor.next_change())
        .await
        .expect("an update within 5 s")
        .expect("reads it");
    assert_eq!(db.bridges[0].fail_mode.as_deref(), Some("standalone"));
    let _peer = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server finished within 5 s")
        .expect("the server saw the echo answered");
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn a_server_that_goes_silent_is_given_up_after_two_keepalives() {
    let path = socket_path();
    let listener = UnixListener::bind(&path).expect("bind");
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept_monitor(&listener).await;
        let echo = peer.recv().await;
        assert_eq!(echo["method"], "echo", "the client probes a silent server");
        // ... and hears nothing back.
        peer
    });
    let endpoint = OvsdbEndpoint::Unix(path.clone());
    let (mut monitor, _) = VswitchMonitor::start(&endpoint, Duration::from_secs(5))
        .await
        .expect("monitors");
    let keepalive = Duration::from_millis(200);
    monitor.set_keepalive(keepalive);
    let started = tokio::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), monitor.next_change())
        .await
        .expect("gives up within 5 s")
        .expect_err("gives up");
    assert!(matches!(err, OvsdbError::Timeout { .. }), "{err}");
    let took = started.elapsed();
    assert!(
        took >= 2 * keepalive && took < 2 * keepalive + Duration::from_secs(1),
        "{took:?}"
    );
    let _peer = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the client sent its echo within 5 s")
        .expect("the server saw the echo");
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn a_refused_monitor_names_the_method_and_the_error() {
    let path = socket_path();
    let listener = UnixListener::bind(&path).expect("bind");
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut peer = Peer {
            stream,
            framer: JsonFramer::default(),
        };
        let req = peer.recv().await;
        peer.send(json!({"id": req["id"], "result": null,
            "error": {"error": "unknown database", "details": "Open_vSwitch"}}))
            .await;
        peer
    });
    let endpoint = OvsdbEndpoint::Unix(path.clone());
    let err = VswitchMonitor::start(&endpoint, Duration::from_secs(5))
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("refused monitor: ")
            && err.to_string().contains("unknown database"),
        "{err}"
    );
    let _ = std::fs::remove_file(path);
}
