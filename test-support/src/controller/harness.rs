//! An in-process controller on 127.0.0.1:0 with small timers, its policy in a file (for reload
//! tests), and a wait on a switch's registry entry with a timeout.

use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::{Registry, SwitchStatus};
use op25b::policy::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::temp::temp_dir;

pub const COOKIE: u64 = 0x4f50_3235_4200_0000;

/// A policy with 1 s echo interval, 2 s echo timeout, 1 s handshake timeout, `audit` s audit,
/// relays 192.0.2.25 and 2001:db8::25, exempt 203.0.113.0/29, reporting off, and `extra` appended.
pub fn policy_text(audit: u64, extra: &str) -> String {
    format!(
        r#"
[controller]
listen = "127.0.0.1:0"
echo_interval_secs = 1
echo_timeout_secs = 2
handshake_timeout_secs = 1
audit_interval_secs = {audit}

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29"]
cookie = "0x4f50323542000000"

[reporting]
enabled = false
{extra}
"#
    )
}

/// A running controller whose policy lives in a file (for reload tests).
pub struct Harness {
    pub controller: Controller,
    pub observations: Arc<op25b::fleet::SwitchObservations>,
    pub registry: Arc<Registry>,
    pub store: Arc<PolicyStore>,
    pub policy_path: PathBuf,
}

impl Harness {
    pub fn start(policy: &str) -> Harness {
        init_logs();
        let dir = temp_dir("ctl");
        let policy_path = dir.join("policy.toml");
        std::fs::write(&policy_path, policy).expect("write policy");
        let config = Config::load(&policy_path)
            .expect("valid test policy")
            .config;
        let registry = Arc::new(Registry::new());
        let store = Arc::new(PolicyStore::new(config, Some(policy_path.clone())));
        let observations = Arc::new(op25b::fleet::SwitchObservations::new());
        let controller = Controller::start_observed(
            store.clone(),
            registry.clone(),
            ControllerOptions::default(),
            observations.clone(),
        )
        .expect("controller starts");
        Harness {
            controller,
            observations,
            registry,
            store,
            policy_path,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.controller.local_addr()
    }

    /// Waits until switch `dpid` satisfies `cond` (see [`wait_switch`]).
    pub async fn wait_switch(
        &self,
        dpid: u64,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&SwitchStatus) -> bool,
    ) -> SwitchStatus {
        wait_switch(&self.registry, dpid, what, timeout, cond).await
    }
}

/// Waits until switch `dpid` is in `registry` and satisfies `cond`, looking every 20 ms; fails
/// the test after `timeout`, showing the switch's last status.
pub async fn wait_switch(
    registry: &Registry,
    dpid: u64,
    what: &str,
    timeout: Duration,
    cond: impl Fn(&SwitchStatus) -> bool,
) -> SwitchStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = registry.switch(dpid) {
            if cond(&s) {
                return s;
            }
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}; switch {dpid:#x}: {:?}",
            registry.switch(dpid)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
