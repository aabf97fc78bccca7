//! N simulated switches (op25b-sim) with distinct dpids, spread over loopback source addresses,
//! and the switch-side test of "this switch is in sync": the newest controller message that is
//! not an echo concludes a sync (a BARRIER_REQUEST after changes, or the FLOW stats request
//! when nothing needed sending), it came after the scenario began, and the table then holds
//! exactly the expected flows.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use op25b_proto::{Message, MultipartRequestBody, OfpMessage};
use op25b_sim::{CanonicalFlow, FlowTable, SimSwitch, SimSwitchConfig, SwitchTls};
use tokio::task::JoinSet;

/// Connections per loopback source address (each address has ~28k ephemeral ports).
pub const PER_SOURCE_ADDRESS: usize = 200;
/// Received messages each switch keeps: enough to see the newest non-echo one.
const RECORD: usize = 4;

/// The source address of switch `i`: 127.1.0.1, 127.1.1.1, ... one per 200 switches.
#[allow(
    clippy::cast_possible_truncation,
    reason = "a % 250 < 250; a / 250 < 255 for fewer than 12.75M switches, far beyond what the \
              open-files limit lets one process connect"
)]
pub fn source_ip(i: usize) -> IpAddr {
    let a = i / PER_SOURCE_ADDRESS;
    IpAddr::from([127, 1 + (a / 250) as u8, (a % 250) as u8, 1])
}

/// Whether a message is keepalive traffic (ignored when judging a sync).
fn is_echo(m: &OfpMessage) -> bool {
    matches!(m.body, Message::EchoRequest(_) | Message::EchoReply(_))
}

/// Whether `m` ends a sync as the controller runs it.
fn concludes(m: &OfpMessage) -> bool {
    match &m.body {
        Message::BarrierRequest => true,
        Message::MultipartRequest(r) => matches!(r.body, MultipartRequestBody::Flow(_)),
        _ => false,
    }
}

/// `recent`: the newest received messages, oldest first; `total`: messages received ever;
/// `mark`: `total` when the scenario began. True when the newest non-echo message concludes a
/// sync and arrived after the mark.
pub fn sync_concluded_since(recent: &[OfpMessage], total: u64, mark: u64) -> bool {
    let Some((back, m)) = recent.iter().rev().enumerate().find(|(_, m)| !is_echo(m)) else {
        return false;
    };
    let index = total.saturating_sub(1 + back as u64);
    index >= mark && total > mark && concludes(m)
}

/// When each switch was first seen in sync (relative to the start), or `None`.
#[derive(Debug, Default)]
pub struct SyncOutcome {
    /// Each switch that got there: its dpid and when.
    pub reached: Vec<(u64, Duration)>,
    /// dpids that did not get there before the timeout.
    pub missing: Vec<u64>,
}

/// Connect results.
#[derive(Debug, Default)]
pub struct ConnectOutcome {
    pub connected: usize,
    /// The first few errors, and how many there were.
    pub errors: Vec<String>,
    pub error_count: usize,
}

/// The switches.
pub struct Fleet {
    pub switches: Vec<SimSwitch>,
}

impl Fleet {
    /// `n` switches, dpids `first_dpid..`, ports `1..=ports`, sending ECHO_REQUEST every
    /// `echo` (like Open vSwitch's inactivity probe) when given; over mutual TLS with `tls`
    /// (with `resume`, each switch with a session store of its own, so that it resumes its own
    /// session; without, `tls` must have resumption disabled, see
    /// [`SwitchTls::without_resumption`]).
    pub fn new(
        n: usize,
        first_dpid: u64,
        ports: u32,
        echo: Option<Duration>,
        tls: Option<&SwitchTls>,
        resume: bool,
    ) -> Self {
        let switches = (0..n)
            .map(|i| {
                let mut cfg = SimSwitchConfig::new(first_dpid + i as u64, ports);
                cfg.record_limit = RECORD;
                cfg.event_limit = 4;
                cfg.local_ip = Some(source_ip(i));
                cfg.echo_interval = echo;
                // One store each; without resumption the settings are shared as they are.
                cfg.tls = tls.map(|t| {
                    if resume {
                        t.with_own_session_store()
                    } else {
                        t.clone()
                    }
                });
                SimSwitch::new(cfg)
            })
            .collect();
        Self { switches }
    }

    pub fn len(&self) -> usize {
        self.switches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.switches.is_empty()
    }

    /// Gives every switch a copy of `table` (as if it kept flows from an earlier life).
    pub fn preload(&self, table: &FlowTable) {
        for sw in &self.switches {
            sw.with_datapath(|dp| *dp.flows_mut() = table.clone());
        }
    }

    /// Every switch's received-message count now (the marks for [`Fleet::spawn_waiters`]).
    pub fn message_marks(&self) -> Vec<u64> {
        self.switches
            .iter()
            .map(|s| s.counters().messages)
            .collect()
    }

    /// FLOW_MODs received by all switches ever.
    pub fn flow_mods(&self) -> u64 {
        self.switches.iter().map(|s| s.counters().flow_mods).sum()
    }

    /// FLOW_MODs answered with an error, all switches.
    pub fn flow_mod_errors(&self) -> u64 {
        self.switches
            .iter()
            .map(|s| s.counters().flow_mod_errors)
            .sum()
    }

    /// TCP connections made by all switches ever.
    pub fn connections(&self) -> u64 {
        self.switches.iter().map(|s| s.counters().connections).sum()
    }

    /// TLS handshakes that resumed a session, all switches ever.
    pub fn tls_resumptions(&self) -> u64 {
        self.switches
            .iter()
            .map(|s| s.counters().tls_resumptions)
            .sum()
    }

    /// Switches with a live connection.
    pub fn connected(&self) -> usize {
        self.switches.iter().filter(|s| s.is_connected()).count()
    }

    /// Switches whose table is exactly `expected`.
    pub fn holding(&self, expected: &[CanonicalFlow]) -> usize {
        self.switches
            .iter()
            .filter(|s| s.with_datapath(|dp| dp.flows().canonical() == expected))
            .count()
    }

    /// Connects every switch at once.
    pub async fn connect_all(&self, controller: SocketAddr) -> ConnectOutcome {
        let mut set = JoinSet::new();
        for sw in &self.switches {
            let sw = sw.clone();
            set.spawn(async move { sw.connect(controller).await });
        }
        let mut out = ConnectOutcome::default();
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(())) => out.connected += 1,
                Ok(Err(e)) => {
                    out.error_count += 1;
                    if out.errors.len() < 5 {
                        out.errors.push(e.to_string());
                    }
                }
                Err(e) => {
                    out.error_count += 1;
                    if out.errors.len() < 5 {
                        out.errors.push(format!("connect task: {e}"));
                    }
                }
            }
        }
        out
    }

    /// Closes every connection (flows stay).
    pub fn disconnect_all(&self) {
        for sw in &self.switches {
            sw.disconnect();
        }
    }

    /// Starts one waiter per switch (before the trigger, so no moment is missed); `marks` from
    /// [`Fleet::message_marks`]. Join the returned set with [`collect`].
    pub fn spawn_waiters(
        &self,
        expected: &Arc<Vec<CanonicalFlow>>,
        marks: &[u64],
        start: Instant,
        timeout: Duration,
    ) -> JoinSet<(u64, Option<Duration>)> {
        let mut set = JoinSet::new();
        for (sw, &mark) in self.switches.iter().zip(marks) {
            let sw = sw.clone();
            let expected = expected.clone();
            set.spawn(async move {
                let r = wait_one(&sw, &expected, mark, start, timeout).await;
                (sw.dpid(), r)
            });
        }
        set
    }
}

/// Joins the waiters of [`Fleet::spawn_waiters`].
pub async fn collect(mut set: JoinSet<(u64, Option<Duration>)>) -> SyncOutcome {
    let mut out = SyncOutcome::default();
    while let Some(r) = set.join_next().await {
        match r {
            Ok((dpid, Some(t))) => out.reached.push((dpid, t)),
            Ok((dpid, None)) => out.missing.push(dpid),
            Err(_) => out.missing.push(0),
        }
    }
    out.missing.sort_unstable();
    out
}

async fn wait_one(
    sw: &SimSwitch,
    expected: &[CanonicalFlow],
    mark: u64,
    start: Instant,
    timeout: Duration,
) -> Option<Duration> {
    let deadline = start + timeout;
    let mut seen = mark;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        sw.wait_until(left, "a new message", |v| v.counters().messages != seen)
            .await
            .ok()?;
        let total = sw.counters().messages;
        seen = total;
        if sync_concluded_since(&sw.received(), total, mark)
            && sw.with_datapath(|dp| dp.flows().canonical() == expected)
        {
            return Some(start.elapsed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use op25b_proto::{FlowStatsRequest, Match, MultipartRequest};

    fn msg(body: Message) -> OfpMessage {
        OfpMessage::new(1, body)
    }

    fn flow_stats() -> OfpMessage {
        msg(Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Flow(FlowStatsRequest {
                table_id: 0xff,
                out_port: 0xffff_ffff,
                out_group: 0xffff_ffff,
                cookie: 0,
                cookie_mask: 0,
                match_: Match::all(),
            }),
        }))
    }

    #[test]
    fn barrier_or_flow_read_after_the_mark_concludes() {
        let echo = msg(Message::EchoRequest(Default::default()));
        let barrier = msg(Message::BarrierRequest);
        // newest non-echo is the barrier, index 8 (total 10, one echo after it), mark 5
        assert!(sync_concluded_since(
            &[barrier.clone(), echo.clone()],
            10,
            5
        ));
        // the same barrier from before the mark (index 8 < mark 9)
        assert!(!sync_concluded_since(
            &[barrier.clone(), echo.clone()],
            10,
            9
        ));
        assert!(sync_concluded_since(
            &[barrier.clone(), flow_stats()],
            12,
            11
        ));
        assert!(!sync_concluded_since(
            &[flow_stats(), msg(Message::FeaturesRequest)],
            12,
            0
        ));
        assert!(!sync_concluded_since(&[echo.clone(), echo], 12, 0));
        assert!(!sync_concluded_since(&[], 12, 0));
        // nothing new since the mark
        assert!(!sync_concluded_since(&[barrier], 5, 5));
    }

    #[test]
    fn source_addresses_spread_and_stay_in_loopback() {
        assert_eq!(source_ip(0), IpAddr::from([127, 1, 0, 1]));
        assert_eq!(source_ip(199), IpAddr::from([127, 1, 0, 1]));
        assert_eq!(source_ip(200), IpAddr::from([127, 1, 1, 1]));
        let last = source_ip(49_999);
        assert!(last.is_loopback());
        let distinct: std::collections::HashSet<_> = (0..50_000).map(source_ip).collect();
        assert_eq!(distinct.len(), 250);
    }
}
