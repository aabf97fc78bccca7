//! The API's protective layers over real HTTP: a slow handler gets 503, an oversized body 413,
//! a panicking handler 500, each with a JSON error body, and the server keeps serving.

use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::Router;
use op25b::api::hardening::{harden, MAX_BODY_BYTES};
use op25b_test_support::api::TestApi;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, serde_json::Value) {
    let mut r = r.expect("the server answers");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.body_mut().read_to_string().expect("body");
    assert!(
        ct.starts_with("application/json"),
        "{status}: content-type {ct:?}, body {body:?}"
    );
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (status, value)
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "too late"
}

async fn panics() -> &'static str {
    let v: Vec<u8> = Vec::new();
    // An index a bug could compute: the layer turns the panic into a 500.
    let i = v.len() + 3;
    if v[i] == 0 {
        return "unreachable";
    }
    "unreachable"
}

async fn echo(body: String) -> String {
    body
}

#[test]
fn slow_oversized_and_panicking_requests_get_json_errors_and_the_server_keeps_serving() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = harden(
        Router::new()
            .route("/slow", get(slow))
            .route("/panic", get(panics))
            .route("/echo", post(echo)),
        Duration::from_millis(300),
        16,
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(async move { axum::serve(listener, app).await });
    // A fresh agent (connection) per request: the server closes a connection whose body it
    // refused, and a pooled client would reuse it.
    let started = Instant::now();
    let (status, body) = answer(agent().get(&format!("{base}/slow")).call());
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not finish")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered by the timeout, not the handler"
    );

    let (status, body) = answer(agent().post(&format!("{base}/echo")).send("x".repeat(17)));
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("16 bytes")),
        "{body}"
    );

    let (status, body) = answer(agent().get(&format!("{base}/panic")).call());
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("index out of bounds")),
        "{body}"
    );

    // Still serving, and a body within the limit goes through untouched.
    let mut ok = agent()
        .post(&format!("{base}/echo"))
        .send("small")
        .expect("answers");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.body_mut().read_to_string().expect("body"), "small");
}

#[test]
fn the_real_api_refuses_an_oversized_reload_body() {
    // Raw HTTP: only the headers announce the size, so the refusal (which comes before any
    // body is read) cannot race with a client still writing.
    use std::io::{Read, Write};
    let api = TestApi::start(false);
    let mut conn = std::net::TcpStream::connect(api.addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        conn,
        "POST /api/reload HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        api.addr,
        MAX_BODY_BYTES + 1
    )
    .expect("send headers");
    let mut reply = String::new();
    conn.read_to_string(&mut reply).expect("read the answer");
    let (head, body) = reply.split_once("\r\n\r\n").expect("HTTP answer");
    assert!(head.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{reply}"
    );
    let body: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply}"));
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(api.store.current().generation(), 1, "nothing reloaded");
    // An empty POST still reloads (the file is unchanged).
    let (status, _) = api.json("POST", "/api/reload");
    assert_eq!(status, 200);
}
