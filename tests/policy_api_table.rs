//! The policy file's `[api]` table and the `[reporting]` rotation keys: parsed, defaulted,
//! and refused with their location when wrong.

use std::path::{Path, PathBuf};

use op25b::policy::Config;

const BASE: &str = "[policy]\nblocked_ports = [25]\n";

#[test]
fn api_and_rotation_keys_parse_and_default() {
    let plain = Config::parse(BASE, "p.toml").expect("valid").config;
    assert_eq!(plain.api().token_file, None);
    assert_eq!(
        plain
            .api()
            .token_file_for(Some(Path::new("/etc/op25b/policy.toml"))),
        PathBuf::from("/etc/op25b/api-token")
    );
    assert_eq!(plain.policy().reporting().report_max_bytes, None);
    assert_eq!(plain.policy().reporting().report_keep, 5);

    let text = format!(
        "{BASE}\n[reporting]\nreport_max_bytes = 1048576\nreport_keep = 9\n\n[api]\ntoken_file = \"secrets/token\"\nallowed_hosts = [\"OP25B.mgmt.example\", \"op25b:9325\"]\n"
    );
    let c = Config::parse(&text, "p.toml").expect("valid").config;
    assert_eq!(c.policy().reporting().report_max_bytes, Some(1_048_576));
    assert_eq!(c.policy().reporting().report_keep, 9);
    assert_eq!(
        c.api()
            .token_file_for(Some(Path::new("/etc/op25b/policy.toml"))),
        PathBuf::from("/etc/op25b/secrets/token")
    );
    assert_eq!(
        c.api().allowed_hosts,
        vec!["op25b.mgmt.example".to_owned(), "op25b:9325".to_owned()]
    );
}

#[test]
fn wrong_api_and_rotation_values_are_refused_with_their_place() {
    let text = format!(
        "{BASE}\n[reporting]\nreport_max_bytes = 10\nreport_keep = 0\n\n[api]\ntoken_file = \"\"\nallowed_hosts = [\"evil host/\"]\n"
    );
    let errors = Config::parse(&text, "p.toml")
        .expect_err("refused")
        .to_string();
    for needle in [
        "reporting.report_max_bytes",
        "reporting.report_keep",
        "api.token_file",
        "api.allowed_hosts[0]",
    ] {
        assert!(errors.contains(needle), "{needle} missing in: {errors}");
    }
    let unknown = format!("{BASE}\n[api]\ntoken = \"inline secrets are not a thing\"\n");
    assert!(Config::parse(&unknown, "p.toml").is_err());
}
