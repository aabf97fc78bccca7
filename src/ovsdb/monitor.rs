//! Reading the switch settings the checks need from an OVSDB server: once
//! ([`read_database`], for `op25b doctor`) or continuously ([`VswitchMonitor`], for `run`),
//! both with the `monitor` method, so the two see exactly the same columns.
//!
//! The continuous monitor receives `update` notifications as the database changes (no
//! polling). To notice a server that went away without closing the socket, it sends its own
//! `echo` after [`KEEPALIVE`] of silence and gives up after another [`KEEPALIVE`] without any
//! message.
use super::connection::{Connection, Incoming};
use super::error::OvsdbError;
use super::replica::{monitor_params, Replica};
use crate::doctor::SwitchDatabase;
use crate::policy::OvsdbEndpoint;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

/// The id of op25b's monitor on a connection (`update` notifications carry it).
const MONITOR_ID: &str = "op25b";

/// Silence after which the monitor sends an `echo`, and then waits this long again for any
/// message before it gives the connection up.
pub const KEEPALIVE: Duration = Duration::from_secs(5);

async fn start(
    endpoint: &OvsdbEndpoint,
) -> Result<(Connection, Replica, SwitchDatabase), OvsdbError> {
    let mut conn = Connection::connect(endpoint).await?;
    let initial = conn.call("monitor", monitor_params(MONITOR_ID)).await?;
    let mut replica = Replica::default();
    replica
        .apply(&initial)
        .map_err(|e| conn.protocol(e.to_string()))?;
    let db = replica
        .database()
        .map_err(|e| conn.protocol(e.to_string()))?;
    Ok((conn, replica, db))
}

/// The settings as they are now, read within `timeout`.
pub async fn read_database(
    endpoint: &OvsdbEndpoint,
    timeout: Duration,
) -> Result<SwitchDatabase, OvsdbError> {
    match tokio::time::timeout(timeout, start(endpoint)).await {
        Ok(result) => result.map(|(_, _, db)| db),
        Err(_) => Err(OvsdbError::Timeout {
            endpoint: endpoint.to_string(),
            after: timeout,
        }),
    }
}

/// A live view of one server's settings.
#[derive(Debug)]
pub struct VswitchMonitor {
    conn: Connection,
    replica: Replica,
    /// When the last message arrived.
    last_heard: Instant,
    /// Our keepalive `echo` is unanswered.
    echo_pending: bool,
    /// Silence before the keepalive `echo` ([`KEEPALIVE`]).
    keepalive: Duration,
}

impl VswitchMonitor {
    /// Connects and subscribes, within `timeout`; returns the settings as they are now.
    pub async fn start(
        endpoint: &OvsdbEndpoint,
        timeout: Duration,
    ) -> Result<(VswitchMonitor, SwitchDatabase), OvsdbError> {
        let (conn, replica, db) = match tokio::time::timeout(timeout, start(endpoint)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(OvsdbError::Timeout {
                    endpoint: endpoint.to_string(),
                    after: timeout,
                })
            }
        };
        let monitor = VswitchMonitor {
            conn,
            replica,
            last_heard: Instant::now(),
            echo_pending: false,
            keepalive: KEEPALIVE,
        };
        Ok((monitor, db))
    }

    /// Sends the keepalive `echo` after `silence` instead of [`KEEPALIVE`] (and gives up
    /// after twice it).
    pub fn set_keepalive(&mut self, silence: Duration) {
        self.keepalive = silence;
    }

    /// Waits for the next change and returns the settings after it. Cancel-safe (state changes
    /// only after a message was read whole; writes go through the connection's outbox).
    pub async fn next_change(&mut self) -> Result<SwitchDatabase, OvsdbError> {
        loop {
            self.conn.flush().await?;
            let deadline = self.last_heard + self.keepalive;
            let message = tokio::select! {
                m = self.conn.read() => m?,
                () = tokio::time::sleep_until(deadline) => {
                    if self.echo_pending {
                        return Err(OvsdbError::Timeout {
                            endpoint: self.conn.endpoint().to_owned(),
                            after: 2 * self.keepalive,
                        });
                    }
                    self.conn.queue_request("echo", &json!([]));
                    self.echo_pending = true;
                    self.last_heard = Instant::now();
                    continue;
                }
            };
            self.last_heard = Instant::now();
            self.echo_pending = false;
            match message {
                Incoming::Echo { id, params } => self.conn.answer_echo(&id, &params),
                Incoming::Notification { method, params } if method == "update" => {
                    if let Some(db) = self.apply_update(&params)? {
                        return Ok(db);
                    }
                }
                Incoming::Notification { .. } | Incoming::Reply { .. } => {}
            }
        }
    }

    /// `params` of an `update` notification: `[monitor-id, table-updates]`.
    fn apply_update(&mut self, params: &Value) -> Result<Option<SwitchDatabase>, OvsdbError> {
        let Some([id, updates]) = params.as_array().map(Vec::as_slice) else {
            return Err(self
                .conn
                .protocol(format!("an update with params {params}")));
        };
        if id != MONITOR_ID {
            return Ok(None);
        }
        self.replica
            .apply(updates)
            .map_err(|e| self.conn.protocol(e.to_string()))?;
        self.replica
            .database()
            .map(Some)
            .map_err(|e| self.conn.protocol(e.to_string()))
    }
}
