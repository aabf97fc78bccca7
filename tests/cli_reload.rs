//! `op25b reload` and `op25b status` against the real `op25b run`, finding the API and its
//! token from `--config`; the token file as `run` makes and checks it; the report file
//! reopened on SIGHUP after a logrotate-style rename.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use op25b_test_support::net::free_port;
use op25b_test_support::op25b_run::Op25bRun;
use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

/// A policy with the API on a free port and a report file in `dir`.
fn write_policy(dir: &Path) -> (PathBuf, std::net::SocketAddr) {
    let api = free_port();
    let path = dir.join("policy.toml");
    std::fs::write(&path, policy_text(api, dir, 30)).expect("write policy");
    (path, api)
}

fn policy_text(api: std::net::SocketAddr, dir: &Path, attempts: u32) -> String {
    format!(
        "[controller]\napi_listen = \"{api}\"\n\n[policy]\nblocked_ports = [25]\n\n[reporting]\nthreshold_attempts = {attempts}\nreported_from = \"abuse@isp.example\"\nreport_path = \"{}\"\n",
        dir.join("reports.jsonl").display()
    )
}

/// `op25b run` on this policy (the API where the policy says), ready.
fn start(policy: &Path) -> Op25bRun {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "run",
        "--log-format",
        "json",
        "--listen",
        "127.0.0.1:0",
        "--config",
    ])
    .arg(policy);
    let mut run = Op25bRun::spawn(cmd);
    run.wait_line(&["op25b controller running"], Duration::from_secs(10));
    run
}

fn op25b(args: &[&str], config: Option<&Path>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args);
    if let Some(p) = config {
        c.arg("--config").arg(p);
    }
    c.output().expect("run op25b")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn reload_and_status_find_the_api_and_token_from_the_policy_file() {
    let dir = temp_dir("cli-reload");
    let (policy, api) = write_policy(&dir);
    let _run = start(&policy);
    let token_file = dir.join("api-token");
    let mode = std::fs::metadata(&token_file)
        .expect("run made the token file next to the policy")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let ok = op25b(&["reload"], Some(&policy));
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(
        text(&ok).contains("policy unchanged (generation 1)"),
        "{}",
        text(&ok)
    );

    std::fs::write(&policy, policy_text(api, &dir, 12)).expect("edit");
    let ok = op25b(&["reload"], Some(&policy));
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("generation 2"), "{}", text(&ok));

    // A mistake: exit 1 with the validation error; the controller keeps generation 2.
    let broken =
        policy_text(api, &dir, 12).replace("blocked_ports = [25]", "blocked_ports = [70000]");
    std::fs::write(&policy, broken).expect("edit");
    let bad = op25b(&["reload"], Some(&policy));
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("blocked_ports"), "{}", text(&bad));

    // status: by --config, and by the HOST:PORT form api_listen is written in.
    let st = op25b(&["status"], Some(&policy));
    assert_eq!(st.status.code(), Some(0), "{}", text(&st));
    assert!(
        text(&st).starts_with("policy generation 2;"),
        "{}",
        text(&st)
    );
    let token_arg = token_file.display().to_string();
    let st = op25b(
        &[
            "status",
            "--api",
            &api.to_string(),
            "--token-file",
            &token_arg,
        ],
        None,
    );
    assert_eq!(st.status.code(), Some(0), "{}", text(&st));

    // A wrong token, and nobody listening: exit 2.
    let wrong = dir.join("wrong-token");
    std::fs::write(&wrong, "ffffffffffffffffffffffffffffffff\n").expect("write");
    let denied = op25b(
        &[
            "reload",
            "--api",
            &api.to_string(),
            "--token-file",
            &wrong.display().to_string(),
        ],
        None,
    );
    assert_eq!(denied.status.code(), Some(2), "{}", text(&denied));
    assert!(text(&denied).contains("401"), "{}", text(&denied));
    let nobody = free_port().to_string();
    let gone = op25b(
        &["reload", "--api", &nobody, "--token-file", &token_arg],
        None,
    );
    assert_eq!(gone.status.code(), Some(2), "{}", text(&gone));
}

#[test]
fn run_refuses_a_token_file_others_can_read() {
    let dir = temp_dir("cli-token-open");
    let (policy, _) = write_policy(&dir);
    let token_file = dir.join("api-token");
    std::fs::write(&token_file, "0123456789abcdef0123456789abcdef\n").expect("write");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut child = Command::new(BIN)
        .args(["run", "--listen", "127.0.0.1:0", "--config"])
        .arg(&policy)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    for _ in 0..100 {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("op25b run started with a world-readable token file");
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("chmod 600"), "{}", text(&out));
}

#[test]
fn sighup_reopens_the_report_file_after_a_rename() {
    let dir = temp_dir("cli-reopen");
    let (policy, _) = write_policy(&dir);
    let report = dir.join("reports.jsonl");
    let mut run = start(&policy);
    assert!(report.exists(), "the report file is opened at start");
    std::fs::rename(&report, dir.join("reports.jsonl.1")).expect("rotate");
    // The reloader starts listening just after "controller running": repeat until it answers.
    let mut reopened = false;
    for _ in 0..20 {
        run.signal("-HUP");
        let lines = run.lines_for(Duration::from_millis(500));
        if lines
            .iter()
            .any(|l| l.contains("abuse report file reopened"))
        {
            reopened = true;
            break;
        }
    }
    assert!(reopened, "no \"abuse report file reopened\" after SIGHUP");
    assert!(
        report.exists(),
        "a new report file at report_path after SIGHUP"
    );
}
