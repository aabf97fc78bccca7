//! The tokio task of one switch connection: reads frames, feeds the [`SwitchSession`], writes what
//! it asks for, runs its timer, applies its events to the registry.
//!
//! Generic over the stream (`AsyncRead + AsyncWrite + Unpin + Send`), so TLS can wrap it later.
//! The task reads and writes the stream itself: what the session asks to send is encoded into an
//! [`Outbox`] (urgent echo traffic ahead of bulk flow mods, see there) and leaves in one `write`
//! per wake-up, so an echo is answered in the same wake-up that read it, without a second task,
//! a channel or a `write` per message. While more than
//! [`READ_PAUSE`](super::stream_io::READ_PAUSE) bytes wait to be written, the task stops reading
//! (back-pressure: a switch that does not read its flow mods gets no more work done for it; see
//! [`super::stream_io`]). The read buffer is bounded by the framer (one frame is at most 64 KiB).

use super::codec_bridge::{self, PacketInSample};
use super::fail_open_watch::FailOpenWatch;
use super::machine::SwitchSession;
use super::outbox::Outbox;
use super::output::{CloseReason, Output, SessionEvent, SessionOutput};
use super::phase::Phase;
use super::sample_trust;
use super::session_policy::SessionPolicy;
use super::stream_io::{poll_drain_and_close, poll_io, WriteState};
use crate::fleet::dpid_claims::{ClaimOutcome, ConnId, DpidClaims, Refusal};
use crate::fleet::guard_counters::SampleRejection;
use crate::fleet::peer_identity::PeerIdentity;
use crate::fleet::registry::{Registry, SwitchHandle, SyncState};
use crate::fleet::SwitchObservations;
use crate::mastership::MastershipView;
use crate::policy::Dpid;
use crate::session::active_policy::ActivePolicy;
use bytes::{Buf, BytesMut};
use std::future::poll_fn;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::{CancellationToken, ReusableBoxFuture};
use tracing::{debug, error, info, warn, Instrument};

/// Room reserved before each read. Small, because an idle switch sends 16-byte echoes: the
/// buffer grows (by reserving for the frame being read, up to the 64 KiB OpenFlow bound) only
/// when a switch sends large replies, and is given back once it has been drained.
const READ_CHUNK: usize = 1024;
/// A drained read buffer bigger than this is freed, back to [`READ_CHUNK`].
const READ_KEEP: usize = 4 * READ_CHUNK;
/// A wake-up this late after the timer's deadline means the process stood still (e.g.
/// SIGSTOP): messages read up to this long after it do not count as heard (`last_heard`,
/// fail-open detection): they may have waited in the socket all along.
const STALL_SLACK: Duration = Duration::from_secs(1);
/// How long the outbox gets to drain after the session ended (e.g. the HELLO_FAILED error).
const FLUSH_GRACE: Duration = Duration::from_secs(2);

/// What a connection needs from the controller.
#[derive(Debug, Clone)]
pub struct ConnectionContext {
    pub conn_id: ConnId,
    /// Who connected: the address and, over TLS, the certificate (claims are judged on it).
    pub peer: PeerIdentity,
    pub registry: Arc<Registry>,
    pub claims: Arc<DpidClaims>,
    pub policy: watch::Receiver<Arc<ActivePolicy>>,
    /// Packet-in samples for the offender table (bounded; full means dropped and counted).
    pub samples: Option<mpsc::Sender<PacketInSample>>,
    /// Flow reads, desired flows and sync durations, for the API and metrics.
    pub observations: Arc<SwitchObservations>,
    /// In a cluster, the masterships as this instance sees them (`None`: no cluster, the
    /// connection stays EQUAL and writes as ever).
    pub masterships: Option<watch::Receiver<Arc<MastershipView>>>,
    pub shutdown: CancellationToken,
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionEnd {
    #[error("{0}")]
    Session(CloseReason),
    #[error("malformed bytes from the switch: {0}")]
    Malformed(codec_bridge::BadFrame),
    #[error("switch closed the connection")]
    PeerClosed,
    #[error("read error: {0}")]
    Read(std::io::Error),
    #[error("write error: {0}")]
    Write(std::io::Error),
    #[error("the switch stopped reading: nothing could be written for {0:?}")]
    WriterStalled(Duration),
    #[error("a newer connection took over this dpid")]
    TakenOver,
    #[error("claim of dpid {dpid} refused: {why}")]
    Refused { dpid: String, why: String },
    #[error("controller shutting down")]
    Shutdown,
}

type Session = SwitchSession<ActivePolicy, codec_bridge::PacketIn>;

/// Runs one connection to its end. Never panics on anything the switch sends.
pub async fn run_connection<S>(stream: S, ctx: ConnectionContext)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let span = tracing::info_span!("switch", peer = %ctx.peer.addr, dpid = tracing::field::Empty);
    Connection::new(ctx).run(stream).instrument(span).await;
}

struct Connection {
    ctx: ConnectionContext,
    policy_rx: watch::Receiver<Arc<ActivePolicy>>,
    session: Session,
    decoder: codec_bridge::Decoder,
    handle: Option<SwitchHandle>,
    taken_over: CancellationToken,
    outbox: Outbox,
    write: WriteState,
    counted_handshaking: bool,
    fail_open: FailOpenWatch,
    /// When the last message came from the switch (read in time, see [`STALL_SLACK`]).
    last_rx: Option<Instant>,
    /// When this task last woke up long after its timer was due.
    stalled_at: Option<Instant>,
}

impl Connection {
    fn new(ctx: ConnectionContext) -> Self {
        let mut policy_rx = ctx.policy.clone();
        let policy = policy_rx.borrow_and_update().clone();
        // Sized by the policy: its largest flow set must fit (see `read_cap`).
        let reply_cap = policy.read_caps().reply_bytes;
        // Low bits of the connection id, so xids differ between a switch's old and new
        // connection (truncation intended: only distinctness between neighbours matters).
        let low = u32::try_from(ctx.conn_id & u64::from(u32::MAX)).unwrap_or(0);
        let first_xid = (low << 12) | 1;
        let mut session = Session::new(ctx.peer.addr, policy, first_xid, Instant::now());
        if ctx.masterships.is_some() {
            session = session.clustered();
        }
        // A child of the shutdown token: one future watches both.
        let taken_over = ctx.shutdown.child_token();
        Self {
            ctx,
            policy_rx,
            session,
            decoder: codec_bridge::Decoder::new(reply_cap),
            handle: None,
            taken_over,
            outbox: Outbox::default(),
            write: WriteState::default(),
            counted_handshaking: false,
            fail_open: FailOpenWatch::default(),
            last_rx: None,
            stalled_at: None,
        }
    }

    async fn run<S>(mut self, mut stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        debug!("connection accepted");
        self.ctx.registry.handshaking_add(1);
        self.counted_handshaking = true;

        let end = self.drive(&mut stream).await;
        self.session.mark_closed(&end.to_string());
        self.log_end(&end);

        // Write what is queued (e.g. HELLO_FAILED), then close our half.
        let outbox = &mut self.outbox;
        let write = &mut self.write;
        let drained = poll_fn(|cx| poll_drain_and_close(cx, &mut stream, outbox, write));
        match tokio::time::timeout(FLUSH_GRACE, drained).await {
            Ok(Err(e)) => debug!(error = %e, "closing the stream failed"),
            Ok(Ok(())) => {}
            Err(_) => debug!("queued messages not written in time; closing anyway"),
        }
        self.finish();
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> ConnectionEnd {
        let outs = self.session.start();
        if let Some(end) = self.apply(outs) {
            return end;
        }
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        // Futures made once for the connection's life, not per turn of the loop (each one made
        // registers with, and each one dropped unregisters from, a shared waiter list under a
        // lock): the end (shutdown, or a takeover: the token is a child of shutdown's) and the
        // next policy change.
        let ended = self.taken_over.clone();
        let ended = ended.cancelled();
        tokio::pin!(ended);
        let mut policy_change = ReusableBoxFuture::new(next_policy(self.policy_rx.clone()));
        let mut mastership_change = ReusableBoxFuture::new(next_view(self.ctx.masterships.clone()));
        // The timer is made per turn, not kept and moved: measured (perf, 10,000 idle switches),
        // a kept `Sleep` reset to each new deadline cost more in the timer wheel (7.8% of the
        // samples, against 5.9%): the deadline moves with every message, and an extended entry
        // is still taken out and put back when its old slot comes up.
        let mut stall = self.session_timeout();
        loop {
            let mut deadline = self.session.next_deadline();
            if let Some(since) = self.write.waiting_since {
                deadline = deadline.min(since + stall);
            }
            let deadline = tokio::time::Instant::from_std(deadline);
            if buf.is_empty() && buf.capacity() > READ_KEEP {
                buf = BytesMut::with_capacity(READ_CHUNK);
            }
            buf.reserve(codec_bridge::missing_bytes(&buf).max(READ_CHUNK));
            let outbox = &mut self.outbox;
            let write = &mut self.write;
            let io = poll_fn(|cx| poll_io(cx, &mut *stream, &mut buf, outbox, write));
            tokio::select! {
                biased;
                () = &mut ended => {
                    return if self.ctx.shutdown.is_cancelled() {
                        ConnectionEnd::Shutdown
                    } else {
                        ConnectionEnd::TakenOver
                    };
                }
                io = io => {
                    self.note_stall(deadline);
                    match io {
                        Err(e) => return ConnectionEnd::Write(e),
                        Ok(Ok(0)) => return ConnectionEnd::PeerClosed,
                        Ok(Err(e)) => return ConnectionEnd::Read(e),
                        Ok(Ok(_)) => {}
                    }
                    loop {
                        // Decoded in place, then skipped: splitting each frame off would turn
                        // the read buffer into a shared one (an allocation per message).
                        let len = match codec_bridge::frame_len(&buf) {
                            Ok(Some(len)) => len,
                            Ok(None) => break,
                            Err(e) => return ConnectionEnd::Malformed(e),
                        };
                        let session = &self.session;
                        let decoded = self.decoder.decode(&buf[..len], session.phase(), |xid| {
                            session.awaits_reply(xid)
                        });
                        buf.advance(len);
                        let (xid, msg) = match decoded {
                            Ok(m) => m,
                            Err(e) => return ConnectionEnd::Malformed(e),
                        };
                        let now = Instant::now();
                        if self.stalled_at.is_none_or(|t| now >= t + STALL_SLACK) {
                            self.last_rx = Some(now);
                            if let Some(h) = &self.handle {
                                self.fail_open.heard(h, now);
                            }
                        }
                        let learned = self.session.dpid().is_none();
                        let outs = self.session.on_message(xid, msg, now);
                        if let Some(end) = self.apply(outs) {
                            return end;
                        }
                        if learned && self.session.dpid().is_some() {
                            // The dpid is known: the role the cluster wants (asked once the
                            // handshake is done).
                            if let Some(end) = self.follow_masterships() {
                                return end;
                            }
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    self.note_stall(deadline);
                    let now = Instant::now();
                    if self.write.waiting_since.is_some_and(|t| now >= t + stall) {
                        return ConnectionEnd::WriterStalled(stall);
                    }
                    let outs = self.session.on_tick(now);
                    if let Some(end) = self.apply(outs) {
                        return end;
                    }
                }
                (changed, rx) = &mut mastership_change => {
                    if !changed {
                        // No cluster (pending forever), or the cluster task ended (shutdown).
                        mastership_change.set(next_view(None));
                        continue;
                    }
                    mastership_change.set(next_view(rx));
                    if let Some(end) = self.follow_masterships() {
                        return end;
                    }
                }
                (changed, mut rx) = &mut policy_change => {
                    if !changed {
                        return ConnectionEnd::Shutdown;
                    }
                    let policy = rx.borrow_and_update().clone();
                    policy_change.set(next_policy(rx));
                    self.decoder.set_reply_cap(policy.read_caps().reply_bytes);
                    let outs = self.session.on_policy(policy, Instant::now());
                    stall = self.session_timeout();
                    if let Some(end) = self.apply(outs) {
                        return end;
                    }
                }
            }
        }
    }

    /// Carries out the session's outputs (messages are queued in the outbox, written by the
    /// next poll of the stream); `Some` when the connection must end.
    fn apply(
        &mut self,
        outs: Vec<SessionOutput<ActivePolicy, codec_bridge::PacketIn>>,
    ) -> Option<ConnectionEnd> {
        if self.outbox.is_empty() && outs.iter().any(Output::is_send) {
            self.write.waiting_since = Some(Instant::now());
        }
        for out in outs {
            match out {
                Output::Send { xid, msg } => {
                    codec_bridge::encode_into(xid, &msg, self.outbox.bulk());
                }
                Output::SendUrgent { xid, msg } => {
                    codec_bridge::encode_into(xid, &msg, self.outbox.urgent());
                }
                Output::Event(ev) => {
                    if let Some(end) = self.on_event(ev) {
                        return Some(end);
                    }
                }
                Output::PacketIn(packet_in) => self.on_packet_in(packet_in),
                Output::FlowsRead(entries) => {
                    if let Some(h) = &self.handle {
                        self.fail_open.on_flows_read(h, entries.len());
                    }
                    if let Some(dpid) = self.observed_dpid() {
                        self.ctx
                            .observations
                            .record_flow_read(dpid, &entries, SystemTime::now());
                    }
                }
                Output::Planned(desired) => {
                    if let Some(dpid) = self.observed_dpid() {
                        self.ctx
                            .observations
                            .record_desired(dpid, &desired, SystemTime::now());
                    }
                }
                Output::Close(reason) => return Some(ConnectionEnd::Session(reason)),
            }
        }
        None
    }

    /// Hands the session the role the cluster wants for its switch, if in a cluster and the
    /// dpid is known.
    fn follow_masterships(&mut self) -> Option<ConnectionEnd> {
        let dpid = self.session.dpid()?;
        let wanted = self.ctx.masterships.as_ref()?.borrow().wanted(dpid);
        let outs = self.session.on_wanted(wanted);
        self.apply(outs)
    }

    /// Woken long after the timer was due: this process (or its runtime) stood still, and what
    /// is read in the next [`STALL_SLACK`] may have waited in the socket meanwhile.
    fn note_stall(&mut self, deadline: tokio::time::Instant) {
        if tokio::time::Instant::now() > deadline + STALL_SLACK {
            self.stalled_at = Some(Instant::now());
        }
    }

    fn session_timeout(&self) -> Duration {
        self.policy_rx.borrow().timers().echo_timeout
    }

    fn on_event(&mut self, ev: SessionEvent) -> Option<ConnectionEnd> {
        match ev {
            SessionEvent::DpidLearned { dpid } => return self.claim(dpid),
            SessionEvent::PhaseChanged { to } => {
                let state = sync_state(to);
                self.update(|s| s.sync_state = state);
            }
            SessionEvent::SyncSucceeded {
                generation,
                reason,
                added,
                removed,
                modified,
                desired,
                flows_on_switch,
            } => {
                let repaired = reason == super::sync_reason::SyncReason::Audit
                    && added + removed + modified > 0;
                self.update(|s| {
                    s.drifting_since = None;
                    s.counters.syncs_ok += 1;
                    if repaired {
                        s.counters.audit_repairs += 1;
                    }
                    s.synced_generation = Some(generation);
                    s.last_sync = Some(SystemTime::now());
                    s.flow_count = flows_on_switch;
                    s.desired_flows = desired;
                });
            }
            SessionEvent::DriftFound { reason } => {
                debug!(
                    reason = reason.name(),
                    "flows drifted from the policy; repairing"
                );
                let now = SystemTime::now();
                self.update(|s| {
                    s.drifting_since.get_or_insert(now);
                    s.last_drift = Some(now);
                });
            }
            SessionEvent::SyncFailed { error, .. } => {
                self.update(|s| {
                    s.counters.syncs_failed += 1;
                    s.last_error = Some(error);
                });
            }
            SessionEvent::SwitchError { names } => {
                self.update(|s| *s.counters.errors.entry(names).or_default() += 1);
            }
            SessionEvent::Sent {
                flow_mods,
                meter_mods,
            } => self.update(|s| {
                s.counters.flow_mods_sent += flow_mods as u64;
                s.counters.meter_mods_sent += meter_mods as u64;
            }),
            SessionEvent::MetersInUse(on) => self.update(|s| s.meters_in_use = on),
            SessionEvent::FailOpenProbe => self.fail_open.on_probe(self.handle.as_ref()),
            SessionEvent::RoleConfirmed { role, generation } => self.update(|s| {
                s.role = role;
                s.role_generation = Some(generation);
            }),
            SessionEvent::SteppedDown { fence } => {
                let dpid = self.session.dpid().map(Dpid);
                warn!(
                    ?dpid,
                    fence = fence.name(),
                    "stepped down: the switch fenced this instance off"
                );
                self.update(|s| {
                    s.role = "fenced";
                    *s.counters
                        .stepped_down
                        .entry(fence.name().to_owned())
                        .or_default() += 1;
                });
            }
            SessionEvent::SyncFinished {
                reason,
                ok,
                duration,
            } => {
                if let Some(dpid) = self.observed_dpid() {
                    self.ctx
                        .observations
                        .record_sync(dpid, reason.name(), ok, duration);
                }
            }
        }
        None
    }

    fn claim(&mut self, dpid: u64) -> Option<ConnectionEnd> {
        tracing::Span::current().record("dpid", Dpid(dpid).to_string());
        if self.counted_handshaking {
            self.ctx.registry.handshaking_add(-1);
            self.counted_handshaking = false;
        }
        let pin = self
            .policy_rx
            .borrow()
            .config()
            .policy()
            .cert_pin(Dpid(dpid));
        let peer = self.ctx.peer;
        let outcome = self.ctx.claims.claim(
            dpid,
            self.ctx.conn_id,
            peer,
            pin,
            self.taken_over.clone(),
            Instant::now(),
        );
        let refusal = match outcome {
            ClaimOutcome::Accepted => None,
            ClaimOutcome::TookOver { previous_peer, why } => {
                info!(%previous_peer, "same dpid connected again: this connection takes over ({}), the old one is closed", why.describe());
                None
            }
            ClaimOutcome::Refused(refusal) => Some(refusal),
        };
        if let Some(refusal) = refusal {
            log_refusal(dpid, &peer, &refusal);
            return Some(ConnectionEnd::Refused {
                dpid: Dpid(dpid).to_string(),
                why: refusal_reason(&refusal),
            });
        }
        let handle = self.ctx.registry.connect(
            dpid,
            self.ctx.conn_id,
            self.ctx.peer.addr,
            SystemTime::now(),
        );
        let name = self.policy_rx.borrow().switch_name(dpid);
        let role = self.session.role().name();
        handle.update(|s| {
            s.name = name;
            s.role = role;
            s.role_generation = None;
        });
        self.fail_open.on_claim(&handle);
        self.handle = Some(handle);
        None
    }

    /// A PACKET_IN goes to the offender table only from a connection that holds its dpid, and
    /// only when it is a sample of one of our drop flows ([`sample_trust`]); everything else
    /// is counted by reason and dropped. While the offender service's queue is full, samples
    /// are shed (counted) without being judged.
    fn on_packet_in(&mut self, packet_in: codec_bridge::PacketIn) {
        let guards = self.ctx.registry.guards();
        let dpid = match self.session.dpid() {
            Some(dpid) if self.handle.is_some() && !self.taken_over.is_cancelled() => dpid,
            _ => {
                guards.sample_rejected(SampleRejection::Unclaimed);
                return;
            }
        };
        // A full queue sheds the sample before it is even judged: when the offender service is
        // behind, a sample costs this connection its decoding and nothing more.
        if self
            .ctx
            .samples
            .as_ref()
            .is_some_and(|tx| tx.capacity() == 0)
        {
            guards.sample_shed();
            self.update(|s| {
                s.counters.packet_ins += 1;
                s.counters.packet_ins_dropped += 1;
            });
            return;
        }
        let verdict = {
            let policy = self.policy_rx.borrow();
            sample_trust::judge(&packet_in, policy.config().policy(), Dpid(dpid))
        };
        if let Err(why) = verdict {
            guards.sample_rejected(why);
            debug!(
                reason = why.name(),
                "packet-in is not a sample of our flows; dropped"
            );
            self.update(|s| s.counters.packet_ins += 1);
            return;
        }
        // Never wait for the offender service: a full queue sheds the sample, counted, so a
        // storm of samples cannot delay this connection's echoes or flow programming.
        let dropped = match &self.ctx.samples {
            Some(tx) => tx
                .try_send(PacketInSample::bounded(dpid, SystemTime::now(), packet_in))
                .is_err(),
            None => true,
        };
        if dropped {
            guards.sample_shed();
        }
        self.update(|s| {
            s.counters.packet_ins += 1;
            if dropped {
                s.counters.packet_ins_dropped += 1;
            }
        });
    }

    /// The dpid to record observations under; `None` before the handshake and once a newer
    /// connection took the dpid over (its reads and syncs are the current ones, and the
    /// registry may forget the dpid after that connection ends: nothing here may bring the
    /// entry back).
    fn observed_dpid(&self) -> Option<u64> {
        self.session
            .dpid()
            .filter(|_| !self.taken_over.is_cancelled())
    }

    fn update(&self, f: impl FnOnce(&mut crate::fleet::registry::SwitchStatus)) {
        if let Some(h) = &self.handle {
            h.update(f);
        }
    }

    fn log_end(&self, end: &ConnectionEnd) {
        match end {
            ConnectionEnd::Session(
                CloseReason::Incompatible { .. }
                | CloseReason::HelloFailed { .. }
                | CloseReason::HandshakeTimeout { .. }
                | CloseReason::Silent { .. }
                | CloseReason::HandshakeRejected { .. }
                | CloseReason::ProtocolViolation(_)
                | CloseReason::ReplyBytesOverCap { .. },
            )
            | ConnectionEnd::Malformed(_)
            | ConnectionEnd::WriterStalled(_)
            | ConnectionEnd::Write(_)
            | ConnectionEnd::Read(_) => warn!(reason = %end, "closing switch connection"),
            // Logged with the details by `claim` (WARNING, or ERROR for a conflict).
            ConnectionEnd::Refused { .. }
            | ConnectionEnd::PeerClosed
            | ConnectionEnd::TakenOver
            | ConnectionEnd::Shutdown => {
                info!(reason = %end, "switch connection closed");
            }
        }
    }

    fn finish(&mut self) {
        if self.counted_handshaking {
            self.ctx.registry.handshaking_add(-1);
            self.counted_handshaking = false;
        }
        if let Some(dpid) = self.session.dpid() {
            self.ctx.claims.release(dpid, self.ctx.conn_id);
            if let Some(h) = &self.handle {
                if let Some(at) = self.last_rx {
                    self.fail_open.on_end(h, at);
                }
                let conn = self.ctx.conn_id;
                h.update(|s| {
                    // A newer connection may already own the entry: leave it alone.
                    if s.connection == Some(conn) {
                        s.connected = false;
                        s.connection = None;
                        s.sync_state = SyncState::Disconnected;
                        s.drifting_since = None;
                    }
                });
            }
        }
    }
}

/// One line for a refused claim: WARNING with the claimant's address (and certificate), ERROR
/// once when it detected a conflict.
fn log_refusal(dpid: u64, peer: &PeerIdentity, refusal: &Refusal) {
    let dpid = Dpid(dpid);
    match refusal {
        Refusal::Unbound {
            pinned,
            presented,
            holder_peer,
        } => {
            let presented =
                presented.map_or_else(|| "none (plain TCP)".to_owned(), |c| c.to_string());
            warn!(%dpid, claimant = %peer.addr, %presented, %pinned, holder = ?holder_peer, "claim refused: the dpid is pinned to another certificate; the switch holding it (if any) is not disturbed");
        }
        Refusal::HolderAlive { holder_peer } => {
            warn!(%dpid, claimant = %peer, %holder_peer, "claim refused: a live session from another address holds this dpid (a switch reconnecting from the same host, or from the dpid's home address, would take over); if this is the real switch at a new address, it gets the dpid once the old session ends");
        }
        Refusal::HoldDown {
            holder_peer,
            until,
            conflict_detected: true,
        } => {
            error!(
                %dpid,
                peer_a = %holder_peer,
                peer_b = %peer,
                hold_down = ?until.saturating_duration_since(Instant::now()),
                "two switches share one dpid (they keep taking over from each other): keeping {holder_peer}, refusing {} and any newer claimant during the hold-down; fix the datapath-id of one of them",
                peer.addr
            );
        }
        Refusal::HoldDown { holder_peer, .. } => {
            warn!(%dpid, claimant = %peer, %holder_peer, "claim refused: dpid conflict hold-down");
        }
    }
}

/// The refusal, for the connection's end reason.
fn refusal_reason(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Unbound { .. } => "the dpid is pinned to another certificate".to_owned(),
        Refusal::HolderAlive { holder_peer } => {
            format!("held by a live session from {holder_peer}")
        }
        Refusal::HoldDown { holder_peer, .. } => {
            format!("held by {holder_peer} (hold-down after flapping)")
        }
    }
}

fn sync_state(phase: Phase) -> SyncState {
    match phase {
        Phase::AwaitHello | Phase::AwaitFeatures | Phase::AwaitPortDesc => SyncState::Handshaking,
        Phase::Syncing => SyncState::Syncing,
        Phase::InSync => SyncState::InSync,
        Phase::RetryWait { .. } => SyncState::RetryWait,
        Phase::Standby => SyncState::Standby,
        Phase::Closed => SyncState::Disconnected,
    }
}

/// The receiver back once the masterships changed (`false`: none, or the sender is gone).
async fn next_view(
    rx: Option<watch::Receiver<Arc<MastershipView>>>,
) -> (bool, Option<watch::Receiver<Arc<MastershipView>>>) {
    match rx {
        Some(mut rx) => {
            let changed = rx.changed().await.is_ok();
            (changed, Some(rx))
        }
        None => std::future::pending().await,
    }
}

/// The receiver back once the policy changed (`false`: the sender is gone, shutting down).
async fn next_policy(
    mut rx: watch::Receiver<Arc<ActivePolicy>>,
) -> (bool, watch::Receiver<Arc<ActivePolicy>>) {
    let changed = rx.changed().await.is_ok();
    (changed, rx)
}
