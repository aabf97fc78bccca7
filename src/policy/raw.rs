//! The policy file's shape exactly as written, with spans, before validation.
//! Adding a section: add a field here, a validated type next to it, and a step in `validate`.
use super::cookie::Cookie;
use super::dpid::Dpid;
use super::ethertype::RawEtherType;
use super::forwarding::RawForwarding;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub controller: Option<RawController>,
    pub policy: Spanned<RawPolicy>,
    #[serde(default)]
    pub defaults: Option<RawPortRoles>,
    #[serde(default)]
    pub switch: Vec<Spanned<RawSwitch>>,
    #[serde(default)]
    pub reporting: Option<RawReporting>,
    #[serde(default)]
    pub ovsdb: Option<RawOvsdb>,
    pub api: Option<RawApi>,
    pub cluster: Option<RawCluster>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCluster {
    pub etcd: Vec<Spanned<String>>,
    pub name: Spanned<String>,
    pub lease_secs: Option<Spanned<u64>>,
    pub key_prefix: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOvsdb {
    pub endpoints: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApi {
    pub token_file: Option<Spanned<String>>,
    pub allowed_hosts: Option<Vec<Spanned<String>>>,
    pub tls_cert: Option<Spanned<String>>,
    pub tls_key: Option<Spanned<String>>,
    pub plaintext: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawController {
    pub listen: Option<Spanned<String>>,
    pub plaintext: Option<Spanned<String>>,
    pub tls_listen: Option<Spanned<String>>,
    pub tls_cert: Option<Spanned<String>>,
    pub tls_key: Option<Spanned<String>>,
    pub tls_client_ca: Option<Spanned<String>>,
    pub echo_interval_secs: Option<Spanned<i64>>,
    pub echo_timeout_secs: Option<Spanned<i64>>,
    pub audit_interval_secs: Option<Spanned<i64>>,
    pub handshake_timeout_secs: Option<Spanned<i64>>,
    pub api_listen: Option<Spanned<String>>,
    pub allowed_peers: Option<Spanned<Vec<Spanned<String>>>>,
    pub max_connections: Option<Spanned<i64>>,
    pub max_connections_per_peer: Option<Spanned<i64>>,
    pub max_multipart_bytes: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub blocked_ports: Option<Spanned<Vec<Spanned<i64>>>>,
    pub relays: Option<Spanned<Vec<Spanned<String>>>>,
    pub exempt_sources: Option<Spanned<Vec<Spanned<String>>>>,
    pub subscriber_ethertypes: Option<Spanned<Vec<Spanned<RawEtherType>>>>,
    pub forwarding: Option<Spanned<RawForwarding>>,
    pub cookie: Option<Spanned<Cookie>>,
    pub fragments: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPortRoles {
    pub subscriber_ports: Option<Spanned<RawPortSet>>,
    pub uplink_ports: Option<Spanned<Vec<Spanned<i64>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSwitch {
    pub dpid: Spanned<Dpid>,
    pub name: Option<String>,
    pub subscriber_ports: Option<Spanned<RawPortSet>>,
    pub uplink_ports: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(default)]
    pub exempt: Vec<Spanned<RawExempt>>,
    pub cert_sha256: Option<Spanned<String>>,
}

/// One `[[switch.exempt]]` table: sources exempt only on this port of this switch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExempt {
    pub port: Spanned<i64>,
    pub sources: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReporting {
    pub enabled: Option<bool>,
    pub sample_rate_pps: Option<Spanned<i64>>,
    pub max_offenders: Option<Spanned<i64>>,
    pub threshold_attempts: Option<Spanned<i64>>,
    pub threshold_destinations: Option<Spanned<i64>>,
    pub window_secs: Option<Spanned<i64>>,
    pub report_path: Option<Spanned<String>>,
    pub reported_from: Option<Spanned<String>>,
    pub counters_interval_secs: Option<Spanned<i64>>,
    pub report_max_bytes: Option<Spanned<i64>>,
    pub report_keep: Option<Spanned<i64>>,
    pub ipv6_prefix_len: Option<Spanned<i64>>,
    pub reporter_org: Option<Spanned<String>>,
    pub report_command: Option<Spanned<Vec<Spanned<String>>>>,
    pub report_command_timeout_secs: Option<Spanned<i64>>,
    pub report_command_queue: Option<Spanned<i64>>,
}

/// `"all"` or a list of port numbers.
#[derive(Debug)]
pub(crate) enum RawPortSet {
    All,
    List(Vec<Spanned<i64>>),
}

impl<'de> Deserialize<'de> for RawPortSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPortSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or a list of port numbers")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPortSet, E> {
                if v == "all" {
                    Ok(RawPortSet::All)
                } else {
                    Err(E::custom(format!(
                        "unknown port set {v:?}: expected \"all\" or a list of port numbers like [1, 2, 3]"
                    )))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPortSet, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<Spanned<i64>>()? {
                    out.push(p);
                }
                Ok(RawPortSet::List(out))
            }
        }
        d.deserialize_any(V)
    }
}
