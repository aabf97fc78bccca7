//! `[controller]` transport keys (listen, plaintext, tls_*) and `[[switch]] cert_sha256`.
use super::*;
use std::net::SocketAddr;

const RULES: &str = "[policy]\nrelays = [\"192.0.2.25\"]\n";

fn parse(controller: &str) -> Result<Loaded, Vec<String>> {
    Config::parse(&format!("[controller]\n{controller}{RULES}"), "p.toml")
        .map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const TLS: &str = "tls_listen = \"0.0.0.0:6653\"\ntls_cert = \"/etc/op25b/ctl-cert.pem\"\ntls_key = \"/etc/op25b/ctl-privkey.pem\"\ntls_client_ca = \"/etc/op25b/switchca.pem\"\n";

#[test]
fn plaintext_defaults_to_loopback_only() {
    let c = Config::parse(RULES, "p.toml").unwrap().config;
    assert_eq!(c.controller().listen, Some(addr("127.0.0.1:6653")));
    assert_eq!(c.controller().plaintext, PlaintextRule::LoopbackOnly);
    assert!(c.controller().tls.is_none());
}

#[test]
fn plaintext_on_a_public_address_needs_allow_and_says_how_to_set_up_tls() {
    let e = parse("listen = \"0.0.0.0:6653\"\n").unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("p.toml:2:10: controller.listen: plaintext OpenFlow on 0.0.0.0:6653"),
        "{}",
        e[0]
    );
    for hint in [
        "tls_listen",
        "tls_client_ca",
        "docs/operating.md",
        "plaintext = \"allow\"",
    ] {
        assert!(e[0].contains(hint), "{hint} missing from {}", e[0]);
    }
    let ok = parse("listen = \"0.0.0.0:6653\"\nplaintext = \"allow\"\n").unwrap();
    assert_eq!(ok.config.controller().listen, Some(addr("0.0.0.0:6653")));
    assert_eq!(ok.config.controller().plaintext, PlaintextRule::Allow);
    // Loopback, v4 or v6, needs nothing.
    assert!(parse("listen = \"[::1]:6653\"\n").is_ok());
    let e = parse("plaintext = \"yes\"\n").unwrap_err();
    assert!(
        e[0].starts_with("p.toml:2:13: controller.plaintext: \"yes\""),
        "{e:?}"
    );
}

#[test]
fn tls_keys_give_a_tls_listener_and_no_plaintext_one_unless_asked() {
    let c = parse(TLS).unwrap().config;
    let s = c.controller();
    assert_eq!(s.listen, None, "TLS only: no plaintext listener by default");
    let tls = s.tls.as_ref().unwrap();
    assert_eq!(tls.listen, addr("0.0.0.0:6653"));
    assert_eq!(tls.cert.path.to_str(), Some("/etc/op25b/ctl-cert.pem"));
    assert_eq!(tls.cert.field, "controller.tls_cert");
    assert_eq!(tls.key.location.to_string(), "p.toml:4:11");
    assert_eq!(tls.client_ca.location.to_string(), "p.toml:5:17");
    // A migration: both at once.
    let both = parse(&format!("{TLS}listen = \"127.0.0.1:6633\"\n")).unwrap();
    assert_eq!(
        both.config.controller().listen,
        Some(addr("127.0.0.1:6633"))
    );
    assert!(both.config.controller().tls.is_some());
}

#[test]
fn tls_keys_come_together() {
    let e = parse("tls_listen = \"0.0.0.0:6653\"\ntls_cert = \"c.pem\"\n").unwrap_err();
    assert_eq!(
        e,
        ["p.toml:2:14: controller: mutual TLS needs tls_listen, tls_cert, tls_key and tls_client_ca together; missing: tls_key, tls_client_ca"]
    );
    let e = parse("tls_key = \"\"\n").unwrap_err();
    assert!(
        e.iter()
            .any(|m| m.starts_with("p.toml:2:11: controller.tls_key: empty")),
        "{e:?}"
    );
    let e = parse(&TLS.replace("0.0.0.0:6653", "6653")).unwrap_err();
    assert!(
        e[0].starts_with("p.toml:2:14: controller.tls_listen: \"6653\" is not an address:port"),
        "{e:?}"
    );
}

#[test]
fn moving_a_tls_key_to_another_line_is_the_same_setting() {
    let a = parse(TLS).unwrap().config;
    let b = parse(&format!("\n\n{TLS}")).unwrap().config;
    assert_eq!(a, b);
}

#[test]
fn switch_cert_sha256_is_parsed_and_exposed() {
    let hex = "AB:".repeat(31) + "CD";
    let text =
        format!("{RULES}[[switch]]\ndpid = 1\ncert_sha256 = \"{hex}\"\n[[switch]]\ndpid = 2\n");
    let c = Config::parse(&text, "p.toml").unwrap().config;
    let s1 = c.policy().switch(Dpid(1)).unwrap();
    assert_eq!(s1.cert_sha256.map(|f| f.to_string()), Some(hex));
    assert_eq!(c.policy().switch(Dpid(2)).unwrap().cert_sha256, None);
    assert!(c.policy().switch(Dpid(3)).is_none());
    let bad = format!("{RULES}[[switch]]\ndpid = 1\ncert_sha256 = \"abcd\"\n");
    let e = Config::parse(&bad, "p.toml").unwrap_err().0;
    assert_eq!(e.len(), 1);
    assert!(
        e[0].to_string().starts_with(
            "p.toml:5:15: switch[0].cert_sha256: invalid certificate SHA-256 \"abcd\""
        ),
        "{}",
        e[0]
    );
}
