//! The per-switch state machine, sans I/O: messages and clock ticks in, messages to send and
//! events out. The tokio task in `connection` only moves bytes and runs the timer.
//!
//! Phases: `AwaitHello -> AwaitFeatures -> AwaitPortDesc -> Syncing -> InSync`, with
//! `RetryWait` after a failed sync and `Closed` at the end. Every change goes through
//! `SwitchSession::set_phase`, which logs it.
//!
//! The machine is thin: it routes each message and tick to the part that owns the concern and
//! acts on what that part decides. The parts, each in its own file:
//! - [`Handshake`]: FEATURES and PORT_DESC, the switch as it described itself;
//! - [`Keepalive`]: echo probes and the echo timeout;
//! - [`SyncSchedule`]: when syncs run (one at a time, retries with back-off, audits);
//! - [`SyncRun`]: one sync, through its meter steps (`meter_sync`) and flow steps
//!   (`flow_sync`);
//! - [`CounterPoll`]: reading the flow counters between syncs;
//! - [`ConfigAudit`]: the SET_CONFIG sent and the audit's read-back;
//! - [`route`]: which of them an ERROR from the switch concerns ([`counted_as`]: the key it
//!   is counted under), and [`LogBudget`]: how many of them are logged one by one;
//! - [`SessionOutputs`]: the outputs of one call and the xids of what is sent.
//! - `machine_role` (a child module): in a cluster, the role asked of the switch and the step
//!   down when it fences us off, deciding with [`role`]'s pure functions; until the switch
//!   confirms MASTER the session stays in `Phase::Standby` and writes nothing.

use super::config_audit::{ConfigAudit, ConfigCheck};
use super::counter_poll::CounterPoll;
use super::error_routing::{counted_as, describe, route, Askers, ErrorRoute};
use super::flow_sync::PlanSummary;
use super::handshake::{Handshake, PortsReply, MAX_PORTS};
use super::keepalive::{Keepalive, Liveness};
use super::log_budget::{Admit, LogBudget};
use super::meter_sync::MeterStatus;
use super::output::{CloseReason, Output, SessionEvent, SessionOutput, SessionOutputs};
use super::phase::Phase;
use super::role::{self, Role, Wanted};
use super::session_policy::SessionPolicy;
use super::sync_reason::SyncReason;
use super::sync_run::{Progress, SyncCtx, SyncRun};
use super::sync_schedule::{Due, SyncSchedule};
use super::wire::{Inbound, Outbound};
use crate::flows::SwitchView;
use op25b_proto::{AssemblyError, MeterConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

#[path = "machine_role.rs"]
mod machine_role;

/// ERROR warnings logged one by one per [`ERROR_LOG_WINDOW`]; the rest are counted.
pub const ERROR_LOG_LIMIT: u32 = 10;
/// See [`ERROR_LOG_LIMIT`].
pub const ERROR_LOG_WINDOW: Duration = Duration::from_secs(60);

/// One switch connection's protocol state.
#[derive(Debug)]
pub struct SwitchSession<P: SessionPolicy + ?Sized, PI> {
    peer: SocketAddr,
    policy: Arc<P>,
    phase: Phase,
    handshake: Handshake,
    keepalive: Keepalive,
    schedule: SyncSchedule,
    run: Option<SyncRun<P>>,
    meters: MeterStatus,
    counters: CounterPoll,
    config: ConfigAudit,
    /// How many ERROR warnings this peer still gets logged one by one.
    error_log: LogBudget,
    /// The OpenFlow role ([`Role::Equal`] without a cluster) and what the cluster wants.
    role: Role,
    wanted: Option<Wanted>,
    out: SessionOutputs<P, PI>,
}

impl<P: SessionPolicy + ?Sized, PI> SwitchSession<P, PI> {
    /// A new connection from `peer`; `first_xid` seeds this connection's xids.
    pub fn new(peer: SocketAddr, policy: Arc<P>, first_xid: u32, now: Instant) -> Self {
        let schedule = SyncSchedule::new(&policy.timers());
        Self {
            peer,
            policy,
            phase: Phase::AwaitHello,
            handshake: Handshake::new(now),
            keepalive: Keepalive::new(now),
            schedule,
            run: None,
            meters: MeterStatus::Unknown,
            counters: CounterPoll::default(),
            config: ConfigAudit::default(),
            error_log: LogBudget::new(ERROR_LOG_LIMIT, ERROR_LOG_WINDOW),
            role: Role::Equal,
            wanted: None,
            out: SessionOutputs::<P, PI>::new(first_xid),
        }
    }

    /// A session in a cluster: it writes nothing, and drops samples, until the switch confirms it
    /// master at the generation [`SwitchSession::on_wanted`] hands it.
    #[must_use]
    pub fn clustered(mut self) -> Self {
        self.role = Role::Unassigned;
        self
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn dpid(&self) -> Option<u64> {
        self.handshake.dpid()
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The switch as it described itself (dpid 0 before FEATURES_REPLY).
    pub fn view(&self) -> &SwitchView {
        self.handshake.view()
    }

    /// The opening move: our HELLO. Sent on the urgent path: it must precede anything else,
    /// including an urgent HELLO_FAILED error.
    pub fn start(&mut self) -> Vec<SessionOutput<P, PI>> {
        self.out.send_urgent(Outbound::Hello, true);
        self.out.take()
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
        self.keepalive.heard(now);
        match msg {
            Inbound::Hello {
                version,
                supports_13,
            } => self.on_hello(version, supports_13),
            Inbound::EchoRequest { data } => {
                self.out.answer_urgent(xid, Outbound::EchoReply { data });
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
            Inbound::MeterConfig { entries } => self.on_meter_config(xid, &entries, now),
            Inbound::ReplyRefused(error) => self.on_reply_refused(xid, error, now),
            Inbound::BarrierReply => self.on_barrier(xid, now),
            Inbound::GetConfigReply { flags, .. } => self.on_config_reply(xid, flags),
            // Every PACKET_IN goes up, whatever its cookie: the connection judges whether it is a
            // sample of our flows (`sample_trust`) and counts the ones that are not.
            Inbound::PacketIn { packet_in, .. } if self.role.takes_samples() => {
                self.out.push(Output::PacketIn(packet_in));
            }
            Inbound::PacketIn { .. } => {
                debug!(
                    role = self.role.name(),
                    "PACKET_IN dropped: not this switch's master"
                );
            }
            Inbound::RoleReply {
                role,
                generation_id,
            } => self.on_role_reply(xid, role, generation_id, now),
            Inbound::FailOpenProbe => self.out.event(SessionEvent::FailOpenProbe),
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
        self.out.take()
    }

    /// The clock: timeouts, our echoes, retries, audits, counter polls.
    pub fn on_tick(&mut self, now: Instant) -> Vec<SessionOutput<P, PI>> {
        if self.phase == Phase::Closed {
            return Vec::new();
        }
        if let Some(held_back) = self.error_log.roll(now) {
            self.report_held_back(held_back);
        }
        let t = self.policy.timers();
        let handshaking = self.phase.is_handshake();
        if handshaking {
            if let Some(waited) = self.handshake.overdue(now, t.handshake_timeout) {
                let phase = self.phase.name();
                self.close(CloseReason::HandshakeTimeout { waited, phase });
                return self.out.take();
            }
        }
        match self
            .keepalive
            .check(now, t.echo_interval, t.echo_timeout, !handshaking)
        {
            Liveness::Silent(silent) => {
                self.close(CloseReason::Silent { silent });
                return self.out.take();
            }
            Liveness::Probe => {
                self.keepalive.probed(now);
                self.out.send_urgent(Outbound::EchoRequest, false);
            }
            Liveness::Alive => {}
        }
        match self.schedule.due(self.phase, now) {
            Some(Due::Retry(reason)) => self.start_sync(reason, now),
            Some(Due::Audit) => {
                self.check_switch_config();
                self.start_sync(SyncReason::Audit, now);
            }
            None if self.phase == Phase::Syncing => {
                let overdue = self
                    .run
                    .as_ref()
                    .and_then(|r| r.overdue(now, t.echo_timeout));
                if let Some(why) = overdue {
                    self.fail_sync(why, now);
                }
            }
            None => {}
        }
        // After the sync triggers: an audit that just started reads the counters itself.
        self.poll_counters(now);
        self.out.take()
    }

    /// When `on_tick` next has something to do.
    pub fn next_deadline(&self) -> Instant {
        let t = self.policy.timers();
        let handshaking = self.phase.is_handshake();
        let mut d = self
            .keepalive
            .next_deadline(t.echo_interval, t.echo_timeout, !handshaking);
        if handshaking {
            d = d.min(self.handshake.deadline(t.handshake_timeout));
        }
        let later = [
            self.counters.next_deadline(),
            self.schedule.next_deadline(self.phase),
            self.run
                .as_ref()
                .filter(|_| self.phase == Phase::Syncing)
                .map(SyncRun::deadline),
        ];
        later.into_iter().flatten().fold(d, Instant::min)
    }

    /// A new policy is in force: re-sync (hitlessly) if the handshake is done.
    pub fn on_policy(&mut self, policy: Arc<P>, now: Instant) -> Vec<SessionOutput<P, PI>> {
        let t = policy.timers();
        self.schedule.policy_changed(&t);
        self.policy = policy;
        self.counters.interval_changed(now, t.counters_interval);
        if !self.phase.is_handshake() && self.phase != Phase::Closed && self.role.may_write() {
            // A new fragment mode goes out before the flows that rely on it.
            if self.config.differs(self.policy.switch_config()) {
                self.send_switch_config();
            }
            self.request_sync(SyncReason::PolicyChange, now);
        }
        self.out.take()
    }

    /// The connection refuses to go on (takeover, refused claim, shutdown, I/O error).
    pub fn mark_closed(&mut self, why: &str) {
        let held_back = self.error_log.take_held_back();
        self.report_held_back(held_back);
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
            let refusal = Outbound::HelloIncompatible {
                peer_version: version,
                text,
            };
            self.out.send_urgent(refusal, false);
            self.close(CloseReason::Incompatible { version });
            return;
        }
        let features = self.out.send(Outbound::FeaturesRequest);
        let port_desc = self.out.send(Outbound::PortDescRequest);
        self.handshake.requested(features, port_desc);
        self.set_phase(Phase::AwaitFeatures, "HELLO agreed on OpenFlow 1.3");
    }

    fn on_features(&mut self, xid: u32, dpid: u64, now: Instant) {
        if self.phase != Phase::AwaitFeatures || !self.handshake.on_features(xid, dpid) {
            debug!(xid, "unexpected FEATURES_REPLY ignored");
            return;
        }
        self.out.event(SessionEvent::DpidLearned { dpid });
        self.set_phase(Phase::AwaitPortDesc, "FEATURES_REPLY gave the dpid");
        if self.handshake.ports_known() {
            self.complete_handshake(now);
        }
    }

    fn on_port_desc(&mut self, xid: u32, ports: Vec<u32>, now: Instant) {
        let awaiting = matches!(self.phase, Phase::AwaitFeatures | Phase::AwaitPortDesc);
        let reply = if awaiting {
            self.handshake.on_ports(xid, ports)
        } else {
            PortsReply::Ignored
        };
        match reply {
            PortsReply::Ignored => debug!(xid, "unexpected PORT_DESC reply ignored"),
            PortsReply::TooMany => self.close(CloseReason::ProtocolViolation(format!(
                "PORT_DESC reported more than {MAX_PORTS} ports"
            ))),
            PortsReply::Known if self.phase == Phase::AwaitPortDesc => self.complete_handshake(now),
            PortsReply::Known => {}
        }
    }

    /// Both the dpid and the ports are known: configure the switch and start the first sync;
    /// in a cluster, ask the switch for the role the cluster wants first.
    fn complete_handshake(&mut self, now: Instant) {
        info!(ports = self.view().ports.len(), "handshake complete");
        if self.role.may_write() {
            self.begin_writing(SyncReason::Connect, now);
        } else {
            self.set_phase(Phase::Standby, "waiting for the switch to confirm a role");
            self.ask_role();
        }
    }

    /// This connection may write from now on: the switch configuration, then the sync.
    fn begin_writing(&mut self, reason: SyncReason, now: Instant) {
        self.send_switch_config();
        let interval = self.policy.timers().counters_interval;
        self.counters.start(now, interval);
        self.start_sync(reason, now);
    }

    fn on_port_status(&mut self, reason: u8, port_no: u32, now: Instant) {
        if self.handshake.on_port_status(reason, port_no) && !self.phase.is_handshake() {
            info!(port_no, reason, "port set changed; re-syncing");
            self.request_sync(SyncReason::PortStatus, now);
        }
    }

    // ----- errors -----

    fn on_error(&mut self, xid: u32, err_type: u16, code: u16, names: String, now: Instant) {
        let request = describe(self.policy.as_ref(), self.out.sent(xid));
        match self.error_log.admit(now) {
            Admit::Log { held_back } => {
                self.report_held_back(held_back);
                warn!(xid, err_type, code, error = %names, %request, "switch answered with ERROR");
            }
            Admit::HoldBack => {
                debug!(xid, err_type, code, error = %names, %request, "switch answered with ERROR");
            }
        }
        self.out.event(SessionEvent::SwitchError {
            names: counted_as(err_type, code),
        });
        if let Some(fence) = role::fenced_by(self.role, err_type, code) {
            self.step_down(fence);
            return;
        }
        let askers = Askers {
            counter_poll: self.counters.asked(xid),
            handshake: self.phase.is_handshake() && self.handshake.asked(xid),
            sync: self.run.as_ref().is_some_and(|r| r.asked(xid)),
        };
        match route(err_type, askers) {
            ErrorRoute::CounterPoll => self.counters.rejected(&names),
            ErrorRoute::HelloFailed => self.close(CloseReason::HelloFailed { names }),
            ErrorRoute::Handshake => self.close(CloseReason::HandshakeRejected { names, request }),
            ErrorRoute::Sync => self.drive(now, |run, cx| {
                run.on_error(xid, (err_type, code, &names), &request, cx)
            }),
            ErrorRoute::Unrelated => {}
        }
    }

    /// ERROR warnings not logged one by one: one line with their number.
    fn report_held_back(&self, held_back: u64) {
        if held_back > 0 {
            warn!(
                held_back,
                limit = self.error_log.limit(),
                window = ?self.error_log.window(),
                "more ERROR messages from this switch; their warnings were suppressed (only the first of each window are logged)"
            );
        }
    }

    /// Whether a multipart reply to `xid` is awaited (by the handshake, the sync or the counter
    /// poll): the connection joins the parts of no other reply.
    pub fn awaits_reply(&self, xid: u32) -> bool {
        self.counters.asked(xid)
            || (self.phase.is_handshake() && self.handshake.awaits_ports(xid))
            || self.run.as_ref().is_some_and(|r| r.reads(xid))
    }

    /// A multipart reply the codec bridge could not join (see [`Inbound::ReplyRefused`]). Over
    /// the connection's byte cap the peer is dropped; otherwise the read it answers gets
    /// nothing, as if the switch had sent too many entries.
    fn on_reply_refused(&mut self, xid: u32, error: AssemblyError, now: Instant) {
        if let AssemblyError::TooManyBytes { max_bytes: cap, .. }
        | AssemblyError::TooManyBytesPending {
            max_total_bytes: cap,
            ..
        } = error
        {
            self.close(CloseReason::ReplyBytesOverCap { cap, error });
        } else if self.counters.asked(xid) {
            self.counters.refused(&error);
        } else if self.phase.is_handshake() && self.handshake.awaits_ports(xid) {
            self.close(CloseReason::ProtocolViolation(format!(
                "PORT_DESC reply refused: {error}"
            )));
        } else if self.run.as_ref().is_some_and(|r| r.reads(xid)) {
            self.fail_sync(format!("reply refused: {error}"), now);
        } else {
            debug!(xid, %error, "refused reply to no awaited read ignored");
        }
    }

    // ----- counter poll and config audit -----

    /// Sends a counter poll when one is due, drops one that went unanswered.
    fn poll_counters(&mut self, now: Instant) {
        let t = self.policy.timers();
        if self.counters.tick(now, self.phase, t.counters_interval) {
            let xid = self.out.send(Outbound::Policy(self.policy.flows_request()));
            self.counters.sent(xid, now, t.echo_timeout);
        }
    }

    /// An audit also reads the switch configuration back.
    fn check_switch_config(&mut self) {
        let xid = self.out.send(Outbound::GetConfigRequest);
        self.config.checking(xid);
    }

    fn on_config_reply(&mut self, xid: u32, flags: u16) {
        let (want, _) = self.policy.switch_config();
        if self.config.on_reply(xid, flags, want) == ConfigCheck::Drifted {
            self.send_switch_config();
        }
    }

    fn send_switch_config(&mut self) {
        let (flags, miss_send_len) = self.policy.switch_config();
        self.config.sent((flags, miss_send_len));
        self.out.send(Outbound::SetConfig {
            flags,
            miss_send_len,
        });
    }

    // ----- sync -----

    fn request_sync(&mut self, reason: SyncReason, now: Instant) {
        if let Some(reason) = self.schedule.request(self.phase, reason) {
            self.start_sync(reason, now);
        }
    }

    fn start_sync(&mut self, reason: SyncReason, now: Instant) {
        let mut cx = SyncCtx {
            policy: self.policy.as_ref(),
            view: self.handshake.view(),
            meters: &mut self.meters,
            out: &mut self.out,
            now,
        };
        self.run = Some(SyncRun::start(reason, &mut cx));
        self.set_phase(Phase::Syncing, reason.name());
    }

    fn on_meter_config(&mut self, xid: u32, entries: &[MeterConfig], now: Instant) {
        if self.run.is_none() {
            debug!(xid, "METER_CONFIG reply outside a sync ignored");
            return;
        }
        self.drive(now, |run, cx| run.on_meter_config(xid, entries, cx));
    }

    fn on_flow_stats(&mut self, xid: u32, entries: Vec<P::FlowEntry>, now: Instant) {
        if self.counters.asked(xid) {
            if let Some(entries) = self
                .counters
                .on_reply(entries, self.policy.read_caps().flows)
            {
                self.out.push(Output::FlowsRead(entries));
            }
            return;
        }
        if self.run.is_none() {
            debug!(xid, "FLOW stats reply outside a sync ignored");
            return;
        }
        self.drive(now, |run, cx| run.on_flow_stats(xid, entries, cx));
    }

    fn on_barrier(&mut self, xid: u32, now: Instant) {
        if self.run.is_none() {
            debug!(xid, "barrier reply outside a sync ignored");
            return;
        }
        self.drive(now, |run, cx| run.on_barrier(xid, cx));
    }

    /// Hands the running sync (if any) one message through `step`, then acts on how it went.
    fn drive(
        &mut self,
        now: Instant,
        step: impl FnOnce(&mut SyncRun<P>, &mut SyncCtx<'_, P, PI>) -> Progress,
    ) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        let mut cx = SyncCtx {
            policy: self.policy.as_ref(),
            view: self.handshake.view(),
            meters: &mut self.meters,
            out: &mut self.out,
            now,
        };
        let progress = step(run, &mut cx);
        if run.take_flows_read() {
            // This read refreshed the counters: the next poll is an interval from now.
            let interval = self.policy.timers().counters_interval;
            self.counters.refreshed(now, interval);
        }
        match progress {
            Progress::Waiting => {}
            Progress::Done(summary) => self.complete_sync(summary, now),
            Progress::Failed(why) => self.fail_sync(why, now),
        }
    }

    fn complete_sync(&mut self, summary: PlanSummary, now: Instant) {
        let Some(run) = self.run.take() else {
            return;
        };
        let dpid = self.dpid().unwrap_or(0);
        run.finish(summary, dpid, &mut self.out, now);
        let audit_interval = self.policy.timers().audit_interval;
        if let Some(reason) = self.schedule.succeeded(now, audit_interval) {
            self.start_sync(reason, now);
        } else {
            if self.counters.is_idle() {
                // The barrier confirmed everything sent before it: nothing left to blame.
                self.out.forget_sent();
            }
            self.set_phase(Phase::InSync, "last barrier confirmed with no error");
        }
    }

    fn fail_sync(&mut self, error: String, now: Instant) {
        let Some(run) = self.run.take() else {
            return;
        };
        let retry_in = self.schedule.failed();
        run.fail(
            error,
            retry_in,
            self.schedule.failures(),
            &mut self.out,
            now,
        );
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
        self.out.event(SessionEvent::PhaseChanged { to });
    }

    fn close(&mut self, reason: CloseReason) {
        self.run = None;
        self.counters.stop();
        self.set_phase(Phase::Closed, "closing");
        self.out.push(Output::Close(reason));
    }
}
