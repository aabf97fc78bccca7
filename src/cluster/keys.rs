//! Where op25b keeps its cluster state in etcd, under `[cluster] key_prefix` (`/op25b/` by
//! default):
//!
//! | key | value | lease |
//! | --- | --- | --- |
//! | `PREFIX/instances/NAME` | the instance's name | the instance's |
//! | `PREFIX/masters/DPID` (16 hex digits) | the holding instance's name | the holder's |
//! | `PREFIX/offenders/NAME` | the instance's worst offenders, JSON (`offenders::cluster_share`) | the instance's offender lease |
//! | `PREFIX/reports/CLAIM` | the name of the instance that writes the report | a claim lease (`reporting.window` + a minute) |
//!
//! A key attached to a lease disappears when the lease expires, so a dead instance's keys go
//! without anyone deleting them: 50,000 switches cost one keep-alive per instance.

/// The key layout of one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// `prefix` ends with `/` (validated in `[cluster]`).
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// Everything op25b keeps (one watch covers it).
    pub fn all(&self) -> &str {
        &self.prefix
    }

    pub fn instance(&self, name: &str) -> String {
        format!("{}instances/{name}", self.prefix)
    }

    pub fn master(&self, dpid: u64) -> String {
        format!("{}masters/{dpid:016x}", self.prefix)
    }

    /// One instance's published offenders.
    pub fn offenders(&self, name: &str) -> String {
        format!("{}offenders/{name}", self.prefix)
    }

    /// Every instance's published offenders (a prefix).
    pub fn offenders_all(&self) -> String {
        format!("{}offenders/", self.prefix)
    }

    /// The claim of one flagged subscriber's report (`claim` from
    /// `offenders::cluster_share::claim_name`).
    pub fn report(&self, claim: &str) -> String {
        format!("{}reports/{claim}", self.prefix)
    }

    /// What a key under the prefix names.
    pub fn parse(&self, key: &[u8]) -> KeyKind {
        let Some(rest) = std::str::from_utf8(key)
            .ok()
            .and_then(|k| k.strip_prefix(self.prefix.as_str()))
        else {
            return KeyKind::Other;
        };
        if let Some(name) = rest.strip_prefix("instances/") {
            return KeyKind::Instance(name.to_owned());
        }
        if let Some(hex) = rest.strip_prefix("masters/") {
            if hex.len() == 16 {
                if let Ok(dpid) = u64::from_str_radix(hex, 16) {
                    return KeyKind::Master(dpid);
                }
            }
        }
        KeyKind::Other
    }
}

/// What a key under the prefix is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Instance(String),
    Master(u64),
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_strangers_are_other() {
        let k = Keys::new("/op25b/");
        assert_eq!(k.master(0x2a), "/op25b/masters/000000000000002a");
        assert_eq!(k.parse(k.master(0x2a).as_bytes()), KeyKind::Master(0x2a));
        assert_eq!(
            k.parse(k.instance("a").as_bytes()),
            KeyKind::Instance("a".into())
        );
        for other in [
            "/other/masters/000000000000002a",
            "/op25b/masters/2a",
            "/op25b/masters/zzzzzzzzzzzzzzzz",
            "/op25b/policy",
        ] {
            assert_eq!(k.parse(other.as_bytes()), KeyKind::Other, "{other}");
        }
        assert_eq!(k.parse(&[0xff, 0xfe]), KeyKind::Other);
        assert_eq!(k.offenders("a"), "/op25b/offenders/a");
        assert!(k.offenders("a").starts_with(&k.offenders_all()));
        assert_eq!(k.report("x"), "/op25b/reports/x");
        // Neither is a switch or an instance for the member.
        assert_eq!(k.parse(k.offenders("a").as_bytes()), KeyKind::Other);
        assert_eq!(k.parse(k.report("x").as_bytes()), KeyKind::Other);
    }
}
