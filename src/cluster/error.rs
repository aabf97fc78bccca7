//! What can go wrong talking to etcd.

/// An etcd operation that failed, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach etcd at {endpoints:?}: {source}")]
    Connect {
        endpoints: Vec<String>,
        source: etcd_client::Error,
    },
    #[error("etcd: {what}: {source}")]
    Etcd {
        what: &'static str,
        source: etcd_client::Error,
    },
    #[error("etcd: our lease {lease:x} is gone (expired or revoked)")]
    LeaseLost { lease: i64 },
    #[error("etcd: the watch ended: {0}")]
    WatchEnded(String),
    #[error("etcd: {what}: no answer within {after:?}")]
    Timeout {
        what: &'static str,
        after: std::time::Duration,
    },
    #[error("etcd failed within the last second; not asked again yet")]
    Skipped,
    #[error("etcd: {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

impl ClusterError {
    /// `map_err` helper: an etcd error while doing `what`.
    pub fn etcd(what: &'static str) -> impl FnOnce(etcd_client::Error) -> ClusterError {
        move |source| ClusterError::Etcd { what, source }
    }
}
