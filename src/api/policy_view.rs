//! `GET /api/policy`: the policy in force and its generation, as JSON.
//!
//! The validated [`Config`] is not `Serialize` (it can only come from the parser); this is its
//! read-only view, with the same key names as the policy file.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::policy::{Config, PortNo, PortRoles, ReportPath, SubscriberPorts};

use super::ApiState;

#[derive(Debug, Serialize)]
pub struct PolicyResponse {
    pub generation: u64,
    /// The file reloads read from.
    pub path: Option<String>,
    pub controller: ControllerView,
    pub policy: RulesView,
    pub defaults: RolesView,
    #[serde(rename = "switch")]
    pub switches: Vec<SwitchPolicyView>,
    pub reporting: ReportingView,
}

#[derive(Debug, Serialize)]
pub struct ControllerView {
    pub listen: Option<SocketAddr>,
    pub tls_listen: Option<SocketAddr>,
    pub api_listen: SocketAddr,
    pub echo_interval_secs: f64,
    pub echo_timeout_secs: f64,
    pub audit_interval_secs: f64,
    pub handshake_timeout_secs: f64,
}

#[derive(Debug, Serialize)]
pub struct RulesView {
    pub blocked_ports: Vec<u16>,
    pub relays: Vec<String>,
    pub exempt_sources: Vec<String>,
    /// `NORMAL` or `goto_table:N`.
    pub forwarding: String,
    pub cookie: String,
    pub fragments: String,
}

/// `"all"` or a list of port numbers.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum PortsView {
    All(&'static str),
    List(Vec<u32>),
}

#[derive(Debug, Serialize)]
pub struct RolesView {
    pub subscriber_ports: PortsView,
    pub uplink_ports: Vec<u32>,
}

/// One `[[switch]]` entry: a [`crate::policy::SwitchPolicy`].
#[derive(Debug, Serialize)]
pub struct SwitchPolicyView {
    pub dpid: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub ports: RolesView,
}

#[derive(Debug, Serialize)]
pub struct ReportingView {
    pub enabled: bool,
    pub sample_rate_pps: u32,
    pub max_offenders: usize,
    pub threshold_attempts: u32,
    pub threshold_destinations: u32,
    pub window_secs: u64,
    /// `"-"` (stdout), a file path, or null (no report lines).
    pub report_path: Option<String>,
}

fn ports(set: &BTreeSet<PortNo>) -> Vec<u32> {
    set.iter().map(|p| p.0).collect()
}

fn roles(r: &PortRoles) -> RolesView {
    RolesView {
        subscriber_ports: match &r.subscriber {
            SubscriberPorts::All => PortsView::All("all"),
            SubscriberPorts::List(list) => PortsView::List(ports(list)),
        },
        uplink_ports: ports(&r.uplinks),
    }
}

/// The view of `config` at `generation`.
pub fn view(config: &Config, generation: u64, path: Option<String>) -> PolicyResponse {
    let c = config.controller();
    let p = config.policy();
    let r = p.reporting();
    PolicyResponse {
        generation,
        path,
        controller: ControllerView {
            listen: c.listen,
            tls_listen: c.tls.as_ref().map(|t| t.listen),
            api_listen: c.api_listen,
            echo_interval_secs: c.echo_interval.as_secs_f64(),
            echo_timeout_secs: c.echo_timeout.as_secs_f64(),
            audit_interval_secs: c.audit_interval.as_secs_f64(),
            handshake_timeout_secs: c.handshake_timeout.as_secs_f64(),
        },
        policy: RulesView {
            blocked_ports: p.blocked_ports().to_vec(),
            relays: p.relays().iter().map(ToString::to_string).collect(),
            exempt_sources: p.exempt_sources().iter().map(ToString::to_string).collect(),
            forwarding: p.forwarding().to_string(),
            cookie: format!("{:#018x}", p.cookie().0),
            fragments: p.fragments().as_str().to_owned(),
        },
        defaults: roles(p.defaults()),
        switches: p
            .switches()
            .values()
            .map(|s| SwitchPolicyView {
                dpid: s.dpid.to_string(),
                name: s.name.clone(),
                ports: roles(&s.ports),
            })
            .collect(),
        reporting: ReportingView {
            enabled: r.enabled,
            sample_rate_pps: r.sample_rate_pps,
            max_offenders: r.max_offenders,
            threshold_attempts: r.threshold_attempts,
            threshold_destinations: r.threshold_destinations,
            window_secs: r.window_secs,
            report_path: r.report_path.as_ref().map(|p| match p {
                ReportPath::Stdout => "-".to_owned(),
                ReportPath::File(f) => f.display().to_string(),
            }),
        },
    }
}

pub async fn get(State(state): State<ApiState>) -> Json<PolicyResponse> {
    let active = state.store.current();
    let path = state.store.path().map(|p| p.display().to_string());
    Json(view(active.config(), active.generation(), path))
}
