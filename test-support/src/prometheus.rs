//! A real Prometheus server (Debian's `prometheus` package) for one test: started on a free
//! loopback port with a temp config and TSDB directory, scraping the given targets every second
//! and evaluating the given rule files every second; killed and its directory removed on drop.
//! Queries go through its HTTP API (`/api/v1/query`), so an expression that does not parse is
//! the API's error, exactly as Grafana would see it.
//!
//! When the `prometheus` binary is missing the test FAILS saying how to install it; it never
//! skips.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::command::run;
use crate::net::free_port;
use crate::poll::poll;
use crate::temp::temp_dir;

/// Fails the test, saying how to install it, unless `prometheus` runs.
pub fn require_prometheus() {
    let (ok, out) = run("prometheus", &["--version"]);
    assert!(
        ok,
        "the prometheus binary is needed ({out}); install it with scripts/install-deps, or\n  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus"
    );
}

/// The running server; killed on drop.
pub struct PrometheusServer {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    agent: ureq::Agent,
}

impl PrometheusServer {
    /// Starts `prometheus` scraping `targets` (`host:port`, path `/metrics`) as job `job`
    /// every second, with `rule_files` evaluated every second, and waits until it is ready.
    pub fn start(job: &str, targets: &[String], rule_files: &[&Path]) -> PrometheusServer {
        require_prometheus();
        let dir = temp_dir("prometheus");
        let quoted = |items: Vec<String>| {
            items
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rules = quoted(rule_files.iter().map(|p| p.display().to_string()).collect());
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: [{rules}]\nscrape_configs:\n  - job_name: {job:?}\n    static_configs:\n      - targets: [{}]\n",
            quoted(targets.to_vec())
        );
        let config_file = dir.join("prometheus.yml");
        std::fs::write(&config_file, config).expect("write prometheus.yml");
        let addr = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut server = PrometheusServer {
            child,
            dir,
            base: format!("http://{addr}"),
            agent,
        };
        poll("prometheus to be ready", Duration::from_secs(30), || {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "prometheus exited ({status}):\n{}",
                    std::fs::read_to_string(server.dir.join("prometheus.log")).unwrap_or_default()
                );
            }
            let r = server.agent.get(format!("{}/-/ready", server.base)).call();
            r.ok().filter(|r| r.status() == 200).map(|_| ())
        });
        server
    }

    /// GET `path` (with `params`) of the HTTP API: the JSON answer's `data`, or the API's
    /// `error` (an expression that does not parse, ...).
    pub fn api(&self, path: &str, params: &[(&str, &str)]) -> Result<serde_json::Value, String> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        let mut resp = req.call().map_err(|e| format!("GET {path}: {e}"))?;
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let v: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("GET {path}: {e}: {body}"))?;
        if v["status"] != "success" {
            return Err(format!("{}: {}", v["errorType"], v["error"]));
        }
        Ok(v["data"].clone())
    }

    /// An instant query: the result vector (or scalar as a one-element list), or the error.
    pub fn query(&self, expr: &str) -> Result<Vec<serde_json::Value>, String> {
        let data = self.api("/api/v1/query", &[("query", expr)])?;
        match data["resultType"].as_str() {
            Some("vector" | "matrix") => Ok(data["result"].as_array().cloned().unwrap_or_default()),
            Some("scalar" | "string") => Ok(vec![data["result"].clone()]),
            other => Err(format!("unexpected resultType {other:?}: {data}")),
        }
    }

    /// Prometheus's own log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
