//! Kill -9 failover at scale, on real Open vSwitch and a real etcd (issue 13's target): `N`
//! userspace bridges (default 200), each pointed at all `I` instances (default 3) of `op25b run`
//! sharing a private etcd, lease `LEASE` seconds (default 3). Timed here, not in a test: the
//! behaviour is asserted by `tests/ovs_cluster.rs` (6 bridges, 2 instances).
//!
//! Usage (as root, Open vSwitch running): `cargo bench --bench cluster_failover [-- N I LEASE]`.
//!
//! What it does and prints, in order:
//! 1. the time until every bridge has exactly one master in sync (each instance's
//!    `GET /api/switches`), and the masterships per instance;
//! 2. kill -9 of the instance with the most masterships, while a prober traces a blocked SYN
//!    (`ofproto/trace`, to an outside host's port 25) through 10 bridges every 50 ms and counts
//!    every answer that is not `drop` (a leak);
//! 3. the time from the kill until every bridge is under a live instance as master, in sync,
//!    and the FLOW_MODs the survivors sent meanwhile (0 when the tables were intact);
//! 4. each instance's peak RSS (`VmHWM`) and etcd's CPU time and RSS.
//!
//! Exits non-zero if the cluster never settles, a bridge is left without a master after
//! `LEASE` + 30 s, or the prober saw a leak.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use op25b_test_support::api::bearer_from;
use op25b_test_support::etcd::PrivateEtcd;
use op25b_test_support::op25b_run::{listener_addr, Op25bRun};
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
const FIRST_DPID: u64 = 0x0000_0000_00c5_0000;
const FOREIGN_25: &str = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=198.51.100.7,tp_dst=25";
const PROBED: usize = 10;

fn config(name: &str, etcd: &str, lease: u64) -> String {
    format!(
        r#"
[controller]
echo_interval_secs = 5
echo_timeout_secs = 15
audit_interval_secs = 3600

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]
forwarding = "normal"

[defaults]
subscriber_ports = "all"
uplink_ports = [3]

[reporting]
enabled = false

[cluster]
etcd = ["{etcd}"]
name = "{name}"
lease_secs = {lease}
key_prefix = "/op25b-bench/"
"#
    )
}

struct Instance {
    name: String,
    run: Op25bRun,
    api: String,
    bearer: String,
}

impl Instance {
    fn start(name: &str, etcd: &str, lease: u64) -> (Instance, std::net::SocketAddr) {
        let dir = temp_dir(&format!("bench-cluster-{name}"));
        let policy = dir.join("policy.toml");
        std::fs::write(&policy, config(name, etcd, lease)).expect("write the policy");
        let mut run = Op25bRun::start(BIN, &policy, "127.0.0.1:0", "warn,op25b=info");
        let ready = run.wait_line(&["OpenFlow listener ready"], Duration::from_secs(20));
        let openflow = listener_addr(&ready);
        let api_line = run.wait_line(&["HTTP API ready"], Duration::from_secs(20));
        let v: serde_json::Value = serde_json::from_str(&api_line).expect("a JSON log line");
        let api = v["api"].as_str().expect("the API address").to_owned();
        let bearer = bearer_from(&dir.join("api-token"));
        let instance = Instance {
            name: name.to_owned(),
            run,
            api,
            bearer,
        };
        (instance, openflow)
    }

    /// dpid -> (master in sync here, FLOW_MODs sent), from one `GET /api/switches`.
    fn switches(&self) -> std::collections::HashMap<u64, (bool, u64)> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .new_agent();
        let body = agent
            .get(format!("http://{}/api/switches", self.api))
            .header("Authorization", &self.bearer)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["switches"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|s| {
                        let dpid = s["dpid_int"].as_u64()?;
                        let mastered = s["role"] == "master"
                            && s["sync_state"] == "in_sync"
                            && s["connected"] == true;
                        let sent = s["counters"]["flow_mods_sent"].as_u64().unwrap_or(0);
                        Some((dpid, (mastered, sent)))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.run.child.id()
    }
}

/// Masterships per instance, if every one of `dpids` has exactly one master in sync.
fn settled(dpids: &[u64], instances: &[&Instance]) -> Option<Vec<usize>> {
    let views: Vec<_> = instances.iter().map(|i| i.switches()).collect();
    let mut per = vec![0; instances.len()];
    for d in dpids {
        let masters: Vec<usize> = views
            .iter()
            .enumerate()
            .filter(|(_, v)| v.get(d).is_some_and(|(m, _)| *m))
            .map(|(i, _)| i)
            .collect();
        if masters.len() != 1 {
            return None;
        }
        per[masters[0]] += 1;
    }
    Some(per)
}

fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<(T, Duration)> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(v) = f() {
            return Some((v, start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A `/proc/PID/status` field in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// utime + stime of a process, seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // After ')': field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .filter(|a| !a.starts_with('-'))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    require_ovs();
    let (n, count, lease): (usize, usize, u64) = (arg(1, 200), arg(2, 3), arg(3, 3));
    let etcd = PrivateEtcd::start();
    let mut instances = Vec::new();
    let mut targets = Vec::new();
    for i in 0..count {
        let (inst, addr) = Instance::start(&format!("i{i}"), &etcd.endpoint(), lease);
        instances.push(inst);
        targets.push(addr);
    }
    let started = Instant::now();
    let bridges: Vec<(u64, Bridge)> = (0..n)
        .map(|i| {
            let dpid = FIRST_DPID + i as u64;
            let b = Bridge::create(
                Bridge::unique_name("o25k"),
                Some(&format!("{dpid:016x}")),
                3,
                &[],
            );
            b.set_controllers(&targets);
            (dpid, b)
        })
        .collect();
    let dpids: Vec<u64> = bridges.iter().map(|(d, _)| *d).collect();
    println!(
        "{n} bridges created and pointed at {count} instances in {:.2} s (lease {lease} s)",
        started.elapsed().as_secs_f64()
    );
    let all: Vec<&Instance> = instances.iter().collect();
    let Some((per, took)) = wait_for(Duration::from_secs(120), || settled(&dpids, &all)) else {
        eprintln!("the cluster did not settle within 120 s");
        return ExitCode::FAILURE;
    };
    println!(
        "settled {:.2} s after the last bridge was created: masterships {}",
        took.as_secs_f64(),
        instances
            .iter()
            .zip(&per)
            .map(|(i, p)| format!("{}={p}", i.name))
            .collect::<Vec<_>>()
            .join(" ")
    );

    // The prober: a blocked SYN through PROBED bridges every 50 ms until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let (probes, leaks) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let probed: Vec<String> = bridges
        .iter()
        .take(PROBED)
        .map(|(_, b)| b.name.clone())
        .collect();
    let probed_count = probed.len();
    let prober = {
        let (stop, probes, leaks) = (stop.clone(), probes.clone(), leaks.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for name in &probed {
                    let out = std::process::Command::new("ovs-appctl")
                        .args(["ofproto/trace", name, FOREIGN_25])
                        .output();
                    probes.fetch_add(1, Ordering::Relaxed);
                    let text = out
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                        .unwrap_or_default();
                    if !text.contains("Datapath actions: drop") {
                        leaks.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    let victim_index = per
        .iter()
        .enumerate()
        .max_by_key(|(_, p)| **p)
        .map_or(0, |(i, _)| i);
    let sent_before: u64 = instances
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != victim_index)
        .flat_map(|(_, inst)| inst.switches().into_values().map(|(_, s)| s))
        .sum();
    let mut victim = instances.remove(victim_index);
    let victim_pid = victim.pid();
    let victim_hwm = status_kib(victim_pid, "VmHWM:");
    let killed = Instant::now();
    victim.run.signal("-KILL");
    let _ = victim.run.child.wait();
    let survivors: Vec<&Instance> = instances.iter().collect();
    let failover = wait_for(Duration::from_secs(lease + 30), || {
        settled(&dpids, &survivors)
    });
    let since_kill = killed.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let _ = prober.join();
    let Some((after, _)) = failover else {
        eprintln!(
            "not every bridge under a survivor {:.1} s after the kill",
            since_kill.as_secs_f64()
        );
        return ExitCode::FAILURE;
    };
    let sent_after: u64 = survivors
        .iter()
        .flat_map(|inst| inst.switches().into_values().map(|(_, s)| s))
        .sum();
    println!(
        "kill -9 of {} (master of {} bridges): every bridge under a live master in sync {:.2} s after the kill; masterships now {}",
        victim.name,
        per[victim_index],
        since_kill.as_secs_f64(),
        survivors
            .iter()
            .zip(&after)
            .map(|(i, p)| format!("{}={p}", i.name))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "FLOW_MODs sent by the survivors during the failover: {}",
        sent_after.saturating_sub(sent_before)
    );
    let (probes, leaks) = (
        probes.load(Ordering::Relaxed),
        leaks.load(Ordering::Relaxed),
    );
    println!(
        "prober: {probes} traces of a blocked SYN through {probed_count} bridges, {leaks} not dropped"
    );
    println!(
        "peak RSS (VmHWM): {} {victim_hwm} KiB (killed)",
        victim.name
    );
    for i in &survivors {
        println!(
            "peak RSS (VmHWM): {} {} KiB",
            i.name,
            status_kib(i.pid(), "VmHWM:")
        );
    }
    if let Some(pid) = etcd.pid() {
        println!(
            "etcd: CPU {:.2} s since its start, RSS {} KiB, peak {} KiB",
            cpu_secs(pid),
            status_kib(pid, "VmRSS:"),
            status_kib(pid, "VmHWM:")
        );
    }
    drop(bridges);
    if leaks > 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
