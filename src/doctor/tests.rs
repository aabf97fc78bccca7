//! Each check against a healthy bridge and against broken ones.
use super::*;
use crate::policy::{Config, Dpid};
use std::collections::BTreeMap;

const LISTEN: &str = "127.0.0.1:6653";

fn config(extra: &str) -> Config {
    let text = format!(
        "[controller]\nlisten = \"{LISTEN}\"\n{extra}\n[policy]\nrelays = [\"192.0.2.25\"]\n"
    );
    Config::parse(&text, "test.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

fn controller(target: &str) -> ControllerRecord {
    ControllerRecord {
        uuid: format!("uuid-of-{target}"),
        target: target.to_owned(),
        max_backoff_ms: None,
        inactivity_probe_ms: None,
    }
}

fn healthy(name: &str) -> BridgeRecord {
    BridgeRecord {
        name: name.to_owned(),
        fail_mode: Some("secure".to_owned()),
        protocols: vec!["OpenFlow13".to_owned()],
        other_config: BTreeMap::from([("datapath-id".to_owned(), "0000000000000001".to_owned())]),
        datapath_id: Some("0000000000000001".to_owned()),
        controllers: vec![controller(&format!("tcp:{LISTEN}"))],
    }
}

fn db(bridges: Vec<BridgeRecord>) -> SwitchDatabase {
    SwitchDatabase {
        bridges,
        vlan_limit: None,
    }
}

/// The problems of one bridge checked against `config`.
fn problems_with(b: BridgeRecord, c: &Config) -> Vec<Problem> {
    diagnose(&db(vec![b]), Some(&Expectations::of(c))).problems
}

fn problems(b: BridgeRecord) -> Vec<Problem> {
    problems_with(b, &config(""))
}

fn kinds(ps: &[Problem]) -> Vec<ProblemKind> {
    ps.iter().map(|p| p.problem).collect()
}

#[test]
fn a_healthy_bridge_has_no_problem_and_bridges_without_a_controller_are_not_checked() {
    let mut other = healthy("not-ours");
    other.fail_mode = None;
    other.controllers.clear();
    let d = diagnose(
        &db(vec![healthy("br0"), other]),
        Some(&Expectations::of(&config(""))),
    );
    assert_eq!(d.problems, vec![]);
    assert_eq!(
        d.checked,
        vec![CheckedBridge {
            name: "br0".into(),
            dpid: Some(Dpid(1))
        }]
    );
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
}

#[test]
fn fail_mode_standalone_or_unset_is_a_problem_with_the_set_fail_mode_fix() {
    for (mode, found) in [
        (None, "unset (standalone)"),
        (Some("standalone"), "standalone"),
    ] {
        let mut b = healthy("br-std");
        b.fail_mode = mode.map(str::to_owned);
        let ps = problems(b);
        assert_eq!(kinds(&ps), vec![ProblemKind::FailMode]);
        let line = ps[0].to_string();
        assert!(
            line.starts_with(&format!("br-std: fail_mode is {found}: ")),
            "{line}"
        );
        assert!(line.contains("port 25 is open for everyone"), "{line}");
        assert!(
            line.ends_with("; fix: ovs-vsctl set-fail-mode br-std secure"),
            "{line}"
        );
    }
}

#[test]
fn protocols_must_include_openflow13_or_be_empty() {
    let mut b = healthy("br-of10");
    b.protocols = vec!["OpenFlow10".into()];
    let ps = problems(b.clone());
    assert_eq!(kinds(&ps), vec![ProblemKind::Protocols]);
    assert_eq!(ps[0].found, "[OpenFlow10]");
    assert_eq!(
        ps[0].fix,
        "ovs-vsctl add bridge br-of10 protocols OpenFlow13"
    );
    b.protocols = vec![];
    assert_eq!(problems(b.clone()), vec![], "empty enables 1.0 to 1.5");
    b.protocols = vec!["OpenFlow10".into(), "OpenFlow13".into()];
    assert_eq!(problems(b), vec![]);
}

#[test]
fn an_unpinned_or_unreadable_datapath_id_is_a_problem() {
    let mut b = healthy("br-dpid");
    b.other_config.clear();
    b.datapath_id = Some("00000000000000a7".into());
    let ps = problems(b.clone());
    assert_eq!(kinds(&ps), vec![ProblemKind::DatapathIdUnpinned]);
    assert_eq!(ps[0].found, "unset");
    assert_eq!(
        ps[0].fix, "ovs-vsctl set bridge br-dpid other-config:datapath-id=00000000000000a7",
        "pins the dpid it has now"
    );
    assert_eq!(ps[0].dpid, Some(Dpid(0xa7)));
    b.datapath_id = None;
    assert!(problems(b.clone())[0].fix.ends_with("=DPID-16-HEX-DIGITS"));
    b.other_config.insert("datapath-id".into(), "edge-1".into());
    let ps = problems(b.clone());
    assert_eq!(kinds(&ps), vec![ProblemKind::DatapathIdUnpinned]);
    assert!(ps[0].found.contains("not a datapath id"), "{}", ps[0].found);
    b.other_config.insert("datapath-id".into(), "0x2a".into());
    assert_eq!(problems(b), vec![]);
    assert_eq!(parse_pinned_dpid("0000000000000000"), None);
    assert_eq!(parse_pinned_dpid("000000000000002a"), Some(Dpid(42)));
    assert_eq!(parse_pinned_dpid("2a"), None, "16 digits or 0x");
}

#[test]
fn a_dpid_the_policy_does_not_police_is_a_problem() {
    let none_by_default = config("[defaults]\nsubscriber_ports = []\n");
    let ps = problems_with(healthy("br0"), &none_by_default);
    assert_eq!(kinds(&ps), vec![ProblemKind::DpidNotInPolicy]);
    assert_eq!(ps[0].found, "00:00:00:00:00:00:00:01");
    assert!(ps[0]
        .fix
        .contains("[[switch]] dpid = \"00:00:00:00:00:00:00:01\""));
    let listed =
        config("[defaults]\nsubscriber_ports = []\n[[switch]]\ndpid = 1\nsubscriber_ports = [1]\n");
    assert_eq!(problems_with(healthy("br0"), &listed), vec![]);
    assert_eq!(
        problems_with(
            healthy("br0"),
            &config("[defaults]\nsubscriber_ports = [3]\n")
        ),
        vec![]
    );
}

#[test]
fn a_target_elsewhere_is_a_problem_fixed_by_set_controller_or_by_removing_it() {
    let mut b = healthy("br-else");
    b.controllers = vec![controller("tcp:10.9.9.9:6653")];
    let ps = problems(b.clone());
    assert_eq!(kinds(&ps), vec![ProblemKind::ControllerTarget]);
    assert_eq!(
        ps[0].to_string(),
        "br-else: controller target is tcp:10.9.9.9:6653: it points at 10.9.9.9, but this controller listens on 127.0.0.1:6653; fix: ovs-vsctl set-controller br-else tcp:127.0.0.1:6653"
    );
    b.controllers.push(controller(&format!("tcp:{LISTEN}")));
    let ps = problems(b);
    assert_eq!(kinds(&ps), vec![ProblemKind::ControllerTarget]);
    assert_eq!(
        ps[0].fix,
        "ovs-vsctl remove bridge br-else controller uuid-of-tcp:10.9.9.9:6653"
    );
}

#[test]
fn max_backoff_must_fit_in_echo_timeout() {
    let mut b = healthy("br0");
    b.controllers[0].max_backoff_ms = Some(60_000);
    let ps = problems(b.clone());
    assert_eq!(kinds(&ps), vec![ProblemKind::MaxBackoff]);
    assert_eq!(
        ps[0].to_string(),
        "br0: controller tcp:127.0.0.1:6653 max_backoff is 60000 ms: a switch that lost its controller waits up to 60 s between attempts to reconnect, longer than the policy's echo_timeout_secs (15 s); fix: ovs-vsctl set controller br0 max_backoff=8000"
    );
    b.controllers[0].max_backoff_ms = Some(15_999);
    assert_eq!(problems(b.clone()), vec![], "whole seconds: 15 s");
    b.controllers[0].max_backoff_ms = None;
    let short = config("echo_interval_secs = 2\necho_timeout_secs = 5\n");
    let ps = problems_with(b.clone(), &short);
    assert!(
        kinds(&ps).contains(&ProblemKind::MaxBackoff),
        "unset is 8 s"
    );
    let p = ps.iter().find(|p| p.problem == ProblemKind::MaxBackoff);
    assert_eq!(
        p.map(|p| p.fix.as_str()),
        Some("ovs-vsctl set controller br0 max_backoff=5000")
    );
    b.controllers.push(controller("tcp:127.0.0.1"));
    b.controllers[1].max_backoff_ms = Some(60_000);
    let ps = problems(b);
    assert_eq!(
        ps[0].fix, "ovs-vsctl set controller uuid-of-tcp:127.0.0.1 max_backoff=8000",
        "two controllers: named by uuid"
    );
}

#[test]
fn the_inactivity_probe_must_be_on_and_fit_twice_in_echo_timeout() {
    let mut b = healthy("br0");
    for off in [0, 999] {
        b.controllers[0].inactivity_probe_ms = Some(off);
        let ps = problems(b.clone());
        assert_eq!(kinds(&ps), vec![ProblemKind::InactivityProbe], "{off}");
        assert!(ps[0].why.starts_with("probes are off"));
        assert_eq!(
            ps[0].fix,
            "ovs-vsctl set controller br0 inactivity_probe=7000"
        );
    }
    b.controllers[0].inactivity_probe_ms = Some(10_000);
    let ps = problems(b.clone());
    assert_eq!(kinds(&ps), vec![ProblemKind::InactivityProbe]);
    assert!(ps[0].why.contains("only after 20 s"), "{}", ps[0].why);
    for fine in [None, Some(1000), Some(7_999), Some(-5000)] {
        b.controllers[0].inactivity_probe_ms = fine;
        assert_eq!(problems(b.clone()), vec![], "{fine:?}: at least 5 s");
    }
    b.controllers[0].inactivity_probe_ms = None;
    let short = config("echo_interval_secs = 2\necho_timeout_secs = 6\n");
    let ps = problems_with(b, &short);
    let p = ps
        .iter()
        .find(|p| p.problem == ProblemKind::InactivityProbe)
        .expect("5 s probes need 10 s");
    assert!(p
        .fix
        .ends_with("raise [controller] echo_timeout_secs to 10 or more in the policy"));
}

#[test]
fn vlan_limit_must_be_unset_1_or_2() {
    let check = |v: Option<&str>| {
        let mut d = db(vec![healthy("br0")]);
        d.vlan_limit = v.map(str::to_owned);
        diagnose(&d, Some(&Expectations::of(&config("")))).problems
    };
    for fine in [None, Some("1"), Some("2")] {
        assert_eq!(check(fine), vec![], "{fine:?}");
    }
    for (bad, fix) in [
        (
            "0",
            "ovs-vsctl set Open_vSwitch . other_config:vlan-limit=2",
        ),
        (
            "3",
            "ovs-vsctl set Open_vSwitch . other_config:vlan-limit=2",
        ),
        (
            "two",
            "ovs-vsctl remove Open_vSwitch . other_config vlan-limit",
        ),
    ] {
        let ps = check(Some(bad));
        assert_eq!(kinds(&ps), vec![ProblemKind::VlanLimit], "{bad}");
        assert_eq!(ps[0].fix, fix);
        assert!(ps[0].to_string().starts_with(&format!(
            "br0: Open_vSwitch other_config:vlan-limit is {bad}: "
        )));
    }
}

#[test]
fn without_a_policy_only_the_policy_free_checks_run() {
    let mut b = healthy("br0");
    b.controllers = vec![controller("tcp:10.9.9.9:6653")];
    b.controllers[0].inactivity_probe_ms = Some(0);
    b.fail_mode = None;
    let mut d = db(vec![b]);
    d.vlan_limit = Some("0".into());
    let out = diagnose(&d, None);
    assert_eq!(kinds(&out.problems), vec![ProblemKind::FailMode]);
    assert_eq!(out.skipped, vec![SKIPPED_WITHOUT_POLICY.to_owned()]);
}

#[test]
fn problems_serialize_with_names_and_colon_hex_dpids() {
    let mut b = healthy("br0");
    b.fail_mode = None;
    let ps = problems(b);
    let v = serde_json::to_value(&ps[0]).expect("serializes");
    assert_eq!(v["problem"], "fail_mode");
    assert_eq!(v["dpid"], "00:00:00:00:00:00:00:01");
    assert_eq!(v["bridge"], "br0");
    assert_eq!(v["column"], "fail_mode");
    assert_eq!(v["controller"], serde_json::Value::Null);
    assert_eq!(v["fix"], "ovs-vsctl set-fail-mode br0 secure");
}

#[test]
fn with_a_tls_listener_a_target_must_use_ssl_there_and_the_fix_points_at_it() {
    let db = |target: &str| {
        let mut b = healthy("br-tls");
        b.controllers = vec![controller(target)];
        SwitchDatabase {
            bridges: vec![b],
            ..SwitchDatabase::default()
        }
    };
    let listeners = Listeners {
        plain: None,
        tls: Some("192.0.2.10:6653".parse().expect("address")),
    };
    let base = config("");
    let expect = Expectations {
        listeners,
        ..Expectations::of(&base)
    };
    let check = |target: &str| diagnose(&db(target), Some(&expect)).problems;

    assert_eq!(check("ssl:192.0.2.10:6653"), vec![]);
    let ps = check("tcp:192.0.2.10:6653");
    assert_eq!(kinds(&ps), vec![ProblemKind::ControllerTarget]);
    assert!(ps[0].why.contains("takes ssl:"), "{}", ps[0]);
    assert_eq!(
        ps[0].fix,
        "ovs-vsctl set-controller br-tls ssl:192.0.2.10:6653"
    );
    // With both listeners, tcp: at the plain one is right too, ssl: at the plain one is not.
    let both = Expectations {
        listeners: Listeners {
            plain: Some(LISTEN.parse().expect("address")),
            ..listeners
        },
        ..Expectations::of(&base)
    };
    let check_both = |target: &str| diagnose(&db(target), Some(&both)).problems;
    assert_eq!(check_both(&format!("tcp:{LISTEN}")), vec![]);
    assert_eq!(
        kinds(&check_both(&format!("ssl:{LISTEN}"))),
        vec![ProblemKind::ControllerTarget]
    );
}
