//! `op25b policy push` to a cluster on real Open vSwitch: two `op25b run` instances with
//! `[cluster]` on a private etcd, four bridges pointed at both. A relay change is pushed once;
//! every bridge forwards port 25 to the new relay soon after (the time from the push's return to
//! the last bridge is printed: the target is 2 s; the test bounds it loosely, speed is
//! measured, not asserted).
//!
//! Needs Open vSwitch running and etcd installed (`scripts/install-deps`); FAILS otherwise.

use op25b_test_support::etcd::PrivateEtcd;
use op25b_test_support::op25b_run::{listener_addr, Op25bRun};
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::temp::temp_dir;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
const BRIDGES: u64 = 4;
const NEW_RELAY: &str = "198.51.100.7";
const TO_NEW_RELAY: &str = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=25";

fn local_file(name: &str, etcd: &str) -> String {
    format!(
        "[controller]\naudit_interval_secs = 3600\n\n[policy]\nblocked_ports = [25]\nrelays = [\"192.0.2.25/32\"]\nforwarding = \"normal\"\n\n[defaults]\nsubscriber_ports = \"all\"\nuplink_ports = [3]\n\n[reporting]\nenabled = false\n\n[cluster]\netcd = [\"{etcd}\"]\nname = \"{name}\"\nlease_secs = 3\nkey_prefix = \"/op25b-push-test/\"\n"
    )
}

fn dropped(b: &Bridge) -> bool {
    b.trace(TO_NEW_RELAY) == "Datapath actions: drop"
}

fn until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn a_pushed_relay_change_reaches_every_bridge_of_the_cluster() {
    require_ovs();
    let etcd = PrivateEtcd::start();
    let mut runs = Vec::new();
    let mut targets: Vec<SocketAddr> = Vec::new();
    let mut a_file = None;
    for name in ["a", "b"] {
        let dir = temp_dir(&format!("push-{name}"));
        let file = dir.join("policy.toml");
        std::fs::write(&file, local_file(name, &etcd.endpoint())).expect("write");
        let mut run = Op25bRun::start(BIN, &file, "127.0.0.1:0", "info");
        let ready = run.wait_line(&["OpenFlow listener ready"], Duration::from_secs(20));
        targets.push(listener_addr(&ready));
        runs.push(run);
        a_file.get_or_insert(file);
    }
    let bridges: Vec<Bridge> = (0..BRIDGES)
        .map(|i| {
            let b = Bridge::create(
                Bridge::unique_name("o25p"),
                Some(&format!("{:016x}", 0x00c2_0000 + i)),
                3,
                &[],
            );
            b.set_controllers(&targets);
            b
        })
        .collect();
    assert!(
        until(Duration::from_secs(30), || bridges.iter().all(dropped)).is_some(),
        "every bridge enforcing the local policy (port 25 to {NEW_RELAY} dropped)"
    );

    // The shared policy: the same, with the new relay.
    let dir = temp_dir("push-shared");
    let shared = dir.join("shared.toml");
    std::fs::write(
        &shared,
        format!("[policy]\nblocked_ports = [25]\nrelays = [\"{NEW_RELAY}/32\"]\nforwarding = \"normal\"\n\n[defaults]\nsubscriber_ports = \"all\"\nuplink_ports = [3]\n\n[reporting]\nenabled = false\n"),
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["policy", "push", "--config"])
        .arg(&shared)
        .arg("--instance")
        .arg(a_file.as_ref().expect("a's file"))
        .output()
        .expect("push");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = until(Duration::from_secs(10), || {
        bridges.iter().all(|b| !dropped(b))
    });
    let took = took.expect("every bridge forwards port 25 to the new relay within 10 s");
    println!(
        "policy push -> all {BRIDGES} bridges enforce the new relay: {:.3} s",
        took.as_secs_f64()
    );
    for run in &mut runs {
        run.wait_line(&["cluster policy applied"], Duration::from_secs(5));
    }
}
