//! `op25b check` and `op25b plan`, run as the real binary on good and broken policy files.
use std::path::PathBuf;
use std::process::Command;

use op25b_test_support::temp::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_op25b");

/// A policy file in a private temp directory, named `policy.toml` so messages read naturally.
struct PolicyFile {
    dir: PathBuf,
}

impl PolicyFile {
    fn new(text: &str) -> PolicyFile {
        let dir = temp_dir("cli");
        std::fs::write(dir.join("policy.toml"), text).unwrap_or_else(|e| panic!("write: {e}"));
        PolicyFile { dir }
    }
}

impl Drop for PolicyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn op25b(file: &PolicyFile, args: &[&str]) -> Out {
    let o = Command::new(BIN)
        .current_dir(&file.dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn check(text: &str) -> Out {
    let f = PolicyFile::new(text);
    op25b(&f, &["check", "--config", "policy.toml"])
}

#[test]
fn the_shipped_example_checks_ok() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy.toml"))
            .unwrap_or_else(|e| panic!("examples/policy.toml: {e}"));
    let o = check(&example);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.starts_with(
            "OK: 1 switch, 2 relays, 0 exempt sources, blocked ports [25], fragments drop-tcp"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.ends_with(
            "subscriber EtherTypes [ipv4, arp, ipv6], 2 exempt sources bound to ports, OpenFlow on plain TCP 127.0.0.1:6653\n"
        ),
        "{}",
        o.stdout
    );
    assert_eq!(o.stderr, "");
}

#[test]
fn host_bits_fail_with_line_column_and_a_suggestion() {
    let o = check("[policy]\nrelays = [\"192.0.2.25/32\",\n          \"192.0.2.1/24\"]\n");
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert!(
        o.stderr.contains(
            "error: policy.toml:3:11: policy.relays[1]: \"192.0.2.1/24\" has host bits set beyond /24 (did you mean 192.0.2.0/24?)"
        ),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("policy.toml: 1 error"), "{}", o.stderr);
}

#[test]
fn every_mistake_is_reported_with_its_place() {
    let text = "\
[policy]
relays = [\"192.0.2.25\"]
blocked_ports = [25, 0]
cookie = \"0x0\"

[[switch]]
dpid = 1
subscriber_ports = [1, 2]
uplink_ports = [2]

[[switch]]
dpid = \"0x1\"
";
    let o = check(text);
    assert_eq!(o.code, 1, "{}", o.stderr);
    for want in [
        "error: policy.toml:3:22: policy.blocked_ports[1]: 0 is not a TCP port to block: expected 1..=65535",
        "error: policy.toml:4:10: policy.cookie: 0 cannot mark the flows op25b owns",
        "error: policy.toml:9:17: switch[0].uplink_ports[0]: port 2 is listed both as a subscriber port and as an uplink port of switch 00:00:00:00:00:00:00:01",
        "error: policy.toml:12:8: switch[1].dpid: dpid 00:00:00:00:00:00:00:01 is already listed at line 7",
        "policy.toml: 4 errors",
    ] {
        assert!(o.stderr.contains(want), "missing {want:?} in:\n{}", o.stderr);
    }
}

#[test]
fn unknown_fields_and_bad_values_are_located() {
    let o = check("[policy]\nrelays = [\"192.0.2.25\"]\nblocked_port = [25]\n");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("error: policy.toml:3:1: unknown field `blocked_port`"),
        "{}",
        o.stderr
    );
    let o = check("[policy]\nrelays = [\"192.0.2.25\"]\nblocked_ports = [70000]\n");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("error: policy.toml:3:18: policy.blocked_ports[0]: 70000"),
        "{}",
        o.stderr
    );
    let o = check("[policy]\nfragments = \"maybe\"\n");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(
            "error: policy.toml:2:13: policy.fragments: unknown fragments mode \"maybe\""
        ),
        "{}",
        o.stderr
    );
}

#[test]
fn an_empty_relay_list_warns_but_passes() {
    let o = check("[policy]\nrelays = []\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.starts_with("OK: 0 switches, 0 relays"),
        "{}",
        o.stdout
    );
    assert!(
        o.stderr
            .contains("warning: policy.toml:2:10: policy.relays is empty"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let f = PolicyFile::new("");
    let o = op25b(&f, &["check", "--config", "nope.toml"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("cannot read policy file nope.toml"),
        "{}",
        o.stderr
    );
}

const TWO_SWITCHES: &str = r#"
[policy]
relays = ["192.0.2.25", "2001:db8::25"]
[defaults]
uplink_ports = [9]
[[switch]]
dpid = "00:00:00:00:00:00:00:01"
name = "edge-1"
subscriber_ports = [1, 2]
uplink_ports = [4]
[[switch.exempt]]
port = 2
sources = ["203.0.113.0/29"]
"#;

fn flow_lines(s: &str) -> Vec<&str> {
    s.lines().filter(|l| l.starts_with("cookie=")).collect()
}

#[test]
fn plan_prints_listed_switches_then_the_defaults() {
    let f = PolicyFile::new(TWO_SWITCHES);
    let o = op25b(&f, &["plan", "--config", "policy.toml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("# switch 00:00:00:00:00:00:00:01 (edge-1): 21 flows"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("# [defaults] (any switch not listed): 13 flows"),
        "{}",
        o.stdout
    );
    assert_eq!(flow_lines(&o.stdout).len(), 34);
    assert!(o.stdout.contains(
        "cookie=0x4f50323542000000,table=0,priority=20000,in_port=2,tcp,tp_dst=25,actions=meter:1,controller:128"
    ));
    assert!(o.stdout.contains(
        "cookie=0x4f50323542000000,table=0,priority=30000,tcp,nw_dst=192.0.2.25,actions=NORMAL"
    ));
    // IPv6 later fragments: dropped per listed port, open towards the IPv6 relay.
    assert!(o.stdout.contains(
        "cookie=0x4f50323542000000,table=0,priority=20000,in_port=2,ipv6,nw_proto=44,actions=drop"
    ));
    assert!(o.stdout.contains(
        "cookie=0x4f50323542000000,table=0,priority=30000,ipv6,ipv6_dst=2001:db8::25,nw_proto=44,actions=NORMAL"
    ));
    assert!(o
        .stdout
        .contains("cookie=0x4f50323542000000,table=0,priority=40000,in_port=9,actions=NORMAL"));
    assert!(o
        .stdout
        .contains("add-meter BRIDGE meter=1,pktps,burst,band=type=drop,rate=20,burst_size=20"));
}

#[test]
fn check_warns_about_spoofable_exemptions_and_ethertypes_it_cannot_police() {
    let o = check(
        "[policy]\nrelays = [\"192.0.2.25\"]\nexempt_sources = [\"203.0.113.0/29\"]\nsubscriber_ethertypes = [\"lldp\", \"pppoe-session\"]\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.ends_with(
            "subscriber EtherTypes [ipv4, arp, ipv6, pppoe-session, lldp], 0 exempt sources bound to ports, OpenFlow on plain TCP 127.0.0.1:6653\n"
        ),
        "{}",
        o.stdout
    );
    let warnings: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{}", o.stderr);
    assert!(
        warnings[0].starts_with("warning: policy.toml:3:18: policy.exempt_sources: these sources are exempt on every policed port of every switch, so any subscriber who spoofs one"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].starts_with("warning: policy.toml:4:34: policy.subscriber_ethertypes[1]: 0x8864 (pppoe-session) from subscriber ports is forwarded, and TCP to the blocked ports carried inside it is NOT blocked"),
        "{}",
        warnings[1]
    );
}

#[test]
fn plan_shows_exemptions_bound_to_their_port() {
    let f = PolicyFile::new(
        "[policy]\nrelays = [\"192.0.2.25\"]\n[[switch]]\ndpid = 1\nsubscriber_ports = [1, 2]\nuplink_ports = [3]\n[[switch.exempt]]\nport = 2\nsources = [\"203.0.113.0/29\"]\n[[switch.exempt]]\nport = 3\nsources = [\"203.0.113.8/29\"]\n",
    );
    let o = op25b(&f, &["check", "--config", "policy.toml"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("error: policy.toml:11:8: switch[0].exempt[1].port: port 3 is an uplink of switch 00:00:00:00:00:00:00:01: its traffic is never policed"),
        "{}",
        o.stderr
    );
    let f = PolicyFile::new(
        "[policy]\nrelays = [\"192.0.2.25\"]\n[[switch]]\ndpid = 1\nsubscriber_ports = [1, 2]\nuplink_ports = [3]\n[[switch.exempt]]\nport = 2\nsources = [\"203.0.113.0/29\"]\n",
    );
    let o = op25b(&f, &["plan", "--config", "policy.toml", "--dpid", "1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let c = "cookie=0x4f50323542000000,table=0";
    for line in [
        "priority=29000,in_port=2,tcp,nw_src=203.0.113.0/29,actions=NORMAL",
        "priority=10000,arp,actions=NORMAL",
        "priority=5000,in_port=1,actions=drop",
        "priority=5000,in_port=2,actions=drop",
        "priority=0,actions=NORMAL",
    ] {
        assert!(
            o.stdout.contains(&format!("{c},{line}\n")),
            "{line} missing:\n{}",
            o.stdout
        );
    }
    // Bound only: no flow exempts the source on every port.
    assert!(
        !o.stdout
            .contains("priority=29000,tcp,nw_src=203.0.113.0/29"),
        "{}",
        o.stdout
    );
}

#[test]
fn plan_for_one_dpid_with_ports_and_without_meters() {
    let f = PolicyFile::new(TWO_SWITCHES);
    let o = op25b(
        &f,
        &[
            "plan",
            "--config",
            "policy.toml",
            "--dpid",
            "0x1",
            "--ports",
            "1,4",
            "--no-meters",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .starts_with("# switch 00:00:00:00:00:00:00:01 (edge-1): 21 flows"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains(
        "# note: switch 00:00:00:00:00:00:00:01 has no port 2 (configured as subscriber port)"
    ));
    assert!(!o.stdout.contains("meter"), "{}", o.stdout);
    assert!(o
        .stdout
        .contains("priority=20000,in_port=2,tcp6,tp_dst=25,actions=drop"));
    // An unlisted dpid gets the generic set, whose size does not depend on --ports.
    let a = op25b(
        &f,
        &[
            "plan",
            "--config",
            "policy.toml",
            "--dpid",
            "5",
            "--ports",
            "1,2,3",
        ],
    );
    let b = op25b(
        &f,
        &[
            "plan",
            "--config",
            "policy.toml",
            "--dpid",
            "5",
            "--ports",
            &(1..=500)
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ],
    );
    assert_eq!(a.code, 0);
    assert!(
        a.stdout
            .starts_with("# switch 00:00:00:00:00:00:00:05 (not listed: [defaults]): 13 flows"),
        "{}",
        a.stdout
    );
    assert_eq!(flow_lines(&a.stdout), flow_lines(&b.stdout));
}

#[test]
fn plan_refuses_a_broken_policy_and_bad_arguments() {
    let f = PolicyFile::new("[policy]\nexempt_sources = [\"10.0.0.1/8\"]\n");
    let o = op25b(&f, &["plan", "--config", "policy.toml"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert!(o.stderr.contains("error: policy.toml:2:19: policy.exempt_sources[0]: \"10.0.0.1/8\" has host bits set beyond /8 (did you mean 10.0.0.0/8?)"), "{}", o.stderr);
    let f = PolicyFile::new(TWO_SWITCHES);
    let o = op25b(&f, &["plan", "--config", "policy.toml", "--dpid", "edge-1"]);
    assert_eq!(o.code, 2, "clap usage errors exit 2");
    assert!(o.stderr.contains("invalid dpid \"edge-1\""), "{}", o.stderr);
    let o = op25b(&f, &["plan", "--config", "policy.toml", "--ports", "1,0"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("\"0\" is not an OpenFlow port number"),
        "{}",
        o.stderr
    );
}

#[test]
fn plan_output_ends_with_one_newline_after_the_last_flow() {
    let f = PolicyFile::new(TWO_SWITCHES);
    for args in [
        &["plan", "--config", "policy.toml"][..],
        &["plan", "--config", "policy.toml", "--dpid", "1"],
        &["plan", "--config", "policy.toml", "--dpid", "5"],
    ] {
        let o = op25b(&f, args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        let last = o.stdout.lines().last().unwrap_or_default();
        assert!(last.starts_with("cookie="), "{args:?}: last line {last:?}");
        assert!(
            o.stdout.ends_with(&format!("{last}\n")),
            "{args:?}: no newline after the last flow: {:?}",
            &o.stdout[o.stdout.len().saturating_sub(40)..]
        );
        assert!(!o.stdout.ends_with("\n\n"), "{args:?}");
    }
    let o = check(TWO_SWITCHES);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.starts_with("OK: ")
            && o.stdout.ends_with(
                "defaults police all ports but uplinks, subscriber EtherTypes [ipv4, arp, ipv6], 1 exempt source bound to ports, OpenFlow on plain TCP 127.0.0.1:6653
"
            ),
        "{:?}",
        o.stdout
    );
    assert_eq!(o.stdout.lines().count(), 1, "{:?}", o.stdout);
}

/// Runs `op25b <args>` with stdout going to `stdout`; `code` is -signal when a signal ended it.
fn op25b_to(file: &PolicyFile, args: &[&str], stdout: std::process::Stdio) -> Out {
    let o = Command::new(BIN)
        .current_dir(&file.dir)
        .args(args)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    Out {
        code: o.status.code().unwrap_or_else(|| {
            -std::os::unix::process::ExitStatusExt::signal(&o.status).unwrap_or(1)
        }),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn plan_and_check_survive_a_closed_pipe_and_report_an_unwritable_stdout() {
    let f = PolicyFile::new(TWO_SWITCHES);
    for args in [
        &["plan", "--config", "policy.toml"][..],
        &["check", "--config", "policy.toml"],
    ] {
        // `op25b plan | head`: the reader is gone before anything is written. main.rs restores
        // SIGPIPE's default for printing commands, so the process ends by SIGPIPE like other
        // Unix tools; were SIGPIPE ignored, `write_stdout` would end it with 0. Never a panic.
        let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
        drop(reader);
        let o = op25b_to(&f, args, writer.into());
        assert!(
            o.code == -13 || o.code == 0,
            "{args:?}: {} {}",
            o.code,
            o.stderr
        );
        assert_eq!(o.stderr, "", "{args:?}");
        // A full disk: an error message and exit 1, no panic.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap_or_else(|e| panic!("/dev/full: {e}"));
        let o = op25b_to(&f, args, full.into());
        assert_eq!(o.code, 1, "{args:?}: {}", o.stderr);
        assert!(
            o.stderr
                .contains("error: cannot write to stdout: No space left on device"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(!o.stderr.contains("panicked"), "{args:?}: {}", o.stderr);
    }
}

/// `report_command`'s program must exist and be executable: `check` says so at the key's
/// `policy.toml:line:column`, and accepts it once it is.
#[test]
fn check_refuses_a_report_command_that_cannot_run() {
    use std::os::unix::fs::PermissionsExt;
    let f = PolicyFile::new("");
    let program = f.dir.join("ticket");
    let text = format!(
        "[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nreport_command = [\"{}\", \"--queue\", \"abuse\"]\n",
        program.display()
    );
    std::fs::write(f.dir.join("policy.toml"), &text).expect("write policy");
    let prefix = format!(
        "error: policy.toml:4:18: reporting.report_command ({})",
        program.display()
    );

    let o = op25b(&f, &["check", "--config", "policy.toml"]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .starts_with(&format!("{prefix}: cannot use the program: No such file")),
        "{}",
        o.stderr
    );

    std::fs::write(&program, "#!/bin/sh\ncat >/dev/null\n").expect("write program");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = op25b(&f, &["check", "--config", "policy.toml"]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .starts_with(&format!("{prefix}: not executable (mode 644)")),
        "{}",
        o.stderr
    );

    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let o = op25b(&f, &["check", "--config", "policy.toml"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("OK: "), "{}", o.stdout);
}
