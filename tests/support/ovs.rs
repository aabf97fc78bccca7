//! Open vSwitch from a test: its command-line tools, a check that it is installed and running
//! (the test FAILS with install/start instructions, never skips), a userspace bridge deleted on
//! drop, and `ofproto/trace` with its `Datapath actions:` verdict.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Fails the test, saying how to install or start it, unless Open vSwitch is installed and
/// its database server answers.
pub fn require_ovs() {
    let (ok, out) = run("ovs-vsctl", &["--version"]);
    assert!(
        ok,
        "Open vSwitch is not installed ({out}). Install and start it:\n  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openvswitch-switch\n  /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random"
    );
    let (ok, out) = run("ovs-vsctl", &["--timeout=5", "show"]);
    assert!(
        ok,
        "Open vSwitch is installed but not running ({out}). Start it:\n  /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random"
    );
}

/// The last `Datapath actions:` line of an `ofproto/trace` output, whole.
pub fn last_datapath_actions(trace: &str) -> Option<&str> {
    trace
        .lines()
        .rev()
        .find(|l| l.starts_with("Datapath actions:"))
}

/// The top-level actions of a `Datapath actions:` line (commas inside parentheses kept).
pub fn datapath_actions(line: &str) -> Vec<String> {
    let list = line.trim_start_matches("Datapath actions:").trim();
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in list.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A userspace bridge (datapath_type=netdev, fail_mode=secure, OpenFlow 1.3), deleted on drop
/// (also when a test fails).
pub struct Bridge {
    pub name: String,
}

impl Bridge {
    /// `{prefix}{pid % 100000}x{n}`, n counting the calls in this process: unique among tests
    /// running at once, and short enough for `{name}p{i}` to be a Linux interface name.
    pub fn unique_name(prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        format!("{prefix}{}x{n}", std::process::id() % 100_000)
    }

    /// Checks that Open vSwitch runs, deletes any leftover bridge `name`, then creates it in one
    /// `ovs-vsctl` transaction: `datapath_id` (16 hex digits) if given, internal ports
    /// `{name}p1..={name}p{internal_ports}` with OpenFlow port numbers 1.., and the `extra`
    /// `ovs-vsctl` commands (each starting with `--`) appended.
    pub fn create(
        name: String,
        datapath_id: Option<&str>,
        internal_ports: u32,
        extra: &[&str],
    ) -> Bridge {
        require_ovs();
        let _ = run("ovs-vsctl", &["--if-exists", "del-br", &name]);
        let bridge = Bridge { name };
        let b = bridge.name.as_str();
        let mut args: Vec<String> = [
            "add-br",
            b,
            "--",
            "set",
            "bridge",
            b,
            "datapath_type=netdev",
            "fail_mode=secure",
            "protocols=OpenFlow13",
        ]
        .map(String::from)
        .to_vec();
        if let Some(id) = datapath_id {
            args.push(format!("other-config:datapath-id={id}"));
        }
        for i in 1..=internal_ports {
            let port = format!("{b}p{i}");
            args.extend(["--", "add-port", b, &port].map(String::from));
            args.extend([
                "--".into(),
                "set".into(),
                "interface".into(),
                port.clone(),
                "type=internal".into(),
                format!("ofport_request={i}"),
            ]);
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = run("ovs-vsctl", &refs);
        assert!(ok, "creating bridge {b}: {out}");
        bridge
    }

    /// A controller record with a 1 s reconnect back-off (the default grows to 8 s).
    pub fn set_controller(&self, controller: SocketAddr) {
        let target = format!("target=\"tcp:{controller}\"");
        let (ok, out) = run(
            "ovs-vsctl",
            &[
                "--",
                "--id=@c",
                "create",
                "controller",
                &target,
                "max_backoff=1000",
                "--",
                "set",
                "bridge",
                &self.name,
                "controller=@c",
            ],
        );
        assert!(ok, "setting the controller of {}: {out}", self.name);
    }

    /// `ovs-ofctl -O OpenFlow13 <args[0]> <bridge> <args[1..]>`; fails the test when it fails.
    pub fn ofctl(&self, args: &[&str]) -> String {
        let mut all = vec!["-O", "OpenFlow13"];
        all.extend_from_slice(&args[..1]);
        all.push(&self.name);
        all.extend_from_slice(&args[1..]);
        let (ok, out) = run("ovs-ofctl", &all);
        assert!(ok, "ovs-ofctl {all:?}: {out}");
        out
    }

    /// The output of `ovs-appctl ofproto/trace <bridge> <args>`; fails the test when it fails.
    pub fn trace_output(&self, args: &[&str]) -> String {
        let mut all = vec!["ofproto/trace", self.name.as_str()];
        all.extend_from_slice(args);
        let (ok, out) = run("ovs-appctl", &all);
        assert!(ok, "ofproto/trace {args:?}: {out}");
        out
    }

    /// The last `Datapath actions:` line (whole) of `ofproto/trace` for `flow`.
    pub fn trace(&self, flow: &str) -> String {
        let out = self.trace_output(&[flow]);
        last_datapath_actions(&out)
            .unwrap_or_else(|| panic!("no 'Datapath actions' in trace of {flow}:\n{out}"))
            .to_string()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = run("ovs-vsctl", &["--if-exists", "del-br", &self.name]);
    }
}
