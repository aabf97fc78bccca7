//! The API over the real controller runtime: a simulated OpenFlow switch (op25b-sim, over
//! loopback TCP) connects, gets synced with sampling drop flows, and blocked SYNs it sends up
//! as PACKET_INs reach the offender service through the session, then `/api/offenders`,
//! `/api/switches` and `/metrics`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use op25b::api::Readiness;
use op25b::cli::launch;
use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::Registry;
use op25b::policy::Config;
use op25b_sim::{PacketHeaders, SimSwitch, SimSwitchConfig};
use op25b_test_support::api::prometheus_text::{parse, value};
use op25b_test_support::poll::poll;
use op25b_test_support::temp::temp_dir;
use tokio_util::sync::CancellationToken;

/// How long each condition the test waits for may take.
const WAIT: Duration = Duration::from_secs(10);

const POLICY: &str = r#"
[controller]
listen = "127.0.0.1:0"
echo_interval_secs = 1
echo_timeout_secs = 3
handshake_timeout_secs = 2
# No audit during the test: the blocked counters must come from the counter poll.
audit_interval_secs = 3600

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]

[reporting]
enabled = true
counters_interval_secs = 1
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn get_status(base: &str, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&format!("{base}{path}"))
        .call()
        .expect("API answers");
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().expect("body"),
    )
}

#[test]
fn a_simulated_switch_is_listed_in_sync_and_its_bot_is_flagged() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = temp_dir("runtime");
    let path = dir.join("policy.toml");
    std::fs::write(&path, POLICY).expect("write policy");
    let config = Config::load(&path).expect("valid").config;
    let registry = Arc::new(Registry::new());
    let store = Arc::new(PolicyStore::new(config, Some(path)));
    let shutdown = CancellationToken::new();
    let _enter = rt.enter();

    // Wired as `op25b run` should be: launch (offender service + API), then the controller
    // with the launch's sample sender, then readiness.
    let readiness = Arc::new(Readiness::new());
    let obs = rt
        .block_on(launch::start(
            registry.clone(),
            store.clone(),
            readiness.clone(),
            Some("127.0.0.1:0".parse().expect("addr")),
            shutdown.clone(),
        ))
        .expect("observability starts");
    let base = format!("http://{}", obs.api_addr);
    let (status, _) = get_status(&base, "/readyz");
    assert_eq!(status, 503, "not ready before the OpenFlow listener");
    let controller = Controller::start_observed(
        store.clone(),
        registry.clone(),
        ControllerOptions {
            listen: None,
            tls_listen: None,
            samples: obs.samples.clone(),
            masterships: None,
        },
        obs.observations.clone(),
    )
    .expect("controller starts");
    readiness.set_openflow_listening(true);
    let (status, _) = get_status(&base, "/readyz");
    assert_eq!(status, 200, "ready once the OpenFlow listener is up");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let bearer = op25b_test_support::api::bearer_from(&obs.token_file);
    let get = |path: &str| -> (u16, String) {
        let mut r = agent
            .get(&format!("{base}{path}"))
            .header("Authorization", &bearer)
            .call()
            .expect("API answers");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().expect("body"),
        )
    };

    let sw = SimSwitch::new(SimSwitchConfig::new(0x104, 4));
    rt.block_on(sw.connect(controller.local_addr()))
        .expect("switch connects");

    let listed = poll("the switch in sync in /api/switches", WAIT, || {
        let (status, body) = get("/api/switches");
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let s = v["switches"].get(0)?.clone();
        (s["sync_state"] == "in_sync").then_some(s)
    });
    assert_eq!(listed["dpid"], "00:00:00:00:00:00:01:04");
    assert_eq!(listed["connected"], true);
    assert_eq!(listed["meters_in_use"], true);
    assert!(listed["flow_count"].as_u64().expect("count") > 0);

    // A bot on port 1 (35 connections to 7 hosts) and a mail client on port 2 (35 to one).
    for i in 0..35u16 {
        let host = ip(&format!("198.51.100.{}", 1 + i % 7));
        let bot = sw.inject_packet(&PacketHeaders::tcp(
            1,
            ip("10.0.0.66"),
            40_000 + i,
            host,
            25,
        ));
        let client = PacketHeaders::tcp(2, ip("10.0.0.20"), 50_000 + i, ip("198.51.100.200"), 25);
        let client = sw.inject_packet(&client);
        assert!(
            bot.is_blocked() && client.is_blocked(),
            "blocked: {bot:?} {client:?}"
        );
        assert!(
            bot.sends_to_controller() && client.sends_to_controller(),
            "sampled"
        );
    }

    let flagged = poll("the bot flagged in /api/offenders", WAIT, || {
        let (status, body) = get("/api/offenders?flagged=true");
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let list = v["offenders"].as_array()?.clone();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0]["source_ip"], "10.0.0.66");
    assert_eq!(flagged[0]["port"], 1);
    assert_eq!(flagged[0]["switch"], "00:00:00:00:00:00:01:04");

    let all = poll("both subscribers tracked", WAIT, || {
        let (_, body) = get("/api/offenders");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        (v["tracked"] == 2).then_some(v)
    });
    let client = all["offenders"]
        .as_array()
        .expect("array")
        .iter()
        .find(|o| o["source_ip"] == "10.0.0.20")
        .cloned()
        .expect("client tracked");
    assert_eq!(client["flagged"], false);
    assert_eq!(client["attempts"], 35);

    let (status, text) = get("/metrics");
    assert_eq!(status, 200);
    let f = parse(&text).expect("valid exposition");
    let dpid = [("dpid", "00:00:00:00:00:00:01:04")];
    assert_eq!(value(&f, "op25b_switches_in_sync", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_offenders_flagged", &[]), Some(1.0));
    assert_eq!(value(&f, "op25b_sampled_packets_total", &dpid), Some(70.0));
    assert_eq!(value(&f, "op25b_sampled_attempts_total", &dpid), Some(70.0));
    assert!(value(&f, "op25b_flow_mods_sent_total", &dpid).is_some_and(|n| n > 0.0));

    // The sessions' flow reads (the 1 s counter poll; the audit is an hour away) reach the
    // API: desired and actual flows agree, and the drop flows' counters count the 70 blocked
    // SYNs.
    let detail = poll(
        "blocked packets from the drop flows' counters",
        WAIT,
        || {
            let (status, body) = get("/api/switches/0x104");
            assert_eq!(status, 200);
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            (v["blocked_packets"] == 70).then_some(v)
        },
    );
    let desired: Vec<&str> = detail["desired_flows"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f.as_str().expect("ofctl line"))
        .collect();
    let mut actual: Vec<&str> = detail["actual_flows"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["flow"].as_str().expect("recognised flow"))
        .collect();
    let mut sorted_desired = desired.clone();
    sorted_desired.sort_unstable();
    actual.sort_unstable();
    assert!(!desired.is_empty());
    assert_eq!(
        actual, sorted_desired,
        "the switch holds what the policy wants"
    );
    assert!(detail["blocked_bytes"]
        .as_u64()
        .is_some_and(|b| b >= 70 * 54));
    assert!(detail["syncs_by_reason"]["connect"]["ok"] == 1, "{detail}");
    let (_, text) = get("/metrics");
    let f = parse(&text).expect("valid exposition");
    assert_eq!(value(&f, "op25b_blocked_packets_total", &dpid), Some(70.0));
    let hist = f.get("op25b_sync_duration_seconds").expect("histogram");
    assert!(hist
        .samples
        .iter()
        .any(|s| s.name.ends_with("_count") && s.value >= 1.0));

    shutdown.cancel();
    rt.block_on(controller.shutdown());
    rt.block_on(obs.join());
    sw.disconnect();
}
