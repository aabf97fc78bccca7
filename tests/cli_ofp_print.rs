//! Runs the real `op25b ofp-print` binary on real Open vSwitch bytes and on broken ones, and
//! checks what it prints and its exit code.

use std::process::{Command, Output};

use op25b_test_support::temp::temp_dir;

/// The FLOW_MOD ovs-ofctl sent for `table=0,priority=31000,cookie=0x4f50323542100001,tcp,
/// in_port=1,nw_src=10.9.0.0/24,nw_dst=192.0.2.25,tp_dst=25,actions=normal`
/// (proto/testdata/captures/add-flow-relay-ipv4).
const FLOW_MOD: &str = "040e0080000000024f5032354210000100000000000000000000000000007918\
                        ffffffffffffffffffffffff0000000000010031800000040000000180000a02\
                        0800800017080a090000ffffff0080001804c0000219800014010680001c0200\
                        1900000000000000000400180000000000000010fffffffa0000000000000000";
const FLOW_MOD_TEXT: &str =
    "OFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD table:0 priority=31000 cookie=0x4f50323542100001 \
     tcp,in_port=1,ipv4_src=10.9.0.0/24,ipv4_dst=192.0.2.25,tcp_dst=25 actions=output:NORMAL\n";
const BARRIER: &str = "0414000800000003";

fn op25b(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_op25b"))
        .arg("ofp-print")
        .args(args)
        .output()
        .expect("run op25b")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn spaced(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    // One directory per file: tests run in parallel and each removes its own.
    let path = temp_dir("cli-ofp-print").join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

#[test]
fn prints_a_real_flow_mod_given_as_spaced_hex() {
    let o = op25b(&[&spaced(FLOW_MOD)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), FLOW_MOD_TEXT);
}

#[test]
fn several_messages_from_arguments_and_from_a_raw_file() {
    let o = op25b(&[FLOW_MOD, BARRIER, "--check-roundtrip"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        format!(
            "{FLOW_MOD_TEXT}OFPT_BARRIER_REQUEST (OF1.3) (xid=0x3):\n\
             round-trip: 2 of 2 messages decoded and re-encoded byte-identical\n"
        )
    );

    let raw = [
        hex::decode(FLOW_MOD).unwrap(),
        hex::decode(BARRIER).unwrap(),
    ]
    .concat();
    let path = temp_file("two.bin", &raw);
    let o = op25b(&["--file", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        format!("{FLOW_MOD_TEXT}OFPT_BARRIER_REQUEST (OF1.3) (xid=0x3):\n")
    );
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }

    let path = temp_file("flow_mod.hex", format!("{}\n", spaced(FLOW_MOD)).as_bytes());
    let o = op25b(&["-f", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), FLOW_MOD_TEXT);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn corrupted_message_fails_the_roundtrip_check_and_says_where() {
    // The ip_proto OXM (80 00 14 01 06) now claims a 2-byte payload: the match no longer parses.
    let corrupted = FLOW_MOD.replacen("8000140106", "8000140206", 1);
    assert_ne!(corrupted, FLOW_MOD);
    let o = op25b(&[BARRIER, &corrupted, "--check-roundtrip"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("OFPT_BARRIER_REQUEST (OF1.3) (xid=0x3):\n*** byte 8: decode error: "),
        "{out}"
    );
    assert!(out.contains("OFPET_BAD_MATCH/"), "{out}");
    assert!(
        out.ends_with(
            "round-trip: 1 of 2 messages decoded and re-encoded byte-identical (FAILED)\n"
        ),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 of 2 messages failed"));
}

#[test]
fn truncated_input_and_bad_hex() {
    let o = op25b(&[&FLOW_MOD[..FLOW_MOD.len() - 16]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with(
        "*** byte 0: incomplete message: 120 bytes left, its header says 128 bytes ***"
    ));

    let o = op25b(&["04 00 00 0g"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a hex digit"));

    let o = op25b(&["--file", "/nonexistent/op25b-ofp-print-input"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("reading /nonexistent/op25b-ofp-print-input")
    );
}

#[test]
fn every_real_capture_prints_and_round_trips() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/testdata/captures");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("read captures") {
        let dir = dir.expect("dir entry").path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).expect("read scenario") {
                let f = f.expect("dir entry").path();
                if f.extension().is_some_and(|e| e == "bin") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() >= 150, "only {} captures", files.len());
    let all: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).expect("read capture"))
        .collect();
    let path = temp_file("all-captures.bin", &all);
    let o = op25b(&["--check-roundtrip", "--file", path.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.contains("***"), "{out}");
    let n = files.len();
    assert!(out.ends_with(&format!(
        "round-trip: {n} of {n} messages decoded and re-encoded byte-identical\n"
    )));
    // One line per entry of the 1,000-flow dump, with spec field names.
    let flow_lines = out
        .lines()
        .filter(|l| l.starts_with(" table:0 priority=30000 cookie=0x4f503235420"))
        .count();
    assert_eq!(
        flow_lines,
        1000 + 1,
        "1,000 dumped flows plus the one dumped by cookie"
    );
    assert!(out.contains(" table:0 priority=30000 cookie=0x4f50323542000000 duration="));
    assert!(out.contains(
        "tcp,ipv4_src=10.0.0.0/24,ipv4_dst=192.0.2.25,tcp_dst=25 actions=output:NORMAL\n"
    ));
    assert!(out
        .contains("OFPT_ERROR (OF1.3) (xid=0x2): OFPET_METER_MOD_FAILED/OFPMMFC_INVALID_METER\n"));
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_full_disk_is_an_error_message_and_exit_1_not_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap_or_else(|e| panic!("/dev/full: {e}"));
    let o = Command::new(env!("CARGO_BIN_EXE_op25b"))
        .args(["ofp-print", BARRIER])
        .stdout(full)
        .output()
        .expect("run op25b");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("error: cannot write to stdout: No space left on device"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
