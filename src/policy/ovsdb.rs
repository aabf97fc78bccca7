//! The `[ovsdb]` section and the OVSDB endpoint syntax: where Open vSwitch's configuration
//! database can be reached, for `op25b doctor --ovsdb` and for `op25b run`'s continuous check
//! of the bridges' settings.
//!
//! Endpoints are written like Open vSwitch's own active remotes: `unix:PATH` or
//! `tcp:HOST[:PORT]` (port 6640 when left out; IPv6 in brackets, `tcp:[::1]:6640`). `ssl:` is
//! recognised and refused with its own message: op25b has no TLS settings yet.
use super::raw::RawOvsdb;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;

/// The local database socket of a Debian/Ubuntu Open vSwitch.
pub const DEFAULT_OVSDB_ENDPOINT: &str = "unix:/var/run/openvswitch/db.sock";

/// The OVSDB port (IANA) used when a `tcp:` endpoint names none.
pub const OVSDB_PORT: u16 = 6640;

/// Where to reach an OVSDB server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OvsdbEndpoint {
    /// `unix:PATH`: a local socket.
    Unix(PathBuf),
    /// `tcp:HOST:PORT`: a manager remote (`ovs-vsctl set-manager ptcp:6640`).
    Tcp {
        /// An IP address or a host name.
        host: String,
        /// The port.
        port: u16,
    },
}

/// An endpoint that could not be parsed (or that op25b cannot use yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// `ssl:` is OVSDB's, but op25b has no TLS settings yet.
    #[error("{0:?}: ssl: endpoints are not supported yet (op25b has no TLS settings); use unix:PATH, or tcp:HOST:PORT on a trusted management network")]
    SslNotSupported(String),
    /// `punix:`/`ptcp:`/`pssl:` make the client listen; op25b connects.
    #[error("{0:?} is a passive (listening) remote: op25b connects to the database, so use unix:PATH or tcp:HOST:PORT")]
    Passive(String),
    /// Anything else.
    #[error("{0:?} is not an OVSDB endpoint: expected unix:PATH or tcp:HOST[:PORT] (e.g. \"unix:/var/run/openvswitch/db.sock\", \"tcp:192.0.2.10:6640\")")]
    Malformed(String),
}

impl OvsdbEndpoint {
    /// [`DEFAULT_OVSDB_ENDPOINT`].
    pub fn default_local() -> Self {
        OvsdbEndpoint::Unix(PathBuf::from("/var/run/openvswitch/db.sock"))
    }
}

impl FromStr for OvsdbEndpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let malformed = || EndpointError::Malformed(s.to_owned());
        let Some((scheme, rest)) = t.split_once(':') else {
            return Err(malformed());
        };
        match scheme {
            "unix" if !rest.is_empty() => Ok(OvsdbEndpoint::Unix(PathBuf::from(rest))),
            "tcp" => host_port(rest)
                .map(|(host, port)| OvsdbEndpoint::Tcp { host, port })
                .ok_or_else(malformed),
            "ssl" => Err(EndpointError::SslNotSupported(s.to_owned())),
            "punix" | "ptcp" | "pssl" => Err(EndpointError::Passive(s.to_owned())),
            _ => Err(malformed()),
        }
    }
}

/// `HOST[:PORT]`, `[V6][:PORT]`; the port defaults to [`OVSDB_PORT`].
fn host_port(rest: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if !host_ok {
        return None;
    }
    let port = match port {
        None => OVSDB_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|&n| n != 0)?,
    };
    Some((host.to_owned(), port))
}

impl fmt::Display for OvsdbEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OvsdbEndpoint::Unix(path) => write!(f, "unix:{}", path.display()),
            OvsdbEndpoint::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp:[{host}]:{port}")
            }
            OvsdbEndpoint::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

/// Validated `[ovsdb]` settings (the section may be omitted: then nothing is monitored).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OvsdbSettings {
    /// The databases `op25b run` monitors, without duplicates, in file order.
    pub endpoints: Vec<OvsdbEndpoint>,
}

/// One mistake in `[ovsdb]`: where, which field, why.
pub(super) type OvsdbIssue = (Range<usize>, String, String);

/// Validates `[ovsdb]`; every endpoint that does not parse is an issue, duplicates are dropped
/// (the second issue list: warnings).
pub(super) fn settings(
    raw: Option<&RawOvsdb>,
) -> (OvsdbSettings, Vec<OvsdbIssue>, Vec<OvsdbIssue>) {
    let mut out = OvsdbSettings::default();
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for (i, e) in raw
        .and_then(|r| r.endpoints.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("ovsdb.endpoints[{i}]");
        match e.get_ref().parse::<OvsdbEndpoint>() {
            Ok(ep) if out.endpoints.contains(&ep) => {
                warnings.push((e.span(), field, format!("{ep} is listed twice")));
            }
            Ok(ep) => out.endpoints.push(ep),
            Err(err) => errors.push((e.span(), field, err.to_string())),
        }
    }
    (out, errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Result<OvsdbEndpoint, EndpointError> {
        s.parse()
    }

    #[test]
    fn parses_unix_and_tcp_endpoints() {
        assert_eq!(
            ep(DEFAULT_OVSDB_ENDPOINT),
            Ok(OvsdbEndpoint::default_local())
        );
        assert_eq!(
            ep("tcp:192.0.2.10:6641"),
            Ok(OvsdbEndpoint::Tcp {
                host: "192.0.2.10".into(),
                port: 6641
            })
        );
        assert_eq!(
            ep("tcp:ovs-edge-1"),
            Ok(OvsdbEndpoint::Tcp {
                host: "ovs-edge-1".into(),
                port: 6640
            })
        );
        assert_eq!(
            ep("tcp:[2001:db8::1]:6640"),
            Ok(OvsdbEndpoint::Tcp {
                host: "2001:db8::1".into(),
                port: 6640
            })
        );
    }

    #[test]
    fn the_section_lists_endpoints_and_locates_mistakes() {
        use crate::policy::Config;
        let ok = Config::parse(
            "[policy]\nrelays = [\"192.0.2.25\"]\n[ovsdb]\nendpoints = [\"unix:/run/db.sock\", \"tcp:192.0.2.10\", \"unix:/run/db.sock\"]\n",
            "p.toml",
        )
        .expect("valid");
        assert_eq!(
            ok.config.ovsdb().endpoints,
            vec![
                OvsdbEndpoint::Unix("/run/db.sock".into()),
                OvsdbEndpoint::Tcp {
                    host: "192.0.2.10".into(),
                    port: OVSDB_PORT
                }
            ]
        );
        assert_eq!(ok.warnings.len(), 1);
        assert!(
            ok.warnings[0]
                .to_string()
                .contains("p.toml:4:53: ovsdb.endpoints[2]: unix:/run/db.sock is listed twice"),
            "{}",
            ok.warnings[0]
        );
        let none = Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").expect("valid");
        assert_eq!(none.config.ovsdb(), &OvsdbSettings::default());
        let bad = Config::parse(
            "[policy]\n[ovsdb]\nendpoints = [\"unix:/ok\", \"ssl:192.0.2.10:6640\"]\n",
            "p.toml",
        )
        .expect_err("ssl refused");
        assert_eq!(bad.0.len(), 1);
        let text = bad.to_string();
        assert!(
            text.starts_with("error: p.toml:3:26: ovsdb.endpoints[1]: \"ssl:192.0.2.10:6640\": ssl: endpoints are not supported yet"),
            "{text}"
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "unix:/run/openvswitch/db.sock",
            "tcp:192.0.2.10:6641",
            "tcp:[2001:db8::1]:6640",
        ] {
            assert_eq!(ep(s).map(|e| e.to_string()).as_deref(), Ok(s));
        }
    }

    #[test]
    fn refuses_ssl_passive_and_malformed_endpoints_with_their_own_messages() {
        assert!(matches!(
            ep("ssl:192.0.2.10:6640"),
            Err(EndpointError::SslNotSupported(_))
        ));
        assert!(ep("ssl:192.0.2.10:6640")
            .unwrap_err()
            .to_string()
            .contains("not supported yet"));
        assert!(matches!(ep("ptcp:6640"), Err(EndpointError::Passive(_))));
        for bad in [
            "",
            "unix:",
            "tcp:",
            "tcp:host:0",
            "tcp:host:70000",
            "tcp:[::1",
            "tcp:a b:1",
            "/var/run/openvswitch/db.sock",
            "http://x",
        ] {
            assert!(
                matches!(ep(bad), Err(EndpointError::Malformed(_))),
                "{bad:?}: {:?}",
                ep(bad)
            );
        }
    }
}
