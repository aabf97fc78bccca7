//! `GET /api/events` (server-sent events) and `GET /` (the status page's files) over real
//! TCP: the snapshot, switch changes in order (drifting, then in sync), reloads with the
//! file's hash, offenders only for a token holder, the heartbeat, the cap on streams, and a
//! client that falls behind being dropped while the registry's writers never wait.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use op25b::api::EventLimits;
use op25b::fleet::registry::SyncState;
use op25b_test_support::api::event_stream::{open, Item};
use op25b_test_support::api::{syn_sample, TestApi, POLICY, TEST_TOKEN};
use op25b_test_support::command::must;

const WAIT: Duration = Duration::from_secs(5);

fn bearer() -> String {
    format!("Authorization: Bearer {TEST_TOKEN}")
}

fn sha256sum(path: &std::path::Path) -> String {
    let out = must("sha256sum", &[path.to_str().expect("utf-8 path")]);
    out.split_whitespace().next().expect("a hash").to_owned()
}

#[test]
fn the_stream_starts_with_a_snapshot_then_pushes_switch_changes_in_order() {
    let api = TestApi::start(false);
    api.fill_registry();
    let mut events = open(api.addr, &[]);
    assert_eq!(events.status, 200);
    assert!(
        events.head.contains("content-type: text/event-stream"),
        "{}",
        events.head
    );
    let snap = events.wait_event("snapshot", WAIT, |_| true);
    let listed: Vec<&str> = snap["switches"]["switches"]
        .as_array()
        .expect("switches")
        .iter()
        .map(|s| s["dpid"].as_str().expect("dpid"))
        .collect();
    assert_eq!(
        listed,
        ["00:00:00:00:00:00:00:01", "00:00:00:00:00:00:0a:bc"]
    );
    assert_eq!(snap["policy"]["generation"], 1);
    assert_eq!(snap["policy"]["trigger"], "start");
    assert_eq!(snap["policy"]["sha256"], sha256sum(&api.policy_path));
    assert_eq!(snap["offenders_visible"], false);

    // What a session does when an audit finds drift and repairs it.
    let h = api
        .registry
        .connect(1, 9, "10.1.1.1:40001".parse().unwrap(), SystemTime::now());
    h.update(|s| s.sync_state = SyncState::Syncing);
    h.update(|s| {
        s.drifting_since = Some(SystemTime::now());
        s.last_drift = s.drifting_since;
    });
    h.update(|s| {
        s.drifting_since = None;
        s.sync_state = SyncState::InSync;
    });
    let one = |v: &serde_json::Value| v["dpid"] == "00:00:00:00:00:00:00:01";
    let drifting = events.wait_event("switch", WAIT, |v| one(v) && !v["drifting_since"].is_null());
    assert_eq!(drifting["sync_state"], "syncing");
    let repaired = events.wait_event("switch", WAIT, |v| one(v) && v["sync_state"] == "in_sync");
    assert!(repaired["drifting_since"].is_null());
    assert_eq!(repaired["last_drift"], drifting["last_drift"]);
    // Counters alone are no event.
    h.update(|s| s.counters.packet_ins += 5);
    let quiet = events.collect_for(Duration::from_millis(300));
    assert!(
        !quiet
            .iter()
            .any(|i| matches!(i, Item::Event { name, .. } if name == "switch")),
        "{quiet:?}"
    );
}

#[test]
fn reloads_are_pushed_with_the_new_hash_and_rejections_with_their_error() {
    let api = TestApi::start(false);
    let mut events = open(api.addr, &[]);
    events.wait_event("snapshot", WAIT, |_| true);
    std::fs::write(&api.policy_path, POLICY.replace("edge-1", "edge-one")).expect("write");
    let (status, _) = api.json("POST", "/api/reload");
    assert_eq!(status, 200);
    let installed = events.wait_event("reload", WAIT, |_| true);
    assert_eq!(installed["reload"]["result"], "installed");
    assert_eq!(installed["reload"]["trigger"], "API");
    assert_eq!(installed["policy"]["generation"], 2);
    assert_eq!(installed["policy"]["sha256"], sha256sum(&api.policy_path));
    std::fs::write(&api.policy_path, "[policy]\nblocked_ports = [\"x\"]\n").expect("write");
    let (status, _) = api.json("POST", "/api/reload");
    assert_eq!(status, 422);
    let rejected = events.wait_event("reload", WAIT, |_| true);
    assert_eq!(rejected["reload"]["result"], "rejected");
    let error = rejected["reload"]["error"].as_str().expect("error text");
    assert!(error.contains("policy.toml"), "{error}");
    assert_eq!(
        rejected["policy"]["generation"], 2,
        "the policy in force stayed"
    );
    // A new client gets both in the history.
    let mut late = open(api.addr, &[]);
    let snap = late.wait_event("snapshot", WAIT, |_| true);
    let results: Vec<&str> = snap["reloads"]
        .as_array()
        .expect("reloads")
        .iter()
        .map(|r| r["result"].as_str().expect("result"))
        .collect();
    assert_eq!(results, ["installed", "rejected"]);
}

fn feed_bot(api: &TestApi) {
    let samples = api.samples.as_ref().expect("offender service on");
    let start = SystemTime::now();
    api.rt.block_on(async {
        for i in 0..35u16 {
            let at = start + Duration::from_millis(u64::from(i) * 50);
            let s = syn_sample(1, 3, [10, 0, 0, 66], 1 + (i % 7) as u8, 40_000 + i, at);
            samples.send(s).await.expect("service running");
        }
    });
}

#[test]
fn offenders_go_only_to_a_stream_opened_with_the_token() {
    let limits = EventLimits {
        offender_interval: Duration::from_millis(100),
        ..EventLimits::default()
    };
    let api = TestApi::start_with_events(true, limits);
    let mut anonymous = open(api.addr, &[]);
    let mut holder = open(api.addr, &[&bearer()]);
    let wrong = open(api.addr, &["Authorization: Bearer not-the-token"]);
    assert_eq!(wrong.status, 401);
    assert_eq!(
        holder.wait_event("snapshot", WAIT, |_| true)["offenders_visible"],
        true
    );
    feed_bot(&api);
    let seen = holder.wait_event("offenders", WAIT, |v| v["flagged"] == 1);
    assert_eq!(seen["offenders"][0]["source_ip"], "10.0.0.66");
    let everything = anonymous.collect_for(Duration::from_secs(1));
    assert!(
        everything
            .iter()
            .any(|i| matches!(i, Item::Event { name, .. } if name == "snapshot")),
        "{everything:?}"
    );
    for item in &everything {
        if let Item::Event { name, data } = item {
            assert_ne!(name, "offenders");
            assert!(!data.contains("10.0.0.66"), "{data}");
        }
    }
}

#[test]
fn heartbeats_flow_and_streams_are_capped() {
    let limits = EventLimits {
        max_streams: 2,
        heartbeat: Duration::from_millis(200),
        ..EventLimits::default()
    };
    let api = TestApi::start_with_events(false, limits);
    let mut a = open(api.addr, &[]);
    let _b = open(api.addr, &[]);
    let third = open(api.addr, &[]);
    assert_eq!(third.status, 503, "{}", third.head);
    let got = a.collect_for(Duration::from_millis(700));
    assert!(
        got.contains(&Item::Comment("heartbeat".to_owned())),
        "{got:?}"
    );
    drop(a);
    // The slot comes back once the server notices the closed connection (its next write).
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let again = open(api.addr, &[]);
        if again.status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slot never freed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_client_that_falls_behind_is_dropped_and_writers_never_wait_for_it() {
    let api = TestApi::start_with_events(false, EventLimits::default());
    api.fill_registry();
    let mut slow = open(api.addr, &[]);
    let h = api
        .registry
        .connect(1, 9, "10.1.1.1:40001".parse().unwrap(), SystemTime::now());
    // Far more changes than the broadcast buffer holds, faster than any client reads.
    for i in 0..20_000usize {
        h.update(|s| s.flow_count = i);
    }
    let got = slow.collect_for(Duration::from_secs(10));
    assert!(
        got.iter()
            .any(|i| matches!(i, Item::Event { name, .. } if name == "overflow")),
        "no overflow event in {} items",
        got.len()
    );
    assert_eq!(
        got.last(),
        Some(&Item::End),
        "the stream ends after overflow"
    );
}

#[test]
fn the_page_is_self_contained_and_forbids_external_loads() {
    let api = TestApi::start(false);
    let (status, ct, html) = api.request_with("GET", "/", &[]);
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains(r#"<script src="/ui/app.js""#), "{html}");
    let mut all = html.clone();
    for (path, kind) in [
        ("/ui/app.js", "text/javascript"),
        ("/ui/app.css", "text/css"),
    ] {
        let (status, ct, body) = api.request_with("GET", path, &[]);
        assert_eq!(status, 200, "{path}");
        assert!(ct.starts_with(kind), "{path}: {ct}");
        all.push_str(&body);
    }
    for external in ["http://", "https://", "//cdn", "@import"] {
        assert!(!all.contains(external), "the page refers to {external}");
    }
    assert!(
        !all.contains("<script>") && !all.contains("style="),
        "no inline code"
    );
    let csp = {
        let mut tcp = TcpStream::connect(api.addr).expect("connect");
        write!(
            tcp,
            "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            api.addr
        )
        .expect("send");
        let mut text = String::new();
        tcp.read_to_string(&mut text).expect("read");
        text.to_ascii_lowercase()
    };
    assert!(
        csp.contains("content-security-policy: default-src 'none'; script-src 'self';"),
        "{csp}"
    );
    // The DNS-rebinding guard covers the page too.
    let (status, _, _) = api.request_with("GET", "/", &[("Host", "evil.example")]);
    assert_eq!(status, 421);
}
