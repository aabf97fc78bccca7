//! One abuse report per flagged subscriber across the cluster: before writing a report, an
//! instance claims it in etcd.
//!
//! The claim is a transaction "create `PREFIX/reports/CLAIM` with my name if its create_revision
//! is 0, else read it" (`CLAIM` is `offenders::cluster_share::claim_name`: MAC and source, no
//! switch), so of several instances flagging the same subscriber exactly one wins and writes the
//! report; the others count the report as claimed elsewhere. The key is attached to a *claim
//! lease* of TTL `window + ROTATE` granted at most once per [`ROTATE`] and never kept alive, so
//! a claim lasts between `window` (the `[reporting] window`, the time an entry stays flagged) and
//! `window + ROTATE`: within it the subscriber is reported once, after it a new flag is a new
//! report, and claims never pile up in etcd (one lease per minute, whatever the outbreak).
//!
//! **etcd unavailable**: a report is never lost for it. A claim that fails (no connection,
//! timeout after [`CLAIM_TIMEOUT`], a failed transaction) answers
//! [`ClaimOutcome::Unavailable`] and the caller writes the report locally; for [`RETRY`] after a
//! failure claims do not even try (a burst of events during an outage is not slowed by timeouts).
//! Counted in `ClusterStatus::offenders.claims_unavailable` and `etcd_errors`. This is the
//! window where a duplicate is possible: two instances flagging the same subscriber while
//! either cannot reach etcd both write.

use super::error::ClusterError;
use super::keys::Keys;
use super::status::ClusterStatus;
use crate::policy::ClusterSettings;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, PutOptions, Txn, TxnOp, TxnOpResponse,
};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a new claim lease is granted (and how much longer than `window` a claim may live).
pub const ROTATE: Duration = Duration::from_secs(60);
/// How long a claim may take before the report is written unclaimed.
pub const CLAIM_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failure, how long claims answer `Unavailable` without asking etcd.
pub const RETRY: Duration = Duration::from_secs(1);

/// What a claim decided.
#[derive(Debug)]
pub enum ClaimOutcome {
    /// This instance writes the report.
    Won,
    /// `by` had claimed it: do not write it here.
    Lost { by: String },
    /// etcd could not be asked: write it here (a duplicate is possible).
    Unavailable(ClusterError),
}

#[derive(Default)]
struct State {
    client: Option<Client>,
    /// The claim lease in use and when it was granted.
    lease: Option<(i64, Instant)>,
    /// Claims answer `Unavailable` until then.
    down_until: Option<Instant>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("connected", &self.client.is_some())
            .field("lease", &self.lease)
            .field("down_until", &self.down_until)
            .finish()
    }
}

/// The claims of one instance; cheap to clone.
#[derive(Clone, Debug)]
pub struct ReportClaims {
    name: String,
    endpoints: Vec<String>,
    keys: Keys,
    status: Arc<Mutex<ClusterStatus>>,
    state: Arc<tokio::sync::Mutex<State>>,
}

impl ReportClaims {
    /// Claims for this instance (`settings.name`), counted into `status`.
    pub fn new(settings: &ClusterSettings, status: Arc<Mutex<ClusterStatus>>) -> Self {
        Self {
            name: settings.name.clone(),
            endpoints: settings.etcd.clone(),
            keys: Keys::new(&settings.key_prefix),
            status,
            state: Arc::new(tokio::sync::Mutex::new(State::default())),
        }
    }

    /// Claims the report of `claim` for `window` (at least); counts the outcome.
    pub async fn claim(&self, claim: &str, window: Duration) -> ClaimOutcome {
        let outcome = match tokio::time::timeout(CLAIM_TIMEOUT, self.try_claim(claim, window)).await
        {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => ClaimOutcome::Unavailable(e),
            Err(_) => ClaimOutcome::Unavailable(ClusterError::Timeout {
                what: "claim a report",
                after: CLAIM_TIMEOUT,
            }),
        };
        let failed = matches!(
            &outcome,
            ClaimOutcome::Unavailable(e) if !matches!(e, ClusterError::Skipped)
        );
        if failed {
            let mut st = self.state.lock().await;
            st.client = None;
            st.down_until = Some(Instant::now() + RETRY);
        }
        let mut s = self.status.lock();
        match &outcome {
            ClaimOutcome::Won => s.offenders.claims_won += 1,
            ClaimOutcome::Lost { .. } => s.offenders.claims_lost += 1,
            ClaimOutcome::Unavailable(_) => {
                s.offenders.claims_unavailable += 1;
                if failed {
                    s.etcd_errors += 1;
                }
            }
        }
        outcome
    }

    async fn try_claim(&self, claim: &str, window: Duration) -> Result<ClaimOutcome, ClusterError> {
        let (mut client, lease) = {
            let mut st = self.state.lock().await;
            let now = Instant::now();
            if st.down_until.is_some_and(|t| now < t) {
                return Err(ClusterError::Skipped);
            }
            if st.client.is_none() {
                st.client = Some(connect(&self.endpoints).await?);
            }
            let Some(client) = st.client.clone() else {
                return Err(ClusterError::Skipped);
            };
            let lease = match st.lease {
                Some((id, granted)) if now.duration_since(granted) < ROTATE => id,
                _ => {
                    let ttl = i64::try_from((window + ROTATE).as_secs()).unwrap_or(i64::MAX);
                    let mut c = client.clone();
                    let granted = c
                        .lease_grant(ttl, None)
                        .await
                        .map_err(ClusterError::etcd("grant a report claim lease"))?;
                    st.lease = Some((granted.id(), now));
                    granted.id()
                }
            };
            (client, lease)
        };
        let key = self.keys.report(claim);
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key.clone(),
                self.name.as_bytes(),
                Some(PutOptions::new().with_lease(lease)),
            )])
            .or_else([TxnOp::get(key, None)]);
        let resp = client
            .txn(txn)
            .await
            .map_err(ClusterError::etcd("claim a report"))?;
        if resp.succeeded() {
            return Ok(ClaimOutcome::Won);
        }
        let by = resp
            .op_responses()
            .into_iter()
            .find_map(|op| match op {
                TxnOpResponse::Get(g) => g
                    .kvs()
                    .first()
                    .map(|kv| String::from_utf8_lossy(kv.value()).into_owned()),
                _ => None,
            })
            .unwrap_or_default();
        // `by` may be this instance: the same subscriber flagged again through another of our
        // switches, already reported by the first flag.
        Ok(ClaimOutcome::Lost { by })
    }
}

async fn connect(endpoints: &[String]) -> Result<Client, ClusterError> {
    let options = ConnectOptions::new()
        .with_connect_timeout(CLAIM_TIMEOUT)
        .with_timeout(CLAIM_TIMEOUT);
    Client::connect(endpoints, Some(options))
        .await
        .map_err(|source| ClusterError::Connect {
            endpoints: endpoints.to_vec(),
            source,
        })
}
