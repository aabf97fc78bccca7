//! `op25b status` (the real binary) against a live API, and against nothing.

use std::process::Command;
use std::time::{Duration, SystemTime};

use op25b_test_support::api::{syn_sample, TestApi};

#[test]
fn status_prints_switches_and_top_offenders() {
    let api = TestApi::start(true);
    api.fill_registry();
    let samples = api.samples.clone().expect("service on");
    let now = SystemTime::now();
    api.rt.block_on(async {
        for i in 0..30u16 {
            let s = syn_sample(1, 3, [10, 0, 0, 66], 1 + (i % 6) as u8, 2000 + i, now);
            samples.send(s).await.expect("service running");
        }
    });
    for _ in 0..300 {
        if api.state.offenders.as_ref().expect("on").summary().flagged == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .args(["status", "--api", &api.base, "--top", "5"])
        .arg("--token-file")
        .arg(&api.token_file)
        .output()
        .expect("run op25b status");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("policy generation 1; switches: 2 known, 1 connected, 1 in sync\n"),
        "{stdout}"
    );
    let edge = stdout
        .lines()
        .find(|l| l.starts_with("00:00:00:00:00:00:00:01"))
        .expect("edge row");
    for cell in ["edge-1", "10.1.1.1:40001", "yes", "in_sync"] {
        assert!(edge.contains(cell), "{cell} in {edge:?}");
    }
    let other = stdout
        .lines()
        .find(|l| l.starts_with("00:00:00:00:00:00:0a:bc"))
        .expect("second row");
    assert!(other.contains("disconnected") && other.contains("FLOW_MOD_FAILED/TABLE_FULL"));
    assert!(
        stdout.contains("offenders: 1 tracked, 1 flagged as likely infected"),
        "{stdout}"
    );
    let bot = stdout
        .lines()
        .find(|l| l.starts_with("FLAGGED"))
        .expect("flagged row");
    assert!(
        bot.contains("10.0.0.66") && bot.contains("02:00:00:00:00:42"),
        "{bot}"
    );
    println!("{stdout}");

    // Without the token: the switches still, the offenders withheld with how to see them.
    let out = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .args(["status", "--api", &api.base, "--top", "5"])
        .output()
        .expect("run op25b status");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("edge-1"), "{stdout}");
    assert!(
        stdout.contains("offenders: not shown: they need the API token")
            && !stdout.contains("10.0.0.66"),
        "{stdout}"
    );
}

#[test]
fn status_exits_1_with_a_clear_message_when_the_controller_is_unreachable() {
    // Bind then drop a listener: a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .args(["status", "--api", &format!("http://127.0.0.1:{port}")])
        .output()
        .expect("run op25b status");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "op25b status: cannot reach the op25b API at http://127.0.0.1:{port}/api/switches"
        )),
        "{stderr}"
    );
}

#[test]
fn status_exits_1_when_the_api_answers_an_error() {
    let api = TestApi::start(false);
    // A base URL under which /api/switches is an unknown route: a JSON 404.
    let out = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .args(["status", "--api", &format!("{}/nope", api.base)])
        .output()
        .expect("run op25b status");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("answered HTTP 404"), "{stderr}");
}
