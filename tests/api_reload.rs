//! `POST /api/reload`: the same path as SIGHUP. A broken file is 422 with the validation error
//! and leaves the generation in force; a valid change installs the next generation.

use op25b_test_support::api::prometheus_text::{parse, value};
use op25b_test_support::api::{TestApi, POLICY};

#[test]
fn reload_unchanged_then_installed_then_rejected_with_422() {
    let api = TestApi::start(false);

    let (status, body) = api.json("POST", "/api/reload");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"outcome": "unchanged", "generation": 1})
    );

    let changed = POLICY.replace("blocked_ports = [25]", "blocked_ports = [25, 2525]");
    std::fs::write(&api.policy_path, changed).expect("write policy");
    let (status, body) = api.json("POST", "/api/reload");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"outcome": "installed", "generation": 2})
    );
    let (_, policy) = api.json("GET", "/api/policy");
    assert_eq!(policy["generation"], 2);
    assert_eq!(
        policy["policy"]["blocked_ports"],
        serde_json::json!([25, 2525])
    );

    let broken = POLICY.replace("blocked_ports = [25]", "blocked_ports = [70000]");
    std::fs::write(&api.policy_path, broken).expect("write policy");
    let (status, body) = api.json("POST", "/api/reload");
    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().expect("error text");
    assert!(
        error.contains("policy.toml:"),
        "names the file and line: {error}"
    );
    assert!(
        error.contains("policy.blocked_ports[0]: 70000 is not a TCP port to block"),
        "says what is wrong: {error}"
    );
    println!("422 body: {body}");
    assert_eq!(body["generation"], 2, "the generation in force");

    let (_, policy) = api.json("GET", "/api/policy");
    assert_eq!(policy["generation"], 2, "the rejected file changed nothing");
    assert_eq!(
        policy["policy"]["blocked_ports"],
        serde_json::json!([25, 2525])
    );
    let (_, _, text) = api.request("GET", "/metrics");
    let f = parse(&text).expect("valid exposition");
    assert_eq!(value(&f, "op25b_policy_generation", &[]), Some(2.0));
    assert_eq!(
        value(&f, "op25b_policy_reloads_total", &[("result", "ok")]),
        Some(1.0)
    );
    assert_eq!(
        value(&f, "op25b_policy_reloads_total", &[("result", "failed")]),
        Some(1.0)
    );
}

#[test]
fn reload_of_a_missing_file_is_500_and_keeps_the_policy() {
    let api = TestApi::start(false);
    std::fs::remove_file(&api.policy_path).expect("remove policy");
    let (status, body) = api.json("POST", "/api/reload");
    assert_eq!(status, 500, "{body}");
    assert!(body["error"]
        .as_str()
        .expect("text")
        .contains("cannot read policy file"));
    let (_, policy) = api.json("GET", "/api/policy");
    assert_eq!(policy["generation"], 1);
}
