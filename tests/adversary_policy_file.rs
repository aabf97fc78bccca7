//! Policy files built to hurt the loader, run through the real `op25b check`: one line of
//! 40,000 duplicate prefixes (every mistake needs a line:column; rescanning the file for each
//! took seconds), a file over the size cap, and a file others may write.
//!
//! Timings are printed (`--nocapture`) and only asserted against a generous bound.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

/// `op25b check --config path`, run twice: the output and the shorter of the two times (the
/// machine may be busy with other work).
fn check(path: &Path) -> (Output, Duration) {
    let once = || {
        let started = Instant::now();
        let out = Command::new(BIN)
            .args(["check", "--config"])
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        (out, started.elapsed())
    };
    let (_, first) = once();
    let (out, second) = once();
    (out, first.min(second))
}

/// A policy whose exempt sources are `prefix` `n` times, all on one line.
fn one_line_policy(prefix: &str, n: usize) -> String {
    let list = vec![format!("\"{prefix}\""); n].join(", ");
    format!(
        "[policy]\nrelays = [\"192.0.2.25/32\"]\nexempt_sources = [{list}]\n\n[reporting]\nenabled = false\n"
    )
}

#[test]
fn forty_thousand_bad_duplicates_on_one_line_are_rejected_quickly() {
    let dir = temp_dir("adv-policy");
    let path = dir.join("policy.toml");
    // Host bits set: each of the 40,000 is an error with its own column.
    std::fs::write(&path, one_line_policy("198.51.100.1/24", 40_000)).unwrap();
    let (out, took) = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "40,000 bad duplicates on one line: rejected in {took:?} ({} bytes of messages)",
        stderr.len()
    );
    assert_eq!(out.status.code(), Some(1), "rejected");
    let last = stderr
        .lines()
        .rfind(|l| l.contains("host bits set"))
        .unwrap_or_else(|| panic!("no error lines: {}", &stderr[..stderr.len().min(2000)]));
    // The last copy sits 40,000 entries into line 3: the column is exact, not estimated.
    let column = "exempt_sources = [".len() + 39_999 * "\"198.51.100.1/24\", ".len() + 1;
    assert!(
        last.contains(&format!("policy.toml:3:{column}:")),
        "column of the last copy ({column}): {last}"
    );
    assert!(
        took < Duration::from_secs(3),
        "40,000 mistakes took {took:?} to report"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn forty_thousand_good_duplicates_on_one_line_are_accepted_quickly_with_warnings() {
    let dir = temp_dir("adv-policy");
    let path = dir.join("policy.toml");
    std::fs::write(&path, one_line_policy("198.51.100.0/24", 40_000)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (out, took) = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("40,000 good duplicates on one line: accepted in {took:?}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert_eq!(
        stderr.matches("is listed twice").count(),
        39_999,
        "one warning per repeat"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_file_over_the_size_cap_is_refused_without_parsing_it() {
    let dir = temp_dir("adv-policy");
    let path = dir.join("policy.toml");
    // Valid TOML that would take long to read: comment lines after a valid policy, 1 MiB past
    // the cap.
    let mut text = one_line_policy("198.51.100.0/24", 1);
    let filler = "# padding padding padding padding padding padding padding padding\n";
    while text.len() <= op25b::policy::MAX_POLICY_BYTES + 1024 * 1024 {
        text.push_str(filler);
    }
    std::fs::write(&path, &text).unwrap();
    let (out, _) = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused: {stderr}");
    assert!(
        stderr.contains("policy.toml") && stderr.contains("larger than") && stderr.contains("MiB"),
        "names the file and the cap: {stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_file_others_may_write_is_accepted_with_a_warning() {
    let dir = temp_dir("adv-policy");
    let path = dir.join("policy.toml");
    std::fs::write(&path, one_line_policy("198.51.100.0/24", 1)).unwrap();
    for (mode, who) in [(0o620, "group"), (0o602, "world")] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let (out, _) = check(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("warning") && stderr.contains(who) && stderr.contains("writable"),
            "mode {mode:o}: {stderr}"
        );
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (out, _) = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("writable"), "0644 is fine: {stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
