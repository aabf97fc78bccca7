//! The status page in a real browser against the real controller and a real switch: Debian's
//! headless Chromium (WebDriver, `test-support/src/webdriver.rs`) loads `GET /` from `op25b
//! run`, which controls a userspace Open vSwitch bridge. Asserted on the DOM:
//! 1. the switch's row appears `in sync` with its dpid, name and flow count, the policy's
//!    generation and file hash are shown, and no offender data is shown without the token;
//! 2. `ovs-ofctl del-flows` wipes the bridge: the row turns `drifting` and back to `in sync`
//!    (a MutationObserver in the page records every state the row takes, since the repair
//!    takes milliseconds), and its "last drift" cell is filled;
//! 3. a reload through `POST /api/reload` shows up in the reload history and the generation;
//! 4. pasting the API token into the page brings the offender section (counts) up.
//!
//! Needs Open vSwitch running and `chromium` + `chromium-driver`. When any is missing this
//! test FAILS with instructions; it never skips.

use std::process::Command;
use std::time::Duration;

use op25b_test_support::command::must;
use op25b_test_support::net::free_port;
use op25b_test_support::op25b_run::Op25bRun;
use op25b_test_support::ovs::{require_ovs, Bridge};
use op25b_test_support::poll::poll;
use op25b_test_support::temp::temp_dir;
use op25b_test_support::webdriver::{require_chromium, Browser};
use serde_json::Value;

const DPID: &str = "00:00:00:00:00:00:25:c1";
/// How long the page may take to show a change (it is pushed; this is slack for a busy box).
const SHOWN_WITHIN: Duration = Duration::from_secs(10);

fn policy(name: &str) -> String {
    format!(
        r#"
[controller]
echo_interval_secs = 5
echo_timeout_secs = 15
audit_interval_secs = 3600

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32"]

[[switch]]
dpid = "{DPID}"
name = "{name}"
uplink_ports = [2]

[reporting]
enabled = true
"#
    )
}

/// True once the switch's row is there and in sync.
const ROW_IN_SYNC: &str = r#"
const row = document.querySelector('#switches tr[data-dpid="00:00:00:00:00:00:25:c1"]');
return row !== null && row.dataset.state === 'in-sync';"#;

#[test]
fn the_page_shows_a_real_switch_drifting_and_repaired() {
    require_ovs();
    require_chromium();
    let dir = temp_dir("ui-browser");
    let policy_path = dir.join("policy.toml");
    std::fs::write(&policy_path, policy("edge-ui")).expect("write policy");
    let (of_addr, api_port) = (free_port(), free_port().port());
    let base = format!("http://127.0.0.1:{api_port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_op25b"));
    cmd.arg("run")
        .arg("--config")
        .arg(&policy_path)
        .args(["--listen", &of_addr.to_string()])
        .args(["--api-listen", &format!("127.0.0.1:{api_port}")]);
    let mut controller = Op25bRun::spawn(cmd);
    controller.wait_line(&["HTTP API listening"], Duration::from_secs(10));
    let bridge = Bridge::create(
        Bridge::unique_name("o25u"),
        Some(&DPID.replace(':', "")),
        2,
        &[],
    );
    bridge.set_controller(of_addr);

    let browser = Browser::start();
    browser.goto(&format!("{base}/"));
    // 1. The row, in sync, with what the switch holds.
    browser.wait_for("the switch row in sync", SHOWN_WITHIN, ROW_IN_SYNC);
    let row = browser.execute(
        r#"const row = document.querySelector('#switches tr[data-dpid="00:00:00:00:00:00:25:c1"]');
           const t = (c) => row.querySelector('td.' + c).textContent;
           return {state: row.querySelector('.state').textContent, dpid: t('dpid'), name: t('name'),
                   flows: t('flows'), last_sync: t('last-sync'), in_sync: document.getElementById('n-in-sync').textContent,
                   connected: document.getElementById('n-connected').textContent};"#,
        &[],
    );
    assert_eq!(row["state"], "in sync", "{row}");
    assert_eq!(row["dpid"], DPID);
    assert_eq!(row["name"], "edge-ui");
    assert_eq!(row["connected"], "1");
    assert_eq!(row["in_sync"], "1");
    assert!(!row["last_sync"].as_str().unwrap_or("").is_empty(), "{row}");
    let flows = row["flows"].as_str().expect("flows cell").to_owned();
    let (on_switch, desired) = flows.split_once(" / ").expect("'n / m'");
    assert_eq!(on_switch, desired, "{flows}");
    let ours = bridge
        .ofctl(&["dump-flows"])
        .lines()
        .filter(|l| l.contains("cookie=0x4f50323542000000"))
        .count();
    assert_eq!(
        on_switch,
        ours.to_string(),
        "the page shows what the bridge holds"
    );
    let sha = must("sha256sum", &[policy_path.to_str().expect("utf-8")]);
    let page_policy = browser.execute(
        "return [document.getElementById('p-generation').textContent, document.getElementById('p-sha256').textContent, document.getElementById('p-trigger').textContent];",
        &[],
    );
    assert_eq!(page_policy[0], "1");
    assert_eq!(page_policy[1], sha.split_whitespace().next().expect("hash"));
    assert_eq!(page_policy[2], "start");
    let offenders = browser.execute(
        "return [document.getElementById('offenders-table').hidden, document.getElementById('offenders-note').textContent];",
        &[],
    );
    assert_eq!(offenders[0], true, "no offender table without the token");
    assert!(offenders[1]
        .as_str()
        .unwrap_or("")
        .contains("needs the API token"));

    // 2. Wipe the bridge: the row must go drifting, then in sync again.
    browser.execute(
        r#"const row = document.querySelector('#switches tr[data-dpid="00:00:00:00:00:00:25:c1"]');
           window.seenStates = [row.dataset.state];
           // Both changes may land in one task: each record's new value is the next one's old.
           new MutationObserver((ms) => ms.forEach((m, i) =>
               window.seenStates.push(i + 1 < ms.length ? ms[i + 1].oldValue : row.dataset.state)))
             .observe(row, {attributes: true, attributeOldValue: true, attributeFilter: ['data-state']});
           return true;"#,
        &[],
    );
    bridge.ofctl(&["del-flows"]);
    let states = browser.wait_for(
        "the row drifting, then in sync",
        SHOWN_WITHIN,
        r#"const s = window.seenStates, d = s.indexOf('drifting');
           return d >= 0 && s.slice(d + 1).includes('in-sync') && s[s.length - 1] === 'in-sync' ? s : null;"#,
    );
    let last_drift = browser.execute(
        r#"return document.querySelector('#switches tr[data-dpid="00:00:00:00:00:00:25:c1"] td.last-drift').textContent;"#,
        &[],
    );
    assert!(
        !last_drift.as_str().unwrap_or("").is_empty(),
        "last drift shown after {states}"
    );
    // And the bridge really holds its flows again.
    poll("our flows back on the bridge", SHOWN_WITHIN, || {
        let n = bridge
            .ofctl(&["dump-flows"])
            .lines()
            .filter(|l| l.contains("cookie=0x4f50323542000000"))
            .count();
        (n == ours).then_some(())
    });

    // 3. A reload shows up.
    std::fs::write(&policy_path, policy("edge-ui-2")).expect("rewrite policy");
    let token = op25b_test_support::api::bearer_from(&dir.join("api-token"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let status = agent
        .post(&format!("{base}/api/reload"))
        .header("Authorization", &token)
        .send_empty()
        .expect("POST /api/reload")
        .status();
    assert_eq!(status.as_u16(), 200);
    // The file watch may see the new file before the API call does: either installs it.
    let history = browser.wait_for(
        "the reload in the history",
        SHOWN_WITHIN,
        r#"const all = [...document.querySelectorAll('#reloads li')].map((li) => li.textContent);
           return document.getElementById('p-generation').textContent === '2'
             && all.some((t) => t.includes('installed generation 2')) ? all : null;"#,
    );
    assert!(
        history.as_array().is_some_and(|h| h
            .iter()
            .any(|t| t.as_str().is_some_and(|t| t.contains("API: ")))),
        "the API reload is listed: {history}"
    );

    // 4. The token, pasted into the page, opens the offender section.
    let bare = token.trim_start_matches("Bearer ").to_owned();
    browser.execute(
        "document.getElementById('token').value = arguments[0]; document.querySelector('#token-form button[type=submit]').click(); return true;",
        &[Value::from(bare.clone())],
    );
    let note = browser.wait_for(
        "the offender counts",
        SHOWN_WITHIN,
        r#"const t = document.getElementById('offenders-table');
           return t.hidden ? null : document.getElementById('offenders-note').textContent;"#,
    );
    assert!(
        note.as_str().unwrap_or("").contains("subscribers tracked"),
        "{note}"
    );
    let stored = browser.execute(
        "return [sessionStorage.getItem('op25b-api-token'), location.href];",
        &[],
    );
    assert_eq!(
        stored[0],
        Value::from(bare.clone()),
        "kept in sessionStorage"
    );
    assert!(
        !stored[1].as_str().unwrap_or("").contains(&bare),
        "never in the URL"
    );
}
