//! A userspace Open vSwitch bridge for one test: created in one `ovs-vsctl` transaction, driven
//! with `ovs-ofctl` and traced with `ofproto/trace`, deleted on drop (also when a test fails).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::require_ovs;
use super::trace::last_datapath_actions;
use crate::command::run;

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
        args.extend(extra.iter().map(ToString::to_string));
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

    /// One controller record per address (each with a 1 s reconnect back-off), all of them the
    /// bridge's controllers: a switch pointed at every instance of a cluster.
    pub fn set_controllers(&self, controllers: &[SocketAddr]) {
        let mut args: Vec<String> = Vec::new();
        let mut ids = Vec::new();
        for (i, c) in controllers.iter().enumerate() {
            let id = format!("@c{i}");
            args.extend([
                "--".into(),
                format!("--id={id}"),
                "create".into(),
                "controller".into(),
                format!("target=\"tcp:{c}\""),
                "max_backoff=1000".into(),
            ]);
            ids.push(id);
        }
        args.extend([
            "--".into(),
            "set".into(),
            "bridge".into(),
            self.name.clone(),
            format!("controller=[{}]", ids.join(",")),
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = run("ovs-vsctl", &refs);
        assert!(ok, "setting the controllers of {}: {out}", self.name);
    }

    /// Each controller's target and OpenFlow role as Open vSwitch reports them (`ovs-vsctl list
    /// controller`; the role column is refreshed every few seconds).
    pub fn controller_roles(&self) -> Vec<(String, String)> {
        let (ok, ids) = run("ovs-vsctl", &["get", "bridge", &self.name, "controller"]);
        assert!(ok, "controllers of {}: {ids}", self.name);
        let ids = ids.trim().trim_matches(['[', ']']);
        ids.split(", ")
            .filter(|id| !id.is_empty())
            .map(|id| {
                let get = |col: &str| {
                    let (_, v) = run("ovs-vsctl", &["--if-exists", "get", "controller", id, col]);
                    v.trim().trim_matches('"').to_owned()
                };
                (get("target"), get("role"))
            })
            .collect()
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
