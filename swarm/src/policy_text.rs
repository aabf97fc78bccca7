//! The policy file the swarm runs the controller with: generated, so that the swarm knows the
//! exact flow set every switch must end with. Only `[defaults]` port roles, no `[[switch]]`
//! sections: every switch of the swarm has the same desired flows.
use std::net::{Ipv4Addr, SocketAddr};

use op25b_test_support::pki::{tls_keys, Pair};

use crate::tls_pki::ControllerTlsFiles;

/// What the swarm varies in the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmPolicy {
    /// OpenFlow listen address (`tls_listen` when `tls` is set, with no plain listener).
    pub listen: SocketAddr,
    /// Mutual TLS with these files instead of plain TCP.
    pub tls: Option<ControllerTlsFiles>,
    /// JSON API listen address (for the controller-side cross-check).
    pub api_listen: SocketAddr,
    /// Extra relays beyond the two standard ones (the reload scenario adds one).
    pub extra_relays: usize,
    /// Exempt source prefixes (distinct /32s from 100.64.0.0/10): one flow each.
    pub exempt_prefixes: usize,
    /// Controller ECHO_REQUEST interval, seconds.
    pub echo_interval_secs: u64,
    /// Sampling of blocked attempts (meters on every switch).
    pub reporting: bool,
    /// How often each switch's blocked counters are read (`counters_interval_secs`), seconds.
    pub counters_interval_secs: u64,
}

/// The `i`-th exempt prefix: a /32 in 100.64.0.0/10 (4,194,304 distinct values).
pub fn exempt_prefix(i: usize) -> String {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "only the low 22 bits are kept: the prefixes wrap after 4,194,304"
    )]
    let n = 0x6440_0000u32 | (i as u32 & 0x003f_ffff);
    format!("{}/32", Ipv4Addr::from(n))
}

/// The `i`-th extra relay: a /32 in 192.0.2.128/25 (then wrapping).
pub fn extra_relay(i: usize) -> String {
    format!("192.0.2.{}/32", 128 + (i % 128))
}

impl SwarmPolicy {
    /// The policy as TOML.
    pub fn to_toml(&self) -> String {
        let mut relays = vec![
            "\"192.0.2.25/32\"".to_string(),
            "\"2001:db8::25/128\"".to_string(),
        ];
        relays.extend((0..self.extra_relays).map(|i| format!("\"{}\"", extra_relay(i))));
        let exempt: Vec<String> = (0..self.exempt_prefixes)
            .map(|i| format!("\"{}\"", exempt_prefix(i)))
            .collect();
        format!(
            r#"# Written by op25b-swarm.
[controller]
{listen}
api_listen = "{api}"
echo_interval_secs = {echo}
echo_timeout_secs = {timeout}
audit_interval_secs = 86400
handshake_timeout_secs = 30

[policy]
blocked_ports = [25]
relays = [{relays}]
exempt_sources = [{exempt}]
forwarding = "normal"
cookie = "0x4f50323542000000"
fragments = "drop-tcp"

[defaults]
subscriber_ports = "all"
uplink_ports = []

[reporting]
enabled = {reporting}
sample_rate_pps = 20
counters_interval_secs = {counters}
"#,
            listen = self.listen_keys(),
            api = self.api_listen,
            echo = self.echo_interval_secs,
            timeout = self.echo_interval_secs * 3,
            relays = relays.join(", "),
            exempt = exempt.join(", "),
            reporting = self.reporting,
            counters = self.counters_interval_secs,
        )
    }

    /// The `[controller]` lines that say where and how switches connect.
    fn listen_keys(&self) -> String {
        match &self.tls {
            Some(tls) => {
                let server = Pair {
                    cert: tls.cert.clone(),
                    key: tls.key.clone(),
                };
                tls_keys(&self.listen.to_string(), &server, &tls.client_ca)
                    .trim_end()
                    .to_string()
            }
            // An attached controller off loopback: plain TCP must be allowed there.
            None if !self.listen.ip().is_loopback() => {
                format!("listen = \"{}\"\nplaintext = \"allow\"", self.listen)
            }
            None => format!("listen = \"{}\"", self.listen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use op25b::policy::Config;
    use std::collections::HashSet;

    fn sample(extra_relays: usize, exempt_prefixes: usize) -> SwarmPolicy {
        SwarmPolicy {
            listen: "127.0.0.1:6653".parse().unwrap(),
            tls: None,
            api_listen: "127.0.0.1:9325".parse().unwrap(),
            extra_relays,
            exempt_prefixes,
            echo_interval_secs: 5,
            reporting: true,
            counters_interval_secs: 10,
        }
    }

    #[test]
    fn the_generated_policy_is_valid_and_has_what_was_asked() {
        let loaded = Config::parse(&sample(1, 100).to_toml(), "swarm").expect("valid");
        let p = loaded.config.policy();
        assert_eq!(p.relays().len(), 3);
        assert_eq!(p.exempt_sources().len(), 100);
        assert!(p.switches().is_empty());
        assert_eq!(
            loaded.config.controller().listen.map(|a| a.port()),
            Some(6653)
        );
        assert_eq!(p.reporting().counters_interval_secs, 10);
    }

    #[test]
    fn with_tls_the_policy_listens_on_tls_only() {
        let mut p = sample(0, 1);
        p.tls = Some(ControllerTlsFiles {
            cert: "/pki/c.pem".into(),
            key: "/pki/k.pem".into(),
            client_ca: "/pki/ca.pem".into(),
        });
        let loaded = Config::parse(&p.to_toml(), "swarm").expect("valid");
        let c = loaded.config.controller();
        assert_eq!(c.listen, None, "no plain listener next to TLS");
        let tls = c.tls.as_ref().expect("TLS settings");
        assert_eq!(tls.listen.port(), 6653);
        assert_eq!(tls.client_ca.path, std::path::Path::new("/pki/ca.pem"));
    }

    #[test]
    fn exempt_prefixes_are_distinct_and_in_the_shared_address_range() {
        let all: HashSet<String> = (0..5000).map(exempt_prefix).collect();
        assert_eq!(all.len(), 5000);
        assert_eq!(exempt_prefix(0), "100.64.0.0/32");
        assert_eq!(exempt_prefix(257), "100.64.1.1/32");
    }
}
