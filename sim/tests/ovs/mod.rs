//! A real Open vSwitch bridge for differential tests: userspace datapath, fail_mode=secure,
//! OpenFlow 1.3, internal ports 1..=3, connected to a test's listener; deleted on drop.

#![allow(dead_code)] // shared helper

use std::net::SocketAddr;
use std::process::Command;

/// Runs a command; (success, stdout + stderr).
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

/// Fails (never skips) with instructions when Open vSwitch is missing or stopped.
pub fn require_ovs() {
    let (ok, out) = run("ovs-vsctl", &["--timeout=5", "show"]);
    assert!(
        ok,
        "this test needs a running Open vSwitch ({out}). Install and start it:\n  \
         apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openvswitch-switch\n  \
         /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random"
    );
}

/// A bridge connected to `controller`.
pub struct Bridge {
    /// Its name.
    pub name: String,
}

impl Bridge {
    /// Creates the bridge (named after `tag` and the process id) with ports 1..=3.
    pub fn new(tag: &str, controller: SocketAddr) -> Bridge {
        require_ovs();
        let name = format!("{tag}{}", std::process::id() % 100_000);
        let _ = run("ovs-vsctl", &["--if-exists", "del-br", &name]);
        let bridge = Bridge { name: name.clone() };
        let mut args: Vec<String> = ["add-br", &name, "--", "set", "bridge", &name]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(
            [
                "datapath_type=netdev",
                "fail_mode=secure",
                "protocols=OpenFlow13",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        for i in 1..=3 {
            let port = format!("{name}p{i}");
            args.extend(
                [
                    "--",
                    "add-port",
                    &name,
                    &port,
                    "--",
                    "set",
                    "interface",
                    &port,
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            args.push("type=internal".into());
            args.push(format!("ofport_request={i}"));
        }
        args.extend(
            ["--", "set-controller", &name]
                .iter()
                .map(|s| s.to_string()),
        );
        args.push(format!("tcp:{controller}"));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = run("ovs-vsctl", &refs);
        assert!(ok, "creating bridge {name}: {out}");
        bridge
    }

    /// The "Datapath actions:" line of `ofproto/trace` for `flow`.
    pub fn trace(&self, flow: &str) -> String {
        let (ok, out) = run("ovs-appctl", &["ofproto/trace", &self.name, flow]);
        assert!(ok, "ofproto/trace {flow}: {out}");
        out.lines()
            .rev()
            .find(|l| l.starts_with("Datapath actions:"))
            .unwrap_or_else(|| panic!("no 'Datapath actions' in the trace of {flow}:\n{out}"))
            .to_string()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = run("ovs-vsctl", &["--if-exists", "del-br", &self.name]);
    }
}

/// What a trace's datapath actions do with the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFate {
    /// `drop`.
    Drop,
    /// Only to the controller (`userspace(...)`, maybe metered).
    ControllerOnly,
    /// Out of at least one datapath port.
    Forwarded,
}

/// Classifies a "Datapath actions: ..." line.
pub fn trace_fate(line: &str) -> TraceFate {
    let actions = line.trim_start_matches("Datapath actions:").trim();
    if actions == "drop" {
        return TraceFate::Drop;
    }
    // Split on top-level commas (userspace(...) has commas inside).
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut cur = String::new();
    for ch in actions.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    parts.push(cur);
    if parts
        .iter()
        .any(|p| p.trim().chars().all(|c| c.is_ascii_digit()) && !p.trim().is_empty())
    {
        TraceFate::Forwarded
    } else if parts.iter().any(|p| p.contains("userspace(")) {
        TraceFate::ControllerOnly
    } else {
        TraceFate::Drop
    }
}
