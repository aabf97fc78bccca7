//! Spreading masterships over the live instances, pure.
//!
//! Every instance computes the same preferred instance for a switch with rendezvous
//! (highest-random-weight) hashing over the live instances' names: no coordination beyond
//! etcd's list of live instances, an even spread in expectation (with 15,000 switches over 3
//! instances each gets 5,000 +- about 60), and when an instance joins or leaves only the
//! switches it gains or held move. Mastership itself is decided by whoever creates the etcd key
//! first ([`plan`] only says who tries, and when):
//! - an unheld switch is campaigned for at once by its preferred instance, and by any other
//!   connected instance once it has been unheld for `grace` (its preferred instance may not
//!   reach it, or be about to die);
//! - a held switch whose preferred instance is another live one is released by its holder, at
//!   most `max_release` per round and only `settle` after winning it (so a switch that its
//!   preferred instance does not take back does not bounce).

use super::view::Holder;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// What one planning round sees.
#[derive(Debug)]
pub struct PlanInput<'a> {
    pub me: &'a str,
    /// Instances with a live lease (this one included when its lease is confirmed).
    pub live: &'a BTreeSet<String>,
    pub holders: &'a HashMap<u64, Holder>,
    /// Switches this instance has a session with (handshake done), so it can be their master.
    pub connected: &'a BTreeSet<u64>,
    /// Since when each connected switch has been seen without a holder.
    pub unheld_since: &'a HashMap<u64, Instant>,
    /// When this instance won each switch it holds (as far as it saw).
    pub won_at: &'a HashMap<u64, Instant>,
    pub now: Instant,
    pub grace: Duration,
    pub settle: Duration,
    pub max_release: usize,
}

/// What this instance does this round.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Unheld switches to campaign for (create the key attached to our lease), ascending dpid.
    pub campaign: Vec<u64>,
    /// Held switches to give back (delete our key), ascending dpid.
    pub release: Vec<u64>,
}

/// The live instance that should hold `dpid` (None: no live instance).
pub fn preferred(dpid: u64, live: &BTreeSet<String>) -> Option<&str> {
    live.iter()
        .max_by_key(|name| weight(name, dpid))
        .map(String::as_str)
}

/// This round's plan.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let mut out = Plan::default();
    if !input.live.contains(input.me) {
        return out; // no confirmed lease: nothing to campaign with, nothing we can hold
    }
    for &dpid in input.connected {
        if input.holders.contains_key(&dpid) {
            continue;
        }
        let ours = preferred(dpid, input.live) == Some(input.me);
        let waited = input
            .unheld_since
            .get(&dpid)
            .is_some_and(|since| input.now.saturating_duration_since(*since) >= input.grace);
        if ours || waited {
            out.campaign.push(dpid);
        }
    }
    let mut mine: Vec<u64> = input
        .holders
        .iter()
        .filter(|(_, h)| h.instance == input.me)
        .map(|(d, _)| *d)
        .collect();
    mine.sort_unstable();
    for dpid in mine {
        if out.release.len() >= input.max_release {
            break;
        }
        let settled = input
            .won_at
            .get(&dpid)
            .is_none_or(|at| input.now.saturating_duration_since(*at) >= input.settle);
        let theirs = preferred(dpid, input.live).is_some_and(|p| p != input.me);
        if settled && theirs {
            out.release.push(dpid);
        }
    }
    out
}

/// A stable 64-bit weight of (instance, dpid): FNV-1a over the name and the dpid's bytes, then
/// the splitmix64 finaliser. The same on every instance and every run (no random seed).
fn weight(name: &str, dpid: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(dpid.to_be_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn holder(name: &str) -> Holder {
        Holder {
            instance: name.to_owned(),
            generation: 1,
        }
    }

    struct World {
        live: BTreeSet<String>,
        holders: HashMap<u64, Holder>,
        connected: BTreeSet<u64>,
        unheld_since: HashMap<u64, Instant>,
        won_at: HashMap<u64, Instant>,
        now: Instant,
    }

    impl World {
        fn new(names: &[&str], switches: u64) -> Self {
            Self {
                live: live(names),
                holders: HashMap::new(),
                connected: (1..=switches).collect(),
                unheld_since: HashMap::new(),
                won_at: HashMap::new(),
                now: Instant::now(),
            }
        }

        fn plan(&self, me: &str, max_release: usize) -> Plan {
            plan(&PlanInput {
                me,
                live: &self.live,
                holders: &self.holders,
                connected: &self.connected,
                unheld_since: &self.unheld_since,
                won_at: &self.won_at,
                now: self.now,
                grace: Duration::from_secs(1),
                settle: Duration::from_secs(10),
                max_release,
            })
        }
    }

    #[test]
    fn the_preferred_instances_spread_evenly_and_agree() {
        let l = live(&["op25b-a", "op25b-b", "op25b-c"]);
        let mut n: HashMap<&str, usize> = HashMap::new();
        for dpid in 1..=15_000u64 {
            *n.entry(preferred(dpid, &l).unwrap()).or_default() += 1;
        }
        for (name, count) in &n {
            assert!(
                count.abs_diff(5_000) <= 500,
                "{name} has {count} of 15000 (more than 10% off an even share)"
            );
        }
        assert_eq!(preferred(42, &l), preferred(42, &l.clone()));
        assert_eq!(preferred(42, &BTreeSet::new()), None);
    }

    #[test]
    fn an_instance_leaving_moves_only_its_switches() {
        let three = live(&["a", "b", "c"]);
        let two = live(&["a", "b"]);
        for dpid in 1..=3_000u64 {
            let before = preferred(dpid, &three).unwrap();
            if before != "c" {
                assert_eq!(preferred(dpid, &two), Some(before), "dpid {dpid}");
            }
        }
    }

    #[test]
    fn each_instance_campaigns_for_exactly_its_unheld_share_at_first() {
        let w = World::new(&["a", "b", "c"], 300);
        let mut all: Vec<u64> = ["a", "b", "c"]
            .iter()
            .flat_map(|me| w.plan(me, 10).campaign)
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=300).collect::<Vec<_>>(), "each once, none twice");
        assert!(w.plan("a", 10).release.is_empty());
    }

    #[test]
    fn an_unheld_switch_is_taken_by_anyone_after_the_grace() {
        let mut w = World::new(&["a", "b"], 50);
        let theirs: Vec<u64> = (1..=50)
            .filter(|d| preferred(*d, &w.live) == Some("b"))
            .collect();
        assert!(!theirs.is_empty());
        for d in &theirs {
            w.unheld_since.insert(*d, w.now);
        }
        assert!(w.plan("a", 0).campaign.iter().all(|d| !theirs.contains(d)));
        w.now += Duration::from_secs(1);
        let taken = w.plan("a", 0).campaign;
        assert!(theirs.iter().all(|d| taken.contains(d)));
    }

    #[test]
    fn a_returning_instance_gets_its_switches_back_gradually() {
        let mut w = World::new(&["a", "b"], 200);
        for d in 1..=200 {
            w.holders.insert(d, holder("a"));
        }
        let p = w.plan("a", 5);
        assert_eq!(p.release.len(), 5, "at most max_release per round");
        assert!(p
            .release
            .iter()
            .all(|d| preferred(*d, &w.live) == Some("b")));
        assert!(p.campaign.is_empty(), "all held");
        w.won_at.insert(p.release[0], w.now);
        assert!(
            !w.plan("a", 5).release.contains(&p.release[0]),
            "not before it settled"
        );
    }

    #[test]
    fn without_a_confirmed_lease_nothing_is_planned() {
        let mut w = World::new(&["b"], 10);
        w.holders.insert(1, holder("a"));
        assert_eq!(w.plan("a", 10), Plan::default());
    }
}
