//! Does a bridge's controller target reach this controller? Controller targets are Open
//! vSwitch's `tcp:HOST[:PORT]`, `ssl:HOST[:PORT]` (port 6653 when left out), `unix:PATH`, and
//! the passive `ptcp:`, `pssl:`, `punix:`.
use std::net::{IpAddr, SocketAddr};

/// The OpenFlow port Open vSwitch uses when a target names none.
const OPENFLOW_PORT: u16 = 6653;

/// `Ok` when `target` reaches a controller listening on `listen`; otherwise why not.
///
/// A listen address with an unspecified IP (`0.0.0.0`, `::`) accepts any host on its port: the
/// controller cannot know which of its addresses a switch uses. `ssl:` and `tcp:` are both
/// accepted: the policy has no TLS settings yet, so which one is right cannot be checked.
pub fn reaches(target: &str, listen: SocketAddr) -> Result<(), String> {
    let (scheme, rest) = target.split_once(':').unwrap_or((target, ""));
    match scheme {
        "tcp" | "ssl" => {}
        "unix" => {
            return Err(format!(
                "a unix socket, but op25b listens on TCP {listen}"
            ))
        }
        "ptcp" | "pssl" | "punix" => {
            return Err(
                "a passive target: the switch listens, and any OpenFlow client that reaches it can program the bridge"
                    .to_owned(),
            )
        }
        _ => return Err(format!("not a controller target that reaches {listen}")),
    }
    let Some((host, port)) = host_port(rest) else {
        return Err(format!("not a valid {scheme}: target"));
    };
    if port != listen.port() {
        return Err(format!(
            "port {port}, but this controller listens on {listen}"
        ));
    }
    if listen.ip().is_unspecified() {
        return Ok(());
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip == listen.ip() => Ok(()),
        Ok(ip) => Err(format!("{ip}, but this controller listens on {listen}")),
        Err(_) => Err(format!(
            "the host name {host}: op25b cannot tell whether it is {}; use the address",
            listen.ip()
        )),
    }
}

/// `HOST[:PORT]` or `[V6][:PORT]`.
fn host_port(rest: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None => OPENFLOW_PORT,
        Some(p) => p.parse().ok()?,
    };
    Some((host, port))
}

/// The target to give a bridge so it reaches `listen` (a placeholder host when `listen`'s IP
/// is unspecified).
pub fn target_for(scheme: &str, listen: SocketAddr) -> String {
    match listen.ip() {
        ip if ip.is_unspecified() => format!("{scheme}:CONTROLLER-ADDRESS:{}", listen.port()),
        IpAddr::V6(ip) => format!("{scheme}:[{ip}]:{}", listen.port()),
        IpAddr::V4(ip) => format!("{scheme}:{ip}:{}", listen.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().expect("a socket address")
    }

    #[test]
    fn a_target_at_the_listen_address_reaches_it() {
        let l = at("192.0.2.1:6653");
        assert_eq!(reaches("tcp:192.0.2.1:6653", l), Ok(()));
        assert_eq!(reaches("tcp:192.0.2.1", l), Ok(()), "6653 by default");
        assert_eq!(reaches("ssl:192.0.2.1:6653", l), Ok(()));
        assert_eq!(
            reaches("tcp:[2001:db8::1]:6653", at("[2001:db8::1]:6653")),
            Ok(())
        );
    }

    #[test]
    fn an_unspecified_listen_ip_accepts_any_host_on_its_port() {
        let l = at("0.0.0.0:6653");
        assert_eq!(reaches("tcp:10.9.9.9:6653", l), Ok(()));
        assert_eq!(reaches("tcp:controller.example:6653", l), Ok(()));
        assert!(reaches("tcp:10.9.9.9:6633", l)
            .unwrap_err()
            .contains("port 6633"));
    }

    #[test]
    fn other_hosts_ports_and_kinds_do_not() {
        let l = at("127.0.0.1:6653");
        assert!(reaches("tcp:10.9.9.9:6653", l)
            .unwrap_err()
            .starts_with("10.9.9.9, but"));
        assert!(reaches("tcp:127.0.0.1:6633", l).is_err());
        assert!(reaches("tcp:localhost:6653", l)
            .unwrap_err()
            .contains("host name"));
        assert!(reaches("unix:/run/c.sock", l).is_err());
        assert!(reaches("ptcp:6653", l).unwrap_err().contains("passive"));
        assert!(reaches("tcp:", l).is_err());
        assert!(reaches("tcp:1.2.3.4:x", l).is_err());
        assert!(reaches("", l).is_err());
    }

    #[test]
    fn the_fix_target_names_the_listen_address() {
        assert_eq!(
            target_for("tcp", at("127.0.0.1:6653")),
            "tcp:127.0.0.1:6653"
        );
        assert_eq!(target_for("tcp", at("[::1]:6653")), "tcp:[::1]:6653");
        assert_eq!(
            target_for("tcp", at("0.0.0.0:6653")),
            "tcp:CONTROLLER-ADDRESS:6653"
        );
    }
}
