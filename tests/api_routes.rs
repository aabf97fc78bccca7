//! The JSON API over real HTTP on 127.0.0.1:0: shapes, status codes, JSON errors.

use op25b_test_support::api::TestApi;
use serde_json::json;

#[test]
fn switches_list_shows_each_switch_with_state_and_counts() {
    let api = TestApi::start(false);
    api.fill_registry();
    let (status, body) = api.json("GET", "/api/switches");
    assert_eq!(status, 200);
    assert_eq!(body["policy_generation"], 1);
    let switches = body["switches"].as_array().expect("switches array");
    assert_eq!(switches.len(), 2);
    let edge = &switches[0];
    assert_eq!(edge["dpid"], "00:00:00:00:00:00:00:01");
    assert_eq!(edge["dpid_int"], 1);
    assert_eq!(edge["name"], "edge-1");
    assert_eq!(edge["peer"], "10.1.1.1:40001");
    assert_eq!(edge["connected"], true);
    assert_eq!(edge["sync_state"], "in_sync");
    assert_eq!(edge["flow_count"], 9);
    assert_eq!(edge["last_error"], serde_json::Value::Null);
    let since = edge["connected_since"].as_str().expect("RFC 3339 string");
    assert!(since.ends_with('Z') && since.contains('T'), "{since}");
    let other = &switches[1];
    assert_eq!(other["dpid"], "00:00:00:00:00:00:0a:bc");
    assert_eq!(other["connected"], false);
    assert_eq!(other["sync_state"], "disconnected");
    assert_eq!(other["last_error"], "FLOW_MOD_FAILED/TABLE_FULL");
}

#[test]
fn one_switch_accepts_every_dpid_form_the_policy_accepts() {
    let api = TestApi::start(false);
    api.fill_registry();
    for form in ["00:00:00:00:00:00:0a:bc", "0xabc", "0XABC", "2748"] {
        let (status, body) = api.json("GET", &format!("/api/switches/{form}"));
        assert_eq!(status, 200, "{form}: {body}");
        assert_eq!(body["dpid"], "00:00:00:00:00:00:0a:bc", "{form}");
        assert_eq!(body["counters"]["syncs_failed"], 1);
        assert!(body["desired_flows"].is_array());
        assert!(body["actual_flows"].is_array());
    }
}

#[test]
fn one_switch_shows_desired_and_actual_flows_from_the_observations() {
    use op25b::flows::{desired_flows, flow_mods_for, SwitchView};
    use op25b::policy::{Dpid, PortNo};
    use op25b_proto::multipart::stats::FlowStats;

    let api = TestApi::start(false);
    api.fill_registry();
    let policy = api.store.current();
    let desired = desired_flows(
        policy.config().policy(),
        &SwitchView::new(Dpid(1), [PortNo(1), PortNo(2), PortNo(4)]),
    );
    let entries: Vec<FlowStats> = flow_mods_for(&desired)
        .into_iter()
        .map(|fm| FlowStats {
            table_id: fm.table_id,
            duration_sec: 30,
            duration_nsec: 0,
            priority: fm.priority,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie: fm.cookie,
            packet_count: 2,
            byte_count: 148,
            match_: fm.match_,
            instructions: fm.instructions,
        })
        .collect();
    let now = std::time::SystemTime::now();
    api.observations.record_desired(1, &desired, now);
    let entries: Vec<op25b::flows::ReportedFlow> = entries
        .iter()
        .map(op25b::flows::ReportedFlow::from_stats)
        .collect();
    api.observations.record_flow_read(1, &entries, now);

    let (status, body) = api.json("GET", "/api/switches/1");
    assert_eq!(status, 200);
    let want: Vec<String> = body["desired_flows"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("ofctl line").to_owned())
        .collect();
    assert_eq!(want.len(), desired.flows.len());
    assert!(want
        .iter()
        .any(|l| l.contains("tp_dst=25") && l.contains("meter:1,controller:128")));
    let actual = body["actual_flows"].as_array().expect("array");
    assert_eq!(actual.len(), entries.len());
    let got: Vec<String> = actual
        .iter()
        .map(|f| f["flow"].as_str().expect("recognised").to_owned())
        .collect();
    assert_eq!(got, want);
    let blocking = actual.iter().filter(|f| f["blocks"] == true).count() as u64;
    assert!(blocking >= 2);
    assert_eq!(body["blocked_packets"], 2 * blocking);
    assert_eq!(body["blocked_bytes"], 148 * blocking);
}

#[test]
fn a_bad_dpid_is_400_and_an_unknown_one_404_both_json() {
    let api = TestApi::start(false);
    api.fill_registry();
    for bad in ["zz", "0x", "00:01", "18446744073709551616", "-1"] {
        let (status, body) = api.json("GET", &format!("/api/switches/{bad}"));
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"]
                .as_str()
                .expect("error text")
                .contains("invalid dpid"),
            "{body}"
        );
    }
    let (status, body) = api.json("GET", "/api/switches/0x2");
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "no switch with dpid 00:00:00:00:00:00:00:02 has connected"})
    );
}

#[test]
fn unknown_routes_and_wrong_methods_get_json_errors() {
    let api = TestApi::start(false);
    let (status, body) = api.json("GET", "/api/nothing-here");
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "no such endpoint: /api/nothing-here"})
    );
    let (status, body) = api.json("GET", "/api/switches/1/extra");
    assert_eq!(status, 404, "{body}");
    let (status, body) = api.json("DELETE", "/api/switches");
    assert_eq!(status, 405);
    assert_eq!(
        body,
        json!({"error": "DELETE is not allowed on /api/switches"})
    );
    let (status, _) = api.json("GET", "/api/reload");
    assert_eq!(status, 405);
    let (status, _) = api.json("POST", "/metrics");
    assert_eq!(status, 405);
}

#[test]
fn offenders_query_is_checked() {
    let api = TestApi::start(true);
    for bad in [
        "limit=abc",
        "limit=0",
        "limit=10001",
        "limit=-3",
        "flagged=maybe",
        "colour=red",
    ] {
        let (status, body) = api.json("GET", &format!("/api/offenders?{bad}"));
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let (status, body) = api.json("GET", "/api/offenders?flagged=true&limit=5");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"enabled": true, "tracked": 0, "flagged": 0, "offenders": []})
    );
}

#[test]
fn offenders_say_so_when_reporting_is_off() {
    let api = TestApi::start(false);
    let (status, body) = api.json("GET", "/api/offenders");
    assert_eq!(status, 200);
    assert_eq!(body["enabled"], false);
}

#[test]
fn policy_shows_the_rules_in_force_and_the_generation() {
    let api = TestApi::start(false);
    let (status, body) = api.json("GET", "/api/policy");
    assert_eq!(status, 200);
    assert_eq!(body["generation"], 1);
    assert_eq!(body["policy"]["blocked_ports"], json!([25]));
    assert_eq!(
        body["policy"]["relays"],
        json!(["192.0.2.25/32", "2001:db8::25/128"])
    );
    assert_eq!(body["policy"]["exempt_sources"], json!(["203.0.113.0/29"]));
    assert_eq!(body["policy"]["forwarding"], "NORMAL");
    assert_eq!(body["controller"]["api_listen"], "127.0.0.1:9325");
    assert_eq!(body["defaults"]["subscriber_ports"], "all");
    assert_eq!(body["switch"][0]["dpid"], "00:00:00:00:00:00:00:01");
    assert_eq!(body["switch"][0]["name"], "edge-1");
    assert_eq!(body["switch"][0]["uplink_ports"], json!([4]));
    assert_eq!(body["reporting"]["threshold_attempts"], 30);
    assert!(body["path"]
        .as_str()
        .expect("path")
        .ends_with("policy.toml"));
}

#[test]
fn healthz_always_and_readyz_once_the_openflow_listener_is_up() {
    let api = TestApi::start(false);
    let (status, body) = api.json("GET", "/healthz");
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    let (status, body) = api.json("GET", "/readyz");
    assert_eq!(status, 503);
    assert!(body["error"]
        .as_str()
        .expect("text")
        .contains("OpenFlow listener"));
    api.readiness.set_openflow_listening(true);
    let (status, body) = api.json("GET", "/readyz");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": "ready", "policy_generation": 1, "openflow_listening": true})
    );
}
