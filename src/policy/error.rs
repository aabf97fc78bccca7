//! What can be wrong with a policy file, and the warnings worth printing.
use super::ethertype::EtherTypeError;
use super::location::Location;
use super::prefix::PrefixError;
use std::fmt;
use std::path::PathBuf;

/// One mistake in the policy file. Display: `file:line:col: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct PolicyError {
    /// Where.
    pub location: Location,
    /// What.
    pub kind: PolicyErrorKind,
}

/// The kinds of mistakes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyErrorKind {
    /// TOML syntax, a wrong type, an unknown or missing field (the TOML parser's message).
    #[error("{0}")]
    Syntax(String),
    /// A bad relay or exempt prefix.
    #[error("{field}: {source}")]
    Prefix {
        /// e.g. `policy.relays[1]`.
        field: String,
        /// Why.
        source: PrefixError,
    },
    /// A blocked TCP port outside 1..=65535.
    #[error("{field}: {value} is not a TCP port to block: expected 1..=65535")]
    BlockedPortRange {
        /// e.g. `policy.blocked_ports[0]`.
        field: String,
        /// What was given.
        value: i64,
    },
    /// A switch port outside 1..=0xffffff00.
    #[error(
        "{field}: {value} is not an OpenFlow port number: expected 1..=4294967040 (0xffffff00)"
    )]
    PortRange {
        /// e.g. `switch[0].uplink_ports[1]`.
        field: String,
        /// What was given.
        value: i64,
    },
    /// A port that is both policed and an uplink.
    #[error(
        "{field}: port {port} is listed both as a subscriber port and as an uplink port of {scope}"
    )]
    PortInBothRoles {
        /// The uplink entry.
        field: String,
        /// The port.
        port: u32,
        /// `[defaults]` or `switch 00:..:01`.
        scope: String,
    },
    /// The same dpid twice.
    #[error("switch[{index}].dpid: dpid {dpid} is already listed at line {first_line}")]
    DuplicateDpid {
        /// Index of the second entry.
        index: usize,
        /// The dpid.
        dpid: String,
        /// Line of the first entry.
        first_line: usize,
    },
    /// A bad entry of `subscriber_ethertypes`.
    #[error("{field}: {source}")]
    EtherType {
        /// e.g. `policy.subscriber_ethertypes[0]`.
        field: String,
        /// Why.
        source: EtherTypeError,
    },
    /// A `[[switch.exempt]]` port whose traffic the switch does not police.
    #[error("{field}: port {port} is {role} of {scope}: its traffic is never policed, so there is nothing to exempt; bind the sources to the subscriber port they come from")]
    ExemptPortNotPoliced {
        /// e.g. `switch[0].exempt[1].port`.
        field: String,
        /// The port.
        port: u32,
        /// "an uplink" or "not a subscriber port (subscriber_ports = [1, 2])".
        role: String,
        /// `switch 00:..:01 (edge-1)`.
        scope: String,
    },
    /// Cookie 0.
    #[error("policy.cookie: 0 cannot mark the flows op25b owns (every other tool's flows have cookie 0): use a distinctive value like \"0x4f50323542000000\"")]
    ZeroCookie,
    /// The file is bigger than op25b reads ([`super::MAX_POLICY_BYTES`]).
    #[error("the file is {size} bytes, larger than the {} MiB op25b reads (a policy of 200,000 prefixes is about 6 MiB)", max / (1024 * 1024))]
    TooLarge {
        /// The file's size in bytes (at least).
        size: u64,
        /// The cap.
        max: usize,
    },
    /// Any other out-of-range or malformed value.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// What was expected.
        reason: String,
    },
}

/// Every mistake found in one file (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// Loading a policy file failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("error: cannot read policy file {}: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file has mistakes.
    #[error("{0}")]
    Invalid(PolicyErrors),
}

/// Something legal but probably not intended. Display: `file:line:col: warning: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWarning {
    /// Where.
    pub location: Location,
    /// What.
    pub message: String,
}

impl fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}: {}", self.location, self.message)
    }
}
