//! The HTTP API over HTTPS (`[api] tls_cert`, `tls_key`) against the real `op25b run`, and the
//! secure default: plain HTTP only on loopback unless `[api] plaintext = "allow"`.

mod tls_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use op25b_test_support::net::free_port;
use op25b_test_support::op25b_run::Op25bRun;
use tls_support::{ca, leaf, temp_dir, KeyType, Pair};

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

fn policy(dir: &Path, api: &str, api_table: &str) -> PathBuf {
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        format!(
            "[controller]\napi_listen = \"{api}\"\n\n[policy]\nblocked_ports = [25]\n\n{api_table}"
        ),
    )
    .expect("write policy");
    path
}

fn https_table(server: &Pair) -> String {
    format!(
        "[api]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        server.cert.display(),
        server.key.display()
    )
}

fn op25b(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run op25b")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn start(policy: &Path, extra: &[&str]) -> Op25bRun {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--log-format", "json", "--listen", "127.0.0.1:0"])
        .args(extra)
        .arg("--config")
        .arg(policy);
    Op25bRun::spawn(cmd)
}

/// Bytes the server sends back to `request` before closing (or within 5 s).
fn raw_exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn status_and_reload_over_https_with_the_ca_and_nothing_else() {
    let dir = temp_dir("api-tls");
    let authority = ca(&dir, "mgmt-ca");
    let server = leaf(&dir, "op25b-api", &authority, KeyType::P256);
    let api = free_port();
    let policy = policy(&dir, &api.to_string(), &https_table(&server));
    let check = op25b(&["check", "--config", &policy.display().to_string()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let mut run = start(&policy, &[]);
    run.wait_line(&["op25b controller running"], Duration::from_secs(10));
    let cfg = policy.display().to_string();
    let ca_arg = authority.cert.display().to_string();

    // --config says HTTPS (tls_cert is set); the CA proves the server.
    let st = op25b(&["status", "--config", &cfg, "--ca-cert", &ca_arg]);
    assert_eq!(st.status.code(), Some(0), "{}", text(&st));
    assert!(
        text(&st).starts_with("policy generation 1;"),
        "{}",
        text(&st)
    );
    let rl = op25b(&["reload", "--config", &cfg, "--ca-cert", &ca_arg]);
    assert_eq!(rl.status.code(), Some(0), "{}", text(&rl));

    // No CA given: refused before connecting, saying what to pass (status: exit 1).
    let no_ca = op25b(&["status", "--config", &cfg]);
    assert_eq!(no_ca.status.code(), Some(1), "{}", text(&no_ca));
    assert!(text(&no_ca).contains("--ca-cert"), "{}", text(&no_ca));

    // Another CA: the server's certificate is not trusted, nothing is sent.
    let other = ca(&dir, "other-ca");
    let other_arg = other.cert.display().to_string();
    let wrong = op25b(&["reload", "--config", &cfg, "--ca-cert", &other_arg]);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(text(&wrong).contains("certificate"), "{}", text(&wrong));

    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain = raw_exchange(api, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(
        !plain.starts_with(b"HTTP/"),
        "plain HTTP answered: {:?}",
        String::from_utf8_lossy(&plain)
    );
}

#[test]
fn a_silent_tls_client_is_closed_at_the_header_read_timeout() {
    let dir = temp_dir("api-tls-slow");
    let authority = ca(&dir, "mgmt-ca");
    let server = leaf(&dir, "op25b-api", &authority, KeyType::P256);
    let api = free_port();
    let policy = policy(&dir, &api.to_string(), &https_table(&server));
    let mut run = start(&policy, &[]);
    run.wait_line(&["op25b controller running"], Duration::from_secs(10));
    let mut s = TcpStream::connect(api).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = [0_u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let held = started.elapsed();
    assert_eq!(
        n, 0,
        "the server sent bytes to a client that never said hello"
    );
    assert!(
        held >= Duration::from_secs(9) && held < Duration::from_secs(20),
        "closed after {held:?}, expected the 10 s header-read timeout"
    );
}

#[test]
fn plain_http_off_loopback_needs_tls_or_an_explicit_allow() {
    let dir = temp_dir("api-plain");
    let refused = policy(&dir, "0.0.0.0:9325", "");
    let cfg = refused.display().to_string();
    let out = op25b(&["check", "--config", &cfg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("policy.toml:2:14: controller.api_listen")
            && text(&out).contains("tls_cert and tls_key"),
        "{}",
        text(&out)
    );

    let allowed = policy(&dir, "0.0.0.0:9325", "[api]\nplaintext = \"allow\"\n");
    let out = op25b(&["check", "--config", &allowed.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Half the HTTPS pair is a mistake, as is a key that is not the certificate's.
    let authority = ca(&dir, "mgmt-ca");
    let server = leaf(&dir, "op25b-api", &authority, KeyType::P256);
    let half = policy(
        &dir,
        "127.0.0.1:9325",
        &format!("[api]\ntls_cert = \"{}\"\n", server.cert.display()),
    );
    let out = op25b(&["check", "--config", &half.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("tls_cert and tls_key together"),
        "{}",
        text(&out)
    );
    let mismatched = policy(
        &dir,
        "127.0.0.1:9325",
        &format!(
            "[api]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            server.cert.display(),
            authority.key.display()
        ),
    );
    let out = op25b(&["check", "--config", &mismatched.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("api.tls_key") && text(&out).contains("does not belong"),
        "{}",
        text(&out)
    );

    // `run --api-listen` off loopback with a plain-HTTP policy: refused at start.
    let loopback = policy(&dir, "127.0.0.1:0", "");
    let out = Command::new(BIN)
        .args([
            "run",
            "--listen",
            "127.0.0.1:0",
            "--api-listen",
            "0.0.0.0:0",
            "--config",
        ])
        .arg(&loopback)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("plain-HTTP API on 0.0.0.0:0"),
        "{}",
        text(&out)
    );
}
