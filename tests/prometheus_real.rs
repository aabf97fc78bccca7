//! The shipped dashboard and alerting rules against the real thing: Debian's `prometheus`
//! scraping a running `op25b run` every second while it drives two real Open vSwitch bridges,
//! then every query of deploy/grafana/op25b.json (its template variables substituted as
//! Grafana would, `$dpid` with a real switch) run through Prometheus's HTTP API: each must
//! parse and return data. A metric renamed in the code empties its panels' queries and this
//! test fails naming them. Prometheus also loads deploy/prometheus/op25b-rules.yml: every rule
//! must evaluate without error, and the alerts this fabric must raise do.
//!
//! The fabric has something for every panel: bridge A in sync; bridge B with a one-flow table
//! (Open vSwitch refuses the rest: OpenFlow errors, failed syncs, never in sync) and probes off
//! (a bridge settings problem, `[ovsdb] endpoints` watching the system database); a controller
//! certificate that expires in 10 days; a rejected reload.
//!
//! Needs root, Open vSwitch running, `openssl` and `prometheus` (scripts/install-deps installs
//! them). When one is missing this test FAILS saying how to install it; it never skips.
mod tls_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use op25b_test_support::grafana::{label_values, panel_queries, substitute, variable_queries};
use op25b_test_support::net::free_port;
use op25b_test_support::op25b_run::Op25bRun;
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::poll::poll;
use op25b_test_support::prometheus::{require_prometheus, PrometheusServer};

const DPID_A: &str = "00:00:00:00:00:00:a5:01";
const DPID_B: &str = "00:00:00:00:00:00:a5:02";
const JOB: &str = "op25b";
/// What `$__rate_interval` becomes: 4 scrape intervals or more, as Grafana computes it.
const RATE_INTERVAL: &str = "10s";

fn repo_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn policy(tls: &str, reports: &Path) -> String {
    format!(
        r#"[controller]
{tls}
[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]

[[switch]]
dpid = "{DPID_A}"
uplink_ports = [2]

[[switch]]
dpid = "{DPID_B}"
uplink_ports = [2]

[reporting]
enabled = true
report_path = "{}"

[ovsdb]
endpoints = ["unix:/var/run/openvswitch/db.sock"]
"#,
        reports.display()
    )
}

/// A bridge with two internal ports connected to `target`, plus `extra` ovs-vsctl commands.
fn bridge(dpid: &str, target: &str, extra: &[&str]) -> Bridge {
    let name = Bridge::unique_name("o25p");
    let mut args = vec!["--", "set-controller", name.as_str(), target];
    args.extend_from_slice(extra);
    let args: Vec<String> = args.iter().map(|a| a.replace("{b}", &name)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Bridge::create(name.clone(), Some(&dpid.replace(':', "")), 2, &args)
}

#[test]
fn every_dashboard_query_returns_data_and_the_rules_fire_on_a_real_fabric() {
    require_prometheus();
    require_ovs();
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("deploy/grafana/op25b.json")).expect("dashboard"),
    )
    .expect("the dashboard is JSON");
    for key in ["uid", "title", "schemaVersion", "panels", "templating"] {
        assert!(!dashboard[key].is_null(), "dashboard has no {key}");
    }
    let queries = panel_queries(&dashboard);
    assert!(queries.len() >= 25, "{} queries", queries.len());

    let dir = tls_support::temp_dir("prometheus-real");
    let ca = tls_support::ca(&dir, "switchca");
    let server = tls_support::self_signed(&dir, "controller", 10);
    let tls_addr = free_port().to_string();
    let of = free_port().to_string();
    let config = dir.join("policy.toml");
    let text = policy(
        &tls_support::tls_keys(&tls_addr, &server, &ca.cert),
        &dir.join("reports.jsonl"),
    );
    std::fs::write(&config, &text).expect("write policy");
    let mut op25b = Op25bRun::start(env!("CARGO_BIN_EXE_op25b"), &config, &of, "info");
    let ready = op25b.wait_line(&["HTTP API ready"], Duration::from_secs(15));
    let line: serde_json::Value = serde_json::from_str(&ready).expect("JSON log line");
    let api = line["api"]
        .as_str()
        .unwrap_or_else(|| panic!("no api in {ready}"))
        .to_owned();

    let target = format!("tcp:{of}");
    let _a = bridge(DPID_A, &target, &[]);
    let _b = bridge(
        DPID_B,
        &target,
        &[
            "--",
            "--id=@ft",
            "create",
            "Flow_Table",
            "flow_limit=1",
            "overflow_policy=refuse",
            "--",
            "set",
            "bridge",
            "{b}",
            "flow_tables:0=@ft",
            "--",
            "set",
            "controller",
            "{b}",
            "inactivity_probe=0",
        ],
    );

    let prometheus = PrometheusServer::start(
        JOB,
        std::slice::from_ref(&api),
        &[&repo_file("deploy/prometheus/op25b-rules.yml")],
    );
    // A rejected reload once Prometheus has seen the counter at 0 (increase() needs the
    // sample before): an invalid file, SIGHUP, then the valid one back.
    poll(
        "a scrape of the reload counter",
        Duration::from_secs(30),
        || {
            let rows = prometheus.query("op25b_policy_reloads_total").ok()?;
            (!rows.is_empty()).then_some(())
        },
    );
    std::fs::write(&config, "[policy]\nblocked_ports = [\"25\"]\n").expect("break policy");
    op25b.signal("-HUP");
    op25b.wait_line(&["policy reload rejected"], Duration::from_secs(10));
    std::fs::write(&config, &text).expect("restore policy");

    let vars = [
        ("datasource", "prometheus"),
        ("job", JOB),
        ("instance", api.as_str()),
        ("dpid", DPID_B),
        ("__rate_interval", RATE_INTERVAL),
        ("__interval", "1s"),
    ];

    // The template variables: each query parses and offers the values the panels get.
    for (name, query) in variable_queries(&dashboard) {
        let (selector, label) =
            label_values(&query).unwrap_or_else(|| panic!("${name}: not label_values(): {query}"));
        let expr = substitute(&selector, &vars).unwrap_or_else(|e| panic!("${name}: {e}"));
        let values: BTreeSet<String> =
            poll(&format!("${name} values"), Duration::from_secs(30), || {
                let rows = prometheus
                    .query(&expr)
                    .unwrap_or_else(|e| panic!("${name}: {expr}: {e}"));
                let v: BTreeSet<String> = rows
                    .iter()
                    .filter_map(|r| r["metric"][&label].as_str().map(str::to_owned))
                    .collect();
                (!v.is_empty()).then_some(v)
            });
        let want = vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        if let Some(want) = want {
            if name == "dpid" {
                // B may take a few scrapes to be listed next to A.
                poll("both dpids offered", Duration::from_secs(30), || {
                    let rows = prometheus.query(&expr).ok()?;
                    let v: BTreeSet<&str> = rows
                        .iter()
                        .filter_map(|r| r["metric"]["dpid"].as_str())
                        .collect();
                    (v.contains(DPID_A) && v.contains(DPID_B)).then_some(())
                });
            } else {
                assert!(
                    values.contains(want),
                    "${name} offers {values:?}, not {want}"
                );
            }
        }
    }

    // Every panel query: parses (at once) and returns data (within a minute of scrapes).
    let substituted: Vec<(String, String)> = queries
        .iter()
        .map(|q| {
            let expr = substitute(&q.expr, &vars).unwrap_or_else(|e| panic!("{}: {e}", q.panel));
            (q.panel.clone(), expr)
        })
        .collect();
    let mut empty: Vec<String> = Vec::new();
    for _ in 0..60 {
        empty.clear();
        for (panel, expr) in &substituted {
            match prometheus.query(expr) {
                // A vector of NaN only (a quantile of no observations) shows nothing either.
                Ok(rows) if rows.iter().any(|r| r["value"][1] != "NaN") => {}
                Ok(rows) => empty.push(format!("{panel}: no data: {expr} -> {rows:?}")),
                Err(e) => panic!("{panel}: the query does not run: {e}\n{expr}"),
            }
        }
        if empty.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let state = |expr: &str| format!("{expr}: {:?}", prometheus.query(expr));
    assert!(
        empty.is_empty(),
        "{} of {} panel queries return no data after a minute of scrapes:\n{}\n\nwhat op25b exports:\n{}\n{}",
        empty.len(),
        substituted.len(),
        empty.join("\n"),
        state("op25b_switch_sync_state == 1"),
        state("op25b_syncs_total"),
    );

    // The rules: all evaluate; the alerts this fabric must raise are raised.
    let groups = prometheus.api("/api/v1/rules", &[]).expect("rules");
    let rules: Vec<&serde_json::Value> = groups["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    assert!(rules.len() >= 12, "{groups}");
    let expected: [(&str, &str, &str, &str); 4] = [
        ("Op25bOpenFlowErrors", "dpid", DPID_B, "firing"),
        ("Op25bTlsCertificateExpiresSoon", "role", "server", "firing"),
        ("Op25bPolicyReloadFailed", "result", "failed", "firing"),
        ("Op25bSwitchOutOfSync", "dpid", DPID_B, "pending"),
    ];
    let raised = |alerts: &serde_json::Value| {
        expected
            .iter()
            .filter(|(name, label, value, state)| {
                !alerts["alerts"].as_array().into_iter().flatten().any(|a| {
                    a["labels"]["alertname"] == *name
                        && a["labels"][*label] == *value
                        && a["state"] == *state
                })
            })
            .count()
            == 0
    };
    let mut alerts = serde_json::Value::Null;
    for _ in 0..30 {
        alerts = prometheus.api("/api/v1/alerts", &[]).expect("alerts");
        if raised(&alerts) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        raised(&alerts),
        "expected {expected:?} within 30 s; the alerts are:\n{alerts:#}"
    );
    let groups = prometheus.api("/api/v1/rules", &[]).expect("rules");
    for rule in groups["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
    {
        assert_eq!(rule["health"], "ok", "{rule}\n{}", prometheus.log());
        if rule["name"] == "Op25bSwitchFailedOpen" || rule["name"] == "Op25bDown" {
            assert_eq!(rule["state"], "inactive", "{rule}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
