//! The takeover rule: may a connection that learnt it is dpid D speak for D, and may it close
//! the connection that speaks for D now? Pure: the claimant, the dpid's certificate pin, the
//! holder and the dpid's home address in, a [`Judgement`] out.
//!
//! The rule, in order (the first that applies decides):
//!
//! 1. **Binding.** A dpid pinned to a certificate (`[[switch]] cert_sha256`) is only ever given
//!    to a peer that presented exactly that certificate over mutual TLS. Any other claimant
//!    (another certificate, or plain TCP) is refused ([`Judgement::Unbound`]) and changes
//!    nothing: the holder is not touched, no takeover is counted.
//! 2. **Free.** No connection holds the dpid: the claimant gets it.
//! 3. **Entitled to take over** an established holder, which is then closed:
//!    - a pinned dpid: the claimant proved it has the switch's key, so it is the switch
//!      reconnecting ([`Entitlement::Pinned`]);
//!    - the claimant connects from the holder's IP address: the same host reconnecting, e.g.
//!      a switch that rebooted while its old TCP session is half-open
//!      ([`Entitlement::SameHost`]);
//!    - the claimant connects from the dpid's **home** address (the address of the first
//!      connection that held the dpid) while the holder does not: the real switch coming back
//!      to a dpid an impostor took while it was gone ([`Entitlement::Home`]).
//! 4. **Otherwise the holder stays** ([`Judgement::HolderStays`]): an unpinned dpid held by a
//!    live session is never handed to a newcomer from another address. The holder is live as
//!    long as its session is open: a session is closed after `echo_timeout_secs` without a
//!    byte from its switch (keepalive), so a holder whose switch is gone (TCP dead, half-open)
//!    frees the dpid within `echo_timeout_secs`, and the newcomer's next attempt gets it.
//!
//! What an attacker who can reach the OpenFlow port can do with this: nothing to a pinned dpid;
//! for an unpinned dpid, take it only while no session holds it (its real switch is gone), and
//! lose it the moment the real switch comes back from its home address. It can never close a
//! live session, and it can never start the conflict hold-down against the real switch:
//! `SameHost` and `Pinned` takeovers are counted for the hold-down (only the switch's own host
//! or key can make them), `Home` takeovers are never counted and never refused by it.
//! What it cannot prevent: a peer that connects first with a dpid (e.g. right after the
//! controller starts, before the real switch) becomes its home. Pin the certificate, or limit
//! `allowed_peers`, where that matters.
use super::peer_identity::PeerIdentity;
use crate::policy::CertSha256;
use std::net::IpAddr;

/// Why a claimant may close the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entitlement {
    /// The dpid is pinned and the claimant presented the pinned certificate.
    Pinned,
    /// The claimant connects from the holder's IP address.
    SameHost,
    /// The claimant connects from the dpid's home address, the holder does not.
    Home,
}

impl Entitlement {
    /// Whether this takeover counts towards the conflict hold-down (and may be refused by it).
    pub fn counts_for_hold_down(self) -> bool {
        !matches!(self, Entitlement::Home)
    }

    /// For log lines.
    pub fn describe(self) -> &'static str {
        match self {
            Entitlement::Pinned => "it presented the pinned certificate",
            Entitlement::SameHost => "it connects from the same host",
            Entitlement::Home => "it connects from the dpid's home address",
        }
    }
}

/// What the rule says about one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// The dpid is pinned to `pinned`; the claimant presented `presented` (None: plain TCP).
    Unbound {
        pinned: CertSha256,
        presented: Option<CertSha256>,
    },
    /// No holder: the claimant gets the dpid.
    Free,
    /// The claimant may close the holder and take the dpid.
    Entitled(Entitlement),
    /// The holder keeps the dpid; the claimant is refused.
    HolderStays,
}

/// Judges `claimant`'s claim of a dpid pinned to `pin` (if any), held by `holder` (if any),
/// whose home address is `home` (if known).
pub fn judge(
    claimant: &PeerIdentity,
    pin: Option<CertSha256>,
    holder: Option<&PeerIdentity>,
    home: Option<IpAddr>,
) -> Judgement {
    if let Some(pinned) = pin {
        if claimant.cert() != Some(pinned) {
            return Judgement::Unbound {
                pinned,
                presented: claimant.cert(),
            };
        }
    }
    let Some(holder) = holder else {
        return Judgement::Free;
    };
    let from = claimant.addr.ip();
    if pin.is_some() {
        Judgement::Entitled(Entitlement::Pinned)
    } else if from == holder.addr.ip() {
        Judgement::Entitled(Entitlement::SameHost)
    } else if home == Some(from) {
        Judgement::Entitled(Entitlement::Home)
    } else {
        Judgement::HolderStays
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn plain(ip: [u8; 4], port: u16) -> PeerIdentity {
        PeerIdentity::plain(SocketAddr::from((ip, port)))
    }

    fn cert(b: u8) -> CertSha256 {
        CertSha256([b; 32])
    }

    fn tls(ip: [u8; 4], port: u16, c: u8) -> PeerIdentity {
        PeerIdentity::tls(SocketAddr::from((ip, port)), cert(c))
    }

    const REAL: [u8; 4] = [192, 0, 2, 1];
    const EVIL: [u8; 4] = [198, 51, 100, 66];
    const OTHER: [u8; 4] = [192, 0, 2, 9];

    fn home() -> Option<IpAddr> {
        Some(IpAddr::from(REAL))
    }

    /// Every combination of claimant (plain or TLS with the pinned or another certificate,
    /// from the holder's host, home, or elsewhere), pin (none or one), holder (none, at home,
    /// elsewhere) and home (unknown or known).
    #[test]
    fn every_combination_follows_the_rule() {
        let claimants = [
            ("plain@home", plain(REAL, 2)),
            ("plain@evil", plain(EVIL, 2)),
            ("plain@other", plain(OTHER, 2)),
            ("pinned-cert@home", tls(REAL, 2, 1)),
            ("pinned-cert@evil", tls(EVIL, 2, 1)),
            ("other-cert@home", tls(REAL, 2, 7)),
            ("other-cert@evil", tls(EVIL, 2, 7)),
        ];
        let holders = [
            ("none", None),
            ("at-home", Some(plain(REAL, 1))),
            ("at-evil", Some(plain(EVIL, 1))),
            ("tls-at-other", Some(tls(OTHER, 1, 1))),
        ];
        let mut seen = 0;
        for (cname, c) in &claimants {
            for pin in [None, Some(cert(1))] {
                for (hname, h) in &holders {
                    for home in [None, home()] {
                        let got = judge(c, pin, h.as_ref(), home);
                        let want = if let Some(p) = pin.filter(|p| c.cert() != Some(*p)) {
                            Judgement::Unbound {
                                pinned: p,
                                presented: c.cert(),
                            }
                        } else if h.is_none() {
                            Judgement::Free
                        } else if pin.is_some() {
                            Judgement::Entitled(Entitlement::Pinned)
                        } else if h.is_some_and(|h| h.addr.ip() == c.addr.ip()) {
                            Judgement::Entitled(Entitlement::SameHost)
                        } else if home == Some(c.addr.ip()) {
                            Judgement::Entitled(Entitlement::Home)
                        } else {
                            Judgement::HolderStays
                        };
                        assert_eq!(
                            got, want,
                            "claimant {cname}, pin {pin:?}, holder {hname}, home {home:?}"
                        );
                        seen += 1;
                    }
                }
            }
        }
        assert_eq!(seen, 7 * 2 * 4 * 2);
    }

    #[test]
    fn a_pinned_dpid_refuses_plain_tcp_and_other_certificates_whoever_holds_it() {
        let pin = Some(cert(1));
        for holder in [None, Some(tls(REAL, 1, 1))] {
            assert_eq!(
                judge(&plain(REAL, 2), pin, holder.as_ref(), home()),
                Judgement::Unbound {
                    pinned: cert(1),
                    presented: None
                },
                "plain TCP, even from home"
            );
            assert_eq!(
                judge(&tls(REAL, 2, 7), pin, holder.as_ref(), home()),
                Judgement::Unbound {
                    pinned: cert(1),
                    presented: Some(cert(7))
                },
                "another valid certificate, even from home"
            );
        }
        assert_eq!(
            judge(&tls(EVIL, 2, 1), pin, Some(&tls(REAL, 1, 1)), home()),
            Judgement::Entitled(Entitlement::Pinned),
            "the key is what counts, not the address"
        );
    }

    #[test]
    fn an_unpinned_live_holder_is_only_displaced_by_its_own_host_or_home() {
        let holder = plain(REAL, 1);
        assert_eq!(
            judge(&plain(EVIL, 2), None, Some(&holder), home()),
            Judgement::HolderStays
        );
        assert_eq!(
            judge(&plain(REAL, 3), None, Some(&holder), home()),
            Judgement::Entitled(Entitlement::SameHost)
        );
        let impostor = plain(EVIL, 1);
        assert_eq!(
            judge(&plain(REAL, 3), None, Some(&impostor), home()),
            Judgement::Entitled(Entitlement::Home)
        );
        assert!(!Entitlement::Home.counts_for_hold_down());
        assert!(Entitlement::SameHost.counts_for_hold_down());
        assert!(Entitlement::Pinned.counts_for_hold_down());
    }
}
