//! The cluster member (`op25b::cluster`) against a real etcd (a private one), without switches:
//! the "connected" switches are entries of each member's registry. Two members share 40
//! switches: each switch held by exactly one, spread between both; one member dies without
//! revoking its lease (its task aborted): the other holds every switch within `lease_secs` +
//! the grace, with generations above the dead one's; when it comes back, the other hands it its
//! preferred switches back gradually (release transactions), never two holders at once.

use op25b::cluster;
use op25b::fleet::registry::{Registry, SwitchHandle, SyncState};
use op25b::mastership::{MastershipView, Wanted};
use op25b::policy::ClusterSettings;
use op25b_test_support::etcd::PrivateEtcd;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

const SWITCHES: u64 = 40;
const SWITCH_COUNT: usize = 40;
const LEASE_SECS: u64 = 2;

fn settings(name: &str, etcd: &PrivateEtcd) -> ClusterSettings {
    ClusterSettings {
        etcd: vec![etcd.endpoint()],
        name: name.to_owned(),
        lease_secs: LEASE_SECS,
        key_prefix: "/op25b-member-test/".to_owned(),
    }
}

/// A registry in which every switch is connected past its handshake (while the handles live).
fn registry() -> (Arc<Registry>, Vec<SwitchHandle>) {
    let r = Arc::new(Registry::new());
    let handles = (1..=SWITCHES)
        .map(|dpid| {
            let peer = "127.0.0.1:1".parse().expect("addr");
            let h = r.connect(dpid, dpid, peer, SystemTime::now());
            h.update(|s| s.sync_state = SyncState::Standby);
            h
        })
        .collect();
    (r, handles)
}

fn masters(view: &MastershipView) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = (1..=SWITCHES)
        .filter_map(|d| match view.wanted(d) {
            Wanted::Master { generation } => Some((d, generation)),
            Wanted::Slave { .. } => None,
        })
        .collect();
    v.sort_unstable();
    v
}

async fn until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_split_the_switches_and_one_takes_all_when_the_other_dies() {
    let etcd = PrivateEtcd::start();
    let (reg_a, _switches_a) = registry();
    let (reg_b, _switches_b) = registry();
    let a = cluster::start(settings("a", &etcd), reg_a, CancellationToken::new());
    let b = cluster::start(settings("b", &etcd), reg_b, CancellationToken::new());
    let split = until(Duration::from_secs(15), || {
        let (ma, mb) = (
            masters(&a.masterships.borrow()),
            masters(&b.masterships.borrow()),
        );
        ma.len() + mb.len() == SWITCH_COUNT && !ma.is_empty() && !mb.is_empty()
    })
    .await;
    assert!(split.is_some(), "every switch held, by both");
    // Wait out any settling moves, then check: each switch held by exactly one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ma = masters(&a.masterships.borrow());
    let mb = masters(&b.masterships.borrow());
    for d in 1..=SWITCHES {
        let n =
            ma.iter().filter(|(x, _)| *x == d).count() + mb.iter().filter(|(x, _)| *x == d).count();
        assert_eq!(n, 1, "dpid {d} held by {n} members");
    }
    assert!(
        ma.len().abs_diff(mb.len()) <= SWITCH_COUNT / 2,
        "spread: a {} b {}",
        ma.len(),
        mb.len()
    );
    let b_top = mb.iter().map(|(_, g)| *g).max().unwrap_or(0);
    let died = Instant::now();
    b.task.abort(); // no revoke: the lease must expire
    let took = until(Duration::from_secs(LEASE_SECS + 5), || {
        masters(&a.masterships.borrow()).len() == SWITCH_COUNT
    })
    .await;
    let took = took.expect("a holds every switch");
    eprintln!("member failover of {} switches: {took:?}", mb.len());
    assert!(died.elapsed() <= Duration::from_secs(LEASE_SECS) + Duration::from_secs(2));
    let after = masters(&a.masterships.borrow());
    for (d, _) in &mb {
        let g = after
            .iter()
            .find(|(x, _)| x == d)
            .map(|(_, g)| *g)
            .unwrap_or(0);
        assert!(
            g > b_top,
            "dpid {d}: new generation {g} above the dead member's {b_top}"
        );
    }
    let status = a.status.lock().clone();
    assert!(status.lease_ok && status.etcd_ok, "{status:?}");
    assert_eq!(status.live_instances, vec!["a".to_owned()]);

    // b returns: a hands b its preferred switches back, gradually (only SETTLE after winning
    // them, a tenth of its holdings per round), each switch always held by one.
    let (reg_b2, _switches_b2) = registry();
    let b2 = cluster::start(settings("b", &etcd), reg_b2, CancellationToken::new());
    let mut most_at_once = 0usize;
    let mut last_b = 0usize;
    let back = until(cluster::member::SETTLE + Duration::from_secs(10), || {
        let nb = masters(&b2.masterships.borrow()).len();
        most_at_once = most_at_once.max(nb.saturating_sub(last_b));
        last_b = nb;
        nb >= SWITCH_COUNT / 4 && masters(&a.masterships.borrow()).len() + nb == SWITCH_COUNT
    })
    .await;
    assert!(
        back.is_some(),
        "b got a share back: a {} b {}",
        masters(&a.masterships.borrow()).len(),
        masters(&b2.masterships.borrow()).len()
    );
    assert!(
        most_at_once < SWITCH_COUNT / 2,
        "moved gradually, not all at once (at most {most_at_once} in one 50 ms look)"
    );
    assert!(a.status.lock().released > 0, "a released switches");
}
