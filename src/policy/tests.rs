//! Parsing and validation of whole policy files: every error case with its line:column.
use super::*;
use std::net::SocketAddr;
use std::time::Duration;

const GOOD: &str = r#"
[controller]
listen = "0.0.0.0:6653"
plaintext = "allow"
echo_interval_secs = 5
echo_timeout_secs = 15
audit_interval_secs = 60
handshake_timeout_secs = 7
api_listen = "127.0.0.1:9325"

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = []
subscriber_ethertypes = ["lldp"]
forwarding = "normal"
cookie = "0x4f50323542000000"
fragments = "drop-tcp"

[defaults]
subscriber_ports = "all"
uplink_ports = []

[[switch]]
dpid = "00:00:00:00:00:00:00:01"
name = "edge-1"
subscriber_ports = [1, 2, 3]
uplink_ports = [4]
[[switch.exempt]]
port = 2
sources = ["203.0.113.0/29"]

[[switch]]
dpid = 2
uplink_ports = [10]

[reporting]
enabled = true
sample_rate_pps = 50
report_path = "-"
"#;

fn errors(text: &str) -> Vec<String> {
    match Config::parse(text, "policy.toml") {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn one_error(text: &str) -> String {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().unwrap_or_default()
}

fn warnings(text: &str) -> Vec<String> {
    match Config::parse(text, "policy.toml") {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("unexpected errors: {e}"),
    }
}

#[test]
fn the_example_file_parses_with_everything_in_place() {
    let loaded = Config::parse(GOOD, "policy.toml").unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.config;
    assert_eq!(
        c.controller().listen,
        Some("0.0.0.0:6653".parse::<SocketAddr>().unwrap())
    );
    assert_eq!(c.controller().handshake_timeout, Duration::from_secs(7));
    let p = c.policy();
    assert_eq!(p.blocked_ports(), &[25]);
    assert_eq!(p.relays().len(), 2);
    assert!(p.exempt_sources().is_empty());
    let bound: Vec<String> = p
        .exemptions_for(Dpid(1))
        .iter()
        .map(|(port, e)| format!("{port} {e}"))
        .collect();
    assert_eq!(bound, ["2 203.0.113.0/29"]);
    assert!(p.exemptions_for(Dpid(2)).is_empty());
    assert!(p.exemptions_for(Dpid(99)).is_empty());
    assert_eq!(
        p.subscriber_ethertypes(),
        &[0x0800, 0x0806, 0x86dd, 0x88cc].map(EtherType)
    );
    assert_eq!(p.forwarding(), Forwarding::Normal);
    assert_eq!(p.cookie(), Cookie::DEFAULT);
    assert_eq!(p.fragments(), FragmentMode::DropTcp);
    assert_eq!(p.switches().len(), 2);
    let s1 = p.roles_for(Dpid(1));
    assert_eq!(
        s1.subscriber,
        SubscriberPorts::List([1, 2, 3].into_iter().map(PortNo).collect())
    );
    assert_eq!(s1.uplinks, [PortNo(4)].into_iter().collect());
    // Switch 2 names only uplinks: subscriber ports fall back to the defaults ("all").
    let s2 = p.roles_for(Dpid(2));
    assert_eq!(s2.subscriber, SubscriberPorts::All);
    assert_eq!(s2.uplinks, [PortNo(10)].into_iter().collect());
    // An unlisted switch gets the defaults.
    assert_eq!(p.roles_for(Dpid(99)), p.defaults());
    assert_eq!(p.reporting().sample_rate_pps, 50);
    assert_eq!(p.reporting().report_path, Some(ReportPath::Stdout));
    assert_eq!(p.reporting().max_offenders, 100_000);
}

#[test]
fn a_minimal_file_gets_safe_defaults() {
    let l = Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").unwrap();
    let p = l.config.policy();
    assert_eq!(p.blocked_ports(), &[25]);
    assert_eq!(p.fragments(), FragmentMode::DropTcp);
    assert_eq!(p.cookie(), Cookie::DEFAULT);
    assert_eq!(p.defaults().subscriber, SubscriberPorts::All);
    assert!(p.reporting().enabled);
    assert_eq!(l.config.controller(), &ControllerSettings::default());
    assert!(l.warnings.is_empty());
}

#[test]
fn host_bits_point_at_the_entry_and_suggest_the_network() {
    let text = "[policy]\nrelays = [\"192.0.2.25\", \"192.0.2.1/24\"]\n";
    assert_eq!(
        one_error(text),
        "policy.toml:2:25: policy.relays[1]: \"192.0.2.1/24\" has host bits set beyond /24 (did you mean 192.0.2.0/24?)"
    );
}

#[test]
fn a_malformed_exempt_prefix_is_located() {
    let text = "[policy]\nrelays = [\"192.0.2.25\"]\nexempt_sources = [\"203.0.113.0/33\", \"mail.example\"]\n";
    let e = errors(text);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with(
            "policy.toml:3:19: policy.exempt_sources[0]: \"203.0.113.0/33\" has prefix length /33"
        ),
        "{}",
        e[0]
    );
    assert!(
        e[1].starts_with(
            "policy.toml:3:37: policy.exempt_sources[1]: \"mail.example\" is not an IP prefix"
        ),
        "{}",
        e[1]
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_location() {
    let e = one_error("[policy]\nrelays = [\"192.0.2.25\"]\nblocked_port = [25]\n");
    assert!(
        e.starts_with("policy.toml:3:1: unknown field `blocked_port`"),
        "{e}"
    );
    let e = one_error("[policy]\n[polcy]\n");
    assert!(
        e.starts_with("policy.toml:2:2: unknown field `polcy`"),
        "{e}"
    );
    let e = one_error("[policy]\n[[switch]]\ndpid = 1\nuplinks = [1]\n");
    assert!(
        e.starts_with("policy.toml:4:1: unknown field `uplinks`"),
        "{e}"
    );
    let e = one_error("[policy]\n[reporting]\nrate = 3\n");
    assert!(
        e.starts_with("policy.toml:3:1: unknown field `rate`"),
        "{e}"
    );
}

#[test]
fn a_missing_policy_section_is_an_error() {
    let e = one_error("[controller]\nlisten = \"127.0.0.1:6653\"\n");
    assert!(e.contains("missing field `policy`"), "{e}");
}

#[test]
fn toml_syntax_errors_are_located() {
    let e = one_error("[policy]\nrelays = [\"192.0.2.25\"\n");
    assert!(e.starts_with("policy.toml:2:"), "{e}");
}

#[test]
fn duplicate_dpids_name_both_places() {
    let text = "[policy]\nrelays=[\"192.0.2.25\"]\n[[switch]]\ndpid = 1\n[[switch]]\ndpid = \"00:00:00:00:00:00:00:01\"\n";
    assert_eq!(
        one_error(text),
        "policy.toml:6:8: switch[1].dpid: dpid 00:00:00:00:00:00:00:01 is already listed at line 4"
    );
}

#[test]
fn a_bad_dpid_is_located() {
    let e = one_error("[policy]\n[[switch]]\ndpid = \"edge-1\"\n");
    assert!(
        e.starts_with("policy.toml:3:8: invalid dpid \"edge-1\""),
        "{e}"
    );
}

#[test]
fn a_port_in_both_roles_is_an_error() {
    let text = "[policy]\nrelays=[\"192.0.2.25\"]\n[[switch]]\ndpid = 1\nsubscriber_ports = [1, 2]\nuplink_ports = [3, 2]\n";
    assert_eq!(
        one_error(text),
        "policy.toml:6:20: switch[0].uplink_ports[1]: port 2 is listed both as a subscriber port and as an uplink port of switch 00:00:00:00:00:00:00:01"
    );
    let text = "[policy]\nrelays=[\"192.0.2.25\"]\n[defaults]\nsubscriber_ports = [1]\nuplink_ports = [1]\n";
    assert_eq!(
        one_error(text),
        "policy.toml:5:17: defaults.uplink_ports[0]: port 1 is listed both as a subscriber port and as an uplink port of [defaults]"
    );
}

#[test]
fn an_inherited_uplink_that_a_switch_polices_is_an_error_at_the_switch() {
    let text = "[policy]\nrelays=[\"192.0.2.25\"]\n[defaults]\nuplink_ports = [4]\n[[switch]]\ndpid = 1\nsubscriber_ports = [4]\n";
    assert_eq!(
        one_error(text),
        "policy.toml:7:20: switch[0].subscriber_ports (uplink inherited from defaults.uplink_ports): port 4 is listed both as a subscriber port and as an uplink port of switch 00:00:00:00:00:00:00:01"
    );
}

#[test]
fn blocked_ports_out_of_range() {
    let text = "[policy]\nrelays=[\"192.0.2.25\"]\nblocked_ports = [25, 0, 65536]\n";
    let e = errors(text);
    assert_eq!(
        e,
        vec![
            "policy.toml:3:22: policy.blocked_ports[1]: 0 is not a TCP port to block: expected 1..=65535".to_string(),
            "policy.toml:3:25: policy.blocked_ports[2]: 65536 is not a TCP port to block: expected 1..=65535".to_string(),
        ]
    );
}

#[test]
fn switch_ports_out_of_range() {
    let e = one_error("[policy]\nrelays=[\"192.0.2.25\"]\n[defaults]\nsubscriber_ports = [0]\n");
    assert!(
        e.starts_with(
            "policy.toml:4:21: defaults.subscriber_ports[0]: 0 is not an OpenFlow port number"
        ),
        "{e}"
    );
    let e =
        one_error("[policy]\nrelays=[\"192.0.2.25\"]\n[defaults]\nsubscriber_ports = \"some\"\n");
    assert!(
        e.starts_with("policy.toml:4:20: unknown port set \"some\""),
        "{e}"
    );
}

#[test]
fn cookie_zero_is_an_error() {
    assert_eq!(
        one_error("[policy]\nrelays=[\"192.0.2.25\"]\ncookie = \"0x0\"\n"),
        "policy.toml:3:10: policy.cookie: 0 cannot mark the flows op25b owns (every other tool's flows have cookie 0): use a distinctive value like \"0x4f50323542000000\""
    );
    let e = one_error("[policy]\ncookie = \"0xZZ\"\n");
    assert!(
        e.starts_with("policy.toml:2:10: invalid cookie \"0xZZ\""),
        "{e}"
    );
}

#[test]
fn forwarding_and_fragments_are_checked() {
    let e = one_error("[policy]\nrelays=[\"192.0.2.25\"]\nforwarding = { goto_table = 0 }\n");
    assert!(
        e.starts_with("policy.toml:3:29: policy.forwarding.goto_table: 0 is not a table"),
        "{e}"
    );
    let e = one_error("[policy]\nrelays=[\"192.0.2.25\"]\nforwarding = \"flood\"\n");
    assert!(
        e.starts_with("policy.toml:3:14: unknown forwarding \"flood\""),
        "{e}"
    );
    let l = Config::parse(
        "[policy]\nrelays=[\"192.0.2.25\"]\nforwarding = { goto_table = 3 }\n",
        "p",
    )
    .unwrap();
    assert_eq!(l.config.policy().forwarding(), Forwarding::GotoTable(3));
    let e = one_error("[policy]\nrelays=[\"192.0.2.25\"]\nfragments = \"reassemble\"\n");
    assert!(
        e.starts_with("policy.toml:3:13: policy.fragments: unknown fragments mode \"reassemble\""),
        "{e}"
    );
}

#[test]
fn controller_settings_are_checked() {
    let e = errors("[controller]\nlisten = \"6653\"\necho_interval_secs = 0\n[policy]\nrelays=[\"192.0.2.25\"]\n");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("policy.toml:2:10: controller.listen: \"6653\" is not an address:port"),
        "{}",
        e[0]
    );
    assert!(
        e[1].starts_with("policy.toml:3:22: controller.echo_interval_secs: 0 is out of range"),
        "{}",
        e[1]
    );
    let e = one_error("[controller]\necho_interval_secs = 10\necho_timeout_secs = 10\n[policy]\nrelays=[\"192.0.2.25\"]\n");
    assert!(e.starts_with("policy.toml:3:21: controller.echo_timeout_secs: 10 s must be longer than echo_interval_secs"), "{e}");
}

#[test]
fn reporting_values_are_checked() {
    let e = one_error("[policy]\nrelays=[\"192.0.2.25\"]\n[reporting]\nsample_rate_pps = 0\n");
    assert!(
        e.starts_with("policy.toml:4:19: reporting.sample_rate_pps: 0 is out of range"),
        "{e}"
    );
    let e = one_error("[policy]\nrelays=[\"192.0.2.25\"]\n[reporting]\nenabled = \"yes\"\n");
    assert!(
        e.starts_with("policy.toml:4:11: invalid type: string \"yes\", expected a boolean"),
        "{e}"
    );
}

#[test]
fn all_mistakes_are_reported_at_once() {
    let text = "[policy]\nrelays = [\"10.0.0.1/8\"]\ncookie = 0\nblocked_ports = [0]\n";
    assert_eq!(errors(text).len(), 3);
}

#[test]
fn an_empty_relay_list_is_a_warning_not_an_error() {
    let w = warnings("[policy]\nrelays = []\n");
    assert_eq!(w.len(), 1);
    assert!(
        w[0].starts_with("warning: policy.toml:2:10: policy.relays is empty"),
        "{}",
        w[0]
    );
    let w = warnings("[policy]\nblocked_ports = [25]\n");
    assert!(
        w[0].starts_with("warning: policy.toml:1:1: policy.relays is empty"),
        "{}",
        w[0]
    );
}

#[test]
fn other_warnings() {
    let w = warnings("[policy]\nrelays = [\"192.0.2.25\", \"192.0.2.25/32\"]\nfragments = \"pass\"\nexempt_sources = [\"0.0.0.0/0\"]\n");
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(w.iter().any(|w| w.contains("any subscriber who spoofs")));
    assert!(w.iter().any(|w| w.contains("listed twice")));
    assert!(w.iter().any(|w| w.contains("is NOT blocked")));
    assert!(w.iter().any(|w| w.contains("exempts every subscriber")));
}

#[test]
fn global_exempt_sources_are_warned_about_spoofing() {
    let w =
        warnings("[policy]\nrelays = [\"192.0.2.25\"]\nexempt_sources = [\"203.0.113.0/29\"]\n");
    assert_eq!(
        w,
        ["warning: policy.toml:3:18: policy.exempt_sources: these sources are exempt on every policed port of every switch, so any subscriber who spoofs one of these addresses is exempt too; bind each to the port it comes from with [[switch.exempt]] (port = N, sources = [...]) in its [[switch]]"]
    );
    assert!(warnings("[policy]\nrelays = [\"192.0.2.25\"]\nexempt_sources = []\n").is_empty());
}

#[test]
fn subscriber_ethertypes_extend_ipv4_arp_and_ipv6() {
    let l = Config::parse(
        "[policy]\nrelays = [\"192.0.2.25\"]\nsubscriber_ethertypes = [\"LLDP\", \"0x88b5\", 0x8809]\n",
        "p.toml",
    )
    .unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(
        l.config.policy().subscriber_ethertypes(),
        &[0x0800, 0x0806, 0x86dd, 0x8809, 0x88b5, 0x88cc].map(EtherType)
    );
    let d = Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").unwrap();
    assert_eq!(
        d.config.policy().subscriber_ethertypes(),
        &EtherType::ALWAYS_ALLOWED
    );
}

#[test]
fn bad_subscriber_ethertypes_are_located() {
    let e = errors("[policy]\nrelays = [\"192.0.2.25\"]\nsubscriber_ethertypes = [\"lldp\", \"appletalk\", \"0x05dc\", 1500]\n");
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].starts_with("policy.toml:3:34: policy.subscriber_ethertypes[1]: \"appletalk\" is not an EtherType: expected a hex value like \"0x88cc\" or a name (ipv4, arp,"),
        "{}",
        e[0]
    );
    assert_eq!(
        e[1],
        "policy.toml:3:47: policy.subscriber_ethertypes[2]: 0x5dc is not an EtherType: expected 0x0600..=0xffff (smaller values are IEEE 802.3 lengths)"
    );
    assert!(
        e[2].starts_with("policy.toml:3:57: policy.subscriber_ethertypes[3]: 0x5dc"),
        "{}",
        e[2]
    );
    let e = one_error("[policy]\nsubscriber_ethertypes = [true]\n");
    assert!(
        e.starts_with("policy.toml:2:26: invalid type: boolean `true`, expected an EtherType"),
        "{e}"
    );
}

#[test]
fn ethertypes_whose_tcp_the_switch_cannot_see_are_warned_about() {
    let w = warnings("[policy]\nrelays = [\"192.0.2.25\"]\nsubscriber_ethertypes = [\"mpls\", \"0x8848\", \"pppoe-session\", \"vlan\", \"qinq\", \"0x9100\", \"macsec\", \"lldp\", \"pppoe-discovery\"]\n");
    assert_eq!(w.len(), 7, "{w:?}");
    assert!(w[0].starts_with("warning: policy.toml:3:26: policy.subscriber_ethertypes[0]: 0x8847 (mpls) from subscriber ports is forwarded, and TCP to the blocked ports carried inside it is NOT blocked: Open vSwitch matches the MPLS label stack"), "{}", w[0]);
    assert!(w[1].contains("[1]: 0x8848 (mpls-multicast)"), "{}", w[1]);
    assert!(w[2].contains("[2]: 0x8864 (pppoe-session) from subscriber ports is forwarded, and TCP to the blocked ports carried inside it is NOT blocked: Open vSwitch does not parse PPPoE sessions"), "{}", w[2]);
    for (i, name) in [
        (3, "0x8100 (vlan)"),
        (4, "0x88a8 (qinq)"),
        (5, "0x9100 (vlan-9100)"),
    ] {
        assert!(
            w[i].contains(&format!("[{i}]: {name} from subscriber ports")),
            "{}",
            w[i]
        );
        assert!(w[i].contains("second VLAN tag"), "{}", w[i]);
        assert!(w[i].contains("vlan-limit"), "{}", w[i]);
    }
    assert!(w[6].contains("[6]: 0x88e5 (macsec)"), "{}", w[6]);
    let w = warnings("[policy]\nrelays = [\"192.0.2.25\"]\nsubscriber_ethertypes = [\"ipv6\", \"lldp\", \"0x88CC\"]\n");
    assert_eq!(
        w,
        [
            "warning: policy.toml:3:26: policy.subscriber_ethertypes[0]: 0x86dd (ipv6) is always allowed",
            "warning: policy.toml:3:42: policy.subscriber_ethertypes[2]: 0x88cc (lldp) is listed twice",
        ]
    );
}

const EXEMPT_SWITCH: &str = "[policy]\nrelays = [\"192.0.2.25\"]\n[[switch]]\ndpid = 1\nname = \"e1\"\nsubscriber_ports = [1, 2]\nuplink_ports = [3]\n";

#[test]
fn exemptions_bound_to_ports() {
    let text = format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 2\nsources = [\"203.0.113.0/29\", \"2001:db8:b::/64\"]\n[[switch.exempt]]\nport = 1\nsources = [\"198.51.100.9\"]\n[[switch]]\ndpid = 2\nuplink_ports = [9]\n[[switch.exempt]]\nport = 7\nsources = [\"203.0.113.8/29\"]\n"
    );
    let l = Config::parse(&text, "policy.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let p = l.config.policy();
    let pairs = |dpid| -> Vec<String> {
        p.exemptions_for(Dpid(dpid))
            .iter()
            .map(|(port, e)| format!("{port} {e}"))
            .collect()
    };
    assert_eq!(
        pairs(1),
        ["1 198.51.100.9/32", "2 203.0.113.0/29", "2 2001:db8:b::/64"]
    );
    // Switch 2 polices "all" ports (from [defaults]): any port but its uplink may be bound.
    assert_eq!(pairs(2), ["7 203.0.113.8/29"]);
    assert_eq!(p.exemptions_for(Dpid(1)).ports().len(), 2);
}

#[test]
fn an_exemption_on_a_port_that_is_not_policed_is_an_error() {
    let e = one_error(&format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 3\nsources = [\"203.0.113.0/29\"]\n"
    ));
    assert_eq!(
        e,
        "policy.toml:9:8: switch[0].exempt[0].port: port 3 is an uplink of switch 00:00:00:00:00:00:00:01 (e1): its traffic is never policed, so there is nothing to exempt; bind the sources to the subscriber port they come from"
    );
    let e = one_error(&format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 5\nsources = [\"203.0.113.0/29\"]\n"
    ));
    assert_eq!(
        e,
        "policy.toml:9:8: switch[0].exempt[0].port: port 5 is not a subscriber port (subscriber_ports = [1, 2]) of switch 00:00:00:00:00:00:00:01 (e1): its traffic is never policed, so there is nothing to exempt; bind the sources to the subscriber port they come from"
    );
    let e = one_error(&format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 0\nsources = [\"203.0.113.0/29\"]\n"
    ));
    assert!(
        e.starts_with(
            "policy.toml:9:8: switch[0].exempt[0].port: 0 is not an OpenFlow port number"
        ),
        "{e}"
    );
}

#[test]
fn bad_bound_sources_and_shapes_are_located() {
    let e = errors(&format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 2\nsources = [\"203.0.113.1/29\", \"biz.example\"]\n"
    ));
    assert_eq!(
        e,
        [
            "policy.toml:10:12: switch[0].exempt[0].sources[0]: \"203.0.113.1/29\" has host bits set beyond /29 (did you mean 203.0.113.0/29?)",
            "policy.toml:10:30: switch[0].exempt[0].sources[1]: \"biz.example\" is not an IP prefix: expected an address like \"192.0.2.25\" or a prefix like \"192.0.2.0/24\" or \"2001:db8::/32\"",
        ]
    );
    let e = one_error(&format!("{EXEMPT_SWITCH}[[switch.exempt]]\nport = 2\n"));
    assert!(
        e.starts_with("policy.toml:8:1: missing field `sources`"),
        "{e}"
    );
    let e = one_error(&format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 2\nsources = []\nsource = [\"203.0.113.0/29\"]\n"
    ));
    assert!(
        e.starts_with("policy.toml:11:1: unknown field `source`"),
        "{e}"
    );
    let e = one_error("[policy]\n[[defaults.exempt]]\nport = 2\nsources = []\n");
    assert!(e.contains("unknown field `exempt`"), "{e}");
}

#[test]
fn bound_exemption_warnings() {
    let w = warnings(&format!(
        "{EXEMPT_SWITCH}[[switch.exempt]]\nport = 2\nsources = []\n[[switch.exempt]]\nport = 1\nsources = [\"::/0\", \"10.1.0.0/16\"]\n[[switch.exempt]]\nport = 1\nsources = [\"10.1.0.0/16\"]\n"
    ));
    assert_eq!(
        w,
        [
            "warning: policy.toml:10:11: switch[0].exempt[0].sources is empty: it exempts nothing",
            "warning: policy.toml:13:11: switch[0].exempt[1].sources: ::/0 exempts every subscriber of its address family on port 1 of switch 00:00:00:00:00:00:00:01 (e1)",
            "warning: policy.toml:16:11: switch[0].exempt[2].sources: 10.1.0.0/16 is already exempt on port 1 of switch 00:00:00:00:00:00:00:01 (e1)",
        ]
    );
}

mod never_panics {
    use super::super::Config;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_ethertypes_and_bound_exemptions(
            ethertype in "[0-9a-zA-Z:-]{0,12}",
            number in any::<i64>(),
            port in any::<i64>(),
            source in "[0-9a-f:./]{0,40}",
        ) {
            let text = format!(
                "[policy]\nsubscriber_ethertypes = [\"{ethertype}\", {number}]\n[[switch]]\ndpid = 1\nsubscriber_ports = [1, 2]\n[[switch.exempt]]\nport = {port}\nsources = [\"{source}\"]\n"
            );
            match Config::parse(&text, "p.toml") {
                Ok(l) => {
                    let p = l.config.policy();
                    prop_assert!(port == 1 || port == 2);
                    prop_assert!((0x0600..=0xffff).contains(&number));
                    prop_assert!(p.subscriber_ethertypes().len() >= 3);
                    prop_assert_eq!(p.exemptions_for(super::super::Dpid(1)).len(), 1);
                }
                Err(e) => {
                    for err in &e.0 {
                        prop_assert!(err.to_string().starts_with("p.toml:"), "{}", err);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_text(s in "(?s).{0,300}") {
            let _ = Config::parse(&s, "p.toml");
        }

        #[test]
        fn arbitrary_values_in_a_valid_shape(
            port in any::<i64>(),
            relay in "[0-9a-f:./]{0,40}",
            dpid in "[0-9a-fx:]{0,30}",
            cookie in any::<i64>(),
        ) {
            let text = format!(
                "[policy]\nblocked_ports = [{port}]\nrelays = [\"{relay}\"]\ncookie = {cookie}\n[[switch]]\ndpid = \"{dpid}\"\nuplink_ports = [{port}]\n"
            );
            match Config::parse(&text, "p.toml") {
                Ok(l) => {
                    prop_assert!((1..=65535).contains(&port));
                    prop_assert!(cookie > 0);
                    prop_assert_eq!(l.config.policy().blocked_ports(), &[u16::try_from(port).expect("a valid port")]);
                }
                Err(e) => {
                    // Every error names the file and a line:column.
                    for err in &e.0 {
                        prop_assert!(err.to_string().starts_with("p.toml:"), "{}", err);
                        prop_assert!(err.location.line >= 1 && err.location.column >= 1);
                    }
                }
            }
        }
    }
}

#[test]
fn reporting_sender_and_counter_interval() {
    let l = Config::parse(
        "[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nreported_from = \"abuse@isp.example\"\ncounters_interval_secs = 3\n",
        "p.toml",
    )
    .unwrap();
    let r = l.config.policy().reporting();
    assert_eq!(r.reported_from, "abuse@isp.example");
    assert!(!r.uses_placeholder_sender());
    assert_eq!(r.counters_interval_secs, 3);
    let d = Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").unwrap();
    let d = d.config.policy().reporting();
    assert_eq!(d.reported_from, PLACEHOLDER_REPORTED_FROM);
    assert!(d.uses_placeholder_sender());
    assert_eq!(d.counters_interval_secs, 30);
}

#[test]
fn reporting_sender_must_be_a_mailbox_and_interval_in_range() {
    for bad in [
        "\"\"",
        "\"abuse\"",
        "\"@isp.example\"",
        "\"a b@isp\"",
        "\"a@b@c\"",
    ] {
        let text =
            format!("[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nreported_from = {bad}\n");
        let e = Config::parse(&text, "p.toml").err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("reporting.reported_from")),
            "{bad}: {e:?}"
        );
    }
    for bad in ["0", "86401", "-1"] {
        let text = format!(
            "[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\ncounters_interval_secs = {bad}\n"
        );
        let e = Config::parse(&text, "p.toml").err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("reporting.counters_interval_secs")),
            "{bad}: {e:?}"
        );
    }
}

#[test]
fn reporting_ipv6_prefix_len_defaults_to_64_and_is_checked_with_its_location() {
    let d = Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").unwrap();
    assert_eq!(d.config.policy().reporting().ipv6_prefix_len, 64);
    for good in [1_u8, 56, 128] {
        let text =
            format!("[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nipv6_prefix_len = {good}\n");
        let l = Config::parse(&text, "p.toml").unwrap();
        assert_eq!(l.config.policy().reporting().ipv6_prefix_len, good);
    }
    for bad in ["0", "129", "-64", "100000"] {
        let text =
            format!("[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nipv6_prefix_len = {bad}\n");
        let e = Config::parse(&text, "p.toml").err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("p.toml:4:19: reporting.ipv6_prefix_len: ")
                    && e.contains("expected 1..=128")),
            "{bad}: {e:?}"
        );
    }
}

mod peers_and_pins {
    use super::*;

    const FP: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn parse(text: &str) -> Config {
        match Config::parse(text, "policy.toml") {
            Ok(l) => l.config,
            Err(e) => panic!("unexpected errors: {e}"),
        }
    }

    #[test]
    fn connection_limits_and_allowed_peers_default_to_open_and_parse() {
        const _: () = assert!(DEFAULT_MAX_CONNECTIONS >= 50_000);
        let d = parse("[policy]\n");
        let c = d.controller();
        assert_eq!(c.allowed_peers, None);
        assert!(c.peer_allowed("198.51.100.7".parse().unwrap()));
        assert_eq!(c.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.max_connections_per_peer, DEFAULT_MAX_CONNECTIONS_PER_PEER);
        let set = parse(
            "[controller]\nallowed_peers = [\"192.0.2.0/24\", \"2001:db8::/32\"]\nmax_connections = 10\nmax_connections_per_peer = 2\n[policy]\n",
        );
        let c = set.controller();
        assert_eq!(c.max_connections, 10);
        assert_eq!(c.max_connections_per_peer, 2);
        assert!(c.peer_allowed("192.0.2.9".parse().unwrap()));
        assert!(
            c.peer_allowed("::ffff:192.0.2.9".parse().unwrap()),
            "v4-mapped"
        );
        assert!(c.peer_allowed("2001:db8::1".parse().unwrap()));
        assert!(!c.peer_allowed("192.0.3.1".parse().unwrap()));
        assert!(!c.peer_allowed("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_limits_and_peers_are_errors_at_their_place() {
        let e = one_error("[controller]\nallowed_peers = []\n[policy]\n");
        assert!(
            e.starts_with("policy.toml:2:17:") && e.contains("no switch could connect"),
            "{e}"
        );
        let e = one_error("[controller]\nallowed_peers = [\"192.0.2.1/24\"]\n[policy]\n");
        assert!(
            e.starts_with("policy.toml:2:18:") && e.contains("allowed_peers[0]"),
            "{e}"
        );
        let e = one_error("[controller]\nmax_connections = 0\n[policy]\n");
        assert!(
            e.contains("controller.max_connections") && e.contains("out of range"),
            "{e}"
        );
        let e = one_error("[controller]\nmax_connections_per_peer = -1\n[policy]\n");
        assert!(e.contains("controller.max_connections_per_peer"), "{e}");
        let w =
            warnings("[controller]\nmax_connections = 5\nmax_connections_per_peer = 9\n[policy]\n");
        assert!(
            w.iter().any(|w| w.contains("above max_connections")),
            "{w:?}"
        );
    }

    #[test]
    fn a_switch_can_be_pinned_to_a_certificate() {
        let c = parse(&format!(
            "[policy]\n[[switch]]\ndpid = 1\ncert_sha256 = \"{FP}\"\n[[switch]]\ndpid = 2\n"
        ));
        let pin: CertSha256 = FP.parse().unwrap();
        assert_eq!(c.policy().cert_pin(Dpid(1)), Some(pin));
        assert_eq!(c.policy().cert_pin(Dpid(2)), None);
        assert_eq!(c.policy().cert_pin(Dpid(3)), None, "unlisted");
        let e = one_error("[policy]\n[[switch]]\ndpid = 1\ncert_sha256 = \"00:11\"\n");
        assert!(
            e.starts_with("policy.toml:4:") && e.contains("64 hex digits"),
            "{e}"
        );
    }
}

#[test]
fn max_multipart_bytes_defaults_and_is_checked() {
    let base = "[policy]\nrelays = [\"192.0.2.25/32\"]\n";
    let parse = |extra: &str| Config::parse(&format!("[controller]\n{extra}\n{base}"), "p.toml");
    let d = parse("").expect("valid").config;
    assert_eq!(d.controller().max_multipart_bytes, 96 * 1024 * 1024);
    let set = parse("max_multipart_bytes = 2097152")
        .expect("valid")
        .config;
    assert_eq!(set.controller().max_multipart_bytes, 2 * 1024 * 1024);
    let err = one_error(&format!("[controller]\nmax_multipart_bytes = 1000\n{base}"));
    assert!(
        err.starts_with("policy.toml:2:23: controller.max_multipart_bytes: 1000 is out of range"),
        "{err}"
    );
}

#[test]
fn a_text_over_the_size_cap_is_refused_unparsed() {
    let text = "#".repeat(MAX_POLICY_BYTES + 1);
    let err = one_error(&text);
    assert!(err.contains("larger than the 16 MiB"), "{err}");
}

#[test]
fn reporting_report_command_is_an_argv_list_with_an_absolute_program() {
    let l = Config::parse(
        "[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nreport_command = [\"/usr/local/bin/ticket\", \"--queue\", \"abuse\"]\nreport_command_timeout_secs = 3\nreport_command_queue = 7\nreporter_org = \" Example ISP \"\n",
        "p.toml",
    )
    .unwrap();
    let r = l.config.policy().reporting();
    let c = r.report_command.as_ref().expect("command");
    assert_eq!(c.argv, ["/usr/local/bin/ticket", "--queue", "abuse"]);
    assert_eq!(
        c.to_string(),
        "p.toml:4:18: reporting.report_command (/usr/local/bin/ticket)"
    );
    assert_eq!(r.report_command_timeout_secs, 3);
    assert_eq!(r.report_command_queue, 7);
    assert_eq!(r.reporter_org.as_deref(), Some("Example ISP"));
    let d = Reporting::default();
    assert_eq!(
        (
            d.report_command.as_ref(),
            d.report_command_timeout_secs,
            d.report_command_queue
        ),
        (None, 10, 256)
    );
    assert_eq!(d.reporter_org, None);
}

#[test]
fn reporting_report_command_mistakes_are_located() {
    let base = "[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\n";
    for (line, want) in [
        (
            "report_command = []",
            "policy.toml:4:18: reporting.report_command: empty: expected the program's absolute path",
        ),
        (
            "report_command = [\"ticket\", \"--queue\"]",
            "policy.toml:4:19: reporting.report_command: \"ticket\" is not an absolute path",
        ),
        (
            "report_command = [\"/bin/x\", \"a\\u0000b\"]",
            "policy.toml:4:29: reporting.report_command[1]: contains a NUL character",
        ),
        (
            "report_command_timeout_secs = 0",
            "policy.toml:4:31: reporting.report_command_timeout_secs: 0 is out of range: expected 1..=3600",
        ),
        (
            "report_command_queue = 65537",
            "policy.toml:4:24: reporting.report_command_queue: 65537 is out of range: expected 1..=65536",
        ),
        (
            "reporter_org = \"\"",
            "policy.toml:4:16: reporting.reporter_org: \"\" is not an organisation name",
        ),
    ] {
        let e = one_error(&format!("{base}{line}\n"));
        assert!(e.starts_with(want), "{line}:\n{e}");
    }
    // A shell string instead of a list is refused by the file's shape, with its location.
    let e = one_error(&format!(
        "{base}report_command = \"/bin/ticket --queue abuse\"\n"
    ));
    assert!(e.starts_with("policy.toml:4:"), "{e}");
}
