//! The runner with real processes: shell scripts written to a scratch directory.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::policy::Location;

fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "op25b-report-cmd-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

fn spec(argv: &[&str], timeout_ms: u64, queue: usize) -> CommandSpec {
    CommandSpec {
        argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        timeout: Duration::from_millis(timeout_ms),
        queue,
    }
}

/// Waits up to 20 s for `done` to hold.
fn wait_for(what: &str, counters: &CommandCounters, done: impl Fn(CommandCounts) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(counters.snapshot()) {
        assert!(
            Instant::now() < deadline,
            "{what}: {:?}",
            counters.snapshot()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn each_report_reaches_the_command_on_stdin() {
    let dir = scratch("append");
    let out = dir.join("got.jsonl");
    let append = script(&dir, "append", "cat >> \"$1\"");
    let counters = Arc::new(CommandCounters::default());
    let runner = ReportCommandRunner::start(
        spec(&[&append, &out.display().to_string()], 5000, 8),
        counters.clone(),
    )
    .expect("starts");
    for n in 0..3 {
        assert!(runner.offer(format!("{{\"n\":{n}}}\n").into_bytes()));
    }
    wait_for("three delivered", &counters, |c| c.delivered == 3);
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"
    );
    assert_eq!(
        counters.snapshot(),
        CommandCounts {
            delivered: 3,
            ..CommandCounts::default()
        }
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_hung_command_is_killed_with_its_children_and_the_next_report_still_runs() {
    let dir = scratch("timeout");
    let out = dir.join("got.jsonl");
    let pid_file = dir.join("sleeper.pid");
    // A report saying "slow" makes the command wait on a child for 30 s; others are appended.
    let cmd = script(
        &dir,
        "maybe-slow",
        "line=$(cat)\ncase \"$line\" in *slow*) sleep 30 & echo $! > \"$2\"; wait;; esac\nprintf '%s\\n' \"$line\" >> \"$1\"",
    );
    let counters = Arc::new(CommandCounters::default());
    let runner = ReportCommandRunner::start(
        spec(
            &[
                &cmd,
                &out.display().to_string(),
                &pid_file.display().to_string(),
            ],
            700,
            8,
        ),
        counters.clone(),
    )
    .expect("starts");
    let started = Instant::now();
    runner.offer(b"{\"slow\":1}\n".to_vec());
    runner.offer(b"{\"n\":2}\n".to_vec());
    wait_for("one timeout, one delivered", &counters, |c| {
        c.failed_timeout == 1 && c.delivered == 1
    });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the hung command was killed at its timeout, not waited for: {:?}",
        started.elapsed()
    );
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "{\"n\":2}\n");
    // The grandchild (`sleep 30`) went with its process group.
    let pid = std::fs::read_to_string(&pid_file).expect("pid file");
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = Instant::now() + Duration::from_secs(5);
    while proc_dir.exists()
        && !std::fs::read_to_string(proc_dir.join("stat")).is_ok_and(|s| s.contains(") Z "))
    {
        assert!(
            Instant::now() < deadline,
            "sleep {} still alive",
            pid.trim()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failing_or_missing_command_is_counted() {
    let dir = scratch("fail");
    let fail = script(&dir, "fail", "cat > /dev/null\nexit 1");
    let counters = Arc::new(CommandCounters::default());
    let runner =
        ReportCommandRunner::start(spec(&[&fail], 5000, 8), counters.clone()).expect("starts");
    runner.offer(b"{}\n".to_vec());
    runner.offer(b"{}\n".to_vec());
    wait_for("two exit failures", &counters, |c| c.failed_exit == 2);

    let missing = dir.join("no-such-program").display().to_string();
    let runner =
        ReportCommandRunner::start(spec(&[&missing], 5000, 8), counters.clone()).expect("starts");
    runner.offer(b"{}\n".to_vec());
    wait_for("one spawn failure", &counters, |c| c.failed_spawn == 1);
    assert_eq!(counters.snapshot().delivered, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_full_queue_drops_and_counts_without_waiting() {
    let dir = scratch("full");
    let out = dir.join("got.jsonl");
    let slow = script(&dir, "slow", "cat >> \"$1\"\nsleep 1");
    let counters = Arc::new(CommandCounters::default());
    let runner = ReportCommandRunner::start(
        spec(&[&slow, &out.display().to_string()], 5000, 2),
        counters.clone(),
    )
    .expect("starts");
    let started = Instant::now();
    let accepted = (0..10)
        .filter(|n| runner.offer(format!("{{\"n\":{n}}}\n").into_bytes()))
        .count();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "offer never waits for the command: {:?}",
        started.elapsed()
    );
    // At most the queue (2) plus the one the thread took at once.
    assert!((2..=3).contains(&accepted), "accepted {accepted}");
    assert_eq!(counters.snapshot().dropped, 10 - accepted as u64);
    drop(runner);
    wait_for("the accepted ones delivered", &counters, |c| {
        c.delivered == accepted as u64
    });
    let lines = std::fs::read_to_string(&out).expect("read");
    assert_eq!(lines.lines().count(), accepted, "{lines}");
    std::fs::remove_dir_all(&dir).ok();
}

fn command(argv: &[&str]) -> ReportCommand {
    ReportCommand {
        argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        location: Location {
            origin: "policy.toml".to_owned(),
            line: 12,
            column: 19,
        },
    }
}

#[test]
fn the_program_must_be_an_executable_file() {
    let dir = scratch("check");
    let good = script(&dir, "good", "cat > /dev/null");
    assert!(check_program(&command(&[&good, "--queue", "abuse"])).is_ok());

    let missing = dir.join("missing").display().to_string();
    let e = check_program(&command(&[&missing])).expect_err("missing");
    let text = e.to_string();
    assert!(
        text.starts_with("policy.toml:12:19: reporting.report_command (")
            && text.contains("No such file"),
        "{text}"
    );

    let e = check_program(&command(&[&dir.display().to_string()])).expect_err("a directory");
    assert!(e.to_string().ends_with("not a regular file"), "{e}");

    let plain = dir.join("plain");
    std::fs::write(&plain, "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let e = check_program(&command(&[&plain.display().to_string()])).expect_err("not executable");
    assert!(e.to_string().contains("not executable (mode 644)"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
