//! The cluster's shared policy in etcd (I/O edge): one key holding the shared part of the policy
//! file as text, and one history record per `op25b policy push`.
//!
//! | key | value |
//! | --- | --- |
//! | `PREFIX/policy` | the shared policy, TOML text verbatim as pushed (no lease) |
//! | `PREFIX/policy-history/NANOS` | JSON [`HistoryRecord`]: the text, who pushed it, when |
//!
//! A push writes both keys in one transaction that first compares the policy key's
//! `mod_revision` with the one the pusher based its edit on (absent: `version == 0`), so two
//! operators pushing at once cannot overwrite each other unseen ([`Expect::Any`] is `--force`).
//! The record's `mod_revision` is therefore the revision of the policy it records. Records are
//! kept apart from etcd's own revisions because those carry no pusher and are erased by
//! compaction; the newest [`HISTORY_KEEP`] records are kept, older ones deleted by the push.

use super::error::ClusterError;
use super::keys::Keys;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, SortOrder, SortTarget, Txn, TxnOp,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// History records kept (older ones are deleted by the next push).
pub const HISTORY_KEEP: usize = 100;

/// `PREFIX/policy`.
pub fn policy_key(keys: &Keys) -> String {
    format!("{}policy", keys.all())
}

/// `PREFIX/policy-history/`.
pub fn history_prefix(keys: &Keys) -> String {
    format!("{}policy-history/", keys.all())
}

/// One push, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// `user@host` of the pusher.
    pub pushed_by: String,
    /// RFC 3339, UTC.
    pub pushed_at: String,
    /// Pushed with `--force` (no compare-and-swap).
    pub forced: bool,
    /// The policy text pushed.
    pub text: String,
}

/// The policy key as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub text: String,
    /// The revision that last wrote it.
    pub mod_revision: i64,
}

/// What a push expects the key to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Last written at this revision (`None`: not there yet).
    Revision(Option<i64>),
    /// Anything (`--force`).
    Any,
}

/// Why the policy key could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PolicyKeyError {
    #[error(transparent)]
    Etcd(#[from] ClusterError),
    #[error("the policy changed since revision {}: it is now at revision {}{}", fmt_rev(*expected), fmt_rev(*now), by.as_ref().map(|b| format!(", pushed by {b}")).unwrap_or_default())]
    Conflict {
        expected: Option<i64>,
        now: Option<i64>,
        by: Option<String>,
    },
    #[error("{key}: not a policy history record: {reason}")]
    BadRecord { key: String, reason: String },
    #[error("{key}: the policy is not UTF-8 text")]
    NotText { key: String },
}

fn fmt_rev(r: Option<i64>) -> String {
    r.map_or_else(|| "(none: no policy stored)".to_owned(), |r| r.to_string())
}

/// A client of `endpoints` with short timeouts (a CLI or a watch task, not the lease's).
pub async fn connect(endpoints: &[String]) -> Result<Client, ClusterError> {
    let options = ConnectOptions::new()
        .with_connect_timeout(Duration::from_secs(2))
        .with_timeout(Duration::from_secs(5));
    Client::connect(endpoints, Some(options))
        .await
        .map_err(|source| ClusterError::Connect {
            endpoints: endpoints.to_vec(),
            source,
        })
}

/// The policy stored (if any) and the store's revision at the read.
pub async fn read(
    client: &mut Client,
    keys: &Keys,
) -> Result<(Option<StoredPolicy>, i64), PolicyKeyError> {
    let key = policy_key(keys);
    let resp = client
        .get(key.as_str(), None)
        .await
        .map_err(ClusterError::etcd("read the policy"))?;
    let rev = resp
        .header()
        .map_or(0, etcd_client::ResponseHeader::revision);
    let stored = match resp.kvs().first() {
        Some(kv) => Some(stored(&key, kv.value(), kv.mod_revision())?),
        None => None,
    };
    Ok((stored, rev))
}

/// A value of the policy key as text.
pub fn stored(key: &str, value: &[u8], mod_revision: i64) -> Result<StoredPolicy, PolicyKeyError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| PolicyKeyError::NotText {
            key: key.to_owned(),
        })?
        .to_owned();
    Ok(StoredPolicy { text, mod_revision })
}

/// Writes `record.text` as the policy and `record` into the history in one transaction, if the
/// key is as `expect`ed. Returns the new revision.
pub async fn push(
    client: &mut Client,
    keys: &Keys,
    expect: Expect,
    record: &HistoryRecord,
) -> Result<i64, PolicyKeyError> {
    let key = policy_key(keys);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let history_key = format!("{}{nanos:020}", history_prefix(keys));
    let json = serde_json::to_vec(record).map_err(|e| PolicyKeyError::BadRecord {
        key: history_key.clone(),
        reason: e.to_string(),
    })?;
    let writes = [
        TxnOp::put(key.as_str(), record.text.as_bytes(), None),
        TxnOp::put(history_key.as_str(), json, None),
    ];
    let txn = match expect {
        Expect::Any => Txn::new().and_then(writes),
        Expect::Revision(None) => Txn::new()
            .when([Compare::version(key.as_str(), CompareOp::Equal, 0)])
            .and_then(writes),
        Expect::Revision(Some(r)) => Txn::new()
            .when([Compare::mod_revision(key.as_str(), CompareOp::Equal, r)])
            .and_then(writes),
    };
    let resp = client
        .txn(txn)
        .await
        .map_err(ClusterError::etcd("write the policy"))?;
    if !resp.succeeded() {
        let (now, _) = read(client, keys).await?;
        let now = now.map(|s| s.mod_revision);
        let by = match now {
            Some(r) => history(client, keys, 1)
                .await?
                .into_iter()
                .find(|(rev, _)| *rev == r)
                .map(|(_, rec)| format!("{} at {}", rec.pushed_by, rec.pushed_at)),
            None => None,
        };
        let expected = match expect {
            Expect::Revision(r) => r,
            Expect::Any => None,
        };
        return Err(PolicyKeyError::Conflict { expected, now, by });
    }
    let rev = resp
        .header()
        .map_or(0, etcd_client::ResponseHeader::revision);
    prune(client, keys).await?;
    Ok(rev)
}

/// Deletes the history records beyond the newest [`HISTORY_KEEP`].
async fn prune(client: &mut Client, keys: &Keys) -> Result<(), PolicyKeyError> {
    let resp = client
        .get(
            history_prefix(keys),
            Some(
                GetOptions::new()
                    .with_prefix()
                    .with_keys_only()
                    .with_sort(SortTarget::Key, SortOrder::Ascend),
            ),
        )
        .await
        .map_err(ClusterError::etcd("list the policy history"))?;
    let extra = resp.kvs().len().saturating_sub(HISTORY_KEEP);
    for kv in resp.kvs().iter().take(extra) {
        client
            .delete(kv.key(), None)
            .await
            .map_err(ClusterError::etcd("prune the policy history"))?;
    }
    Ok(())
}

/// The newest `n` history records, newest first, each with its revision.
pub async fn history(
    client: &mut Client,
    keys: &Keys,
    n: usize,
) -> Result<Vec<(i64, HistoryRecord)>, PolicyKeyError> {
    let resp = client
        .get(
            history_prefix(keys),
            Some(
                GetOptions::new()
                    .with_prefix()
                    .with_sort(SortTarget::Mod, SortOrder::Descend)
                    .with_limit(i64::try_from(n).unwrap_or(i64::MAX)),
            ),
        )
        .await
        .map_err(ClusterError::etcd("read the policy history"))?;
    resp.kvs()
        .iter()
        .map(|kv| {
            serde_json::from_slice::<HistoryRecord>(kv.value())
                .map(|r| (kv.mod_revision(), r))
                .map_err(|e| PolicyKeyError::BadRecord {
                    key: String::from_utf8_lossy(kv.key()).into_owned(),
                    reason: e.to_string(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sit_under_the_prefix_and_are_not_mastership_keys() {
        let k = Keys::new("/op25b/");
        assert_eq!(policy_key(&k), "/op25b/policy");
        assert_eq!(history_prefix(&k), "/op25b/policy-history/");
        assert_eq!(
            k.parse(policy_key(&k).as_bytes()),
            super::super::keys::KeyKind::Other
        );
    }
}
