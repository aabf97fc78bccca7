//! Raw file -> validated [`Config`]: every check, collecting all mistakes with their location.
use super::api_settings;
use super::cluster_settings;
use super::controller_settings::transport;
use super::error::{PolicyError, PolicyErrorKind, PolicyErrors};
use super::forwarding::RawForwarding;
use super::location::LineIndex;
use super::ovsdb;
use super::raw::{RawController, RawFile, RawPolicy, RawPortSet, RawReporting};
use super::validate_subscribers::{bound_exemptions, ethertypes};
use super::validation_context::{entries, prefixes, Ctx};
use super::{
    CertSha256, Config, ControllerSettings, Cookie, Dpid, EtherType, Forwarding, FragmentMode,
    IpPrefix, Loaded, Location, Policy, PortNo, PortRoles, ReportCommand, ReportPath, Reporting,
    SubscriberPorts, SwitchPolicy,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

pub(super) fn parse(text: &str, origin: &str) -> Result<Loaded, PolicyErrors> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        PolicyErrors(vec![PolicyError {
            location: Location::of_span(origin, text, &span),
            kind: PolicyErrorKind::Syntax(e.message().trim().to_string()),
        }])
    })?;
    let mut cx = Ctx {
        index: LineIndex::new(origin, text),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let controller = controller(&mut cx, raw.controller.as_ref());
    let policy_span = raw.policy.span();
    let rules = rules(&mut cx, raw.policy.get_ref(), &policy_span);
    let defaults = match &raw.defaults {
        Some(d) => port_roles(
            &mut cx,
            d.subscriber_ports.as_ref(),
            d.uplink_ports.as_ref(),
            None,
            "defaults",
            "[defaults]",
        ),
        None => PortRoles::default(),
    };
    let switches = switches(&mut cx, &raw, &defaults);
    let reporting = reporting(&mut cx, raw.reporting.as_ref());
    let (ovsdb, ovsdb_errors, ovsdb_warnings) = ovsdb::settings(raw.ovsdb.as_ref());
    for (span, field, reason) in ovsdb_errors {
        cx.invalid(&span, &field, reason);
    }
    for (span, field, message) in ovsdb_warnings {
        cx.warn(&span, format!("{field}: {message}"));
    }
    let api_listen_span = raw
        .controller
        .as_ref()
        .and_then(|c| c.api_listen.as_ref())
        .map(Spanned::span);
    let api = api_settings::validate(
        &mut cx,
        raw.api.as_ref(),
        (controller.api_listen, api_listen_span),
    );
    let cluster = cluster_settings::validate(&mut cx, raw.cluster.as_ref());
    if !cx.errors.is_empty() {
        return Err(PolicyErrors(cx.errors));
    }
    let policy = Policy {
        blocked_ports: rules.blocked_ports,
        relays: rules.relays,
        exempt_sources: rules.exempt_sources,
        subscriber_ethertypes: rules.subscriber_ethertypes,
        forwarding: rules.forwarding,
        cookie: rules.cookie,
        fragments: rules.fragments,
        defaults,
        switches,
        reporting,
    };
    Ok(Loaded {
        config: Config {
            controller,
            api,
            cluster,
            policy,
            ovsdb,
        },
        warnings: cx.warnings,
        // Set by `Config::parse`, which has the text.
        source_sha256: String::new(),
    })
}

fn secs(cx: &mut Ctx, v: &Option<Spanned<i64>>, field: &str, default: Duration) -> Duration {
    match v {
        None => default,
        Some(s) => {
            let n = *s.get_ref();
            if let Some(n) = u64::try_from(n).ok().filter(|n| (1..=86_400).contains(n)) {
                Duration::from_secs(n)
            } else {
                cx.invalid(
                    &s.span(),
                    field,
                    format!("{n} is out of range: expected 1..=86400 seconds"),
                );
                default
            }
        }
    }
}

fn socket(
    cx: &mut Ctx,
    v: &Option<Spanned<String>>,
    field: &str,
    default: SocketAddr,
) -> SocketAddr {
    match v {
        None => default,
        Some(s) => match s.get_ref().parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                cx.invalid(
                    &s.span(),
                    field,
                    format!(
                        "{:?} is not an address:port like \"127.0.0.1:9325\" or \"[::1]:9325\"",
                        s.get_ref()
                    ),
                );
                default
            }
        },
    }
}

fn multipart_bytes(cx: &mut Ctx, v: &Option<Spanned<i64>>, default: usize) -> usize {
    let range = super::controller_settings::MAX_MULTIPART_BYTES_RANGE;
    let Some(s) = v else { return default };
    match usize::try_from(*s.get_ref()) {
        Ok(n) if range.contains(&n) => n,
        _ => {
            cx.invalid(
                &s.span(),
                "controller.max_multipart_bytes",
                format!(
                    "{} is out of range: expected {}..={} bytes (1 MiB to 1 GiB)",
                    s.get_ref(),
                    range.start(),
                    range.end()
                ),
            );
            default
        }
    }
}

fn controller(cx: &mut Ctx, raw: Option<&RawController>) -> ControllerSettings {
    let d = ControllerSettings::default();
    let Some(r) = raw else { return d };
    let index = &cx.index;
    let (t, problems) = transport(r, &|span| index.of_span(span));
    for p in problems {
        cx.invalid(&p.span, p.field, p.reason);
    }
    let s = ControllerSettings {
        listen: t.listen,
        tls: t.tls,
        plaintext: t.plaintext,
        echo_interval: secs(
            cx,
            &r.echo_interval_secs,
            "controller.echo_interval_secs",
            d.echo_interval,
        ),
        echo_timeout: secs(
            cx,
            &r.echo_timeout_secs,
            "controller.echo_timeout_secs",
            d.echo_timeout,
        ),
        audit_interval: secs(
            cx,
            &r.audit_interval_secs,
            "controller.audit_interval_secs",
            d.audit_interval,
        ),
        handshake_timeout: secs(
            cx,
            &r.handshake_timeout_secs,
            "controller.handshake_timeout_secs",
            d.handshake_timeout,
        ),
        api_listen: socket(cx, &r.api_listen, "controller.api_listen", d.api_listen),
        allowed_peers: allowed_peers(cx, r.allowed_peers.as_ref()),
        max_connections: positive(
            cx,
            &r.max_connections,
            "controller.max_connections",
            10_000_000,
            d.max_connections,
        ),
        max_connections_per_peer: positive(
            cx,
            &r.max_connections_per_peer,
            "controller.max_connections_per_peer",
            10_000_000,
            d.max_connections_per_peer,
        ),
        max_multipart_bytes: multipart_bytes(cx, &r.max_multipart_bytes, d.max_multipart_bytes),
    };
    if let Some(per_peer) = &r.max_connections_per_peer {
        if s.max_connections_per_peer > s.max_connections {
            cx.warn(
                &per_peer.span(),
                format!(
                    "controller.max_connections_per_peer ({}) is above max_connections ({}): the total limit applies first",
                    s.max_connections_per_peer, s.max_connections
                ),
            );
        }
    }
    if s.echo_timeout <= s.echo_interval {
        let span = r
            .echo_timeout_secs
            .as_ref()
            .or(r.echo_interval_secs.as_ref())
            .map_or(0..0, Spanned::span);
        cx.invalid(
            &span,
            "controller.echo_timeout_secs",
            format!(
                "{} s must be longer than echo_interval_secs ({} s), or every switch is dropped before it can answer",
                s.echo_timeout.as_secs(),
                s.echo_interval.as_secs()
            ),
        );
    }
    s
}

/// `allowed_peers`: absent means any address; an empty list would lock every switch out.
fn allowed_peers(
    cx: &mut Ctx,
    raw: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Option<Vec<IpPrefix>> {
    let list = raw?;
    if list.get_ref().is_empty() {
        cx.invalid(
            &list.span(),
            "controller.allowed_peers",
            "empty: no switch could connect; remove the key to accept any address, or list the switches' prefixes",
        );
        return None;
    }
    Some(prefixes(cx, list.get_ref(), "controller.allowed_peers"))
}

struct Rules {
    blocked_ports: Vec<u16>,
    relays: Vec<IpPrefix>,
    exempt_sources: Vec<IpPrefix>,
    subscriber_ethertypes: Vec<EtherType>,
    forwarding: Forwarding,
    cookie: Cookie,
    fragments: FragmentMode,
}

fn rules(cx: &mut Ctx, r: &RawPolicy, policy_span: &Range<usize>) -> Rules {
    let mut blocked = BTreeSet::new();
    match &r.blocked_ports {
        None => {
            blocked.insert(25u16);
        }
        Some(list) => {
            if list.get_ref().is_empty() {
                cx.warn(
                    &list.span(),
                    "policy.blocked_ports is empty: nothing is blocked",
                );
            }
            for (i, p) in list.get_ref().iter().enumerate() {
                let v = *p.get_ref();
                match u16::try_from(v).ok().filter(|&n| n != 0) {
                    Some(n) => {
                        if !blocked.insert(n) {
                            cx.warn(
                                &p.span(),
                                format!("policy.blocked_ports[{i}]: {n} is listed twice"),
                            );
                        }
                    }
                    None => cx.error(
                        &p.span(),
                        PolicyErrorKind::BlockedPortRange {
                            field: format!("policy.blocked_ports[{i}]"),
                            value: v,
                        },
                    ),
                }
            }
        }
    }
    let relays = prefixes(cx, entries(&r.relays), "policy.relays");
    let relays_present = r.relays.as_ref().is_some_and(|l| !l.get_ref().is_empty());
    if !relays_present {
        let span = r.relays.as_ref().map_or(policy_span.clone(), Spanned::span);
        cx.warn(
            &span,
            "policy.relays is empty: the blocked ports are closed towards every host, including your own mail relays",
        );
    }
    let exempt_sources = prefixes(cx, entries(&r.exempt_sources), "policy.exempt_sources");
    if let Some(list) = r
        .exempt_sources
        .as_ref()
        .filter(|l| !l.get_ref().is_empty())
    {
        cx.warn(
            &list.span(),
            "policy.exempt_sources: these sources are exempt on every policed port of every switch, so any subscriber who spoofs one of these addresses is exempt too; bind each to the port it comes from with [[switch.exempt]] (port = N, sources = [...]) in its [[switch]]",
        );
        for (i, s) in list.get_ref().iter().enumerate() {
            if IpPrefix::parse(s.get_ref()).is_ok_and(|p| p.is_everything()) {
                cx.warn(
                    &s.span(),
                    format!("policy.exempt_sources[{i}]: {} exempts every subscriber of its address family", s.get_ref()),
                );
            }
        }
    }
    let subscriber_ethertypes = ethertypes(cx, entries(&r.subscriber_ethertypes));
    let forwarding = match &r.forwarding {
        None => Forwarding::Normal,
        Some(f) => match f.get_ref() {
            RawForwarding::Normal => Forwarding::Normal,
            RawForwarding::GotoTable(t) => match u8::try_from(*t.get_ref())
                .ok()
                .filter(|n| (1..=254).contains(n))
            {
                Some(n) => Forwarding::GotoTable(n),
                None => {
                    cx.invalid(
                        &t.span(),
                        "policy.forwarding.goto_table",
                        format!(
                            "{} is not a table to hand traffic to: expected 1..=254 (table 0 holds op25b's flows)",
                            t.get_ref()
                        ),
                    );
                    Forwarding::Normal
                }
            },
        },
    };
    let cookie = match &r.cookie {
        None => Cookie::DEFAULT,
        Some(c) => {
            if c.get_ref().0 == 0 {
                cx.error(&c.span(), PolicyErrorKind::ZeroCookie);
            }
            *c.get_ref()
        }
    };
    let fragments = match &r.fragments {
        None => FragmentMode::default(),
        Some(s) => match s.get_ref().parse::<FragmentMode>() {
            Ok(m) => {
                if m == FragmentMode::Pass {
                    cx.warn(
                        &s.span(),
                        "policy.fragments = \"pass\": a TCP SYN to a blocked port sent as IP fragments is NOT blocked",
                    );
                }
                m
            }
            Err(e) => {
                cx.invalid(&s.span(), "policy.fragments", e.to_string());
                FragmentMode::default()
            }
        },
    };
    Rules {
        blocked_ports: blocked.into_iter().collect(),
        relays,
        exempt_sources,
        subscriber_ethertypes,
        forwarding,
        cookie,
        fragments,
    }
}

/// Ports with the span and field name they came from.
type SpannedPorts = Vec<(PortNo, Range<usize>, String)>;

fn port_list(cx: &mut Ctx, list: &[Spanned<i64>], field: &str) -> SpannedPorts {
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let v = *p.get_ref();
        match PortNo::new(v) {
            Some(n) => out.push((n, p.span(), format!("{field}[{i}]"))),
            None => cx.error(
                &p.span(),
                PolicyErrorKind::PortRange {
                    field: format!("{field}[{i}]"),
                    value: v,
                },
            ),
        }
    }
    out
}

/// Resolves one roles block; `fallback` supplies fields the block leaves out.
fn port_roles(
    cx: &mut Ctx,
    subscriber_ports: Option<&Spanned<RawPortSet>>,
    uplink_ports: Option<&Spanned<Vec<Spanned<i64>>>>,
    fallback: Option<&PortRoles>,
    field: &str,
    scope: &str,
) -> PortRoles {
    let subscriber = match subscriber_ports {
        None => fallback.map_or(SubscriberPorts::All, |f| f.subscriber.clone()),
        Some(s) => match s.get_ref() {
            RawPortSet::All => SubscriberPorts::All,
            RawPortSet::List(l) => {
                if l.is_empty() {
                    cx.warn(
                        &s.span(),
                        format!("{field}.subscriber_ports is empty: no port of {scope} is policed"),
                    );
                }
                let ports = port_list(cx, l, &format!("{field}.subscriber_ports"));
                SubscriberPorts::List(ports.into_iter().map(|(p, _, _)| p).collect())
            }
        },
    };
    let uplinks: SpannedPorts = match uplink_ports {
        Some(l) => port_list(cx, l.get_ref(), &format!("{field}.uplink_ports")),
        None => {
            let ports = fallback
                .map(|f| f.uplinks.iter().copied().collect::<Vec<_>>())
                .unwrap_or_default();
            let span = subscriber_ports.map_or(0..0, Spanned::span);
            ports
                .into_iter()
                .map(|p| (p, span.clone(), format!("{field}.subscriber_ports (uplink inherited from defaults.uplink_ports)")))
                .collect()
        }
    };
    if let SubscriberPorts::List(subs) = &subscriber {
        for (p, span, f) in &uplinks {
            if subs.contains(p) {
                cx.error(
                    span,
                    PolicyErrorKind::PortInBothRoles {
                        field: f.clone(),
                        port: p.0,
                        scope: scope.to_string(),
                    },
                );
            }
        }
    }
    PortRoles {
        subscriber,
        uplinks: uplinks.into_iter().map(|(p, _, _)| p).collect(),
    }
}

fn switches(cx: &mut Ctx, raw: &RawFile, defaults: &PortRoles) -> BTreeMap<Dpid, SwitchPolicy> {
    let mut out = BTreeMap::new();
    let mut first_line: BTreeMap<Dpid, usize> = BTreeMap::new();
    for (i, s) in raw.switch.iter().enumerate() {
        let sw = s.get_ref();
        let dpid = *sw.dpid.get_ref();
        let dpid_span = sw.dpid.span();
        if let Some(&line) = first_line.get(&dpid) {
            cx.error(
                &dpid_span,
                PolicyErrorKind::DuplicateDpid {
                    index: i,
                    dpid: dpid.to_string(),
                    first_line: line,
                },
            );
            continue;
        }
        first_line.insert(dpid, cx.loc(&dpid_span).line);
        let scope = match &sw.name {
            Some(n) => format!("switch {dpid} ({n})"),
            None => format!("switch {dpid}"),
        };
        let ports = port_roles(
            cx,
            sw.subscriber_ports.as_ref(),
            sw.uplink_ports.as_ref(),
            Some(defaults),
            &format!("switch[{i}]"),
            &scope,
        );
        let exempt = bound_exemptions(cx, &sw.exempt, &ports, &format!("switch[{i}]"), &scope);
        let cert_sha256 = sw.cert_sha256.as_ref().and_then(|c| {
            c.get_ref()
                .parse::<CertSha256>()
                .map_err(|e| {
                    cx.invalid(
                        &c.span(),
                        &format!("switch[{i}].cert_sha256"),
                        e.to_string(),
                    );
                })
                .ok()
        });
        out.insert(
            dpid,
            SwitchPolicy {
                dpid,
                name: sw.name.clone(),
                ports,
                exempt,
                cert_sha256,
            },
        );
    }
    out
}

/// A whole number in `1..=max` of the setting's own type, `default` when absent; an error (and
/// `default`) otherwise.
fn positive<T>(cx: &mut Ctx, v: &Option<Spanned<i64>>, field: &str, max: T, default: T) -> T
where
    T: TryFrom<i64> + Copy + PartialOrd + std::fmt::Display,
{
    let Some(s) = v else { return default };
    let n = *s.get_ref();
    match T::try_from(n) {
        Ok(t) if n >= 1 && t <= max => t,
        _ => {
            cx.invalid(
                &s.span(),
                field,
                format!("{n} is out of range: expected 1..={max}"),
            );
            default
        }
    }
}

fn reporting(cx: &mut Ctx, raw: Option<&RawReporting>) -> Reporting {
    let d = Reporting::default();
    let Some(r) = raw else { return d };
    let report_path = match &r.report_path {
        None => None,
        Some(p) if p.get_ref() == "-" => Some(ReportPath::Stdout),
        Some(p) if p.get_ref().is_empty() => {
            cx.invalid(
                &p.span(),
                "reporting.report_path",
                "empty: expected a file path or \"-\" for stdout",
            );
            None
        }
        Some(p) => Some(ReportPath::File(PathBuf::from(p.get_ref()))),
    };
    let reported_from = match &r.reported_from {
        None => d.reported_from.clone(),
        Some(m) => {
            let text = m.get_ref().trim();
            // X-ARF's schema wants an e-mail address: one '@' with text on both sides.
            let looks_like_mailbox = matches!(
                text.split_once('@'),
                Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            ) && !text.chars().any(char::is_whitespace);
            if !looks_like_mailbox {
                cx.invalid(
                    &m.span(),
                    "reporting.reported_from",
                    format!(
                        "{text:?} is not an e-mail address (expected e.g. \"abuse@isp.example\")"
                    ),
                );
            }
            text.to_owned()
        }
    };
    Reporting {
        enabled: r.enabled.unwrap_or(d.enabled),
        sample_rate_pps: positive(
            cx,
            &r.sample_rate_pps,
            "reporting.sample_rate_pps",
            1_000_000_u32,
            20,
        ),
        max_offenders: positive(
            cx,
            &r.max_offenders,
            "reporting.max_offenders",
            100_000_000_usize,
            100_000,
        ),
        threshold_attempts: positive(
            cx,
            &r.threshold_attempts,
            "reporting.threshold_attempts",
            1_000_000_000_u32,
            30,
        ),
        threshold_destinations: positive(
            cx,
            &r.threshold_destinations,
            "reporting.threshold_destinations",
            1_000_000_000_u32,
            5,
        ),
        window_secs: positive(
            cx,
            &r.window_secs,
            "reporting.window_secs",
            31_536_000_u64,
            600,
        ),
        report_path,
        reported_from,
        counters_interval_secs: positive(
            cx,
            &r.counters_interval_secs,
            "reporting.counters_interval_secs",
            86_400,
            d.counters_interval_secs,
        ),
        report_max_bytes: r.report_max_bytes.as_ref().map(|v| {
            let range = 4096_u64..=1 << 40;
            match u64::try_from(*v.get_ref()) {
                Ok(n) if range.contains(&n) => n,
                _ => {
                    cx.invalid(
                        &v.span(),
                        "reporting.report_max_bytes",
                        format!(
                            "{} is out of range: expected {}..={} bytes",
                            v.get_ref(),
                            range.start(),
                            range.end()
                        ),
                    );
                    *range.start()
                }
            }
        }),
        report_keep: positive(cx, &r.report_keep, "reporting.report_keep", 1000_u32, 5),
        ipv6_prefix_len: positive(
            cx,
            &r.ipv6_prefix_len,
            "reporting.ipv6_prefix_len",
            128_u8,
            d.ipv6_prefix_len,
        ),
        reporter_org: r.reporter_org.as_ref().map(|o| reporter_org(cx, o)),
        report_command: r
            .report_command
            .as_ref()
            .and_then(|c| report_command(cx, c)),
        report_command_timeout_secs: positive(
            cx,
            &r.report_command_timeout_secs,
            "reporting.report_command_timeout_secs",
            3600_u64,
            d.report_command_timeout_secs,
        ),
        report_command_queue: positive(
            cx,
            &r.report_command_queue,
            "reporting.report_command_queue",
            65_536_usize,
            d.report_command_queue,
        ),
    }
}

/// `reporter_org`: the X-ARF `org` (at most 200 characters, the schema's limit), trimmed.
fn reporter_org(cx: &mut Ctx, org: &Spanned<String>) -> String {
    let text = org.get_ref().trim();
    let chars = text.chars().count();
    if text.is_empty() || chars > 200 || text.chars().any(char::is_control) {
        cx.invalid(
            &org.span(),
            "reporting.reporter_org",
            format!(
                "{text:?} is not an organisation name: expected 1..=200 characters without control characters, e.g. \"Example ISP\""
            ),
        );
    }
    text.to_owned()
}

/// `report_command`: an argv list whose first entry is an absolute path. Whether the program
/// exists and is executable is checked where files are read (`op25b check`, `run`, reload).
fn report_command(cx: &mut Ctx, list: &Spanned<Vec<Spanned<String>>>) -> Option<ReportCommand> {
    const FIELD: &str = "reporting.report_command";
    let argv = list.get_ref();
    let Some(program) = argv.first() else {
        cx.invalid(
            &list.span(),
            FIELD,
            "empty: expected the program's absolute path and its arguments, e.g. [\"/usr/local/bin/ticket\", \"--queue\", \"abuse\"]",
        );
        return None;
    };
    let mut ok = true;
    if !Path::new(program.get_ref()).is_absolute() {
        cx.invalid(
            &program.span(),
            FIELD,
            format!(
                "{:?} is not an absolute path: the program is run without a shell and without PATH lookup",
                program.get_ref()
            ),
        );
        ok = false;
    }
    for (i, arg) in argv.iter().enumerate() {
        if arg.get_ref().contains('\0') {
            cx.invalid(
                &arg.span(),
                &format!("{FIELD}[{i}]"),
                "contains a NUL character, which no program argument can hold",
            );
            ok = false;
        }
    }
    ok.then(|| ReportCommand {
        argv: argv.iter().map(|a| a.get_ref().clone()).collect(),
        location: cx.loc(&list.span()),
    })
}
