//! X-ARF v4 validation of report files: runs the repository's
//! `tests/data/xarf-v4/validate.py` (Debian's `python3-jsonschema`, schemas copied into the
//! repository with their provenance; never the network) on a JSON-lines file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The validator script.
pub fn validator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/xarf-v4/validate.py")
}

/// Runs the validator on `reports`: its exit code and its output (stdout and stderr).
pub fn validate(reports: &Path) -> (i32, String) {
    let out = Command::new("/usr/bin/python3")
        .arg(validator())
        .arg(reports)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run /usr/bin/python3 (scripts/install-deps installs it): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("No module named 'jsonschema'"),
        "python3-jsonschema is missing: run scripts/install-deps\n{text}"
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Fails the test unless every line of `reports` is a valid X-ARF v4 report; returns the
/// validator's `VALID: N report(s)` line.
pub fn assert_valid(reports: &Path) -> String {
    let (code, text) = validate(reports);
    assert_eq!(
        code,
        0,
        "{} is not valid X-ARF v4:\n{text}",
        reports.display()
    );
    text.trim().to_owned()
}

/// Shows that the validator can fail: `line` (a valid report) with `field` removed must be
/// refused, the error naming the field. Returns the validator's output.
pub fn assert_refused_without(line: &str, field: &str, scratch: &Path) -> String {
    let mut report: serde_json::Value = serde_json::from_str(line).expect("a JSON report");
    let removed = report
        .as_object_mut()
        .and_then(|o| o.remove(field))
        .is_some();
    assert!(removed, "the report has no {field} to remove: {line}");
    let broken = scratch.join(format!("broken-without-{field}.jsonl"));
    std::fs::write(&broken, format!("{report}\n")).expect("write the broken report");
    let (code, text) = validate(&broken);
    assert_eq!(code, 1, "a report without {field} must be refused:\n{text}");
    assert!(
        text.contains(&format!(
            "LINE 1: (root) - '{field}' is a required property"
        )),
        "{text}"
    );
    text
}
