//! The tokio task of one switch connection: reads frames, feeds the [`SwitchSession`], writes what
//! it asks for, runs its timer, applies its events to the registry.
//!
//! Generic over the stream (`AsyncRead + AsyncWrite + Unpin + Send`), so TLS can wrap it later.
//! One writer task per connection drains two bounded queues: urgent (echo traffic, the
//! HELLO_FAILED error) before bulk (flow mods), so an ECHO_REQUEST is never answered behind a burst
//! of flow mods. The read buffer is bounded by the framer (one frame is at most 64 KiB).

use super::codec_bridge::{self, PacketInSample};
use super::machine::{CloseReason, Output, Phase, SessionEvent, SwitchSession};
use super::switch_policy::SwitchPolicy;
use crate::controller::active_policy::ActivePolicy;
use crate::controller::dpid_claims::{ClaimOutcome, ConnId, DpidClaims};
use crate::controller::registry::{format_dpid, Registry, SwitchHandle, SyncState};
use crate::metrics::SwitchObservations;
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn, Instrument};

/// Urgent queue depth (echo requests/replies).
const URGENT_QUEUE: usize = 64;
/// Bulk queue depth (flow mods and requests).
const BULK_QUEUE: usize = 1024;
/// Room reserved before each read. Small, because an idle switch sends 16-byte echoes: the
/// buffer grows (by reserving for the frame being read, up to the 64 KiB OpenFlow bound) only
/// when a switch sends large replies, and is given back once it has been drained.
const READ_CHUNK: usize = 1024;
/// A drained read buffer bigger than this is freed, back to [`READ_CHUNK`].
const READ_KEEP: usize = 4 * READ_CHUNK;
/// How long the writer gets to flush after the session ended (e.g. the HELLO_FAILED error).
const FLUSH_GRACE: Duration = Duration::from_secs(2);

/// What a connection needs from the controller.
#[derive(Debug, Clone)]
pub struct ConnectionContext {
    pub conn_id: ConnId,
    pub peer: SocketAddr,
    pub registry: Arc<Registry>,
    pub claims: Arc<DpidClaims>,
    pub policy: watch::Receiver<Arc<ActivePolicy>>,
    /// Packet-in samples for the offender table (bounded; full means dropped and counted).
    pub samples: Option<mpsc::Sender<PacketInSample>>,
    /// Flow reads, desired flows and sync durations, for the API and metrics.
    pub observations: Arc<SwitchObservations>,
    pub shutdown: CancellationToken,
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionEnd {
    #[error("{0}")]
    Session(CloseReason),
    #[error("malformed bytes from the switch: {0}")]
    Malformed(String),
    #[error("switch closed the connection")]
    PeerClosed,
    #[error("read error: {0}")]
    Read(std::io::Error),
    #[error("the writer stopped (write error or the switch stopped reading for {0:?})")]
    WriterStalled(Duration),
    #[error("a newer connection took over this dpid")]
    TakenOver,
    #[error("dpid {dpid} is held by {holder}; refused (hold-down after flapping)")]
    Refused { dpid: String, holder: SocketAddr },
    #[error("controller shutting down")]
    Shutdown,
}

type Session = SwitchSession<ActivePolicy, codec_bridge::PacketIn>;

/// Runs one connection to its end. Never panics on anything the switch sends.
pub async fn run_connection<S>(stream: S, ctx: ConnectionContext)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let span = tracing::info_span!("switch", peer = %ctx.peer, dpid = tracing::field::Empty);
    Connection::new(ctx).run(stream).instrument(span).await
}

struct Connection {
    ctx: ConnectionContext,
    policy_rx: watch::Receiver<Arc<ActivePolicy>>,
    session: Session,
    handle: Option<SwitchHandle>,
    taken_over: CancellationToken,
    urgent: Option<mpsc::Sender<Bytes>>,
    bulk: Option<mpsc::Sender<Bytes>>,
    counted_handshaking: bool,
}

impl Connection {
    fn new(ctx: ConnectionContext) -> Self {
        let mut policy_rx = ctx.policy.clone();
        let policy = policy_rx.borrow_and_update().clone();
        let first_xid = ((ctx.conn_id as u32) << 12) | 1;
        let session = Session::new(ctx.peer, policy, first_xid, Instant::now());
        Self {
            ctx,
            policy_rx,
            session,
            handle: None,
            taken_over: CancellationToken::new(),
            urgent: None,
            bulk: None,
            counted_handshaking: false,
        }
    }

    async fn run<S>(mut self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        debug!("connection accepted");
        self.ctx.registry.handshaking_add(1);
        self.counted_handshaking = true;
        let (mut rd, wr) = tokio::io::split(stream);
        let (urgent_tx, urgent_rx) = mpsc::channel(URGENT_QUEUE);
        let (bulk_tx, bulk_rx) = mpsc::channel(BULK_QUEUE);
        self.urgent = Some(urgent_tx);
        self.bulk = Some(bulk_tx);
        let writer = tokio::spawn(write_loop(wr, urgent_rx, bulk_rx).in_current_span());

        let end = self.drive(&mut rd).await;
        self.session.mark_closed(&end.to_string());
        self.log_end(&end);

        // Let the writer flush what is queued (e.g. HELLO_FAILED), then close our half.
        self.urgent = None;
        self.bulk = None;
        match tokio::time::timeout(FLUSH_GRACE, writer).await {
            Ok(Ok(Err(e))) => debug!(error = %e, "writer ended with an error"),
            Ok(_) => {}
            Err(_) => debug!("writer did not finish flushing in time"),
        }
        self.finish();
    }

    async fn drive<R: AsyncRead + Unpin>(&mut self, rd: &mut R) -> ConnectionEnd {
        let outs = self.session.start();
        if let Some(end) = self.apply(outs).await {
            return end;
        }
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        // One cancellation future each for the connection's life (creating them per read
        // takes a lock each time).
        let shutdown = self.ctx.shutdown.clone();
        let taken = self.taken_over.clone();
        let shutdown = shutdown.cancelled();
        let taken = taken.cancelled();
        tokio::pin!(shutdown, taken);
        loop {
            let deadline = tokio::time::Instant::from_std(self.session.next_deadline());
            if buf.is_empty() && buf.capacity() > READ_KEEP {
                buf = BytesMut::with_capacity(READ_CHUNK);
            }
            buf.reserve(codec_bridge::missing_bytes(&buf).max(READ_CHUNK));
            tokio::select! {
                biased;
                () = &mut shutdown => return ConnectionEnd::Shutdown,
                () = &mut taken => return ConnectionEnd::TakenOver,
                read = rd.read_buf(&mut buf) => {
                    match read {
                        Ok(0) => return ConnectionEnd::PeerClosed,
                        Err(e) => return ConnectionEnd::Read(e),
                        Ok(_) => {}
                    }
                    loop {
                        let frame = match codec_bridge::next_frame(&mut buf) {
                            Ok(Some(f)) => f,
                            Ok(None) => break,
                            Err(e) => return ConnectionEnd::Malformed(e),
                        };
                        let (xid, msg) = match codec_bridge::decode(&frame, self.session.phase()) {
                            Ok(m) => m,
                            Err(e) => return ConnectionEnd::Malformed(e),
                        };
                        let outs = self.session.on_message(xid, msg, Instant::now());
                        if let Some(end) = self.apply(outs).await {
                            return end;
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let outs = self.session.on_tick(Instant::now());
                    if let Some(end) = self.apply(outs).await {
                        return end;
                    }
                }
                changed = self.policy_rx.changed() => {
                    if changed.is_err() {
                        return ConnectionEnd::Shutdown;
                    }
                    let policy = self.policy_rx.borrow_and_update().clone();
                    let outs = self.session.on_policy(policy, Instant::now());
                    if let Some(end) = self.apply(outs).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Carries out the session's outputs; `Some` when the connection must end.
    async fn apply(
        &mut self,
        outs: Vec<
            Output<
                <ActivePolicy as SwitchPolicy>::Msg,
                codec_bridge::FlowEntry,
                codec_bridge::PacketIn,
            >,
        >,
    ) -> Option<ConnectionEnd> {
        for out in outs {
            match out {
                Output::Send { xid, msg } => {
                    let bytes = codec_bridge::encode(xid, &msg);
                    let stall = self.session_timeout();
                    let Some(bulk) = &self.bulk else {
                        return Some(ConnectionEnd::WriterStalled(stall));
                    };
                    match tokio::time::timeout(stall, bulk.send(bytes)).await {
                        Ok(Ok(())) => {}
                        _ => return Some(ConnectionEnd::WriterStalled(stall)),
                    }
                }
                Output::SendUrgent { xid, msg } => {
                    let bytes = codec_bridge::encode(xid, &msg);
                    let Some(urgent) = &self.urgent else {
                        return Some(ConnectionEnd::WriterStalled(Duration::ZERO));
                    };
                    if urgent.try_send(bytes).is_err() {
                        return Some(ConnectionEnd::WriterStalled(self.session_timeout()));
                    }
                }
                Output::Event(ev) => {
                    if let Some(end) = self.on_event(ev) {
                        return Some(end);
                    }
                }
                Output::PacketIn(packet_in) => self.on_packet_in(packet_in),
                Output::FlowsRead(entries) => {
                    if let Some(dpid) = self.session.dpid() {
                        self.ctx
                            .observations
                            .record_flow_read(dpid, &entries, SystemTime::now());
                    }
                }
                Output::Close(reason) => return Some(ConnectionEnd::Session(reason)),
            }
        }
        None
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
                let repaired =
                    reason == super::machine::SyncReason::Audit && added + removed + modified > 0;
                self.update(|s| {
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
            SessionEvent::PlanComputed { meters } => {
                if let Some(dpid) = self.session.dpid() {
                    let desired = self
                        .policy_rx
                        .borrow()
                        .desired(&self.session.view(), meters);
                    self.ctx
                        .observations
                        .record_desired(dpid, &desired, SystemTime::now());
                }
            }
            SessionEvent::SyncFinished {
                reason,
                ok,
                duration,
            } => {
                if let Some(dpid) = self.session.dpid() {
                    self.ctx
                        .observations
                        .record_sync(dpid, reason.name(), ok, duration);
                }
            }
        }
        None
    }

    fn claim(&mut self, dpid: u64) -> Option<ConnectionEnd> {
        tracing::Span::current().record("dpid", format_dpid(dpid));
        if self.counted_handshaking {
            self.ctx.registry.handshaking_add(-1);
            self.counted_handshaking = false;
        }
        let outcome = self.ctx.claims.claim(
            dpid,
            self.ctx.conn_id,
            self.ctx.peer,
            self.taken_over.clone(),
            Instant::now(),
        );
        match outcome {
            ClaimOutcome::Accepted => {}
            ClaimOutcome::TookOver { previous_peer } => {
                info!(%previous_peer, "same dpid connected again: this connection takes over, the old one is closed");
            }
            ClaimOutcome::Refused {
                holder_peer,
                until,
                conflict_detected,
            } => {
                if conflict_detected {
                    error!(
                        dpid = %format_dpid(dpid),
                        peer_a = %holder_peer,
                        peer_b = %self.ctx.peer,
                        hold_down = ?until.saturating_duration_since(Instant::now()),
                        "two switches share one dpid (they keep taking over from each other): keeping {holder_peer}, refusing {} and any newer claimant during the hold-down; fix the datapath-id of one of them",
                        self.ctx.peer
                    );
                }
                return Some(ConnectionEnd::Refused {
                    dpid: format_dpid(dpid),
                    holder: holder_peer,
                });
            }
        }
        let handle =
            self.ctx
                .registry
                .connect(dpid, self.ctx.conn_id, self.ctx.peer, SystemTime::now());
        let name = self.policy_rx.borrow().switch_name(dpid);
        handle.update(|s| s.name = name);
        self.handle = Some(handle);
        None
    }

    fn on_packet_in(&mut self, packet_in: codec_bridge::PacketIn) {
        let Some(dpid) = self.session.dpid() else {
            return;
        };
        let dropped = match &self.ctx.samples {
            Some(tx) => tx
                .try_send(PacketInSample {
                    dpid,
                    received: SystemTime::now(),
                    packet_in,
                })
                .is_err(),
            None => true,
        };
        self.update(|s| {
            s.counters.packet_ins += 1;
            if dropped {
                s.counters.packet_ins_dropped += 1;
            }
        });
    }

    fn update(&self, f: impl FnOnce(&mut crate::controller::registry::SwitchStatus)) {
        if let Some(h) = &self.handle {
            h.update(f);
        }
    }

    fn log_end(&self, end: &ConnectionEnd) {
        match end {
            ConnectionEnd::Session(CloseReason::Incompatible { .. })
            | ConnectionEnd::Session(CloseReason::HelloFailed { .. })
            | ConnectionEnd::Session(CloseReason::HandshakeTimeout { .. })
            | ConnectionEnd::Session(CloseReason::Silent { .. })
            | ConnectionEnd::Session(CloseReason::HandshakeRejected { .. })
            | ConnectionEnd::Session(CloseReason::ProtocolViolation(_))
            | ConnectionEnd::Malformed(_)
            | ConnectionEnd::WriterStalled(_)
            | ConnectionEnd::Read(_)
            | ConnectionEnd::Refused { .. } => warn!(reason = %end, "closing switch connection"),
            ConnectionEnd::PeerClosed | ConnectionEnd::TakenOver | ConnectionEnd::Shutdown => {
                info!(reason = %end, "switch connection closed")
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
                let conn = self.ctx.conn_id;
                h.update(|s| {
                    // A newer connection may already own the entry: leave it alone.
                    if s.connection == Some(conn) {
                        s.connected = false;
                        s.connection = None;
                        s.sync_state = SyncState::Disconnected;
                    }
                });
            }
        }
    }
}

fn sync_state(phase: Phase) -> SyncState {
    match phase {
        Phase::AwaitHello | Phase::AwaitFeatures | Phase::AwaitPortDesc => SyncState::Handshaking,
        Phase::Syncing => SyncState::Syncing,
        Phase::InSync => SyncState::InSync,
        Phase::RetryWait { .. } => SyncState::RetryWait,
        Phase::Closed => SyncState::Disconnected,
    }
}

/// Writes urgent messages before bulk ones until both queues are closed, then closes the stream.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut urgent: mpsc::Receiver<Bytes>,
    mut bulk: mpsc::Receiver<Bytes>,
) -> std::io::Result<()> {
    let (mut urgent_open, mut bulk_open) = (true, true);
    while urgent_open || bulk_open {
        tokio::select! {
            biased;
            m = urgent.recv(), if urgent_open => match m {
                Some(b) => wr.write_all(&b).await?,
                None => urgent_open = false,
            },
            m = bulk.recv(), if bulk_open => match m {
                Some(b) => wr.write_all(&b).await?,
                None => bulk_open = false,
            },
        }
        if urgent.is_empty() && bulk.is_empty() {
            wr.flush().await?;
        }
    }
    wr.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_sends_urgent_messages_ahead_of_queued_bulk_ones() {
        let (urgent_tx, urgent_rx) = mpsc::channel(URGENT_QUEUE);
        let (bulk_tx, bulk_rx) = mpsc::channel(BULK_QUEUE);
        for i in 0..100u8 {
            bulk_tx.send(Bytes::from(vec![b'b', i])).await.unwrap();
        }
        urgent_tx.send(Bytes::from_static(b"UE")).await.unwrap();
        drop((urgent_tx, bulk_tx));
        let (client, mut server) = tokio::io::duplex(1 << 16);
        write_loop(client, urgent_rx, bulk_rx).await.unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(&got[..2], b"UE", "the echo goes first");
        assert_eq!(got.len(), 2 + 200);
        assert_eq!(&got[2..4], &[b'b', 0], "bulk order kept");
        assert_eq!(&got[200..], &[b'b', 99]);
    }
}
