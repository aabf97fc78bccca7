//! The masterships as this instance last saw them in etcd, and what it makes of them for one
//! switch: the role its connection must ask ([`Wanted`]).

use std::collections::HashMap;

/// What the cluster wants one connection to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// This instance holds the switch's mastership; `generation` only ever grows (the etcd
    /// revision at which the key was created).
    Master { generation: u64 },
    /// Another instance holds it at `generation` (0 when nobody does yet).
    Slave { generation: u64 },
}

/// Who holds one switch's mastership key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holding instance's `[cluster] name`.
    pub instance: String,
    /// The key's create revision: the fencing generation.
    pub generation: u64,
}

/// Every mastership key this instance knows of, by dpid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MastershipView {
    /// This instance's name.
    pub me: String,
    pub holders: HashMap<u64, Holder>,
    /// The generation of each switch's last holder, kept after its key is gone: a slave asks
    /// SLAVE with it (a lower one would be refused as stale).
    pub last_generation: HashMap<u64, u64>,
    /// Whether this instance's lease is confirmed (kept alive within its TTL). When it is not,
    /// every switch is wanted slave: a master that cannot prove its lease stops writing.
    pub lease_ok: bool,
}

impl MastershipView {
    /// An empty view for instance `me` (no lease yet).
    pub fn new(me: &str) -> Self {
        Self {
            me: me.to_owned(),
            holders: HashMap::new(),
            last_generation: HashMap::new(),
            lease_ok: false,
        }
    }

    /// The role switch `dpid`'s connection must ask: master when this instance holds its key
    /// and its lease is confirmed, else slave at the holder's generation (0: nobody).
    pub fn wanted(&self, dpid: u64) -> Wanted {
        match self.holders.get(&dpid) {
            Some(h) if h.instance == self.me && self.lease_ok => Wanted::Master {
                generation: h.generation,
            },
            Some(h) => Wanted::Slave {
                generation: h.generation,
            },
            None => Wanted::Slave {
                generation: self.last_generation.get(&dpid).copied().unwrap_or(0),
            },
        }
    }

    /// `dpid` is held by `holder` now.
    pub fn hold(&mut self, dpid: u64, holder: Holder) {
        self.last_generation.insert(dpid, holder.generation);
        self.holders.insert(dpid, holder);
    }

    /// How many switches each instance holds.
    pub fn counts(&self) -> HashMap<&str, usize> {
        let mut n = HashMap::new();
        for h in self.holders.values() {
            *n.entry(h.instance.as_str()).or_insert(0) += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(lease_ok: bool) -> MastershipView {
        let mut v = MastershipView::new("a");
        v.lease_ok = lease_ok;
        v.hold(
            1,
            Holder {
                instance: "a".into(),
                generation: 10,
            },
        );
        v.hold(
            2,
            Holder {
                instance: "b".into(),
                generation: 12,
            },
        );
        v
    }

    #[test]
    fn master_only_of_what_we_hold_with_a_confirmed_lease() {
        let v = view(true);
        assert_eq!(v.wanted(1), Wanted::Master { generation: 10 });
        assert_eq!(v.wanted(2), Wanted::Slave { generation: 12 });
        assert_eq!(v.wanted(3), Wanted::Slave { generation: 0 });
        assert_eq!(
            view(false).wanted(1),
            Wanted::Slave { generation: 10 },
            "an unconfirmed lease writes nothing"
        );
        assert_eq!(v.counts().get("a"), Some(&1));
        let mut v = v;
        v.holders.remove(&2);
        assert_eq!(
            v.wanted(2),
            Wanted::Slave { generation: 12 },
            "the last holder's generation, not 0"
        );
    }
}
