//! A policy past the old fixed read cap, on a real Open vSwitch bridge (userspace datapath,
//! fail_mode=secure): more than 100,000 of our flows are installed, read back whole and kept in
//! sync across a reload, because the read cap follows the policy (`session::read_cap`). And a
//! bridge whose table cannot hold the policy (an OVS `Flow_Table` `flow_limit` with
//! `overflow_policy=refuse`) answers TABLE_FULL, which the controller reports by name.
//!
//! Needs Open vSwitch installed and running. When it is not, this test FAILS with instructions;
//! it never skips.

use op25b::controller::policy_store::{PolicyStore, ReloadOutcome};
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::{Registry, SyncState};
use op25b::policy::Config;
use op25b_test_support::command::run;
use op25b_test_support::controller::wait_switch;
use op25b_test_support::ovs::{require_ovs, Bridge};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const COOKIE: u64 = 0x4f50_3235_4200_0000;
/// The bridge of the large policy.
const LARGE_DPID: u64 = 0x25b_1a49;
/// The bridge whose table is too small.
const FULL_DPID: u64 = 0x25b_1a4a;
/// How the controller names the switch's answer to an ADD its full table refused.
const TABLE_FULL: &str = "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL";

/// A policy with `v4` IPv4 /32 and `v6` IPv6 /128 exempt sources (one flow each for IPv4, two
/// for IPv6 in drop-tcp mode) and `relays` relays, for switch `dpid`.
fn policy(dpid: u64, v4: u32, v6: u32, relays: u32) -> Config {
    let mut exempt: Vec<String> = (0..v4)
        .map(|i| format!("\"{}/32\"", std::net::Ipv4Addr::from(0x6440_0000 | i)))
        .collect();
    exempt.extend((0..v6).map(|i| format!("\"2001:db8:e::{i:x}/128\"")));
    let relays: Vec<String> = (0..relays)
        .map(|i| format!("\"192.0.2.{}/32\"", 25 + i))
        .collect();
    let text = format!(
        r#"
[controller]
listen = "127.0.0.1:0"
echo_interval_secs = 5
echo_timeout_secs = 60
audit_interval_secs = 3600
handshake_timeout_secs = 30

[policy]
blocked_ports = [25]
relays = [{relays}]
exempt_sources = [{exempt}]
forwarding = "normal"
fragments = "drop-tcp"

[[switch]]
dpid = {dpid}
subscriber_ports = "all"
uplink_ports = [2]
"#,
        relays = relays.join(", "),
        exempt = exempt.join(", "),
    );
    Config::parse(&text, "large.toml")
        .expect("valid policy")
        .config
}

fn start(config: Config) -> (Controller, Arc<Registry>, Arc<PolicyStore>) {
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(config, None));
    let controller = Controller::start(
        store.clone(),
        registry.clone(),
        ControllerOptions {
            listen: Some("127.0.0.1:0".parse().expect("literal address")),
            tls_listen: None,
            samples: None,
            masterships: None,
        },
    )
    .expect("controller starts");
    (controller, registry, store)
}

/// A bridge for `dpid` with ports 1 and 2 (2 the uplink), `extra` `ovs-vsctl` commands
/// (given its name) and `controller` as its controller.
fn bridge(
    prefix: &str,
    dpid: u64,
    controller: SocketAddr,
    extra: impl Fn(&str) -> Vec<String>,
) -> Bridge {
    let name = Bridge::unique_name(prefix);
    let extra = extra(&name);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let b = Bridge::create(name, Some(&format!("{dpid:016x}")), 2, &extra);
    b.set_controller(controller);
    b
}

/// Our flows on the bridge (`ovs-ofctl dump-flows` with the cookie mask).
fn our_flows(b: &Bridge) -> usize {
    let (ok, out) = run(
        "ovs-ofctl",
        &[
            "-O",
            "OpenFlow13",
            "dump-flows",
            &b.name,
            &format!("cookie={COOKIE:#x}/-1"),
        ],
    );
    assert!(ok, "dump-flows: {out}");
    out.lines().filter(|l| l.contains("priority=")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_of_more_than_100000_flows_is_installed_read_back_and_reloaded() {
    require_ovs();
    let dpid = LARGE_DPID;
    // 99,000 IPv4 + 1,000 IPv6 sources: 101,000 flows for them alone.
    let (controller, registry, store) = start(policy(dpid, 99_000, 1_000, 1));
    let b = bridge("o25l", dpid, controller.local_addr(), |_| vec![]);
    let first = wait_switch(
        &registry,
        dpid,
        "the cold sync of the large policy",
        Duration::from_secs(300),
        |s| s.sync_state == SyncState::InSync && s.synced_generation == Some(1),
    )
    .await;
    assert!(first.desired_flows > 101_000, "{first:?}");
    assert_eq!(our_flows(&b), first.desired_flows);

    // A reload makes every session read its >100,000 flows back: before the read cap followed
    // the policy, this read failed ("more than 100000") on every retry.
    let outcome = store.install(policy(dpid, 99_000, 1_000, 2));
    assert!(matches!(
        outcome,
        ReloadOutcome::Installed { generation: 2 }
    ));
    let second = wait_switch(
        &registry,
        dpid,
        "the re-sync after the reload (reads every flow back)",
        Duration::from_secs(300),
        |s| {
            assert!(
                !s.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("more than")),
                "the read was refused: {:?}",
                s.last_error
            );
            s.sync_state == SyncState::InSync && s.synced_generation == Some(2)
        },
    )
    .await;
    assert_eq!(second.desired_flows, first.desired_flows + 1, "{second:?}");
    assert_eq!(our_flows(&b), second.desired_flows);
    assert_eq!(second.counters.syncs_failed, 0, "{second:?}");
    controller.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_too_small_for_the_policy_is_reported_as_table_full_by_name() {
    require_ovs();
    let dpid = FULL_DPID;
    let (controller, registry, _store) = start(policy(dpid, 200, 0, 1));
    // Table 0 refuses its 51st flow, as a hardware table would.
    let b = bridge("o25f", dpid, controller.local_addr(), |name| {
        let cmd =
            "-- --id=@ft create Flow_Table flow_limit=50 overflow_policy=refuse -- set bridge";
        let mut v: Vec<String> = cmd.split(' ').map(String::from).collect();
        v.extend([name.to_string(), "flow_tables:0=@ft".to_string()]);
        v
    });
    let s = wait_switch(
        &registry,
        dpid,
        "a failed sync naming TABLE_FULL",
        Duration::from_secs(60),
        |s| s.counters.syncs_failed >= 1,
    )
    .await;
    assert_ne!(s.sync_state, SyncState::InSync, "{s:?}");
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains(TABLE_FULL)),
        "the sync's error names TABLE_FULL: {:?}",
        s.last_error
    );
    assert!(
        s.counters.errors.get(TABLE_FULL).is_some_and(|&n| n >= 1),
        "counted under its name: {:?}",
        s.counters.errors
    );
    assert!(our_flows(&b) <= 50);
    controller.shutdown().await;
}
