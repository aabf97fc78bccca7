//! Who may use the API: the bearer token on reloads and subscriber data, the `Host` check,
//! and the accept loop's limits (header-read timeout, connection cap), over real sockets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use op25b::api::ApiLimits;
use op25b_test_support::api::TestApi;

fn limits(header_read_timeout: Duration, max_connections: usize) -> ApiLimits {
    ApiLimits {
        header_read_timeout,
        max_connections,
        ..ApiLimits::default()
    }
}

#[test]
fn reload_and_offenders_need_the_token_and_answer_the_same_401_without_it() {
    let api = TestApi::start(true);
    for (method, path) in [("POST", "/api/reload"), ("GET", "/api/offenders")] {
        let (missing, _, missing_body) = api.request_with(method, path, &[]);
        let (wrong, _, wrong_body) = api.request_with(
            method,
            path,
            &[("Authorization", "Bearer not-the-token-at-all")],
        );
        let (basic, _, basic_body) =
            api.request_with(method, path, &[("Authorization", "Basic dGVzdDp0ZXN0")]);
        assert_eq!((missing, wrong, basic), (401, 401, 401), "{method} {path}");
        assert_eq!(missing_body, wrong_body, "{method} {path}: same body");
        assert_eq!(missing_body, basic_body, "{method} {path}: same body");
        assert!(missing_body.contains("Bearer"), "{missing_body}");
        let (ok, _, body) = api.request(method, path);
        assert_eq!(ok, 200, "{method} {path} with the token: {body}");
    }
    assert_eq!(
        api.store.current().generation(),
        1,
        "refused reloads changed nothing (the accepted one found the file unchanged)"
    );
}

#[test]
fn probes_metrics_switches_and_policy_stay_open_without_a_token() {
    let api = TestApi::start(true);
    for path in ["/metrics", "/healthz", "/api/switches", "/api/policy"] {
        let (status, _, body) = api.request_with("GET", path, &[]);
        assert_ne!(status, 401, "{path}: {body}");
        assert!(
            status == 200 || path == "/readyz",
            "{path}: {status} {body}"
        );
    }
}

/// One raw HTTP/1.x exchange: the status line of the answer.
fn raw(api: &TestApi, request: &str) -> String {
    let mut conn = TcpStream::connect(api.addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    conn.write_all(request.as_bytes()).expect("send");
    let mut reply = String::new();
    let _ = conn.read_to_string(&mut reply);
    reply.lines().next().unwrap_or("").to_owned()
}

#[test]
fn a_host_that_does_not_name_the_api_is_refused() {
    let api = TestApi::start(true);
    let auth = format!("Authorization: Bearer {}\r\n", api.token);
    for (host, expect) in [
        (format!("Host: {}\r\n", api.addr), "HTTP/1.1 200"),
        (
            format!("Host: localhost:{}\r\n", api.addr.port()),
            "HTTP/1.1 200",
        ),
        (
            format!("Host: rebind.evil.example:{}\r\n", api.addr.port()),
            "HTTP/1.1 421",
        ),
        ("Host: 127.0.0.1:1\r\n".to_owned(), "HTTP/1.1 421"),
    ] {
        let line = raw(
            &api,
            &format!("GET /api/offenders HTTP/1.1\r\n{host}{auth}Connection: close\r\n\r\n"),
        );
        assert!(line.starts_with(expect), "{host:?}: {line}");
    }
    // HTTP/1.0 may omit Host: refused too.
    let line = raw(&api, &format!("GET /api/offenders HTTP/1.0\r\n{auth}\r\n"));
    assert!(
        line.starts_with("HTTP/1.0 400") || line.starts_with("HTTP/1.1 400"),
        "{line}"
    );
}

/// Seconds until the server closes a connection that sent `partial` (None: not closed
/// within 10 s).
fn closed_after(api: &TestApi, partial: &[u8]) -> Option<f64> {
    let mut conn = TcpStream::connect(api.addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let start = Instant::now();
    conn.write_all(partial).expect("send");
    let mut buf = [0u8; 512];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return Some(start.elapsed().as_secs_f64()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(start.elapsed().as_secs_f64())
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn half_sent_and_silent_requests_are_closed_at_the_header_read_timeout() {
    let api = TestApi::start_with_limits(false, limits(Duration::from_secs(1), 64));
    for (what, partial) in [
        ("half a request line", &b"GET /api/swi"[..]),
        (
            "a request line without headers' end",
            &b"GET /api/switches HTTP/1.1\r\nHost: x\r\n"[..],
        ),
        ("nothing", &b""[..]),
    ] {
        let secs = closed_after(&api, partial);
        eprintln!("{what}: closed after {secs:?} s (header-read timeout 1 s)");
        let secs = secs.unwrap_or_else(|| panic!("{what}: still open after 10 s"));
        assert!(secs < 1.0 + 2.0, "{what}: closed after {secs} s");
    }
    // The server is still fine.
    assert_eq!(api.request("GET", "/healthz").0, 200);
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let api = TestApi::start_with_limits(false, limits(Duration::from_secs(20), 2));
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(api.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(api.addr).expect("the backlog accepts");
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .expect("timeout");
    write!(
        third,
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        api.addr
    )
    .expect("send");
    let mut buf = [0u8; 64];
    assert!(
        third.read(&mut buf).is_err(),
        "a third connection was served while two held the only slots"
    );
    let freed = Instant::now();
    drop(idle);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reply = String::new();
    let _ = third.read_to_string(&mut reply);
    eprintln!(
        "served {:.3} s after the slots were freed",
        freed.elapsed().as_secs_f64()
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}
