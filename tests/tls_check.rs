//! `op25b check` and `op25b run` on the TLS keys and the plaintext rule, as the real binary:
//! unreadable files, a key that does not match its certificate and a bad CA are reported at the
//! `file:line:column` of the key; plaintext on a non-loopback address without
//! `plaintext = "allow"` fails `check` and stops `run` from starting.
mod tls_support;

use std::path::Path;
use std::process::Command;
use tls_support::{ca, leaf, temp_dir, tls_keys, KeyType};

const BIN: &str = env!("CARGO_BIN_EXE_op25b");
const RULES: &str = "[policy]\nrelays = [\"192.0.2.25\"]\n";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn op25b(dir: &Path, text: &str, args: &[&str]) -> Out {
    std::fs::write(dir.join("policy.toml"), text).expect("write policy");
    let o = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .args(["--config", "policy.toml"])
        .output()
        .expect("run op25b");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn check_reports_bad_tls_files_at_the_key_that_names_them() {
    let dir = temp_dir("tls-check");
    let switch_ca = ca(&dir, "switchca");
    let controller_ca = ca(&dir, "controllerca");
    let controller = leaf(&dir, "controller", &controller_ca, KeyType::P256);
    let other = leaf(&dir, "other", &controller_ca, KeyType::P256);

    // Good files: OK, naming the TLS listener.
    let good = format!(
        "[controller]\n{}{RULES}",
        tls_keys("0.0.0.0:6653", &controller, &switch_ca.cert)
    );
    let o = op25b(&dir, &good, &["check"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("OpenFlow on mutual TLS 0.0.0.0:6653\n"),
        "{}",
        o.stdout
    );

    // Missing certificate, key of another certificate, a CA file that is not PEM: three
    // errors at once, each at its key (line 3 col 12, line 4 col 11, line 5 col 17).
    std::fs::write(dir.join("garbage.pem"), "not a certificate\n").unwrap();
    let bad = format!(
        "[controller]\ntls_listen = \"0.0.0.0:6653\"\ntls_cert = \"missing.pem\"\ntls_key = \"{}\"\ntls_client_ca = \"garbage.pem\"\n{RULES}",
        other.key.display()
    );
    let o = op25b(&dir, &bad, &["check"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stderr.contains("error: policy.toml:3:12: controller.tls_cert (missing.pem): cannot read it: No such file"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(
            "error: policy.toml:5:17: controller.tls_client_ca (garbage.pem): no certificate in it"
        ),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("policy.toml: 2 errors"), "{}", o.stderr);

    // With the certificate readable, the mismatching key is found.
    let mismatch = bad.replace("missing.pem", &controller.cert.to_string_lossy());
    let o = op25b(&dir, &mismatch, &["check"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(&format!(
            "error: policy.toml:4:11: controller.tls_key ({}): the private key does not belong to the certificate in policy.toml:3:12: controller.tls_cert",
            other.key.display()
        )),
        "{}",
        o.stderr
    );

    // A CA file that is PEM but not a certificate a trust anchor can be made of.
    std::fs::write(
        dir.join("notca.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let o = op25b(
        &dir,
        &good.replace(&*switch_ca.cert.to_string_lossy(), "notca.pem"),
        &["check"],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("error: policy.toml:5:17: controller.tls_client_ca (notca.pem): certificate 0 is not a usable CA certificate"),
        "{}",
        o.stderr
    );

    // run refuses to start on the same mistakes.
    let o = op25b(&dir, &mismatch, &["run", "--api-listen", "127.0.0.1:0"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("cannot set up mutual TLS"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("does not belong to the certificate"),
        "{}",
        o.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plaintext_off_loopback_needs_allow_in_check_and_run() {
    let dir = temp_dir("tls-plain");
    let text = format!("[controller]\nlisten = \"0.0.0.0:6653\"\n{RULES}");
    let o = op25b(&dir, &text, &["check"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stderr.contains("error: policy.toml:2:10: controller.listen: plaintext OpenFlow on 0.0.0.0:6653 (not a loopback address)"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("docs/operating.md"), "{}", o.stderr);

    let o = op25b(&dir, &text, &["run", "--api-listen", "127.0.0.1:0"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("plaintext OpenFlow on 0.0.0.0:6653"),
        "{}",
        o.stderr
    );

    // A loopback policy cannot be widened from the command line either.
    let loopback = format!("[controller]\nlisten = \"127.0.0.1:0\"\n{RULES}");
    let o = op25b(
        &dir,
        &loopback,
        &[
            "run",
            "--listen",
            "0.0.0.0:0",
            "--api-listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("refusing to listen: plaintext OpenFlow on 0.0.0.0:0"),
        "{}",
        o.stderr
    );

    // Allowed explicitly: check passes.
    let allowed = text.replace("[controller]\n", "[controller]\nplaintext = \"allow\"\n");
    let o = op25b(&dir, &allowed, &["check"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
