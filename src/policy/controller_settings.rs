//! The `[controller]` section: listening addresses, TLS files, timers, and who may connect, for
//! the runtime.
//!
//! Switches connect over mutual TLS (`tls_listen` with `tls_cert`, `tls_key`, `tls_client_ca`),
//! over plain TCP (`listen`), or both at once during a migration. Plain TCP proves nothing about
//! the peer, so it is only allowed on a loopback address unless `plaintext = "allow"` says the
//! operator means it. Without `tls_listen`, `listen` defaults to `127.0.0.1:6653`; with it, there
//! is no plaintext listener unless `listen` is given.
use super::location::Location;
use super::prefix::IpPrefix;
use super::raw::RawController;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

/// The plaintext listener's address when nothing is configured.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    6653,
));

/// Validated `[controller]` settings (all have defaults; the section may be omitted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerSettings {
    /// Plain-TCP OpenFlow listen address; None: no plaintext listener (default `127.0.0.1:6653`
    /// without `tls_listen`, none with it).
    pub listen: Option<SocketAddr>,
    /// Mutual-TLS OpenFlow listener, when `tls_listen` is set.
    pub tls: Option<TlsSettings>,
    /// Whether plain TCP may listen on a non-loopback address.
    pub plaintext: PlaintextRule,
    /// Send ECHO_REQUEST after this much silence (default 5 s).
    pub echo_interval: Duration,
    /// Drop a switch that stays silent this long (default 15 s, > echo_interval).
    pub echo_timeout: Duration,
    /// Re-read and re-reconcile every switch's flows this often (default 60 s).
    pub audit_interval: Duration,
    /// HELLO + FEATURES + PORT_DESC (and, over TLS, the TLS handshake before them) must each
    /// complete within this (default 10 s).
    pub handshake_timeout: Duration,
    /// Metrics and JSON API address (default `127.0.0.1:9325`).
    pub api_listen: SocketAddr,
    /// OpenFlow connections are accepted only from these prefixes (`allowed_peers`); `None`
    /// (the default, the key absent) accepts any address.
    pub allowed_peers: Option<Vec<IpPrefix>>,
    /// OpenFlow connections open at once, in all (default [`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// OpenFlow connections open at once from one source address (default
    /// [`DEFAULT_MAX_CONNECTIONS_PER_PEER`]).
    pub max_connections_per_peer: usize,
    /// Bytes of multipart reply parts one connection may hold waiting for their last part,
    /// weighed as they sit in memory once decoded; a switch going over it is disconnected
    /// (default 96 MiB, `DEFAULT_MAX_MULTIPART_BYTES`). A floor: a policy whose flows need
    /// more raises it (`session::read_cap`).
    pub max_multipart_bytes: usize,
}

/// Room for 50,000 switches and a reconnect storm's lingering sessions.
pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;
/// Enough for a host running many bridges (Mininet, a load tool's 200 per address); a switch
/// needs one.
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 1024;

impl ControllerSettings {
    /// Whether a connection from `ip` may be accepted under `allowed_peers` (an IPv4-mapped
    /// IPv6 address counts as its IPv4 address).
    pub fn peer_allowed(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allowed_peers
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| p.net().contains(&ip)))
    }
}

/// The default of `[controller] max_multipart_bytes`: 96 MiB. The largest reply op25b reads
/// is the FLOW stats reply listing its flows; a sync accepts at least 100,000 of them (more
/// for a larger policy, which raises this cap to fit: `session::read_cap`), and the largest
/// flow op25b installs (an IPv6 prefix with its mask, an input port, a TCP port, a meter and
/// an action) is 152 bytes in that reply and weighs 888 once decoded
/// (`session::held_replies`), so 100,000 of them (85 MiB) fit.
pub const DEFAULT_MAX_MULTIPART_BYTES: usize = 96 * 1024 * 1024;

/// The range `[controller] max_multipart_bytes` accepts: 1 MiB to 1 GiB.
pub const MAX_MULTIPART_BYTES_RANGE: std::ops::RangeInclusive<usize> =
    (1024 * 1024)..=(1024 * 1024 * 1024);

impl Default for ControllerSettings {
    fn default() -> Self {
        ControllerSettings {
            listen: Some(DEFAULT_LISTEN),
            tls: None,
            plaintext: PlaintextRule::LoopbackOnly,
            echo_interval: Duration::from_secs(5),
            echo_timeout: Duration::from_secs(15),
            audit_interval: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
            api_listen: SocketAddr::from(([127, 0, 0, 1], 9325)),
            allowed_peers: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_peer: DEFAULT_MAX_CONNECTIONS_PER_PEER,
            max_multipart_bytes: DEFAULT_MAX_MULTIPART_BYTES,
        }
    }
}

/// `[controller] plaintext`: where plain-TCP OpenFlow may listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaintextRule {
    /// Only on loopback addresses (the default).
    #[default]
    LoopbackOnly,
    /// Anywhere (`plaintext = "allow"`): the operator accepts unauthenticated switches.
    Allow,
}

impl PlaintextRule {
    /// `"allow"` or `"loopback"`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "allow" => Some(PlaintextRule::Allow),
            "loopback" => Some(PlaintextRule::LoopbackOnly),
            _ => None,
        }
    }

    /// Whether a plaintext listener on `addr` is permitted.
    pub fn permits(self, addr: SocketAddr) -> bool {
        self == PlaintextRule::Allow || addr.ip().is_loopback()
    }

    /// Why a plaintext listener on `addr` is refused, and how to fix it.
    pub fn refusal(addr: SocketAddr) -> String {
        format!(
            "plaintext OpenFlow on {addr} (not a loopback address) lets anyone who can reach it \
             pose as a switch: set up mutual TLS instead (tls_listen, tls_cert, tls_key and \
             tls_client_ca in [controller]; see docs/operating.md, section \"TLS\"), or, knowingly, \
             set plaintext = \"allow\" in [controller]"
        )
    }
}

/// The mutual-TLS listener's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `tls_listen`.
    pub listen: SocketAddr,
    /// `tls_cert`: the controller's certificate chain (PEM), leaf first.
    pub cert: TlsFile,
    /// `tls_key`: the private key of that certificate (PEM: PKCS#8, SEC1 or PKCS#1).
    pub key: TlsFile,
    /// `tls_client_ca`: the CA certificate(s) (PEM) every switch certificate must chain to.
    pub client_ca: TlsFile,
}

/// A file named in the policy, with where it was named (so a problem with the file is reported
/// at the key's `file:line:column`). Equality ignores the location: moving a line does not
/// change the setting.
#[derive(Debug, Clone)]
pub struct TlsFile {
    /// The key, e.g. `controller.tls_cert`.
    pub field: &'static str,
    /// The path as written (relative paths are relative to the controller's working directory).
    pub path: PathBuf,
    /// Where the value is in the policy file.
    pub location: Location,
}

impl PartialEq for TlsFile {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field && self.path == other.path
    }
}

impl Eq for TlsFile {}

impl fmt::Display for TlsFile {
    /// `policy.toml:3:12: controller.tls_cert (/etc/op25b/ctl-cert.pem)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.location,
            self.field,
            self.path.display()
        )
    }
}

/// One mistake in the transport keys: where, which key, why.
pub(crate) struct TransportProblem {
    pub span: Range<usize>,
    pub field: &'static str,
    pub reason: String,
}

/// The transport part of `[controller]`, validated.
pub(crate) struct Transport {
    pub listen: Option<SocketAddr>,
    pub tls: Option<TlsSettings>,
    pub plaintext: PlaintextRule,
}

/// Validates `listen`, `plaintext` and the `tls_*` keys; `loc` turns a span into a location.
pub(crate) fn transport(
    r: &RawController,
    loc: &dyn Fn(&Range<usize>) -> Location,
) -> (Transport, Vec<TransportProblem>) {
    let mut problems = Vec::new();
    let mut address = |v: &Option<Spanned<String>>, field: &'static str| {
        let s = v.as_ref()?;
        match s.get_ref().parse::<SocketAddr>() {
            Ok(a) => Some((a, s.span())),
            Err(_) => {
                problems.push(TransportProblem {
                    span: s.span(),
                    field,
                    reason: format!(
                        "{:?} is not an address:port like \"192.0.2.10:6653\" or \"[::1]:6653\"",
                        s.get_ref()
                    ),
                });
                None
            }
        }
    };
    let listen = address(&r.listen, "controller.listen");
    let tls_listen = address(&r.tls_listen, "controller.tls_listen");
    let plaintext = match &r.plaintext {
        None => PlaintextRule::LoopbackOnly,
        Some(p) => PlaintextRule::parse(p.get_ref()).unwrap_or_else(|| {
            problems.push(TransportProblem {
                span: p.span(),
                field: "controller.plaintext",
                reason: format!(
                    "{:?} is not a plaintext rule: expected \"loopback\" (the default: \
                     plain TCP only on loopback addresses) or \"allow\"",
                    p.get_ref()
                ),
            });
            PlaintextRule::LoopbackOnly
        }),
    };
    if let Some((addr, span)) = &listen {
        if !plaintext.permits(*addr) {
            problems.push(TransportProblem {
                span: span.clone(),
                field: "controller.listen",
                reason: PlaintextRule::refusal(*addr),
            });
        }
    }
    let files = [
        ("controller.tls_cert", &r.tls_cert),
        ("controller.tls_key", &r.tls_key),
        ("controller.tls_client_ca", &r.tls_client_ca),
    ];
    let mut given = Vec::new();
    for (field, v) in files {
        let Some(s) = v else { continue };
        if s.get_ref().trim().is_empty() {
            problems.push(TransportProblem {
                span: s.span(),
                field,
                reason: "empty: expected the path of a PEM file".to_string(),
            });
            continue;
        }
        given.push(TlsFile {
            field,
            path: PathBuf::from(s.get_ref()),
            location: loc(&s.span()),
        });
    }
    let any_tls = r.tls_listen.is_some() || files.iter().any(|(_, v)| v.is_some());
    let tls = match (tls_listen, <[TlsFile; 3]>::try_from(given)) {
        (Some((listen, _)), Ok([cert, key, client_ca])) => Some(TlsSettings {
            listen,
            cert,
            key,
            client_ca,
        }),
        _ if any_tls => {
            let mut missing: Vec<&str> = Vec::new();
            if r.tls_listen.is_none() {
                missing.push("tls_listen");
            }
            for (field, v) in files {
                if v.is_none() {
                    missing.push(field.trim_start_matches("controller."));
                }
            }
            if !missing.is_empty() {
                let first = [&r.tls_listen, &r.tls_cert, &r.tls_key, &r.tls_client_ca]
                    .into_iter()
                    .flatten()
                    .map(Spanned::span)
                    .next()
                    .unwrap_or(0..0);
                problems.push(TransportProblem {
                    span: first,
                    field: "controller",
                    reason: format!(
                        "mutual TLS needs tls_listen, tls_cert, tls_key and tls_client_ca \
                         together; missing: {}",
                        missing.join(", ")
                    ),
                });
            }
            None
        }
        _ => None,
    };
    let listen = match (listen, &r.listen, &tls) {
        (Some((a, _)), _, _) => Some(a),
        // Given but invalid (reported above), or TLS only: no plaintext listener.
        (None, Some(_), _) | (None, None, Some(_)) => None,
        (None, None, None) if any_tls => None,
        (None, None, None) => Some(DEFAULT_LISTEN),
    };
    (
        Transport {
            listen,
            tls,
            plaintext,
        },
        problems,
    )
}
