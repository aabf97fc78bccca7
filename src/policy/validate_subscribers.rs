//! The checks of what subscriber ports may send (`policy.subscriber_ethertypes`) and which
//! sources on them are exempt (`[[switch.exempt]]`): the two ways around the port-25 drop that
//! the policy file itself can open or close.
use super::error::PolicyErrorKind;
use super::ethertype::RawEtherType;
use super::raw::RawExempt;
use super::validation_context::{prefixes, Ctx};
use super::{BoundExemptions, EtherType, PortNo, PortRoles, SubscriberPorts};
use std::collections::BTreeSet;
use toml::Spanned;

/// IPv4, ARP and IPv6 plus `policy.subscriber_ethertypes`, warning about types the switch cannot
/// look inside (TCP to the blocked ports inside them is not blocked).
pub(super) fn ethertypes(cx: &mut Ctx, list: &[Spanned<RawEtherType>]) -> Vec<EtherType> {
    let mut out: BTreeSet<EtherType> = EtherType::ALWAYS_ALLOWED.into_iter().collect();
    for (i, t) in list.iter().enumerate() {
        let field = format!("policy.subscriber_ethertypes[{i}]");
        let e = match t.get_ref().resolve() {
            Ok(e) => e,
            Err(source) => {
                cx.error(&t.span(), PolicyErrorKind::EtherType { field, source });
                continue;
            }
        };
        if e.is_always_allowed() {
            cx.warn(&t.span(), format!("{field}: {e} is always allowed"));
        } else if !out.insert(e) {
            cx.warn(&t.span(), format!("{field}: {e} is listed twice"));
        } else if let Some(why) = e.hides_ip() {
            cx.warn(
                &t.span(),
                format!("{field}: {e} from subscriber ports is forwarded, and TCP to the blocked ports carried inside it is NOT blocked: {why}"),
            );
        }
    }
    out.into_iter().collect()
}

/// `[[switch.exempt]]` of one switch: each port must be one the switch polices.
pub(super) fn bound_exemptions(
    cx: &mut Ctx,
    raw: &[Spanned<RawExempt>],
    roles: &PortRoles,
    field: &str,
    scope: &str,
) -> BoundExemptions {
    let mut out = BoundExemptions::default();
    for (j, e) in raw.iter().map(Spanned::get_ref).enumerate() {
        let field = format!("{field}.exempt[{j}]");
        let value = *e.port.get_ref();
        let Some(port) = PortNo::new(value) else {
            let field = format!("{field}.port");
            cx.error(&e.port.span(), PolicyErrorKind::PortRange { field, value });
            continue;
        };
        let role = match &roles.subscriber {
            _ if roles.uplinks.contains(&port) => Some("an uplink".to_string()),
            SubscriberPorts::List(l) if !l.contains(&port) => {
                let l: Vec<String> = l.iter().map(PortNo::to_string).collect();
                Some(format!(
                    "not a subscriber port (subscriber_ports = [{}])",
                    l.join(", ")
                ))
            }
            _ => None,
        };
        if let Some(role) = role {
            let kind = PolicyErrorKind::ExemptPortNotPoliced {
                field: format!("{field}.port"),
                port: port.0,
                role,
                scope: scope.to_string(),
            };
            cx.error(&e.port.span(), kind);
        }
        let sources = format!("{field}.sources");
        if e.sources.get_ref().is_empty() {
            cx.warn(
                &e.sources.span(),
                format!("{sources} is empty: it exempts nothing"),
            );
        }
        for p in prefixes(cx, e.sources.get_ref(), &sources) {
            if p.is_everything() {
                cx.warn(
                    &e.sources.span(),
                    format!("{sources}: {p} exempts every subscriber of its address family on port {port} of {scope}"),
                );
            }
            if !out.insert(port, p) {
                cx.warn(
                    &e.sources.span(),
                    format!("{sources}: {p} is already exempt on port {port} of {scope}"),
                );
            }
        }
    }
    out
}
