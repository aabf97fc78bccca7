//! Open vSwitch from a test: a check that it is installed and running (the test FAILS with
//! install/start instructions, never skips), a userspace bridge deleted on drop ([`Bridge`]),
//! and `ofproto/trace` with its `Datapath actions:` verdict.

mod bridge;
mod trace;

pub use bridge::Bridge;
pub use trace::{datapath_actions, forwards, last_datapath_actions, trace_fate, TraceFate};

use crate::command::run;

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
