//! `run`'s continuous check of the bridges' settings: for every `[ovsdb] endpoints` entry, a
//! task that monitors Open vSwitch's database ([`crate::ovsdb::VswitchMonitor`]: `update`
//! notifications, no polling), checks its bridges against the policy in force
//! ([`crate::doctor::diagnose`]) whenever the database or the policy changes, keeps the result
//! in [`SwitchConfigProblems`] (read by `/api/switches`, the metrics and `op25b status`), and
//! logs a WARN line when a problem appears and when it clears.
//!
//! A database that cannot be reached is retried after 1 s, doubling up to 30 s; it is logged
//! at WARN once per outage, and its last problems stay listed, marked not connected. The
//! endpoints follow reloads: one added is monitored at once, one removed is dropped.
//!
//! Wiring (as `run` does it, once the OpenFlow listener is up so its address is known):
//!
//! ```text
//! let listeners = Listeners { plain: controller.plain_addr(), tls: controller.tls_addr() };
//! let task = ovsdb_monitor::spawn(store.subscribe(), listeners,
//!     api_state.switch_config.clone(), shutdown.clone());
//! ... on shutdown: shutdown.cancel(); task.await;
//! ```
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::doctor::{diagnose, Expectations, Listeners, Problem, SwitchDatabase};
use crate::fleet::SwitchConfigProblems;
use crate::ovsdb::VswitchMonitor;
use crate::policy::OvsdbEndpoint;
use crate::session::active_policy::ActivePolicy;

/// First retry after a failed connection; doubles up to [`RETRY_MAX`].
pub const RETRY_MIN: Duration = Duration::from_secs(1);
/// The longest wait between connection attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(30);
/// Connecting and reading the first state must finish within this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Policies = watch::Receiver<Arc<ActivePolicy>>;

/// Starts the task that follows `[ovsdb] endpoints`; `listeners` are the OpenFlow listeners'
/// addresses (the controller targets must reach one of them). Ends on `shutdown`.
pub fn spawn(
    policies: Policies,
    listeners: Listeners,
    problems: Arc<SwitchConfigProblems>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(supervise(policies, listeners, problems, shutdown))
}

async fn supervise(
    mut policies: Policies,
    listeners: Listeners,
    problems: Arc<SwitchConfigProblems>,
    shutdown: CancellationToken,
) {
    let mut running: BTreeMap<OvsdbEndpoint, (CancellationToken, JoinHandle<()>)> = BTreeMap::new();
    loop {
        let wanted = policies
            .borrow_and_update()
            .config()
            .ovsdb()
            .endpoints
            .clone();
        running.retain(|endpoint, (stop, _)| {
            let keep = wanted.contains(endpoint);
            if !keep {
                info!(endpoint = %endpoint, "OVSDB endpoint no longer in the policy: monitor stopped");
                stop.cancel();
            }
            keep
        });
        problems.set_endpoints(&wanted.iter().map(ToString::to_string).collect::<Vec<_>>());
        for endpoint in wanted {
            if let Entry::Vacant(slot) = running.entry(endpoint) {
                let stop = shutdown.child_token();
                let task = tokio::spawn(watch_endpoint(
                    slot.key().clone(),
                    policies.clone(),
                    listeners,
                    problems.clone(),
                    stop.clone(),
                ));
                slot.insert((stop, task));
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            changed = policies.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    for (_, (stop, task)) in running {
        stop.cancel();
        if let Err(e) = task.await {
            warn!(error = %e, "OVSDB monitor task failed");
        }
    }
}

/// Monitors one database until `stop`, reconnecting as needed.
async fn watch_endpoint(
    endpoint: OvsdbEndpoint,
    mut policies: Policies,
    listeners: Listeners,
    problems: Arc<SwitchConfigProblems>,
    stop: CancellationToken,
) {
    let name = endpoint.to_string();
    let mut retry = RETRY_MIN;
    let mut outage_logged = false;
    loop {
        let started = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            started = VswitchMonitor::start(&endpoint, CONNECT_TIMEOUT) => started,
        };
        let error = match started {
            Ok((mut monitor, mut db)) => {
                info!(endpoint = %name, bridges = db.bridges.len(), "OVSDB monitor connected: checking the bridges' settings");
                retry = RETRY_MIN;
                check(&name, &db, &policies, listeners, &problems);
                let error = loop {
                    tokio::select! {
                        biased;
                        () = stop.cancelled() => return,
                        changed = policies.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            check(&name, &db, &policies, listeners, &problems);
                        }
                        next = monitor.next_change() => match next {
                            Ok(new) => {
                                db = new;
                                check(&name, &db, &policies, listeners, &problems);
                            }
                            Err(e) => break e,
                        },
                    }
                };
                warn!(endpoint = %name, error = %error, "OVSDB monitor lost the database; reconnecting (its last problems stay listed)");
                outage_logged = true;
                error
            }
            Err(e) => {
                if !outage_logged {
                    warn!(endpoint = %name, error = %e, "cannot monitor the Open vSwitch database; retrying (bridge settings are not checked meanwhile)");
                    outage_logged = true;
                } else {
                    debug!(endpoint = %name, error = %e, "OVSDB still unreachable");
                }
                e
            }
        };
        problems.unreachable(&name, &error.to_string());
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// Checks `db` against the policy in force, records the result, logs what changed.
fn check(
    endpoint: &str,
    db: &SwitchDatabase,
    policies: &Policies,
    listeners: Listeners,
    problems: &SwitchConfigProblems,
) {
    let active = policies.borrow().clone();
    let expect = Expectations {
        listeners,
        ..Expectations::of(active.config())
    };
    let changes = problems.publish(endpoint, diagnose(db, Some(&expect)));
    for p in &changes.appeared {
        log(endpoint, p, &format!("switch config problem: {p}"));
    }
    for p in &changes.cleared {
        let line = format!(
            "switch config problem cleared: {}: {} is no longer {}",
            p.bridge,
            p.subject(),
            p.found
        );
        log(endpoint, p, &line);
    }
}

fn log(endpoint: &str, p: &Problem, message: &str) {
    warn!(
        endpoint,
        bridge = %p.bridge,
        dpid = %p.dpid.map_or_else(|| "unknown".to_owned(), |d| d.to_string()),
        problem = p.problem.name(),
        "{message}"
    );
}
