//! `op25b run` as systemd runs it: `READY=1` on `NOTIFY_SOCKET` only once the OpenFlow port and
//! the API accept connections, `STOPPING=1` on SIGTERM; logs to a pipe carry no ANSI colour
//! codes, and `--log-format json` lines each parse. Also the hidden `generate-assets` that
//! `scripts/package` uses for the man pages and completions.

use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use op25b_test_support::net::free_port;
use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

/// A policy whose OpenFlow listener and API are on free loopback ports.
fn policy(dir: &Path) -> (PathBuf, SocketAddr, SocketAddr) {
    let (listen, api) = (free_port(), free_port());
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        format!(
            "[controller]\nlisten = \"{listen}\"\napi_listen = \"{api}\"\n\n[policy]\nrelays = [\"192.0.2.25/32\"]\n"
        ),
    )
    .expect("write policy");
    (path, listen, api)
}

fn spawn(policy: &Path, log_format: &str, notify_socket: Option<&Path>) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--log-format", log_format, "--config"])
        .arg(policy)
        .env("RUST_LOG", "info")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(socket) = notify_socket {
        cmd.env("NOTIFY_SOCKET", socket);
    }
    cmd.spawn().expect("start op25b run")
}

/// SIGTERM, then everything it wrote to stderr; fails if it does not exit 0 within 10 s.
fn terminate(child: Child) -> Output {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("op25b run did not exit within 10 s of SIGTERM")
        .expect("wait");
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls until `addr` accepts a TCP connection.
fn wait_accepting(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "{addr} never accepted");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn recv(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a notification within 10 s");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn ready_is_sent_once_listening_and_stopping_on_sigterm() {
    let dir = temp_dir("notify");
    let (path, listen, api) = policy(&dir);
    let socket_path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind NOTIFY_SOCKET");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let child = spawn(&path, "text", Some(&socket_path));

    let ready = recv(&socket);
    // No waiting: at READY=1 both ports must already accept.
    let of = TcpStream::connect(listen);
    let http = TcpStream::connect(api);
    assert!(
        ready.lines().any(|l| l == "READY=1"),
        "first notification: {ready:?}"
    );
    assert!(
        of.is_ok(),
        "READY=1 before the OpenFlow port {listen} accepts: {of:?}"
    );
    assert!(
        http.is_ok(),
        "READY=1 before the API {api} accepts: {http:?}"
    );
    assert!(
        ready.contains(&format!("STATUS=listening on {listen}, API on {api}")),
        "{ready:?}"
    );
    drop((of, http));

    let out = terminate(child);
    let stopping = recv(&socket);
    assert!(
        stopping.lines().any(|l| l == "STOPPING=1"),
        "after SIGTERM: {stopping:?}"
    );
    // Text logs into a pipe: plain, no colour codes.
    let text = stderr(&out);
    assert!(text.contains("op25b controller running"), "{text}");
    assert!(
        !out.stderr.contains(&0x1b),
        "ESC in logs written to a pipe:\n{text:?}"
    );
}

#[test]
fn json_logs_to_a_pipe_parse_line_by_line_without_a_notify_socket() {
    let dir = temp_dir("jsonlog");
    let (path, _listen, api) = policy(&dir);
    let child = spawn(&path, "json", None);
    wait_accepting(api);
    let out = terminate(child);
    let text = stderr(&out);
    let mut messages = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        messages.push(v["message"].as_str().unwrap_or_default().to_owned());
    }
    assert!(
        messages.iter().any(|m| m == "op25b controller running"),
        "{text}"
    );
    assert!(!out.stderr.contains(&0x1b), "{text:?}");
}

#[test]
fn generate_assets_writes_man_pages_and_completions_from_the_cli() {
    let dir = temp_dir("assets");
    let out = Command::new(BIN)
        .args(["generate-assets", "--out-dir"])
        .arg(&dir)
        .output()
        .expect("run op25b generate-assets");
    assert!(out.status.success(), "{}", stderr(&out));
    let read =
        |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let top = read("man/op25b.1");
    assert!(top.starts_with(".ie \\n(.g .ds Aq"), "roff: {top:.80}");
    assert!(top.contains(".TH op25b 1"), "{top}");
    for sub in [
        "run",
        "check",
        "plan",
        "status",
        "reload",
        "doctor",
        "ofp-print",
    ] {
        let escaped = sub.replace('-', "\\-");
        assert!(
            top.contains(&format!("op25b\\-{escaped}(1)")),
            "{sub} in {top}"
        );
        let page = read(&format!("man/op25b-{sub}.1"));
        assert!(page.contains(&format!(".TH op25b-{sub} 1")), "{page:.200}");
    }
    assert!(read("man/op25b-run.1").contains("log\\-format"));
    // The hidden subcommand is not documented.
    assert!(!dir.join("man/op25b-generate-assets.1").exists());
    let bash = read("completions/op25b.bash");
    assert!(
        bash.contains("--log-format") && bash.contains("reload"),
        "{bash:.300}"
    );
    assert!(read("completions/_op25b").starts_with("#compdef op25b"));
    assert!(read("completions/op25b.fish").contains("complete -c op25b"));
    let listed = String::from_utf8_lossy(&out.stdout);
    // `op25b policy` has its own page and one per push/show/history.
    for sub in ["policy", "policy-push", "policy-show", "policy-history"] {
        let page = read(&format!("man/op25b-{sub}.1"));
        assert!(page.contains(&format!(".TH op25b-{sub} 1")), "{page:.200}");
    }
    assert_eq!(listed.lines().count(), 12 + 3, "{listed}");
}
