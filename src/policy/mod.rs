//! The operator's policy file: TOML in, a validated [`Config`] out (with warnings), or every
//! mistake with its `file:line:column`.
//!
//! A [`Config`] (and the [`Policy`] inside it) can only be obtained from [`Config::parse`] or
//! [`Config::load`], so everything downstream may rely on it being valid.
mod api_settings;
mod bound_exemption;
mod cert_sha256;
mod cluster_settings;
mod controller_settings;
mod cookie;
mod dpid;
mod error;
mod ethertype;
mod forwarding;
mod fragments;
mod location;
mod ovsdb;
mod port;
mod port_roles;
mod prefix;
mod raw;
mod reporting;
mod shared_part;
mod validate;
mod validate_subscribers;
mod validation_context;

pub use api_settings::{ApiSettings, ApiTls, DEFAULT_TOKEN_FILE_NAME};
pub use bound_exemption::BoundExemptions;
pub use cert_sha256::{CertSha256, CertSha256ParseError};
pub use cluster_settings::{ClusterSettings, DEFAULT_KEY_PREFIX, DEFAULT_LEASE_SECS};
pub use controller_settings::{
    ControllerSettings, PlaintextRule, TlsFile, TlsSettings, DEFAULT_LISTEN,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER,
};
pub use cookie::Cookie;
pub use dpid::{Dpid, DpidParseError};
pub use error::{LoadError, PolicyError, PolicyErrorKind, PolicyErrors, PolicyWarning};
pub use ethertype::{EtherType, EtherTypeError};
pub use forwarding::Forwarding;
pub use fragments::{FragmentMode, UnknownFragmentMode};
pub use location::Location;
pub use ovsdb::{EndpointError, OvsdbEndpoint, OvsdbSettings, DEFAULT_OVSDB_ENDPOINT, OVSDB_PORT};
pub use port::PortNo;
pub use port_roles::{PortRoles, SubscriberPorts, SwitchPolicy};
pub use prefix::{IpPrefix, PrefixError};
pub use reporting::{ReportCommand, ReportPath, Reporting, PLACEHOLDER_REPORTED_FROM};
pub use shared_part::{parse_shared, INSTANCE_SECTIONS};

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The largest policy file op25b reads (16 MiB): room for the largest policies op25b is
/// measured with (200,000 prefixes, IPv4 and IPv6 mixed, are about 6 MiB), small enough that a
/// wrong path (a log, a disk image) is refused at once instead of being read into memory and
/// parsed.
pub const MAX_POLICY_BYTES: usize = 16 * 1024 * 1024;

/// The whole validated file: runtime settings plus the policy the flows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    controller: ControllerSettings,
    api: ApiSettings,
    cluster: Option<ClusterSettings>,
    policy: Policy,
    ovsdb: OvsdbSettings,
}

/// A parsed file and the warnings worth showing the operator.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated configuration.
    pub config: Config,
    /// Legal but suspicious settings (e.g. no relays).
    pub warnings: Vec<PolicyWarning>,
    /// SHA-256 of the file's text, lower-case hex: what `sha256sum` prints for the file, so an
    /// operator can tell which file is in force (the API and the status page show it).
    pub source_sha256: String,
}

/// SHA-256 of `text`, lower-case hex.
fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// What the flows depend on: blocking rules, port roles per switch, reporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    blocked_ports: Vec<u16>,
    relays: Vec<IpPrefix>,
    exempt_sources: Vec<IpPrefix>,
    subscriber_ethertypes: Vec<EtherType>,
    forwarding: Forwarding,
    cookie: Cookie,
    fragments: FragmentMode,
    defaults: PortRoles,
    switches: BTreeMap<Dpid, SwitchPolicy>,
    reporting: Reporting,
}

impl Config {
    /// Parses and validates `text`; `origin` is the file name used in messages. A text over
    /// [`MAX_POLICY_BYTES`] is refused unparsed.
    pub fn parse(text: &str, origin: &str) -> Result<Loaded, PolicyErrors> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(too_large(origin, text.len() as u64));
        }
        let mut loaded = validate::parse(text, origin)?;
        loaded.source_sha256 = sha256_hex(text);
        Ok(loaded)
    }

    /// Reads and validates the file at `path`: at most [`MAX_POLICY_BYTES`] are read (a bigger
    /// file is refused), and a file that group or others may write gets a warning (whoever can
    /// write it decides what the network blocks).
    pub fn load(path: &Path) -> Result<Loaded, LoadError> {
        let read_error = |source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        };
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(read_error)?;
        let meta = file.metadata().map_err(read_error)?;
        if meta.len() > MAX_POLICY_BYTES as u64 {
            return Err(LoadError::Invalid(too_large(&origin, meta.len())));
        }
        // Read one byte past the cap: a file that grew since (or a special file) is refused too.
        let mut text = String::new();
        file.take(MAX_POLICY_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        let mut loaded = Self::parse(&text, &origin).map_err(LoadError::Invalid)?;
        if let Some(warning) = writable_by_others(&origin, &meta) {
            loaded.warnings.push(warning);
        }
        Ok(loaded)
    }

    /// `[controller]`.
    pub fn controller(&self) -> &ControllerSettings {
        &self.controller
    }

    /// `[api]`.
    pub fn api(&self) -> &ApiSettings {
        &self.api
    }

    /// `[cluster]` (`None`: one process, no cluster).
    pub fn cluster(&self) -> Option<&ClusterSettings> {
        self.cluster.as_ref()
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// `[ovsdb]`: the Open vSwitch databases `run` checks continuously.
    pub fn ovsdb(&self) -> &OvsdbSettings {
        &self.ovsdb
    }
}

/// The one error of a file over [`MAX_POLICY_BYTES`], at its start.
fn too_large(origin: &str, size: u64) -> PolicyErrors {
    PolicyErrors(vec![PolicyError {
        location: Location::at(origin, "", 0),
        kind: PolicyErrorKind::TooLarge {
            size,
            max: MAX_POLICY_BYTES,
        },
    }])
}

/// A warning when group or others may write the file (mode bits 0o020 / 0o002).
fn writable_by_others(origin: &str, meta: &std::fs::Metadata) -> Option<PolicyWarning> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (_, true) => "world",
        (true, false) => "group",
        (false, false) => return None,
    };
    Some(PolicyWarning {
        location: Location::at(origin, "", 0),
        message: format!(
            "the policy file is {who}-writable (mode {mode:04o}): whoever can write it decides what is blocked; run chmod go-w on it"
        ),
    })
}

impl Policy {
    /// TCP destination ports to block, sorted, without duplicates, never empty of meaning
    /// (may be empty: then nothing is blocked).
    pub fn blocked_ports(&self) -> &[u16] {
        &self.blocked_ports
    }

    /// Sanctioned relays (sorted, deduplicated).
    pub fn relays(&self) -> &[IpPrefix] {
        &self.relays
    }

    /// Exempt subscriber prefixes on any policed port (sorted, deduplicated). Any subscriber
    /// can spoof them; see [`Policy::exemptions_for`] for exemptions bound to a port.
    pub fn exempt_sources(&self) -> &[IpPrefix] {
        &self.exempt_sources
    }

    /// The EtherTypes a policed port may send (sorted, deduplicated): IPv4, ARP and IPv6, plus
    /// `subscriber_ethertypes`. Everything else from a policed port is dropped.
    pub fn subscriber_ethertypes(&self) -> &[EtherType] {
        &self.subscriber_ethertypes
    }

    /// The exemptions bound to ports of `dpid` (none for a switch not listed).
    pub fn exemptions_for(&self, dpid: Dpid) -> &BoundExemptions {
        self.switches
            .get(&dpid)
            .map_or(&bound_exemption::NO_EXEMPTIONS, |s| &s.exempt)
    }

    /// Where allowed traffic goes.
    pub fn forwarding(&self) -> Forwarding {
        self.forwarding
    }

    /// The cookie on every flow op25b owns (never 0).
    pub fn cookie(&self) -> Cookie {
        self.cookie
    }

    /// How fragments are handled.
    pub fn fragments(&self) -> FragmentMode {
        self.fragments
    }

    /// `[defaults]`: roles for switches not listed.
    pub fn defaults(&self) -> &PortRoles {
        &self.defaults
    }

    /// Listed switches by dpid.
    pub fn switches(&self) -> &BTreeMap<Dpid, SwitchPolicy> {
        &self.switches
    }

    /// The entry of a listed switch (its name, port roles and pinned certificate).
    pub fn switch(&self, dpid: Dpid) -> Option<&SwitchPolicy> {
        self.switches.get(&dpid)
    }

    /// The port roles for `dpid`: its own entry, or the defaults.
    pub fn roles_for(&self, dpid: Dpid) -> &PortRoles {
        self.switches
            .get(&dpid)
            .map_or(&self.defaults, |s| &s.ports)
    }

    /// The certificate `dpid` is pinned to (`[[switch]] cert_sha256`), if any.
    pub fn cert_pin(&self, dpid: Dpid) -> Option<CertSha256> {
        self.switches.get(&dpid).and_then(|s| s.cert_sha256)
    }

    /// `[reporting]`.
    pub fn reporting(&self) -> &Reporting {
        &self.reporting
    }
}

#[cfg(test)]
mod controller_settings_tests;
#[cfg(test)]
mod tests;
