//! A headless Chromium driven over W3C WebDriver, for tests that assert on what a real browser
//! renders: Debian's `chromium` with its `chromedriver` (package `chromium-driver`), spoken to
//! with plain HTTP+JSON (ureq, already a dependency) instead of a WebDriver crate. The test
//! needs four commands (new session, navigate, execute script, delete session), all in the
//! W3C spec; chromedriver comes from the same source package as the browser, so the two always
//! match.
//!
//! When `chromium` or `chromedriver` is missing the test FAILS with instructions; it never
//! skips.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::net::free_port;
use crate::temp::temp_dir;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Fails the test unless Debian's `chromium` and `chromedriver` are installed.
pub fn require_chromium() {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: this test needs a real browser. Install Debian's `{package}` \
             (scripts/install-deps does)."
        );
    }
}

/// A chromedriver process and one headless Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session.
    pub fn start() -> Browser {
        require_chromium();
        let port = free_port().port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.call("GET", "/status", None).is_none() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = temp_dir("chromium-profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         format!("--user-data-dir={}", profile.display())],
            }
        }}});
        let created = browser
            .call("POST", "/session", Some(&caps))
            .expect("chromedriver answers");
        browser.session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        browser
    }

    /// One WebDriver command; `None` when chromedriver does not answer.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Option<Value> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, Some(b)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            (_, None) => self.agent.post(&url).send("{}"),
        };
        let mut r = response.ok()?;
        let text = r.body_mut().read_to_string().ok()?;
        serde_json::from_str(&text).ok()
    }

    fn command(&self, path: &str, body: &Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let v = self
            .call("POST", &path, Some(body))
            .unwrap_or_else(|| panic!("chromedriver did not answer {path}"));
        if v["value"].get("error").is_some() {
            panic!("WebDriver {path} failed: {}", v["value"]);
        }
        v["value"].clone()
    }

    /// Navigates to `url` (returns when the page has loaded).
    pub fn goto(&self, url: &str) {
        self.command("/url", &json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page; its return value.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.command("/execute/sync", &json!({ "script": script, "args": args }))
    }

    /// Runs `script` until it returns something other than `null`/`false` (returned); fails
    /// the test after `timeout` with the last value.
    pub fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.execute(script, &[]);
            if !(v.is_null() || v == Value::Bool(false)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {timeout:?}; page body: {}",
                self.execute("return document.body.innerText", &[])
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
