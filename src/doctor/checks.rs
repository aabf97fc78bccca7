//! The checks: a database's bridges (and, when given, the policy) in, problems out, each with
//! the `ovs-vsctl` command that fixes it. Only bridges with a controller are checked: one
//! without is not op25b's.
//!
//! How Open vSwitch reads the columns (3.1, `vswitchd/bridge.c`, `lib/rconn.c`): `max_backoff`
//! and `inactivity_probe` are milliseconds turned into whole seconds (rounded down); unset
//! means 8 s and 5 s; a probe of 0 s (0 to 999 ms) turns the probes off, any other probe is at
//! least 5 s. A bridge in `standalone` mode (the default) takes over after three probe
//! intervals without its controller. `vlan-limit` that is not a number counts as unset (1).
use super::problem::{CheckedBridge, Diagnosis, Problem, ProblemKind};
use super::records::{BridgeRecord, ControllerRecord, SwitchDatabase};
use super::target;
use crate::policy::{Config, Policy, SubscriberPorts};
use std::net::SocketAddr;
use std::time::Duration;

/// What the policy expects of a bridge.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The policy (which dpids it lists, what `[defaults]` polices).
    pub policy: &'a Policy,
    /// Where this controller listens (`[controller] listen` and `tls_listen`, or what `run`
    /// bound).
    pub listeners: Listeners,
    /// `[controller] echo_timeout_secs`: how long the controller lets a switch be silent.
    pub echo_timeout: Duration,
}

impl<'a> Expectations<'a> {
    /// The expectations of `config` as written.
    pub fn of(config: &'a Config) -> Self {
        Expectations {
            policy: config.policy(),
            listeners: Listeners {
                plain: config.controller().listen,
                tls: config.controller().tls.as_ref().map(|t| t.listen),
            },
            echo_timeout: config.controller().echo_timeout,
        }
    }
}

/// Why some checks were not made without a policy.
pub const SKIPPED_WITHOUT_POLICY: &str = "dpid in the policy, controller targets, max_backoff, inactivity_probe and vlan-limit: no policy given (--config)";
/// The OpenFlow listeners a bridge's controller targets should point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listeners {
    /// Plain TCP (`tcp:` targets).
    pub plain: Option<SocketAddr>,
    /// Mutual TLS (`ssl:` targets); preferred in fixes when set.
    pub tls: Option<SocketAddr>,
}

impl Listeners {
    /// (scheme, address) of each listener, the preferred one (TLS) first.
    fn each(self) -> impl Iterator<Item = (&'static str, SocketAddr)> {
        self.tls
            .map(|a| ("ssl", a))
            .into_iter()
            .chain(self.plain.map(|a| ("tcp", a)))
    }
}

/// Checks every bridge with a controller; with `expect`, against the policy too.
pub fn diagnose(db: &SwitchDatabase, expect: Option<&Expectations>) -> Diagnosis {
    let mut out = Diagnosis::default();
    if expect.is_none() {
        out.skipped.push(SKIPPED_WITHOUT_POLICY.to_owned());
    }
    let mut bridges: Vec<&BridgeRecord> = db
        .bridges
        .iter()
        .filter(|b| !b.controllers.is_empty())
        .collect();
    bridges.sort_by(|a, b| a.name.cmp(&b.name));
    for b in bridges {
        out.checked.push(CheckedBridge {
            name: b.name.clone(),
            dpid: b.dpid(),
        });
        let p = &mut out.problems;
        fail_mode(b, p);
        protocols(b, p);
        pinned_dpid(b, p);
        if let Some(e) = expect {
            in_policy(b, e.policy, p);
            targets(b, e.listeners, p);
            for c in &b.controllers {
                max_backoff(b, c, e.echo_timeout, p);
                inactivity_probe(b, c, e.echo_timeout, p);
            }
            vlan_limit(b, db.vlan_limit.as_deref(), p);
        }
    }
    out
}

fn problem(
    b: &BridgeRecord,
    kind: ProblemKind,
    controller: Option<&ControllerRecord>,
    column: &str,
    found: String,
    why: String,
    fix: String,
) -> Problem {
    Problem {
        bridge: b.name.clone(),
        dpid: b.dpid(),
        problem: kind,
        controller: controller.map(|c| c.target.clone()),
        column: column.to_owned(),
        found,
        why,
        fix,
    }
}

fn fail_mode(b: &BridgeRecord, out: &mut Vec<Problem>) {
    let found = match b.fail_mode.as_deref() {
        Some("secure") => return,
        Some(m) => m.to_owned(),
        None => "unset (standalone)".to_owned(),
    };
    out.push(problem(
        b,
        ProblemKind::FailMode,
        None,
        "fail_mode",
        found,
        "three inactivity probes (about 15 s) after losing its controller Open vSwitch adds a hidden NORMAL flow above every OpenFlow priority, and port 25 is open for everyone".to_owned(),
        format!("ovs-vsctl set-fail-mode {} secure", b.name),
    ));
}

fn protocols(b: &BridgeRecord, out: &mut Vec<Problem>) {
    // Empty: Open vSwitch enables OpenFlow 1.0 to 1.5, 1.3 included.
    if b.protocols.is_empty() || b.protocols.iter().any(|p| p == "OpenFlow13") {
        return;
    }
    out.push(problem(
        b,
        ProblemKind::Protocols,
        None,
        "protocols",
        format!("[{}]", b.protocols.join(", ")),
        "op25b speaks OpenFlow 1.3 only: the handshake fails and no flow is installed".to_owned(),
        format!("ovs-vsctl add bridge {} protocols OpenFlow13", b.name),
    ));
}

fn pinned_dpid(b: &BridgeRecord, out: &mut Vec<Problem>) {
    if b.pinned_dpid().is_some() {
        return;
    }
    let found = match b.pinned_dpid_text() {
        None => "unset".to_owned(),
        Some(t) => format!("{t:?} (not a datapath id Open vSwitch accepts)"),
    };
    let value = b.dpid().map_or_else(
        || "DPID-16-HEX-DIGITS".to_owned(),
        |d| format!("{:016x}", d.0),
    );
    out.push(problem(
        b,
        ProblemKind::DatapathIdUnpinned,
        None,
        "other_config:datapath-id",
        found,
        "the dpid can change when a port is added or the bridge is re-created, and then the policy's [[switch]] entry no longer matches".to_owned(),
        format!("ovs-vsctl set bridge {} other-config:datapath-id={value}", b.name),
    ));
}

fn in_policy(b: &BridgeRecord, policy: &Policy, out: &mut Vec<Problem>) {
    let Some(dpid) = b.dpid() else { return };
    let defaults_police = match &policy.defaults().subscriber {
        SubscriberPorts::All => true,
        SubscriberPorts::List(ports) => !ports.is_empty(),
    };
    if defaults_police || policy.switches().contains_key(&dpid) {
        return;
    }
    out.push(problem(
        b,
        ProblemKind::DpidNotInPolicy,
        None,
        "datapath_id",
        dpid.to_string(),
        "no [[switch]] of the policy lists it and [defaults] polices no port: nothing on this bridge is blocked".to_owned(),
        format!("add [[switch]] dpid = \"{dpid}\" with its subscriber_ports and uplink_ports to the policy file"),
    ));
}

/// Whether `target` reaches one of `listeners` with the matching scheme (`ssl:` for the TLS
/// listener, `tcp:` for the plain one); otherwise why not, said against the preferred listener.
fn reaches_any(target: &str, listeners: Listeners) -> Result<(), String> {
    let scheme = target.split_once(':').map_or(target, |(s, _)| s);
    let mut why = None;
    for (want, addr) in listeners.each() {
        match target::reaches(target, addr) {
            Ok(()) if scheme == want => return Ok(()),
            Ok(()) => {
                why.get_or_insert_with(|| {
                    format!("{addr} with {scheme}:, but this controller takes {want}: there")
                });
            }
            Err(e) => {
                why.get_or_insert(e);
            }
        }
    }
    Err(why.unwrap_or_else(|| "a controller that has no OpenFlow listener".to_owned()))
}

fn targets(b: &BridgeRecord, listeners: Listeners, out: &mut Vec<Problem>) {
    let Some((scheme, preferred)) = listeners.each().next() else {
        return;
    };
    let any_ours = b
        .controllers
        .iter()
        .any(|c| reaches_any(&c.target, listeners).is_ok());
    for c in &b.controllers {
        let Err(why) = reaches_any(&c.target, listeners) else {
            continue;
        };
        let fix = if any_ours {
            format!("ovs-vsctl remove bridge {} controller {}", b.name, c.uuid)
        } else {
            format!(
                "ovs-vsctl set-controller {} {}",
                b.name,
                target::target_for(scheme, preferred)
            )
        };
        out.push(problem(
            b,
            ProblemKind::ControllerTarget,
            Some(c),
            "target",
            c.target.clone(),
            format!("it points at {why}"),
            fix,
        ));
    }
}

/// How `ovs-vsctl set controller` names `c`: the bridge when it is the only one, else its uuid.
fn controller_ref<'a>(b: &'a BridgeRecord, c: &'a ControllerRecord) -> &'a str {
    if b.controllers.len() == 1 {
        &b.name
    } else {
        &c.uuid
    }
}

fn max_backoff(
    b: &BridgeRecord,
    c: &ControllerRecord,
    echo_timeout: Duration,
    out: &mut Vec<Problem>,
) {
    let limit = echo_timeout.as_secs();
    let secs = c
        .max_backoff_ms
        .map_or(8, |ms| u64::try_from(ms).unwrap_or(0) / 1000);
    if secs <= limit {
        return;
    }
    let found = match c.max_backoff_ms {
        None => "unset (8 s)".to_owned(),
        Some(ms) => format!("{ms} ms"),
    };
    let fixed_ms = limit.clamp(1, 8) * 1000;
    out.push(problem(
        b,
        ProblemKind::MaxBackoff,
        Some(c),
        "max_backoff",
        found,
        format!("a switch that lost its controller waits up to {secs} s between attempts to reconnect, longer than the policy's echo_timeout_secs ({limit} s)"),
        format!("ovs-vsctl set controller {} max_backoff={fixed_ms}", controller_ref(b, c)),
    ));
}

fn inactivity_probe(
    b: &BridgeRecord,
    c: &ControllerRecord,
    echo_timeout: Duration,
    out: &mut Vec<Problem>,
) {
    let limit = echo_timeout.as_secs();
    let found = match c.inactivity_probe_ms {
        None => "unset (5 s)".to_owned(),
        Some(ms) => format!("{ms} ms"),
    };
    // Open vSwitch: whole seconds, rounded toward zero; 0 s turns probes off; else >= 5 s.
    let secs = c.inactivity_probe_ms.map_or(5, |ms| ms / 1000);
    let best_ms = (limit / 2).max(5) * 1000;
    let mut fix = format!(
        "ovs-vsctl set controller {} inactivity_probe={best_ms}",
        controller_ref(b, c)
    );
    if limit < 10 {
        fix.push_str(", and raise [controller] echo_timeout_secs to 10 or more in the policy");
    }
    let why = if secs == 0 {
        "probes are off: the switch never notices a controller that went silent and never reconnects".to_owned()
    } else {
        let probe = u64::try_from(secs.max(5)).unwrap_or(5);
        if 2 * probe <= limit {
            return;
        }
        format!("the switch notices a silent controller only after {} s (two probe intervals), later than the policy's echo_timeout_secs ({limit} s)", 2 * probe)
    };
    out.push(problem(
        b,
        ProblemKind::InactivityProbe,
        Some(c),
        "inactivity_probe",
        found,
        why,
        fix,
    ));
}

fn vlan_limit(b: &BridgeRecord, value: Option<&str>, out: &mut Vec<Problem>) {
    let (why, fix) = match value {
        None | Some("1" | "2") => return,
        Some(v) => match v.parse::<i64>() {
            Ok(0) => (
                "0 lets the datapath decide how many VLAN headers are parsed (2 today): pin it so what op25b's flows match cannot change under them",
                "ovs-vsctl set Open_vSwitch . other_config:vlan-limit=2",
            ),
            Ok(n) if n > 2 => (
                "Open vSwitch parses at most 2 VLAN headers",
                "ovs-vsctl set Open_vSwitch . other_config:vlan-limit=2",
            ),
            _ => (
                "not a VLAN header count: Open vSwitch ignores it and parses 1",
                "ovs-vsctl remove Open_vSwitch . other_config vlan-limit",
            ),
        },
    };
    out.push(problem(
        b,
        ProblemKind::VlanLimit,
        None,
        "Open_vSwitch other_config:vlan-limit",
        value.unwrap_or_default().to_owned(),
        why.to_owned(),
        fix.to_owned(),
    ));
}
