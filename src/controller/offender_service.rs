//! The offender service: the async edge around the pure offender core ([`crate::offenders`]).
//!
//! Sessions hand every PACKET_IN of a sampling drop flow to this service over a bounded
//! channel ([`PacketInSample`], sent with `try_send`: a full channel drops the sample and the
//! session counts it, so a burst never slows a switch connection). One task owns the receiving
//! end and:
//!
//! 1. parses each sample ([`parse_sample`]), counting malformed ones per switch;
//! 2. records it in the [`OffenderTable`] (behind a `parking_lot::Mutex` held only for the
//!    `record` call; the API takes the same lock to read the table);
//! 3. on an [`InfectionEvent`] (with the sampled frame attached as evidence) logs one WARN
//!    line `likely infected subscriber` with the subscriber's fields, and hands the event to a
//!    dedicated writer thread ([`ReportOutputs`]), which builds the X-ARF v4 report
//!    ([`XarfReport`], a random UUID v4 `report_id` from the OS), writes its line to the
//!    [`ReportSink`] (blocking file or stdout I/O never runs on the async runtime) and offers
//!    it to the `report_command` runner's queue
//!    ([`crate::controller::report_command`]: never waits for the command);
//! 4. every `expire_every` removes entries idle for the table's window.
//!
//! In a cluster ([`OffenderHandle::set_claims`]) step 3 first claims the report in etcd
//! ([`ReportClaims`], under `offenders::cluster_share::claim_name`) on a task of its own (at most
//! [`CLAIMS_IN_FLIGHT`] at once and `offenders::cluster_share::CLAIMS_PER_SECOND` a second): won, the report is written here; claimed by another instance,
//! it is not (logged at INFO, counted); etcd unavailable, or too many claims in flight, it is
//! written here anyway and counted: a report is never lost to etcd, at the price of a possible
//! duplicate while etcd is out.
//!
//! The task ends when the shutdown token is cancelled or every sender is dropped; the writer
//! thread then drains what it has and ends too.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::cluster::report_claims::{ClaimOutcome, ReportClaims, CLAIM_TIMEOUT};
use crate::controller::report_command::{
    CommandCounters, CommandCounts, CommandSpec, ReportCommandRunner,
};
use crate::fleet::registry::ForgetDpids;
use crate::offenders::cluster_share::{
    claim_name, ClaimBudget, PublishedOffenders, CLAIMS_PER_SECOND, PUBLISH_MAX,
};
use crate::offenders::{
    parse_sample, InfectionEvent, OffenderConfig, OffenderConfigError, OffenderStats,
    OffenderTable, OffenderView, ReportConfig, ReportId, ReportSink, SampleContext, Transport,
    UnixMillis, XarfReport,
};
use crate::policy::Dpid;
use crate::session::codec_bridge::PacketInSample;

/// How the service runs. [`Default`] uses the table's defaults.
#[derive(Clone, Debug)]
pub struct OffenderServiceConfig {
    /// Thresholds and bounds of the table (see [`OffenderConfig::from`] for the policy's
    /// `[reporting]`).
    pub table: OffenderConfig,
    /// Capacity of the sample channel. At 20 samples/s per switch, 4096 is 200 switch-seconds
    /// of samples. Each sample is bounded in bytes by the session
    /// ([`PacketInSample::bounded`]: the packet's first 256 bytes and the input port), so the
    /// channel holds at most about 4096 x 400 bytes (1.6 MiB) whatever switches send.
    pub channel_capacity: usize,
    /// How often idle entries are expired.
    pub expire_every: Duration,
    /// Infection events waiting for the report writer; past it events are logged but not
    /// written (counted in `reports_dropped`).
    pub report_queue: usize,
}

impl Default for OffenderServiceConfig {
    fn default() -> Self {
        Self {
            table: OffenderConfig::default(),
            channel_capacity: 4096,
            expire_every: Duration::from_secs(10),
            report_queue: 1024,
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum OffenderServiceError {
    #[error("cannot start the offender service: {0}")]
    Config(#[from] OffenderConfigError),
    #[error("cannot start the offender service: channel capacity must be at least 1")]
    ZeroChannel,
    #[error("cannot start the report writer thread")]
    WriterThread(#[source] std::io::Error),
    #[error("cannot start the report_command thread")]
    CommandThread(#[source] std::io::Error),
}

/// Where reports go: the file (or stdout) sink and the command, either or both or neither,
/// and who the reports name as sender.
#[derive(Debug, Default)]
pub struct ReportOutputs {
    pub config: ReportConfig,
    pub sink: Option<ReportSink>,
    pub command: Option<CommandSpec>,
}

impl ReportOutputs {
    /// Reports to `sink` only.
    pub fn sink(sink: ReportSink, config: ReportConfig) -> Self {
        Self {
            config,
            sink: Some(sink),
            command: None,
        }
    }

    /// Nothing is written: events are only logged.
    pub fn none() -> Self {
        Self::default()
    }

    fn is_empty(&self) -> bool {
        self.sink.is_none() && self.command.is_none()
    }
}

/// Samples seen from one switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SwitchSampleCounts {
    /// Samples received by the service.
    pub samples: u64,
    /// Samples whose TCP header opens a connection (SYN without ACK/RST).
    pub connection_attempts: u64,
    /// Samples that could not be parsed, or lacked the `in_port` match field.
    pub malformed: u64,
}

/// Everything the metrics and the API show about the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OffenderSummary {
    /// Subscribers tracked now.
    pub tracked: usize,
    /// Subscribers flagged as likely infected now.
    pub flagged: usize,
    /// The table's running totals (evicted, expired, flagged events).
    pub table: OffenderStats,
    /// Reports written to the sink.
    pub reports_written: u64,
    /// Reports the sink failed to write.
    pub report_errors: u64,
    /// Events not written because the writer's queue was full or gone.
    pub reports_dropped: u64,
    /// `report_command` runs, failures and drops.
    pub report_command: CommandCounts,
    /// Per switch, sorted by dpid.
    pub switches: BTreeMap<u64, SwitchSampleCounts>,
}

#[derive(Debug, Default)]
struct ReportCounters {
    written: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
    command: Arc<CommandCounters>,
}

struct Shared {
    table: Mutex<OffenderTable>,
    switches: Mutex<BTreeMap<u64, SwitchSampleCounts>>,
    reports: ReportCounters,
    /// The report writer thread's queue (`None`: events are only logged). Replaced by
    /// [`OffenderHandle::set_outputs`]; the old writer drains its queue and ends.
    writer: Mutex<Option<std_mpsc::SyncSender<InfectionEvent>>>,
    report_queue: usize,
    /// In a cluster: reports are claimed before they are written.
    claims: Mutex<Option<ReportClaims>>,
    claim_slots: Arc<tokio::sync::Semaphore>,
    claim_budget: Mutex<ClaimBudget>,
    /// Reports written without a claim because [`CLAIMS_IN_FLIGHT`] claims were running or
    /// the second's claims were spent.
    claims_skipped: AtomicU64,
}

/// Report claims running at once; past it a report is written unclaimed (counted).
pub const CLAIMS_IN_FLIGHT: usize = 64;

/// Per-switch sample counts go when the registry forgets the switch (bounded like the registry).
impl ForgetDpids for Shared {
    fn forget_dpids(&self, dpids: &[u64]) {
        let mut map = self.switches.lock();
        for dpid in dpids {
            map.remove(dpid);
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// A cheap, cloneable read handle on the running service (for the API and metrics).
#[derive(Clone, Debug)]
pub struct OffenderHandle {
    shared: Arc<Shared>,
}

impl OffenderHandle {
    /// What to hand [`crate::fleet::registry::Registry::forget_with`] so the per-switch
    /// sample counts of a forgotten switch are forgotten too (the registry holds it weakly; it
    /// stays valid as long as any handle does).
    pub fn forgetter(&self) -> Arc<dyn ForgetDpids> {
        self.shared.clone()
    }

    /// The `limit` worst subscribers (flagged first, then most attempts); with `flagged_only`
    /// only flagged ones.
    pub fn top(&self, limit: usize, flagged_only: bool) -> Vec<OffenderView> {
        let table = self.shared.table.lock();
        let mut views = table.top(limit);
        drop(table);
        if flagged_only {
            // `top` ranks flagged entries first, so the flagged ones among the first `limit`
            // are the first `min(limit, flagged)` flagged ones.
            views.retain(|v| v.flagged);
        }
        views
    }

    /// Counters and sizes, for metrics.
    pub fn summary(&self) -> OffenderSummary {
        let (tracked, flagged, table) = {
            let t = self.shared.table.lock();
            (t.len(), t.flagged_count(), t.stats())
        };
        let switches = self.shared.switches.lock().clone();
        let r = &self.shared.reports;
        OffenderSummary {
            tracked,
            flagged,
            table,
            reports_written: r.written.load(Ordering::Relaxed),
            report_errors: r.errors.load(Ordering::Relaxed),
            reports_dropped: r.dropped.load(Ordering::Relaxed),
            report_command: r.command.snapshot(),
            switches,
        }
    }

    /// Counts one sample into the table, as the service task does; returns the event when it
    /// flags a subscriber. Public so tests and tools can feed the table without a channel.
    pub fn ingest(&self, sample: &PacketInSample) -> Option<InfectionEvent> {
        let dpid = sample.dpid;
        let parsed = sample
            .packet_in
            .in_port()
            .ok_or_else(|| "PACKET_IN without an in_port match field".to_owned())
            .and_then(|in_port| {
                parse_sample(&sample.packet_in.data)
                    .map(|s| (in_port, s))
                    .map_err(|e| e.to_string())
            });
        let (in_port, parsed) = match parsed {
            Ok(ok) => ok,
            Err(reason) => {
                debug!(dpid = %Dpid(dpid), %reason, "sample ignored");
                self.count(dpid, |c| c.malformed += 1);
                return None;
            }
        };
        let attempt = matches!(parsed.transport, Transport::Tcp(t) if t.is_connection_attempt());
        self.count(dpid, |c| {
            if attempt {
                c.connection_attempts += 1;
            }
        });
        let context = SampleContext {
            dpid,
            in_port,
            now: UnixMillis::from_system_time(sample.received),
        };
        let event = self.shared.table.lock().record(&parsed, context)?;
        Some(event.with_sample_frame(&sample.packet_in.data))
    }

    /// Removes idle entries; returns how many.
    pub fn expire(&self, now: UnixMillis) -> usize {
        self.shared.table.lock().expire(now)
    }

    /// Applies new thresholds and bounds (a policy reload). When they differ from the table's,
    /// the table is rebuilt empty: the tracked subscribers are forgotten (returned count) and
    /// counted again from the next samples. Per-switch sample counts and report counters stay.
    /// On an invalid config the table in force stays.
    pub fn reconfigure(
        &self,
        config: OffenderConfig,
    ) -> Result<Option<usize>, OffenderConfigError> {
        let mut table = self.shared.table.lock();
        if *table.config() == config {
            return Ok(None);
        }
        let fresh = OffenderTable::new(config)?;
        let forgotten = table.len();
        *table = fresh;
        Ok(Some(forgotten))
    }

    /// Sends future reports to `outputs` (none: only log them). A new writer thread (and
    /// command runner) takes over; the previous ones handle what they have queued and end.
    pub fn set_outputs(&self, outputs: ReportOutputs) -> Result<(), OffenderServiceError> {
        let writer = if outputs.is_empty() {
            None
        } else {
            Some(spawn_writer(
                outputs,
                self.shared.report_queue,
                self.clone(),
            )?)
        };
        *self.shared.writer.lock() = writer;
        Ok(())
    }

    /// This instance's share of the cluster's offender list: its worst entries, bounded
    /// (`offenders::cluster_share::PUBLISH_MAX`). Ranks the whole table: call it off the async
    /// threads.
    pub fn published(&self, instance: &str) -> PublishedOffenders {
        let (tracked, flagged) = {
            let t = self.shared.table.lock();
            (t.len(), t.flagged_count())
        };
        PublishedOffenders::new(
            instance,
            UnixMillis::now(),
            tracked,
            flagged,
            self.top(PUBLISH_MAX, false),
        )
    }

    /// In a cluster: claim every report in etcd before writing it (see the module docs).
    pub fn set_claims(&self, claims: ReportClaims) {
        *self.shared.claims.lock() = Some(claims);
    }

    /// Reports written without a claim because too many claims were in flight or sent this
    /// second.
    pub fn claims_skipped(&self) -> u64 {
        self.shared.claims_skipped.load(Ordering::Relaxed)
    }

    /// An infection event: logged, then written (claimed first in a cluster).
    fn dispatch(&self, event: InfectionEvent) {
        log_event(&event);
        if self.shared.writer.lock().is_none() {
            // No report sink: nothing to write, nothing to claim (a claim won here would keep
            // an instance that does write from reporting the subscriber).
            return;
        }
        let Some(claims) = self.shared.claims.lock().clone() else {
            self.report(event);
            return;
        };
        let budget = self
            .shared
            .claim_budget
            .lock()
            .take(UnixMillis::now(), CLAIMS_PER_SECOND);
        let slot = if budget {
            self.shared.claim_slots.clone().try_acquire_owned().ok()
        } else {
            None
        };
        let Some(slot) = slot else {
            let skipped = self.shared.claims_skipped.fetch_add(1, Ordering::Relaxed);
            if skipped.is_power_of_two() {
                warn!(source_ip = %event.source_ip, skipped = skipped + 1, "too many report claims (per second or in flight): report written unclaimed (a duplicate is possible)");
            }
            self.report(event);
            return;
        };
        let window = self.shared.table.lock().config().window;
        let handle = self.clone();
        tokio::spawn(async move {
            let name = claim_name(&event);
            match claims.claim(&name, window).await {
                ClaimOutcome::Won => handle.report(event),
                ClaimOutcome::Lost { by } => {
                    info!(claim = %name, by = %by, switch = %Dpid(event.dpid), "report already claimed in the cluster: not written here");
                }
                ClaimOutcome::Unavailable(e) => {
                    warn!(claim = %name, error = %e, "report claim impossible (etcd): written unclaimed, a duplicate is possible");
                    handle.report(event);
                }
            }
            drop(slot);
        });
    }

    /// Hands a flagging event to the report writer, if any; counts it as dropped when the
    /// queue is full or the writer is gone.
    fn report(&self, event: InfectionEvent) {
        let writer = self.shared.writer.lock();
        let Some(w) = writer.as_ref() else {
            return;
        };
        if w.try_send(event).is_err() {
            self.shared.reports.dropped.fetch_add(1, Ordering::Relaxed);
            warn!("abuse report queue full or writer gone: report not written");
        }
    }

    fn count(&self, dpid: u64, f: impl FnOnce(&mut SwitchSampleCounts)) {
        let mut map = self.shared.switches.lock();
        let entry = map.entry(dpid).or_default();
        entry.samples += 1;
        f(entry);
    }
}

/// The running service: its read handle, the sender sessions use, and the task.
#[derive(Debug)]
pub struct OffenderService {
    pub handle: OffenderHandle,
    pub samples: mpsc::Sender<PacketInSample>,
    pub task: JoinHandle<()>,
}

impl OffenderService {
    /// Starts the service on the current tokio runtime. `outputs`: where reports go (none:
    /// events are only logged and shown by the API). Ends on `shutdown` or when every sender
    /// is dropped.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the service is configured once, from a value built for it"
    )]
    pub fn spawn(
        config: OffenderServiceConfig,
        outputs: ReportOutputs,
        shutdown: CancellationToken,
    ) -> Result<Self, OffenderServiceError> {
        if config.channel_capacity == 0 {
            return Err(OffenderServiceError::ZeroChannel);
        }
        let table = OffenderTable::new(config.table.clone())?;
        let shared = Arc::new(Shared {
            table: Mutex::new(table),
            switches: Mutex::new(BTreeMap::new()),
            reports: ReportCounters::default(),
            writer: Mutex::new(None),
            report_queue: config.report_queue.max(1),
            claims: Mutex::new(None),
            claim_slots: Arc::new(tokio::sync::Semaphore::new(CLAIMS_IN_FLIGHT)),
            claim_budget: Mutex::new(ClaimBudget::default()),
            claims_skipped: AtomicU64::new(0),
        });
        let handle = OffenderHandle { shared };
        handle.set_outputs(outputs)?;
        let (tx, rx) = mpsc::channel(config.channel_capacity);
        let task = tokio::spawn(run(
            handle.clone(),
            rx,
            config.expire_every.max(Duration::from_millis(100)),
            shutdown,
        ));
        Ok(Self {
            handle,
            samples: tx,
            task,
        })
    }
}

/// A fresh random report id (the OS's random source; if that ever failed, a hash of the
/// time and a counter, still unique within this process).
fn fresh_report_id(sequence: u64) -> ReportId {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        use sha2::{Digest, Sha256};
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let digest = Sha256::digest(format!("{nanos}.{sequence}.{}", std::process::id()));
        bytes.copy_from_slice(&digest[..16]);
    }
    ReportId::from_random_bytes(bytes)
}

fn spawn_writer(
    outputs: ReportOutputs,
    queue: usize,
    handle: OffenderHandle,
) -> Result<std_mpsc::SyncSender<InfectionEvent>, OffenderServiceError> {
    let ReportOutputs {
        config,
        mut sink,
        command,
    } = outputs;
    let runner = command
        .map(|spec| ReportCommandRunner::start(spec, handle.shared.reports.command.clone()))
        .transpose()
        .map_err(OffenderServiceError::CommandThread)?;
    let (tx, rx) = std_mpsc::sync_channel::<InfectionEvent>(queue);
    std::thread::Builder::new()
        .name("op25b-reports".to_owned())
        .spawn(move || {
            let counters = &handle.shared.reports;
            let mut sequence = 0u64;
            for event in rx {
                sequence = sequence.wrapping_add(1);
                let report = XarfReport::from_event(&event, &config, fresh_report_id(sequence));
                let line = match report.to_json_line() {
                    Ok(line) => line,
                    Err(e) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        error!(error = %e, source_ip = %event.source_ip, "cannot encode abuse report");
                        continue;
                    }
                };
                if let Some(sink) = sink.as_mut() {
                    match sink.write_line(&line) {
                        Ok(()) => {
                            counters.written.fetch_add(1, Ordering::Relaxed);
                            debug!(report_id = %report.report_id, target = sink.target(), "abuse report written");
                        }
                        Err(e) => {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                            error!(target = sink.target(), error = %e, source_ip = %event.source_ip, "cannot write abuse report");
                        }
                    }
                }
                if let Some(runner) = &runner {
                    runner.offer(line);
                }
            }
        })
        .map_err(OffenderServiceError::WriterThread)?;
    Ok(tx)
}

fn log_event(event: &InfectionEvent) {
    warn!(
        switch = %Dpid(event.dpid),
        port = event.in_port,
        source_mac = %event.source_mac,
        source_ip = %event.source_ip,
        attempts = event.attempts_in_window,
        distinct_destinations = event.distinct_destinations_in_window,
        total_attempts = event.total_attempts,
        last_destination = %event.destination_ip,
        destination_port = event.destination_port,
        "likely infected subscriber"
    );
}

async fn run(
    handle: OffenderHandle,
    mut rx: mpsc::Receiver<PacketInSample>,
    expire_every: Duration,
    shutdown: CancellationToken,
) {
    let mut expiry = tokio::time::interval(expire_every);
    expiry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = expiry.tick() => {
                let removed = handle.expire(UnixMillis::now());
                if removed > 0 {
                    debug!(removed, "idle offender entries expired");
                }
            }
            got = rx.recv() => {
                let Some(sample) = got else { break };
                let Some(event) = handle.ingest(&sample) else { continue };
                handle.dispatch(event);
            }
        }
    }
    // Claims still running hand their report to the writer: wait for them (each gives up after
    // `CLAIM_TIMEOUT`), so a report is not lost to shutdown.
    let slots = u32::try_from(CLAIMS_IN_FLIGHT).unwrap_or(u32::MAX);
    let all = handle.shared.claim_slots.acquire_many(slots);
    if tokio::time::timeout(CLAIM_TIMEOUT + Duration::from_secs(1), all)
        .await
        .is_err()
    {
        warn!("report claims still running at shutdown; their reports may be lost");
    }
    // The writer thread ends once its queue is drained.
    handle.set_outputs(ReportOutputs::none()).ok();
    info!("offender service stopped");
}

#[cfg(test)]
#[path = "offender_service_tests.rs"]
mod tests;
