//! External commands from a test (ovs-vsctl, ovs-ofctl, ip, kill, ...): run one and get its
//! status and output, or fail the test when it fails.

use std::process::Command;

/// Runs `cmd args`: whether it succeeded, and its stdout followed by its stderr (or why it could
/// not be started).
pub fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    match Command::new(cmd).args(args).output() {
        Ok(o) => {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            (o.status.success(), s)
        }
        Err(e) => (false, format!("cannot run {cmd}: {e}")),
    }
}

/// Runs `cmd args` and fails the test when it fails; returns its output.
pub fn must(cmd: &str, args: &[&str]) -> String {
    let (ok, out) = run(cmd, args);
    assert!(ok, "{cmd} {}: {out}", args.join(" "));
    out
}
