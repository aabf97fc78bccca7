//! The per-switch state machine, sans I/O: messages and clock ticks in, messages to send and
//! events out. The tokio task in `connection` only moves bytes and runs the timer.
//!
//! Phases: `AwaitHello -> AwaitFeatures -> AwaitPortDesc -> Syncing -> InSync`, with
//! `RetryWait` after a failed sync and `Closed` at the end. Every change goes through
//! [`SwitchSession::set_phase`], which logs it. The FEATURES and PORT_DESC requests leave
//! together once the HELLOs agreed (neither depends on the other's reply), so a connect costs one
//! round trip for both; the handshake completes when both replies are in, in either order.
//!
//! A sync (kube-rs style, level-triggered): when reporting wants meters, read the switch's meter
//! config (METER_CONFIG) and send only what differs: ADD for a missing meter, MODIFY for a
//! changed one, nothing for an identical one (so a controller restart costs no METER_EXISTS
//! error). The first sync of a generation and every audit read them (the audit verifies and
//! repairs the meter); a switch that cannot answer METER_CONFIG gets ADDs (MODIFY when it says
//! the meter exists); a switch that rejects meters gets flows without them and a WARNING. Then
//! read our flows (FLOW multipart with cookie mask, REPLY_MORE reassembled; when the meters
//! are read, the FLOW stats request leaves right behind the METER_CONFIG request, since meter
//! mods never change flows, so the two reads cost one round trip), ask the
//! policy for a plan, send its batches each followed by a BARRIER, and count the switch in sync only
//! after the last barrier reply with no ERROR in between. An ERROR for any request of the run fails
//! it: logged with type, code and the request, retried after an exponential back-off. Never two
//! syncs at once: a trigger during a sync marks the session dirty and the sync re-runs after.
//!
//! Counter poll: between syncs, every `counters_interval` the session reads our flows again (the
//! same cookie-filtered FLOW stats request, its own xid) only to observe the blocking flows'
//! packet and byte counters. It never starts a sync, is skipped while one runs (the sync reads
//! the flows itself), and an ERROR or a missing reply only drops that one poll.

use super::backoff::Backoff;
use super::output::{CloseReason, Output, SessionEvent, SessionOutput};
use super::phase::Phase;
use super::sent_log::{SentLog, SENT_LOG_CAPACITY};
use super::session_policy::{SessionPolicy, SyncPlan};
use super::sync_reason::SyncReason;
use super::wire::{Inbound, Outbound};
use crate::flows::SwitchView;
use crate::policy::{Dpid, PortNo};
use op25b_proto::consts::{OFPC_FRAG_MASK, OFPPR_DELETE, OFPP_MAX};
use op25b_proto::error_codes::{ErrorType, MeterModFailedCode};
use op25b_proto::AssemblyError;
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::{debug, error, info, warn};

/// Most flow entries with our cookie accepted in one FLOW stats reply: op25b's flow set is tens
/// of flows, so a switch reporting more is broken or hostile.
pub const MAX_FLOW_ENTRIES: usize = 100_000;
/// Most meters a METER_CONFIG reply may list before the sync gives up (OVS allows 200,000).
const MAX_METER_ENTRIES: usize = 262_144;
/// Most ports accepted in one PORT_DESC reply.
pub const MAX_PORTS: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MeterStatus {
    Unknown,
    Installed { generation: u64 },
    Rejected { generation: u64 },
}

#[derive(Debug)]
enum SyncStep<M> {
    /// METER_CONFIG request sent.
    ReadMeters {
        xid: u32,
    },
    /// METER_MODs (ADDs, or what the meter read asked for) sent, then a barrier.
    MeterAdd {
        barrier: u32,
        adds: Vec<(u32, M)>,
        exists: Vec<M>,
        rejected: Option<String>,
    },
    /// METER_MOD MODIFYs for meters that existed, then a barrier.
    MeterModify {
        barrier: u32,
        rejected: Option<String>,
    },
    ReadFlows {
        xid: u32,
    },
    Apply {
        barrier: u32,
        rest: VecDeque<Vec<M>>,
        summary: PlanSummary,
    },
}

/// What a batch sent with a barrier holds, for [`SessionEvent::Sent`].
#[derive(Debug, Clone, Copy)]
enum ModKind {
    Flow,
    Meter,
}

/// `entries`, or why a whole reply listing them is refused: more than `max` of them.
fn within<T>(entries: Vec<T>, max: usize) -> Result<Vec<T>, usize> {
    if entries.len() > max {
        Err(entries.len())
    } else {
        Ok(entries)
    }
}

fn too_many_flows(n: usize) -> String {
    format!("switch reported {n} flows with our cookie, more than {MAX_FLOW_ENTRIES}")
}

#[derive(Debug, Clone, Copy)]
struct PlanSummary {
    added: usize,
    removed: usize,
    modified: usize,
    desired: usize,
    before: usize,
}

#[derive(Debug)]
struct SyncRun<M, F> {
    reason: SyncReason,
    started: Instant,
    generation: u64,
    /// Every xid sent by this run: an ERROR for any of them fails it.
    xids: HashSet<u32>,
    step: SyncStep<M>,
    step_deadline: Instant,
    /// Our flows, read ahead while the meters are being read and fixed.
    prefetch: Option<FlowPrefetch<F>>,
}

/// A FLOW stats request sent right behind the METER_CONFIG request, and its reply once in.
#[derive(Debug)]
struct FlowPrefetch<F> {
    xid: u32,
    entries: Option<Vec<F>>,
}

/// One line naming a message we sent, for the logs of an ERROR about it.
fn describe<P: SessionPolicy + ?Sized>(policy: &P, msg: &Outbound<P::Msg>) -> String {
    match msg {
        Outbound::Policy(m) => policy.describe(m),
        Outbound::SetConfig {
            flags,
            miss_send_len,
        } => format!("SET_CONFIG flags={flags:#x} miss_send_len={miss_send_len}"),
        other => other.kind().to_owned(),
    }
}

/// A counter poll waiting for its FLOW stats reply.
#[derive(Debug)]
struct CounterPoll {
    xid: u32,
    deadline: Instant,
}

/// One switch connection's protocol state.
#[derive(Debug)]
pub struct SwitchSession<P: SessionPolicy + ?Sized, PI> {
    peer: SocketAddr,
    policy: Arc<P>,
    phase: Phase,
    dpid: Option<u64>,
    ports: BTreeSet<u32>,
    /// The whole PORT_DESC reply is in (it may come before the FEATURES_REPLY).
    ports_done: bool,
    features_xid: Option<u32>,
    port_desc_xid: Option<u32>,
    sent: SentLog<Outbound<P::Msg>>,
    started: Instant,
    last_rx: Instant,
    last_echo_sent: Instant,
    next_audit: Option<Instant>,
    /// When the next counter poll is due (set once the handshake is done).
    next_counters: Option<Instant>,
    counter_poll: Option<CounterPoll>,
    backoff: Backoff,
    dirty: Option<SyncReason>,
    run: Option<SyncRun<P::Msg, P::FlowEntry>>,
    meters: MeterStatus,
    /// The SET_CONFIG values last sent on this connection.
    sent_config: Option<(u16, u16)>,
    /// The xid of an audit's GET_CONFIG_REQUEST waiting for its reply.
    config_check: Option<u32>,
    out: Vec<SessionOutput<P, PI>>,
}

impl<P: SessionPolicy + ?Sized, PI> SwitchSession<P, PI> {
    /// A new connection from `peer`; `first_xid` seeds this connection's xids.
    pub fn new(peer: SocketAddr, policy: Arc<P>, first_xid: u32, now: Instant) -> Self {
        let t = policy.timers();
        Self {
            peer,
            policy,
            phase: Phase::AwaitHello,
            dpid: None,
            ports: BTreeSet::new(),
            ports_done: false,
            features_xid: None,
            port_desc_xid: None,
            sent: SentLog::new(first_xid, SENT_LOG_CAPACITY),
            started: now,
            last_rx: now,
            last_echo_sent: now,
            next_audit: None,
            next_counters: None,
            counter_poll: None,
            backoff: Backoff::new(t.retry_base, t.retry_cap),
            dirty: None,
            run: None,
            meters: MeterStatus::Unknown,
            sent_config: None,
            config_check: None,
            out: Vec::new(),
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn dpid(&self) -> Option<u64> {
        self.dpid
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The switch as it described itself (dpid 0 before FEATURES_REPLY), meters supported.
    pub fn view(&self) -> SwitchView {
        SwitchView::new(
            Dpid(self.dpid.unwrap_or(0)),
            self.ports.iter().map(|p| PortNo(*p)),
        )
    }

    /// The opening move: our HELLO. Sent on the urgent path: it must precede anything else,
    /// including an urgent HELLO_FAILED error.
    pub fn start(&mut self) -> Vec<SessionOutput<P, PI>> {
        let xid = self.sent.next_xid();
        self.sent.record(xid, Outbound::Hello);
        self.out.push(Output::SendUrgent {
            xid,
            msg: Outbound::Hello,
        });
        self.take()
    }

    /// A message from the switch.
    pub fn on_message(
        &mut self,
        xid: u32,
        msg: Inbound<P::FlowEntry, PI>,
        now: Instant,
    ) -> Vec<SessionOutput<P, PI>> {
        if self.phase == Phase::Closed {
            return Vec::new();
        }
        self.last_rx = now;
        match msg {
            Inbound::Hello {
                version,
                supports_13,
            } => self.on_hello(version, supports_13),
            Inbound::EchoRequest { data } => {
                self.out.push(Output::SendUrgent {
                    xid,
                    msg: Outbound::EchoReply { data },
                });
            }
            Inbound::EchoReply | Inbound::ReplyPart => {}
            Inbound::Error {
                err_type,
                code,
                names,
            } => self.on_error(xid, err_type, code, names, now),
            _ if self.phase == Phase::AwaitHello => {
                self.close(CloseReason::ProtocolViolation(
                    "first message from the switch was not HELLO".into(),
                ));
            }
            Inbound::FeaturesReply { dpid } => self.on_features(xid, dpid, now),
            Inbound::PortDesc { ports } => self.on_port_desc(xid, ports, now),
            Inbound::FlowStats { entries } => self.on_flow_stats(xid, entries, now),
            Inbound::MeterConfig { entries } => self.on_meter_config(xid, entries, now),
            Inbound::ReplyRefused(error) => self.on_reply_refused(xid, error, now),
            Inbound::BarrierReply => self.on_barrier(xid, now),
            Inbound::GetConfigReply { flags, .. } => self.on_config_reply(xid, flags),
            Inbound::PacketIn { cookie, packet_in } => {
                if cookie == self.policy.cookie() {
                    self.out.push(Output::PacketIn(packet_in));
                } else {
                    debug!(
                        cookie = format_args!("{cookie:#x}"),
                        "packet-in from a foreign flow ignored"
                    );
                }
            }
            Inbound::FlowRemoved { cookie } => {
                if cookie == self.policy.cookie() {
                    info!("one of our flows was removed; re-syncing");
                    self.request_sync(SyncReason::FlowRemoved, now);
                }
            }
            Inbound::PortStatus { reason, port_no } => self.on_port_status(reason, port_no, now),
            Inbound::Other { msg_type } => {
                debug!(msg_type, xid, "ignored message");
            }
        }
        self.take()
    }

    /// The clock: timeouts, our echoes, retries, audits.
    pub fn on_tick(&mut self, now: Instant) -> Vec<SessionOutput<P, PI>> {
        if self.phase == Phase::Closed {
            return Vec::new();
        }
        let t = self.policy.timers();
        let silent = now.saturating_duration_since(self.last_rx);
        if self.phase.is_handshake()
            && now.saturating_duration_since(self.started) >= t.handshake_timeout
        {
            let phase = self.phase.name();
            self.close(CloseReason::HandshakeTimeout {
                waited: now.saturating_duration_since(self.started),
                phase,
            });
            return self.take();
        }
        if silent >= t.echo_timeout {
            self.close(CloseReason::Silent { silent });
            return self.take();
        }
        // Probe only after echo_interval of silence: any message from the switch (its own
        // ECHO_REQUEST included) proves it alive, so a chatty switch is never probed.
        if !self.phase.is_handshake()
            && now.saturating_duration_since(self.probe_from()) >= t.echo_interval
        {
            self.last_echo_sent = now;
            let xid = self.sent.next_xid();
            self.out.push(Output::SendUrgent {
                xid,
                msg: Outbound::EchoRequest,
            });
        }
        match self.phase {
            Phase::RetryWait { until } if now >= until => {
                let reason = self.dirty.take().unwrap_or(SyncReason::Retry);
                self.start_sync(reason, now);
            }
            Phase::InSync if self.next_audit.is_some_and(|a| now >= a) => {
                self.check_switch_config();
                self.start_sync(SyncReason::Audit, now);
            }
            Phase::Syncing => {
                if let Some(run) = &self.run {
                    if now >= run.step_deadline {
                        let what = match run.step {
                            SyncStep::MeterAdd { .. } | SyncStep::MeterModify { .. } => {
                                "the meter barrier"
                            }
                            SyncStep::ReadMeters { .. } => "the METER_CONFIG request",
                            SyncStep::ReadFlows { .. } => "the FLOW stats request",
                            SyncStep::Apply { .. } => "a batch barrier",
                        };
                        self.fail_sync(
                            format!("no reply to {what} within {:?}", t.echo_timeout),
                            now,
                        );
                    }
                }
            }
            _ => {}
        }
        // After the sync triggers: an audit that just started reads the counters itself.
        self.poll_counters(now);
        self.take()
    }

    /// The later of the switch's last message and our last probe: the next probe is due
    /// echo_interval after it.
    fn probe_from(&self) -> Instant {
        self.last_rx.max(self.last_echo_sent)
    }

    /// When `on_tick` next has something to do.
    pub fn next_deadline(&self) -> Instant {
        let t = self.policy.timers();
        let mut d = self.last_rx + t.echo_timeout;
        if self.phase.is_handshake() {
            d = d.min(self.started + t.handshake_timeout);
        } else {
            d = d.min(self.probe_from() + t.echo_interval);
        }
        if let Some(poll) = &self.counter_poll {
            d = d.min(poll.deadline);
        } else if let Some(c) = self.next_counters {
            d = d.min(c);
        }
        match self.phase {
            Phase::RetryWait { until } => d = d.min(until),
            Phase::InSync => {
                if let Some(a) = self.next_audit {
                    d = d.min(a);
                }
            }
            Phase::Syncing => {
                if let Some(run) = &self.run {
                    d = d.min(run.step_deadline);
                }
            }
            _ => {}
        }
        d
    }

    /// A new policy is in force: re-sync (hitlessly) if the handshake is done.
    pub fn on_policy(&mut self, policy: Arc<P>, now: Instant) -> Vec<SessionOutput<P, PI>> {
        let t = policy.timers();
        self.backoff = Backoff::new(t.retry_base, t.retry_cap);
        self.policy = policy;
        // A shorter counter interval applies from now, not after the old one ran out.
        if let Some(c) = self.next_counters {
            self.next_counters = Some(c.min(now + t.counters_interval));
        }
        if !self.phase.is_handshake() && self.phase != Phase::Closed {
            // A new fragment mode goes out before the flows that rely on it.
            if self.sent_config != Some(self.policy.switch_config()) {
                self.send_switch_config();
            }
            self.request_sync(SyncReason::PolicyChange, now);
        }
        self.take()
    }

    /// An audit also reads the switch configuration back: someone may have changed the
    /// fragment mode (e.g. `ovs-ofctl set-frags`) behind our back.
    fn check_switch_config(&mut self) {
        let xid = self.send(Outbound::GetConfigRequest);
        self.config_check = Some(xid);
    }

    fn on_config_reply(&mut self, xid: u32, flags: u16) {
        if self.config_check != Some(xid) {
            debug!(xid, "GET_CONFIG_REPLY for another request ignored");
            return;
        }
        self.config_check = None;
        let (want, _) = self.policy.switch_config();
        if flags & OFPC_FRAG_MASK != want & OFPC_FRAG_MASK {
            warn!(
                found = format_args!("{:#x}", flags & OFPC_FRAG_MASK),
                want = format_args!("{:#x}", want & OFPC_FRAG_MASK),
                "audit found the switch's fragment mode changed; re-sending SET_CONFIG"
            );
            self.send_switch_config();
        }
    }

    fn send_switch_config(&mut self) {
        let (flags, miss_send_len) = self.policy.switch_config();
        self.sent_config = Some((flags, miss_send_len));
        self.send(Outbound::SetConfig {
            flags,
            miss_send_len,
        });
    }

    /// The connection refuses to go on (takeover, refused claim, shutdown, I/O error).
    pub fn mark_closed(&mut self, why: &str) {
        if self.phase != Phase::Closed {
            self.set_phase(Phase::Closed, why);
        }
        self.run = None;
    }

    // ----- handshake -----

    fn on_hello(&mut self, version: u8, supports_13: bool) {
        if self.phase != Phase::AwaitHello {
            debug!(version, "extra HELLO ignored");
            return;
        }
        if !supports_13 {
            let text =
                format!("op25b speaks OpenFlow 1.3 (0x04) only; switch offered 0x{version:02x}");
            let xid = self.sent.next_xid();
            self.out.push(Output::SendUrgent {
                xid,
                msg: Outbound::HelloIncompatible {
                    peer_version: version,
                    text,
                },
            });
            self.close(CloseReason::Incompatible { version });
            return;
        }
        let xid = self.send(Outbound::FeaturesRequest);
        self.features_xid = Some(xid);
        let xid = self.send(Outbound::PortDescRequest);
        self.port_desc_xid = Some(xid);
        self.set_phase(Phase::AwaitFeatures, "HELLO agreed on OpenFlow 1.3");
    }

    fn on_features(&mut self, xid: u32, dpid: u64, now: Instant) {
        if self.phase != Phase::AwaitFeatures || self.features_xid != Some(xid) {
            debug!(xid, "unexpected FEATURES_REPLY ignored");
            return;
        }
        self.dpid = Some(dpid);
        self.out
            .push(Output::Event(SessionEvent::DpidLearned { dpid }));
        self.set_phase(Phase::AwaitPortDesc, "FEATURES_REPLY gave the dpid");
        if self.ports_done {
            self.complete_handshake(now);
        }
    }

    fn on_port_desc(&mut self, xid: u32, ports: Vec<u32>, now: Instant) {
        let awaiting = matches!(self.phase, Phase::AwaitFeatures | Phase::AwaitPortDesc);
        if !awaiting || self.ports_done || self.port_desc_xid != Some(xid) {
            debug!(xid, "unexpected PORT_DESC reply ignored");
            return;
        }
        let ports: Vec<u32> = ports
            .into_iter()
            .filter(|p| *p != 0 && *p <= OFPP_MAX)
            .collect();
        if ports.len() > MAX_PORTS {
            self.close(CloseReason::ProtocolViolation(format!(
                "PORT_DESC reported more than {MAX_PORTS} ports"
            )));
            return;
        }
        self.ports = ports.into_iter().collect();
        self.ports_done = true;
        if self.phase == Phase::AwaitPortDesc {
            self.complete_handshake(now);
        }
    }

    /// Both the dpid and the ports are known: configure the switch and start the first sync.
    fn complete_handshake(&mut self, now: Instant) {
        self.send_switch_config();
        info!(ports = self.ports.len(), "handshake complete");
        self.next_counters = Some(now + self.policy.timers().counters_interval);
        self.start_sync(SyncReason::Connect, now);
    }

    fn on_port_status(&mut self, reason: u8, port_no: u32, now: Instant) {
        if port_no == 0 || port_no > OFPP_MAX {
            return;
        }
        let changed = if reason == OFPPR_DELETE {
            self.ports.remove(&port_no)
        } else {
            self.ports.insert(port_no)
        };
        if changed && !self.phase.is_handshake() {
            info!(port_no, reason, "port set changed; re-syncing");
            self.request_sync(SyncReason::PortStatus, now);
        }
    }

    // ----- errors -----

    fn on_error(&mut self, xid: u32, err_type: u16, code: u16, names: String, now: Instant) {
        let request = self
            .sent
            .find(xid)
            .map(|m| describe(self.policy.as_ref(), m))
            .unwrap_or_else(|| "<not among recently sent messages>".to_string());
        warn!(xid, err_type, code, error = %names, %request, "switch answered with ERROR");
        self.out.push(Output::Event(SessionEvent::SwitchError {
            names: names.clone(),
        }));
        if self.counter_poll.as_ref().is_some_and(|p| p.xid == xid) {
            self.counter_poll = None;
            warn!(error = %names, "switch rejected the counter poll; the next poll retries");
            return;
        }
        if err_type == ErrorType::HelloFailed as u16 {
            self.close(CloseReason::HelloFailed { names });
            return;
        }
        if self.phase.is_handshake()
            && (self.features_xid == Some(xid) || self.port_desc_xid == Some(xid))
        {
            self.close(CloseReason::HandshakeRejected { names, request });
            return;
        }
        let Some(run) = self.run.as_mut() else {
            return;
        };
        if !run.xids.contains(&xid) {
            return;
        }
        if matches!(run.step, SyncStep::ReadMeters { .. }) {
            // A switch that cannot list its meters: install them blind (ADD, MODIFY on EXISTS).
            debug!(error = %names, "METER_CONFIG rejected; sending the meter ADDs");
            let adds = self.policy.meter_adds(&self.view());
            self.send_meter_mods(adds, now);
            return;
        }
        match &mut run.step {
            SyncStep::ReadMeters { .. } => {}
            SyncStep::MeterAdd {
                adds,
                exists,
                rejected,
                ..
            } => {
                if err_type == ErrorType::MeterModFailed as u16
                    && code == MeterModFailedCode::MeterExists as u16
                {
                    if let Some(pos) = adds.iter().position(|(x, _)| *x == xid) {
                        let (_, add) = adds.swap_remove(pos);
                        exists.push(add);
                        return;
                    }
                }
                rejected.get_or_insert(format!("{names} for {request}"));
            }
            SyncStep::MeterModify { rejected, .. } => {
                rejected.get_or_insert(format!("{names} for {request}"));
            }
            SyncStep::ReadFlows { .. } | SyncStep::Apply { .. } => {
                self.fail_sync(format!("switch rejected {request}: {names}"), now);
            }
        }
    }

    // ----- counter poll -----

    /// Sends a counter poll when one is due, drops one that went unanswered.
    fn poll_counters(&mut self, now: Instant) {
        if self.phase.is_handshake() || self.phase == Phase::Closed {
            return;
        }
        let t = self.policy.timers();
        if let Some(poll) = &self.counter_poll {
            if now < poll.deadline {
                return;
            }
            warn!(
                xid = poll.xid,
                waited = ?t.echo_timeout,
                "no complete reply to the counter poll; dropped, the next poll retries"
            );
            self.counter_poll = None;
        }
        let Some(due) = self.next_counters else {
            return;
        };
        if now < due {
            return;
        }
        self.next_counters = Some(now + t.counters_interval);
        if self.phase == Phase::Syncing {
            // The running sync reads the flows (and their counters) itself.
            return;
        }
        let xid = self.send(Outbound::Policy(self.policy.flows_request()));
        self.counter_poll = Some(CounterPoll {
            xid,
            deadline: now + t.echo_timeout,
        });
    }

    // ----- sync -----

    fn request_sync(&mut self, reason: SyncReason, now: Instant) {
        match self.phase {
            Phase::Syncing => {
                debug!(reason = reason.name(), "sync running; marked dirty");
                // A policy change outranks other reasons in the log of the re-run.
                if self.dirty != Some(SyncReason::PolicyChange) {
                    self.dirty = Some(reason);
                }
            }
            Phase::InSync => self.start_sync(reason, now),
            Phase::RetryWait { .. } => {
                if reason == SyncReason::PolicyChange {
                    self.start_sync(reason, now);
                } else {
                    self.dirty = Some(reason);
                }
            }
            _ => {}
        }
    }

    fn start_sync(&mut self, reason: SyncReason, now: Instant) {
        let view = self.view();
        let generation = self.policy.generation();
        let deadline = now + self.policy.timers().echo_timeout;
        let adds = self.policy.meter_adds(&view);
        let meters_current = match self.meters {
            MeterStatus::Installed { generation: g } | MeterStatus::Rejected { generation: g } => {
                g == generation
            }
            MeterStatus::Unknown => false,
        };
        // An audit re-reads installed meters to verify (and repair) them.
        let verify =
            reason == SyncReason::Audit && matches!(self.meters, MeterStatus::Installed { .. });
        self.run = Some(SyncRun {
            reason,
            started: now,
            generation,
            xids: HashSet::new(),
            step: SyncStep::ReadFlows { xid: 0 },
            step_deadline: deadline,
            prefetch: None,
        });
        if !adds.is_empty() && (!meters_current || verify) {
            let xid = self.send(Outbound::Policy(self.policy.meters_request()));
            let flows_xid = self.send(Outbound::Policy(self.policy.flows_request()));
            if let Some(run) = self.run.as_mut() {
                run.xids.extend([xid, flows_xid]);
                run.step = SyncStep::ReadMeters { xid };
                run.prefetch = Some(FlowPrefetch {
                    xid: flows_xid,
                    entries: None,
                });
            }
        } else {
            if adds.is_empty() && self.meters != MeterStatus::Unknown {
                self.meters = MeterStatus::Unknown;
                self.out
                    .push(Output::Event(SessionEvent::MetersInUse(false)));
            }
            self.read_flows(now);
        }
        self.set_phase(Phase::Syncing, reason.name());
    }

    /// Sends `mods` (METER_MOD ADDs or MODIFYs) and a barrier; an ADD answered with
    /// METER_EXISTS is modified after the barrier.
    fn send_meter_mods(&mut self, mods: Vec<P::Msg>, now: Instant) {
        let (xids, barrier) = self.send_with_barrier(mods.clone(), ModKind::Meter);
        let sent = xids.iter().copied().zip(mods).collect();
        self.enter_step(
            SyncStep::MeterAdd {
                barrier,
                adds: sent,
                exists: Vec::new(),
                rejected: None,
            },
            xids.into_iter().chain([barrier]),
            now,
        );
    }

    /// Sends `mods` and then a barrier, and reports them as [`SessionEvent::Sent`]; returns
    /// the xids of `mods` (in order) and the barrier's.
    fn send_with_barrier(&mut self, mods: Vec<P::Msg>, kind: ModKind) -> (Vec<u32>, u32) {
        let n = mods.len();
        let xids: Vec<u32> = mods
            .into_iter()
            .map(|m| self.send(Outbound::Policy(m)))
            .collect();
        let barrier = self.send(Outbound::BarrierRequest);
        let (flow_mods, meter_mods) = match kind {
            ModKind::Flow => (n, 0),
            ModKind::Meter => (0, n),
        };
        self.out.push(Output::Event(SessionEvent::Sent {
            flow_mods,
            meter_mods,
        }));
        (xids, barrier)
    }

    /// Moves the running sync (if any) to `step`, awaiting the replies to `xids`, due one
    /// echo timeout from `now`.
    fn enter_step(
        &mut self,
        step: SyncStep<P::Msg>,
        xids: impl IntoIterator<Item = u32>,
        now: Instant,
    ) {
        let deadline = now + self.policy.timers().echo_timeout;
        if let Some(run) = self.run.as_mut() {
            run.xids.extend(xids);
            run.step = step;
            run.step_deadline = deadline;
        }
    }

    fn on_meter_config(&mut self, xid: u32, entries: Vec<op25b_proto::MeterConfig>, now: Instant) {
        let Some(run) = self.run.as_mut() else {
            debug!(xid, "METER_CONFIG reply outside a sync ignored");
            return;
        };
        let generation = run.generation;
        match run.step {
            SyncStep::ReadMeters { xid: want } if want == xid => {}
            SyncStep::ReadMeters { .. } => {
                debug!(xid, "METER_CONFIG reply for another request ignored");
                return;
            }
            _ => {
                debug!(xid, "METER_CONFIG reply out of step ignored");
                return;
            }
        }
        let actual = match within(entries, MAX_METER_ENTRIES) {
            Ok(actual) => actual,
            Err(n) => {
                self.fail_sync(
                    format!("switch reported {n} meters, more than {MAX_METER_ENTRIES}"),
                    now,
                );
                return;
            }
        };
        let mods = self.policy.meter_plan(&self.view(), &actual);
        if mods.is_empty() {
            debug!(meters = actual.len(), "meters on the switch as desired");
            self.meters_installed(generation, now);
        } else {
            self.send_meter_mods(mods, now);
        }
    }

    /// The meters are done: plan from the flows read ahead, await that read, or read the flows
    /// now.
    fn read_flows(&mut self, now: Instant) {
        match self.run.as_mut().and_then(|r| r.prefetch.take()) {
            Some(FlowPrefetch {
                entries: Some(entries),
                ..
            }) => self.plan_from_flows(entries, now),
            Some(FlowPrefetch { xid, entries: None }) => {
                self.enter_step(SyncStep::ReadFlows { xid }, [], now)
            }
            None => {
                let xid = self.send(Outbound::Policy(self.policy.flows_request()));
                self.enter_step(SyncStep::ReadFlows { xid }, [xid], now);
            }
        }
    }

    fn on_flow_stats(&mut self, xid: u32, entries: Vec<P::FlowEntry>, now: Instant) {
        if self.counter_poll.as_ref().is_some_and(|p| p.xid == xid) {
            self.counter_poll = None;
            match within(entries, MAX_FLOW_ENTRIES) {
                Ok(entries) => {
                    debug!(entries = entries.len(), "counter poll read our flows");
                    self.out.push(Output::FlowsRead(entries));
                }
                Err(_) => warn!(
                    "switch reported more than {MAX_FLOW_ENTRIES} flows with our cookie to a counter poll; poll dropped"
                ),
            }
            return;
        }
        let Some(run) = self.run.as_mut() else {
            debug!(xid, "FLOW stats reply outside a sync ignored");
            return;
        };
        if let Some(prefetch) = run
            .prefetch
            .as_mut()
            .filter(|p| p.xid == xid && p.entries.is_none())
        {
            match within(entries, MAX_FLOW_ENTRIES) {
                Ok(entries) => prefetch.entries = Some(entries),
                Err(n) => self.fail_sync(too_many_flows(n), now),
            }
            return;
        }
        match run.step {
            SyncStep::ReadFlows { xid: want } if want == xid => {}
            SyncStep::ReadFlows { .. } => {
                debug!(xid, "FLOW stats reply for another request ignored");
                return;
            }
            _ => {
                debug!(xid, "FLOW stats reply out of step ignored");
                return;
            }
        }
        match within(entries, MAX_FLOW_ENTRIES) {
            Ok(actual) => self.plan_from_flows(actual, now),
            Err(n) => self.fail_sync(too_many_flows(n), now),
        }
    }

    /// A multipart reply the codec bridge could not join (see [`Inbound::ReplyRefused`]): the
    /// read it answers gets nothing, as if the switch had sent too many entries.
    fn on_reply_refused(&mut self, xid: u32, error: AssemblyError, now: Instant) {
        if self.counter_poll.as_ref().is_some_and(|p| p.xid == xid) {
            self.counter_poll = None;
            warn!(%error, "counter poll reply refused; poll dropped");
            return;
        }
        if self.phase.is_handshake() && !self.ports_done && self.port_desc_xid == Some(xid) {
            self.close(CloseReason::ProtocolViolation(format!(
                "PORT_DESC reply refused: {error}"
            )));
            return;
        }
        let reads = self.run.as_ref().is_some_and(|run| {
            let prefetch = run
                .prefetch
                .as_ref()
                .is_some_and(|p| p.xid == xid && p.entries.is_none());
            let step = matches!(
                run.step,
                SyncStep::ReadMeters { xid: x } | SyncStep::ReadFlows { xid: x } if x == xid
            );
            prefetch || step
        });
        if reads {
            self.fail_sync(format!("reply refused: {error}"), now);
        } else {
            debug!(xid, %error, "refused reply to no awaited read ignored");
        }
    }

    /// Our flows as the switch reported them: plan the changes and send the first batch (or
    /// complete the sync when nothing differs).
    fn plan_from_flows(&mut self, actual: Vec<P::FlowEntry>, now: Instant) {
        debug!(entries = actual.len(), "read our flows");
        tracing::trace!(?actual, "flows on the switch");
        let mut view = self.view();
        view.meters_supported = matches!(self.meters, MeterStatus::Installed { .. });
        let SyncPlan {
            batches,
            desired_flows,
            added,
            removed,
            modified,
            desired,
        } = self.policy.plan(&view, &actual);
        self.out.push(Output::Planned(desired_flows));
        let before = actual.len();
        self.out.push(Output::FlowsRead(actual));
        // This read refreshed the counters: the next poll is an interval from now.
        if self.next_counters.is_some() {
            self.next_counters = Some(now + self.policy.timers().counters_interval);
        }
        let summary = PlanSummary {
            added,
            removed,
            modified,
            desired,
            before,
        };
        // Nothing differs: the batches are all empty and the sync completes right away.
        let rest: VecDeque<Vec<P::Msg>> = batches.into_iter().filter(|b| !b.is_empty()).collect();
        self.send_next_batch(rest, summary, now);
    }

    fn send_next_batch(
        &mut self,
        mut rest: VecDeque<Vec<P::Msg>>,
        summary: PlanSummary,
        now: Instant,
    ) {
        let Some(batch) = rest.pop_front() else {
            self.complete_sync(summary, now);
            return;
        };
        let (xids, barrier) = self.send_with_barrier(batch, ModKind::Flow);
        self.enter_step(
            SyncStep::Apply {
                barrier,
                rest,
                summary,
            },
            xids.into_iter().chain([barrier]),
            now,
        );
    }

    fn on_barrier(&mut self, xid: u32, now: Instant) {
        let Some(run) = self.run.as_mut() else {
            debug!(xid, "barrier reply outside a sync ignored");
            return;
        };
        let generation = run.generation;
        match &mut run.step {
            SyncStep::MeterAdd {
                barrier,
                exists,
                rejected,
                ..
            } if *barrier == xid => {
                if let Some(why) = rejected.take() {
                    self.meters_rejected(why, generation, now);
                    return;
                }
                let exists = std::mem::take(exists);
                if exists.is_empty() {
                    self.meters_installed(generation, now);
                    return;
                }
                let modifies: Vec<P::Msg> = exists
                    .iter()
                    .filter_map(|a| self.policy.meter_modify(a))
                    .collect();
                let (xids, barrier) = self.send_with_barrier(modifies, ModKind::Meter);
                self.enter_step(
                    SyncStep::MeterModify {
                        barrier,
                        rejected: None,
                    },
                    xids.into_iter().chain([barrier]),
                    now,
                );
            }
            SyncStep::MeterModify { barrier, rejected } if *barrier == xid => {
                match rejected.take() {
                    Some(why) => self.meters_rejected(why, generation, now),
                    None => self.meters_installed(generation, now),
                }
            }
            SyncStep::Apply {
                barrier,
                rest,
                summary,
            } if *barrier == xid => {
                let rest = std::mem::take(rest);
                let summary = *summary;
                self.send_next_batch(rest, summary, now);
            }
            _ => debug!(xid, "barrier reply for another request ignored"),
        }
    }

    fn meters_installed(&mut self, generation: u64, now: Instant) {
        if !matches!(self.meters, MeterStatus::Installed { .. }) {
            self.out
                .push(Output::Event(SessionEvent::MetersInUse(true)));
        }
        self.meters = MeterStatus::Installed { generation };
        self.read_flows(now);
    }

    fn meters_rejected(&mut self, why: String, generation: u64, now: Instant) {
        warn!(
            error = %why,
            "switch rejected the reporting meter; installing the blocking flows without meters (blocking never depends on reporting)"
        );
        self.meters = MeterStatus::Rejected { generation };
        self.out
            .push(Output::Event(SessionEvent::MetersInUse(false)));
        self.read_flows(now);
    }

    fn complete_sync(&mut self, s: PlanSummary, now: Instant) {
        let Some(run) = self.run.take() else {
            return;
        };
        self.backoff.reset();
        let flows_on_switch = (s.before + s.added).saturating_sub(s.removed);
        let changed = s.added + s.removed + s.modified > 0;
        let dpid = self.dpid.unwrap_or(0);
        if run.reason == SyncReason::Audit && changed {
            info!(
                dpid = format_args!("{dpid:#x}"),
                added = s.added,
                removed = s.removed,
                modified = s.modified,
                "audit repaired drift"
            );
        } else if changed {
            info!(
                reason = run.reason.name(),
                generation = run.generation,
                added = s.added,
                removed = s.removed,
                modified = s.modified,
                "in sync after applying changes"
            );
        } else {
            debug!(
                reason = run.reason.name(),
                generation = run.generation,
                "in sync; nothing to change"
            );
        }
        self.out.push(Output::Event(SessionEvent::SyncFinished {
            reason: run.reason,
            ok: true,
            duration: now.saturating_duration_since(run.started),
        }));
        self.out.push(Output::Event(SessionEvent::SyncSucceeded {
            generation: run.generation,
            reason: run.reason,
            added: s.added,
            removed: s.removed,
            modified: s.modified,
            desired: s.desired,
            flows_on_switch,
        }));
        self.next_audit = Some(now + self.policy.timers().audit_interval);
        if let Some(reason) = self.dirty.take() {
            self.start_sync(reason, now);
        } else {
            if self.counter_poll.is_none() {
                // The barrier confirmed everything sent before it: nothing left to blame.
                self.sent.forget_all();
            }
            self.set_phase(Phase::InSync, "last barrier confirmed with no error");
        }
    }

    fn fail_sync(&mut self, error: String, now: Instant) {
        let Some(run) = self.run.take() else {
            return;
        };
        let retry_in = self.backoff.next_delay();
        error!(
            reason = run.reason.name(),
            generation = run.generation,
            %error,
            failures = self.backoff.failures(),
            retry_in = ?retry_in,
            "sync failed"
        );
        self.out
            .push(Output::Event(SessionEvent::SyncFailed { error, retry_in }));
        if self.dirty.is_none() {
            self.dirty = Some(SyncReason::Retry);
        }
        self.set_phase(
            Phase::RetryWait {
                until: now + retry_in,
            },
            "sync failed",
        );
    }

    // ----- plumbing -----

    /// The one place a phase changes; logs it.
    fn set_phase(&mut self, to: Phase, why: &str) {
        if self.phase == to {
            return;
        }
        debug!(
            from = self.phase.name(),
            to = to.name(),
            why,
            "phase change"
        );
        self.phase = to;
        self.out
            .push(Output::Event(SessionEvent::PhaseChanged { to }));
    }

    fn close(&mut self, reason: CloseReason) {
        self.run = None;
        self.counter_poll = None;
        self.set_phase(Phase::Closed, "closing");
        self.out.push(Output::Close(reason));
    }

    fn send(&mut self, msg: Outbound<P::Msg>) -> u32 {
        let xid = self.sent.next_xid();
        self.sent.record(xid, msg.clone());
        self.out.push(Output::Send { xid, msg });
        xid
    }

    fn take(&mut self) -> Vec<SessionOutput<P, PI>> {
        std::mem::take(&mut self.out)
    }
}
