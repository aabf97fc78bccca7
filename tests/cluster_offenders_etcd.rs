//! The cluster's offender I/O (`op25b::cluster::report_claims`, `op25b::cluster::offender_share`)
//! against a real etcd (a private one), without switches:
//! 1. claims: of two instances claiming the same subscriber the first wins and the second learns
//!    who has it; the claim key hangs on a lease of at least `window`; etcd killed: claims answer
//!    `Unavailable` (counted) within the claim timeout; etcd back: claims work again;
//! 2. sharing: each instance reads the other's snapshot (never its own); etcd killed: the peers
//!    are forgotten and the failure counted; etcd back: they are read again.

use op25b::cluster::offender_share::{self, PeerOffenders};
use op25b::cluster::report_claims::{ClaimOutcome, ReportClaims, CLAIM_TIMEOUT, RETRY};
use op25b::cluster::ClusterStatus;
use op25b::offenders::cluster_share::PublishedOffenders;
use op25b::offenders::UnixMillis;
use op25b::policy::ClusterSettings;
use op25b_test_support::etcd::PrivateEtcd;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PREFIX: &str = "/op25b-offenders-etcd-test/";

fn settings(name: &str, etcd: &PrivateEtcd) -> ClusterSettings {
    ClusterSettings {
        etcd: vec![etcd.endpoint()],
        name: name.to_owned(),
        lease_secs: 3,
        key_prefix: PREFIX.to_owned(),
    }
}

fn status(name: &str) -> Arc<Mutex<ClusterStatus>> {
    Arc::new(Mutex::new(ClusterStatus::new(name)))
}

async fn until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_claim_wins_and_claims_survive_an_etcd_outage() {
    let mut etcd = PrivateEtcd::start();
    let (sa, sb) = (status("a"), status("b"));
    let a = ReportClaims::new(&settings("a", &etcd), sa.clone());
    let b = ReportClaims::new(&settings("b", &etcd), sb.clone());
    let window = Duration::from_secs(600);

    assert!(matches!(a.claim("s1", window).await, ClaimOutcome::Won));
    match b.claim("s1", window).await {
        ClaimOutcome::Lost { by } => assert_eq!(by, "a"),
        other => panic!("b should lose s1 to a: {other:?}"),
    }
    // Flagged again on another of a's switches: already reported.
    assert!(matches!(
        a.claim("s1", window).await,
        ClaimOutcome::Lost { .. }
    ));
    assert!(matches!(b.claim("s2", window).await, ClaimOutcome::Won));

    // The claim key lives at least `window` (on the claim lease, TTL window + a minute).
    let key = format!("{PREFIX}reports/s1");
    let out = etcd.ctl(&["get", &key, "-w", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("etcdctl json");
    let lease = v["kvs"][0]["lease"]
        .as_i64()
        .expect("the claim has a lease");
    let ttl = etcd.ctl(&["lease", "timetolive", &format!("{lease:x}"), "-w", "json"]);
    let ttl: serde_json::Value = serde_json::from_str(&ttl).expect("json");
    // etcdctl 3.4 writes `granted-ttl`; later versions `grantedTTL`.
    let granted = ttl["granted-ttl"]
        .as_i64()
        .or_else(|| ttl["grantedTTL"].as_i64())
        .unwrap_or_else(|| panic!("granted TTL in {ttl}"));
    assert_eq!(granted, 660, "{ttl}");

    // etcd gone: `Unavailable`, within the claim timeout, counted.
    etcd.kill();
    let started = Instant::now();
    assert!(matches!(
        b.claim("s3", window).await,
        ClaimOutcome::Unavailable(_)
    ));
    assert!(started.elapsed() <= CLAIM_TIMEOUT + Duration::from_millis(500));
    // Right after a failure: not even tried.
    let started = Instant::now();
    assert!(matches!(
        b.claim("s4", window).await,
        ClaimOutcome::Unavailable(_)
    ));
    assert!(started.elapsed() < Duration::from_millis(200));
    {
        let s = sb.lock();
        assert_eq!(s.offenders.claims_unavailable, 2);
        assert_eq!(s.offenders.claims_won, 1);
        assert_eq!(s.offenders.claims_lost, 1);
        assert!(s.etcd_errors >= 1);
    }

    // etcd back (same data): claims work again, and the old claims still hold.
    etcd.restart();
    tokio::time::sleep(RETRY).await;
    let mut outcome = b.claim("s3", window).await;
    for _ in 0..20 {
        if !matches!(outcome, ClaimOutcome::Unavailable(_)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        outcome = b.claim("s3", window).await;
    }
    assert!(matches!(outcome, ClaimOutcome::Won), "{outcome:?}");
    match b.claim("s1", window).await {
        ClaimOutcome::Lost { by } => assert_eq!(by, "a"),
        other => panic!("s1 is still a's: {other:?}"),
    }
    assert_eq!(sa.lock().offenders.claims_won, 1);
}

fn snapshot(instance: &str, tracked: usize) -> PublishedOffenders {
    PublishedOffenders::new(instance, UnixMillis::now(), tracked, 1, Vec::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_reads_the_others_offenders_and_forgets_them_when_etcd_is_gone() {
    let mut etcd = PrivateEtcd::start();
    let shutdown = CancellationToken::new();
    let (sa, sb) = (status("a"), status("b"));
    let (pa, pb) = (PeerOffenders::default(), PeerOffenders::default());
    let ta = offender_share::spawn(
        &settings("a", &etcd),
        sa.clone(),
        pa.clone(),
        || snapshot("a", 7),
        shutdown.clone(),
    );
    let tb = offender_share::spawn(
        &settings("b", &etcd),
        sb.clone(),
        pb.clone(),
        || snapshot("b", 9),
        shutdown.clone(),
    );
    let names = |p: &PeerOffenders| {
        p.lock()
            .iter()
            .map(|s| (s.instance.clone(), s.tracked))
            .collect::<Vec<_>>()
    };
    let both = || names(&pa) == [("b".to_owned(), 9)] && names(&pb) == [("a".to_owned(), 7)];
    assert!(
        until(offender_share::PUBLISH_EVERY * 3, both).await,
        "a reads {:?}, b reads {:?}",
        names(&pa),
        names(&pb)
    );
    assert!(sa.lock().offenders.published >= 1);
    assert_eq!(sa.lock().offenders.peers, 1);

    etcd.kill();
    assert!(
        until(offender_share::PUBLISH_EVERY * 3, || pa.lock().is_empty()
            && pb.lock().is_empty())
        .await,
        "peers forgotten while etcd is gone"
    );
    assert!(sa.lock().etcd_errors >= 1);

    etcd.restart();
    assert!(
        until(offender_share::PUBLISH_EVERY * 4, both).await,
        "read again once etcd is back: a {:?}, b {:?}",
        names(&pa),
        names(&pb)
    );
    shutdown.cancel();
    ta.await.expect("a's task ends");
    tb.await.expect("b's task ends");
}
