//! Tests of [`super::DpidClaims`]: the takeover rule applied, the hold-down, and the bounds.
use super::*;
use crate::fleet::peer_identity::PeerIdentity;
use std::time::Duration;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn takeover(claims: &DpidClaims, dpid: u64, conn: ConnId, now: Instant) -> ClaimOutcome {
    claims.claim(
        dpid,
        conn,
        PeerIdentity::plain(addr(u16::try_from(conn & 0xffff).unwrap_or(0))),
        None,
        CancellationToken::new(),
        now,
    )
}

/// Drives `dpid` into a hold-down at `t0` (+1 s): holder is connection 3 at `addr(3)`.
fn hold_down(claims: &DpidClaims, dpid: u64, t0: Instant) {
    takeover(claims, dpid, 1, t0);
    takeover(claims, dpid, 2, t0);
    takeover(claims, dpid, 3, t0);
    let out = takeover(claims, dpid, 4, t0 + Duration::from_secs(1));
    assert!(
        matches!(
            out,
            ClaimOutcome::Refused(Refusal::HoldDown {
                conflict_detected: true,
                ..
            })
        ),
        "{out:?}"
    );
}

fn ip(last: u8, port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], port))
}

fn cert(b: u8) -> CertSha256 {
    CertSha256([b; 32])
}

/// Connection `conn` claims `dpid` from `peer` (no pin); returns the outcome and its close token.
fn claim_from(
    claims: &DpidClaims,
    dpid: u64,
    conn: ConnId,
    peer: PeerIdentity,
    pin: Option<CertSha256>,
    now: Instant,
) -> (ClaimOutcome, CancellationToken) {
    let close = CancellationToken::new();
    let out = claims.claim(dpid, conn, peer, pin, close.clone(), now);
    (out, close)
}

fn has_history(claims: &DpidClaims, dpid: u64) -> bool {
    claims.inner.lock().map.contains_key(&dpid)
}

#[test]
fn fifty_thousand_dpids_connecting_once_keep_at_most_the_cap_of_homes_then_nothing() {
    let claims = DpidClaims::new();
    let now = Instant::now();
    for dpid in 0..50_000u64 {
        assert_eq!(takeover(&claims, dpid, dpid, now), ClaimOutcome::Accepted);
        claims.release_at(dpid, dpid, now);
    }
    assert_eq!(
        claims.tracked(),
        MAX_RELEASED,
        "the latest homes are remembered"
    );
    assert_eq!(claims.home(49_999), Some(addr(0).ip()));
    claims.sweep(now + HOME_MEMORY);
    assert_eq!(
        claims.tracked(),
        MAX_RELEASED,
        "a home exactly HOME_MEMORY old is kept"
    );
    claims.sweep(now + HOME_MEMORY + Duration::from_millis(1));
    assert_eq!(claims.tracked(), 0);
}

#[test]
fn fifty_thousand_dpids_with_takeovers_stay_at_the_cap_oldest_dropped_first() {
    let claims = DpidClaims::new();
    let now = Instant::now();
    let n = 50_000u64;
    for dpid in 0..n {
        // Two connections with the same dpid: a takeover, then both end.
        takeover(&claims, dpid, 2 * dpid, now);
        assert!(matches!(
            takeover(&claims, dpid, 2 * dpid + 1, now),
            ClaimOutcome::TookOver { .. }
        ));
        claims.release_at(dpid, 2 * dpid, now);
        claims.release_at(dpid, 2 * dpid + 1, now);
        assert!(claims.tracked() <= MAX_RELEASED, "after {dpid}");
    }
    assert_eq!(claims.tracked(), MAX_RELEASED);
    let oldest_kept = n - MAX_RELEASED as u64;
    assert!(!has_history(&claims, oldest_kept - 1));
    assert!(has_history(&claims, oldest_kept));
    assert!(claims.inner.lock().released.len() <= MAX_RELEASED);
    // Once the flap window and the home memory are over, everything released is forgotten.
    claims.sweep(now + FLAP_WINDOW + Duration::from_secs(1));
    assert_eq!(claims.tracked(), MAX_RELEASED, "homes are still remembered");
    claims.sweep(now + HOME_MEMORY + Duration::from_secs(1));
    assert_eq!(claims.tracked(), 0);
}

#[test]
fn a_released_history_is_kept_while_it_matters_then_forgotten() {
    let claims = DpidClaims::new();
    let t0 = Instant::now();
    takeover(&claims, 9, 1, t0);
    takeover(&claims, 9, 2, t0);
    claims.release_at(9, 1, t0);
    claims.release_at(9, 2, t0);
    claims.sweep(t0 + FLAP_WINDOW);
    assert!(has_history(&claims, 9), "the takeover still counts");
    // Two more takeovers within the window are the conflict: the history was kept.
    takeover(&claims, 9, 3, t0 + Duration::from_secs(10));
    takeover(&claims, 9, 4, t0 + Duration::from_secs(10));
    assert!(matches!(
        takeover(&claims, 9, 5, t0 + Duration::from_secs(11)),
        ClaimOutcome::Refused(Refusal::HoldDown {
            conflict_detected: true,
            ..
        })
    ));
    claims.release_at(9, 4, t0 + Duration::from_secs(12));
    // Released during the hold-down: kept until the hold-down is over.
    let end = t0 + Duration::from_secs(11) + HOLD_DOWN;
    claims.sweep(end.checked_sub(Duration::from_secs(1)).unwrap());
    assert!(has_history(&claims, 9));
    claims.sweep(end);
    assert!(has_history(&claims, 9));
    let after = end + Duration::from_millis(1);
    claims.sweep(after);
    assert_eq!(claims.home(9), Some(addr(0).ip()), "the home is remembered");
    // The hold-down and its takeovers are over: two takeovers in a row are allowed again.
    assert_eq!(takeover(&claims, 9, 6, after), ClaimOutcome::Accepted);
    assert!(matches!(
        takeover(&claims, 9, 7, after),
        ClaimOutcome::TookOver { .. }
    ));
    assert!(matches!(
        takeover(&claims, 9, 8, after),
        ClaimOutcome::TookOver { .. }
    ));
    claims.release_at(9, 8, after);
    claims.sweep(after + HOME_MEMORY);
    assert!(has_history(&claims, 9));
    claims.sweep(after + HOME_MEMORY + Duration::from_millis(1));
    assert!(!has_history(&claims, 9));
    assert_eq!(claims.tracked(), 0);
}

#[test]
fn the_hold_down_still_refuses_under_heavy_churn() {
    let claims = DpidClaims::new();
    let t0 = Instant::now();
    hold_down(&claims, 7, t0);
    // 50,000 other dpids taking over from themselves and going away: far beyond the cap.
    for dpid in 100..50_100u64 {
        takeover(&claims, dpid, 10 * dpid, t0 + Duration::from_secs(2));
        takeover(&claims, dpid, 10 * dpid + 1, t0 + Duration::from_secs(2));
        claims.release_at(dpid, 10 * dpid, t0 + Duration::from_secs(2));
        claims.release_at(dpid, 10 * dpid + 1, t0 + Duration::from_secs(2));
    }
    assert!(claims.tracked() <= MAX_RELEASED + 1);
    let out = takeover(&claims, 7, 5, t0 + Duration::from_secs(100));
    assert!(
        matches!(
            out,
            ClaimOutcome::Refused(Refusal::HoldDown {
                conflict_detected: false,
                ..
            })
        ),
        "{out:?}"
    );
    assert_eq!(claims.holder(7), Some((3, addr(3))));
    // The holder ends during the hold-down: the next claimant gets the dpid, the one after
    // it is still refused until the hold-down is over.
    claims.release_at(7, 3, t0 + Duration::from_secs(101));
    assert_eq!(
        takeover(&claims, 7, 6, t0 + Duration::from_secs(102)),
        ClaimOutcome::Accepted
    );
    assert!(matches!(
        takeover(&claims, 7, 7, t0 + Duration::from_secs(103)),
        ClaimOutcome::Refused(Refusal::HoldDown { .. })
    ));
    assert_eq!(claims.holder(7), Some((6, addr(6))));
}

#[test]
fn one_dpid_flapping_forever_keeps_the_queue_small() {
    let claims = DpidClaims::new();
    let t0 = Instant::now();
    for i in 0..100_000u64 {
        // A takeover each time, spread so that no hold-down starts.
        let now = t0 + FLAP_WINDOW * u32::try_from(i).expect("a small test index");
        takeover(&claims, 1, 2 * i, now);
        takeover(&claims, 1, 2 * i + 1, now);
        claims.release_at(1, 2 * i, now);
        claims.release_at(1, 2 * i + 1, now);
    }
    assert_eq!(claims.tracked(), 1);
    assert!(claims.inner.lock().released.len() <= COMPACT_SLACK + 2);
}

#[test]
fn without_room_a_released_hold_down_is_forgotten_and_the_next_claim_starts_afresh() {
    let claims = DpidClaims::with_max_released(0);
    let t0 = Instant::now();
    hold_down(&claims, 7, t0);
    // While held, it is kept whatever the cap.
    claims.sweep(t0 + Duration::from_secs(2));
    assert!(matches!(
        takeover(&claims, 7, 5, t0 + Duration::from_secs(2)),
        ClaimOutcome::Refused(Refusal::HoldDown { .. })
    ));
    claims.release_at(7, 3, t0 + Duration::from_secs(3));
    assert_eq!(claims.tracked(), 0);
    assert_eq!(
        takeover(&claims, 7, 8, t0 + Duration::from_secs(4)),
        ClaimOutcome::Accepted
    );
    assert!(matches!(
        takeover(&claims, 7, 9, t0 + Duration::from_secs(4)),
        ClaimOutcome::TookOver { .. }
    ));
}

#[test]
fn first_claim_is_accepted_and_release_frees_it() {
    let claims = DpidClaims::new();
    let now = Instant::now();
    let t = CancellationToken::new();
    assert_eq!(
        claims.claim(1, 10, PeerIdentity::plain(addr(1000)), None, t.clone(), now),
        ClaimOutcome::Accepted
    );
    assert_eq!(claims.holder(1), Some((10, addr(1000))));
    claims.release(1, 10);
    assert_eq!(claims.holder(1), None);
    assert!(!t.is_cancelled());
}

#[test]
fn a_newer_connection_takes_over_and_the_old_one_is_cancelled() {
    let claims = DpidClaims::new();
    let now = Instant::now();
    let old = CancellationToken::new();
    claims.claim(
        1,
        10,
        PeerIdentity::plain(addr(1000)),
        None,
        old.clone(),
        now,
    );
    let out = claims.claim(
        1,
        11,
        PeerIdentity::plain(addr(1001)),
        None,
        CancellationToken::new(),
        now,
    );
    assert_eq!(
        out,
        ClaimOutcome::TookOver {
            previous_peer: addr(1000),
            why: Entitlement::SameHost,
        }
    );
    assert!(old.is_cancelled());
    // The old connection's release must not free the new holder.
    claims.release(1, 10);
    assert_eq!(claims.holder(1), Some((11, addr(1001))));
}

#[test]
fn flapping_between_two_switches_is_detected_and_held_down() {
    let claims = DpidClaims::new();
    let t0 = Instant::now();
    claims.claim(
        7,
        1,
        PeerIdentity::plain(addr(1)),
        None,
        CancellationToken::new(),
        t0,
    );
    // takeovers 1 and 2 are allowed
    assert!(matches!(
        claims.claim(
            7,
            2,
            PeerIdentity::plain(addr(2)),
            None,
            CancellationToken::new(),
            t0
        ),
        ClaimOutcome::TookOver { .. }
    ));
    assert!(matches!(
        claims.claim(
            7,
            3,
            PeerIdentity::plain(addr(3)),
            None,
            CancellationToken::new(),
            t0
        ),
        ClaimOutcome::TookOver { .. }
    ));
    // the third within the window is the conflict: refused, holder stays
    let third = CancellationToken::new();
    let out = claims.claim(
        7,
        4,
        PeerIdentity::plain(addr(4)),
        None,
        third.clone(),
        t0 + Duration::from_secs(1),
    );
    match out {
        ClaimOutcome::Refused(Refusal::HoldDown {
            holder_peer,
            conflict_detected,
            ..
        }) => {
            assert_eq!(holder_peer, addr(3));
            assert!(conflict_detected);
        }
        other => panic!("expected refusal, got {other:?}"),
    }
    assert_eq!(claims.holder(7), Some((3, addr(3))));
    // further claims during hold-down are refused without a new detection
    let out = claims.claim(
        7,
        5,
        PeerIdentity::plain(addr(5)),
        None,
        CancellationToken::new(),
        t0 + Duration::from_secs(2),
    );
    assert!(matches!(
        out,
        ClaimOutcome::Refused(Refusal::HoldDown {
            conflict_detected: false,
            ..
        })
    ));
    // after the hold-down the next claim takes over again
    let later = t0 + Duration::from_secs(1) + HOLD_DOWN;
    let out = claims.claim(
        7,
        6,
        PeerIdentity::plain(addr(6)),
        None,
        CancellationToken::new(),
        later,
    );
    assert!(matches!(out, ClaimOutcome::TookOver { .. }));
}

#[test]
fn takeovers_spread_beyond_the_window_are_not_a_conflict() {
    let claims = DpidClaims::new();
    let t0 = Instant::now();
    claims.claim(
        7,
        0,
        PeerIdentity::plain(addr(1)),
        None,
        CancellationToken::new(),
        t0,
    );
    for i in 1..10u64 {
        let now = t0 + FLAP_WINDOW * u32::try_from(i).expect("a small test index");
        let out = claims.claim(
            7,
            i,
            PeerIdentity::plain(addr(u16::try_from(i & 0xffff).unwrap_or(0))),
            None,
            CancellationToken::new(),
            now,
        );
        assert!(
            matches!(out, ClaimOutcome::TookOver { .. }),
            "claim {i}: {out:?}"
        );
    }
}

mod takeover_rule {
    use super::*;

    const REAL: u8 = 1;
    const EVIL: u8 = 66;

    fn real(port: u16) -> PeerIdentity {
        PeerIdentity::plain(ip(REAL, port))
    }

    fn evil(port: u16) -> PeerIdentity {
        PeerIdentity::plain(ip(EVIL, port))
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// The sequence of the issue: the real switch holds its dpid, an impostor claims it twice,
    /// then the real switch reconnects. Before the rule: both impostor claims took over (the
    /// real switch was closed), and the reconnect was the third takeover within a minute, so
    /// the real switch was refused for HOLD_DOWN. Now: the impostor is refused, the real switch
    /// is never closed, and its reconnect takes over at once.
    #[test]
    fn two_impostor_claims_then_the_real_switch_reconnecting_never_refuses_the_real_switch() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        let (first, real_close) = claim_from(&claims, 7, 1, real(1000), None, t0);
        assert_eq!(first, ClaimOutcome::Accepted);
        for (conn, at) in [(2, 1), (3, 2)] {
            let (out, _) = claim_from(
                &claims,
                7,
                conn,
                evil(2000 + u16::try_from(conn & 0xffff).unwrap_or(0)),
                None,
                t0 + secs(at),
            );
            assert_eq!(
                out,
                ClaimOutcome::Refused(Refusal::HolderAlive {
                    holder_peer: ip(REAL, 1000)
                })
            );
            assert!(
                !real_close.is_cancelled(),
                "the real switch is not disturbed"
            );
        }
        let (back, _) = claim_from(&claims, 7, 4, real(1001), None, t0 + secs(3));
        assert_eq!(
            back,
            ClaimOutcome::TookOver {
                previous_peer: ip(REAL, 1000),
                why: Entitlement::SameHost
            }
        );
        assert_eq!(claims.holder(7), Some((4, ip(REAL, 1001))));
        // And again and again: the impostor never starts a hold-down against it.
        for i in 0..20u64 {
            let at = t0 + secs(4 + i);
            let (out, _) = claim_from(&claims, 7, 100 + i, evil(3000), None, at);
            assert!(
                matches!(out, ClaimOutcome::Refused(Refusal::HolderAlive { .. })),
                "{out:?}"
            );
        }
        let (again, _) = claim_from(&claims, 7, 200, real(1002), None, t0 + secs(30));
        assert!(matches!(again, ClaimOutcome::TookOver { .. }), "{again:?}");
    }

    #[test]
    fn an_impostor_can_take_a_dpid_only_while_its_switch_is_gone_and_home_takes_it_back() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        claim_from(&claims, 7, 1, real(1000), None, t0);
        claims.release_at(7, 1, t0 + secs(1));
        // The real switch is gone: the impostor gets the dpid.
        let (taken, evil_close) = claim_from(&claims, 7, 2, evil(2000), None, t0 + secs(2));
        assert_eq!(taken, ClaimOutcome::Accepted);
        // The impostor drives its own host into a hold-down: it cannot hurt the home.
        for conn in 3..=4 {
            claim_from(
                &claims,
                7,
                conn,
                evil(2000 + u16::try_from(conn & 0xffff).unwrap_or(0)),
                None,
                t0 + secs(3),
            );
        }
        let (held, _) = claim_from(&claims, 7, 5, evil(2005), None, t0 + secs(3));
        assert!(
            matches!(held, ClaimOutcome::Refused(Refusal::HoldDown { .. })),
            "{held:?}"
        );
        // The real switch comes back from home, during that hold-down: it takes over at once.
        let (back, _) = claim_from(&claims, 7, 6, real(1001), None, t0 + secs(4));
        assert_eq!(
            back,
            ClaimOutcome::TookOver {
                previous_peer: ip(EVIL, 2004),
                why: Entitlement::Home
            }
        );
        assert!(!evil_close.is_cancelled() || claims.holder(7) == Some((6, ip(REAL, 1001))));
        assert_eq!(claims.holder(7), Some((6, ip(REAL, 1001))));
        let (retry, _) = claim_from(&claims, 7, 7, evil(2007), None, t0 + secs(5));
        assert!(matches!(
            retry,
            ClaimOutcome::Refused(Refusal::HolderAlive { .. })
        ));
    }

    #[test]
    fn the_home_is_the_first_holder_and_is_remembered_for_home_memory_after_release() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        claim_from(&claims, 7, 1, real(1000), None, t0);
        claims.release_at(7, 1, t0);
        claim_from(&claims, 7, 2, evil(2000), None, t0 + secs(1));
        assert_eq!(
            claims.home(7),
            Some(ip(REAL, 0).ip()),
            "the impostor is not home"
        );
        claims.release_at(7, 2, t0 + secs(2));
        // Forgotten HOME_MEMORY after the last release: the next first holder is home.
        claims.sweep(t0 + secs(2) + HOME_MEMORY + Duration::from_millis(1));
        assert_eq!(claims.home(7), None);
        claim_from(&claims, 7, 3, evil(2000), None, t0 + secs(3) + HOME_MEMORY);
        assert_eq!(claims.home(7), Some(ip(EVIL, 0).ip()));
    }

    #[test]
    fn a_switch_at_a_new_address_waits_for_the_old_session_to_end() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        claim_from(&claims, 7, 1, real(1000), None, t0);
        let moved = PeerIdentity::plain(ip(9, 1000));
        let (out, _) = claim_from(&claims, 7, 2, moved, None, t0 + secs(1));
        assert!(matches!(
            out,
            ClaimOutcome::Refused(Refusal::HolderAlive { .. })
        ));
        // The old session is closed by its keepalive (echo timeout): the next attempt gets it.
        claims.release_at(7, 1, t0 + secs(15));
        let (out, _) = claim_from(&claims, 7, 3, moved, None, t0 + secs(16));
        assert_eq!(out, ClaimOutcome::Accepted);
    }

    #[test]
    fn a_pinned_dpid_is_only_given_to_its_certificate_and_refusals_change_nothing() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        let pin = Some(cert(1));
        let real_tls = PeerIdentity::tls(ip(REAL, 1000), cert(1));
        // Before anyone holds it: plain TCP and another certificate are refused, even from home.
        for (conn, peer) in [
            (1, real(1000)),
            (2, PeerIdentity::tls(ip(REAL, 1001), cert(7))),
        ] {
            let (out, _) = claim_from(&claims, 7, conn, peer, pin, t0);
            assert_eq!(
                out,
                ClaimOutcome::Refused(Refusal::Unbound {
                    pinned: cert(1),
                    presented: peer.cert(),
                    holder_peer: None
                })
            );
        }
        assert_eq!(claims.tracked(), 0, "a refused claim leaves nothing behind");
        let (out, real_close) = claim_from(&claims, 7, 3, real_tls, pin, t0);
        assert_eq!(out, ClaimOutcome::Accepted);
        // An impostor with another valid certificate, many times: refused, holder untouched,
        // no takeover counted (no hold-down can follow).
        for conn in 10..40u64 {
            let imp =
                PeerIdentity::tls(ip(EVIL, u16::try_from(conn & 0xffff).unwrap_or(0)), cert(9));
            let (out, _) = claim_from(&claims, 7, conn, imp, pin, t0 + secs(1));
            assert!(
                matches!(out, ClaimOutcome::Refused(Refusal::Unbound { holder_peer: Some(p), .. }) if p == ip(REAL, 1000)),
                "{out:?}"
            );
        }
        assert!(!real_close.is_cancelled());
        assert_eq!(claims.inner.lock().map[&7].history.ends(), None);
        // The real switch reconnecting with its key, from anywhere: takes over at once.
        let moved = PeerIdentity::tls(ip(9, 5000), cert(1));
        let (out, _) = claim_from(&claims, 7, 50, moved, pin, t0 + secs(2));
        assert_eq!(
            out,
            ClaimOutcome::TookOver {
                previous_peer: ip(REAL, 1000),
                why: Entitlement::Pinned
            }
        );
        assert!(real_close.is_cancelled());
        assert_eq!(claims.home(7), None, "a pinned dpid needs no home");
    }

    #[test]
    fn the_same_host_reconnecting_takes_over_at_once() {
        let claims = DpidClaims::new();
        let t0 = Instant::now();
        let (_, old) = claim_from(&claims, 7, 1, real(1000), None, t0);
        let (out, _) = claim_from(&claims, 7, 2, real(1001), None, t0);
        assert!(matches!(
            out,
            ClaimOutcome::TookOver {
                why: Entitlement::SameHost,
                ..
            }
        ));
        assert!(old.is_cancelled());
    }
}
