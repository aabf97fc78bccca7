//! One sync run (kube-rs style, level-triggered): the meter steps when the policy wants meters
//! ([`super::meter_sync`]), then the flow steps ([`super::flow_sync`]): read our flows, ask the
//! policy for a plan, send its batches each followed by a BARRIER. The switch counts as in sync
//! only after the last barrier reply with no ERROR in between; an ERROR for any request of the
//! run, or no reply within the echo timeout, fails it. The run sends through the session's
//! [`Outputs`](super::output::Outputs) and says how it went ([`Progress`]); when it is done or
//! failed, the session decides what follows.

use super::flow_sync::{self, FlowPrefetch, FlowStep, PlanSummary};
use super::meter_sync::{MeterMove, MeterStatus, MeterStep};
use super::output::{Output, SessionEvent, SessionOutputs};
use super::session_policy::SessionPolicy;
use super::sync_reason::SyncReason;
use super::wire::Outbound;
use crate::flows::SwitchView;
use op25b_proto::MeterConfig;
use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// How a run stands after a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    Waiting,
    /// The last barrier is confirmed: the switch holds what the plan wanted.
    Done(PlanSummary),
    /// The run failed: why.
    Failed(String),
}

/// What a run works with, lent by the session for one call.
pub struct SyncCtx<'a, P: SessionPolicy + ?Sized, PI> {
    pub policy: &'a P,
    /// The switch as it described itself (meters supported).
    pub view: &'a SwitchView,
    /// The meters on the switch, as far as the session knows (kept across runs).
    pub meters: &'a mut MeterStatus,
    pub out: &'a mut SessionOutputs<P, PI>,
    pub now: Instant,
}

#[derive(Debug)]
enum Step<M> {
    Meters(MeterStep<M>),
    Flows(FlowStep<M>),
}

/// What a batch sent with a barrier holds, for [`SessionEvent::Sent`].
#[derive(Debug, Clone, Copy)]
enum ModKind {
    Flow,
    Meter,
}

/// A running sync.
#[derive(Debug)]
pub struct SyncRun<P: SessionPolicy + ?Sized> {
    reason: SyncReason,
    started: Instant,
    generation: u64,
    /// Every xid sent by this run: an ERROR for any of them is the run's.
    xids: HashSet<u32>,
    step: Step<P::Msg>,
    /// The current step's reply is due by then.
    deadline: Instant,
    /// Our flows, read ahead while the meters are being read and fixed.
    prefetch: Option<FlowPrefetch<P::FlowEntry>>,
    /// Our flows were read (and handed out) since the last [`SyncRun::take_flows_read`].
    flows_read: bool,
}

impl<P: SessionPolicy + ?Sized> SyncRun<P> {
    /// Starts a sync for `reason`: reads the meters first (our flows right behind) when the
    /// policy wants meters and they are not settled for this generation (or an audit verifies
    /// them), else reads our flows.
    pub fn start<PI>(reason: SyncReason, cx: &mut SyncCtx<'_, P, PI>) -> Self {
        let generation = cx.policy.generation();
        let adds = cx.policy.meter_adds(cx.view);
        let audit = reason == SyncReason::Audit;
        let mut run = Self {
            reason,
            started: cx.now,
            generation,
            xids: HashSet::new(),
            step: Step::Flows(FlowStep::Read { xid: 0 }),
            deadline: cx.now,
            prefetch: None,
            flows_read: false,
        };
        if !adds.is_empty() && cx.meters.must_read(generation, audit) {
            let xid = cx.out.send(Outbound::Policy(cx.policy.meters_request()));
            let flows_xid = cx.out.send(Outbound::Policy(cx.policy.flows_request()));
            run.prefetch = Some(FlowPrefetch::new(flows_xid));
            run.enter(Step::Meters(MeterStep::Read { xid }), [xid, flows_xid], cx);
        } else {
            if adds.is_empty() && *cx.meters != MeterStatus::Unknown {
                *cx.meters = MeterStatus::Unknown;
                cx.out.event(SessionEvent::MetersInUse(false));
            }
            run.read_flows(cx);
        }
        run
    }

    pub fn reason(&self) -> SyncReason {
        self.reason
    }

    /// `xid` is a request this run sent.
    pub fn asked(&self, xid: u32) -> bool {
        self.xids.contains(&xid)
    }

    /// `xid` is a read (METER_CONFIG or FLOW stats) this run waits for.
    pub fn reads(&self, xid: u32) -> bool {
        let ahead = self.prefetch.as_ref().is_some_and(|p| p.awaits(xid));
        let step = matches!(
            self.step,
            Step::Meters(MeterStep::Read { xid: x }) | Step::Flows(FlowStep::Read { xid: x })
                if x == xid
        );
        ahead || step
    }

    /// When the current step's reply is due.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Why the run fails at `now`, when the current step's reply did not come within
    /// `timeout`.
    pub fn overdue(&self, now: Instant, timeout: Duration) -> Option<String> {
        let what = match &self.step {
            Step::Meters(m) => m.awaits(),
            Step::Flows(f) => f.awaits(),
        };
        (now >= self.deadline).then(|| format!("no reply to {what} within {timeout:?}"))
    }

    /// Whether our flows were read (and handed out) since the last call: the counters are
    /// fresh.
    pub fn take_flows_read(&mut self) -> bool {
        std::mem::take(&mut self.flows_read)
    }

    /// The whole METER_CONFIG reply `xid`.
    pub fn on_meter_config<PI>(
        &mut self,
        xid: u32,
        entries: &[MeterConfig],
        cx: &mut SyncCtx<'_, P, PI>,
    ) -> Progress {
        let next = match &self.step {
            Step::Meters(m) => m.on_config(xid, entries, cx.policy, cx.view),
            Step::Flows(_) => {
                debug!(xid, "METER_CONFIG reply out of step ignored");
                return Progress::Waiting;
            }
        };
        self.meter_move(next, cx)
    }

    /// The whole FLOW stats reply `xid`.
    pub fn on_flow_stats<PI>(
        &mut self,
        xid: u32,
        entries: Vec<P::FlowEntry>,
        cx: &mut SyncCtx<'_, P, PI>,
    ) -> Progress {
        if let Some(prefetch) = self.prefetch.as_mut().filter(|p| p.awaits(xid)) {
            return match flow_sync::our_flows(entries, cx.policy.read_caps().flows) {
                Ok(entries) => {
                    prefetch.entries = Some(entries);
                    Progress::Waiting
                }
                Err(why) => Progress::Failed(why),
            };
        }
        match &self.step {
            Step::Flows(f) if f.reads(xid) => {}
            Step::Flows(_) => return Progress::Waiting,
            Step::Meters(_) => {
                debug!(xid, "FLOW stats reply out of step ignored");
                return Progress::Waiting;
            }
        }
        match flow_sync::our_flows(entries, cx.policy.read_caps().flows) {
            Ok(actual) => self.plan(actual, cx),
            Err(why) => Progress::Failed(why),
        }
    }

    /// The barrier reply `xid`.
    pub fn on_barrier<PI>(&mut self, xid: u32, cx: &mut SyncCtx<'_, P, PI>) -> Progress {
        let next = match &mut self.step {
            Step::Meters(m) => m.on_barrier(xid, cx.policy).map(Ok),
            Step::Flows(f) => f.on_barrier(xid).map(Err),
        };
        match next {
            Some(Ok(meters)) => self.meter_move(meters, cx),
            Some(Err((rest, summary))) => self.send_next_batch(rest, summary, cx),
            None => {
                debug!(xid, "barrier reply for another request ignored");
                Progress::Waiting
            }
        }
    }

    /// An ERROR (`err_type`, `code`, `names`) for this run's request `xid`, which was
    /// `request`.
    pub fn on_error<PI>(
        &mut self,
        xid: u32,
        error: (u16, u16, &str),
        request: &str,
        cx: &mut SyncCtx<'_, P, PI>,
    ) -> Progress {
        let next = match &mut self.step {
            Step::Meters(m) => m.on_error(xid, error, request, cx.policy, cx.view),
            Step::Flows(_) => {
                let names = error.2;
                return Progress::Failed(format!("switch rejected {request}: {names}"));
            }
        };
        self.meter_move(next, cx)
    }

    /// Logs the success and reports it (`dpid` names the switch in the log).
    pub fn finish<PI>(
        self,
        s: PlanSummary,
        dpid: u64,
        out: &mut SessionOutputs<P, PI>,
        now: Instant,
    ) {
        if self.reason == SyncReason::Audit && s.changed() {
            info!(
                dpid = format_args!("{dpid:#x}"),
                added = s.added,
                removed = s.removed,
                modified = s.modified,
                "audit repaired drift"
            );
        } else if s.changed() {
            info!(
                reason = self.reason.name(),
                generation = self.generation,
                added = s.added,
                removed = s.removed,
                modified = s.modified,
                "in sync after applying changes"
            );
        } else {
            debug!(
                reason = self.reason.name(),
                generation = self.generation,
                "in sync; nothing to change"
            );
        }
        out.event(SessionEvent::SyncFinished {
            reason: self.reason,
            ok: true,
            duration: now.saturating_duration_since(self.started),
        });
        out.event(SessionEvent::SyncSucceeded {
            generation: self.generation,
            reason: self.reason,
            added: s.added,
            removed: s.removed,
            modified: s.modified,
            desired: s.desired,
            flows_on_switch: s.flows_on_switch(),
        });
    }

    /// Logs the failure and reports it (also as a finished sync with `ok: false`, for the
    /// syncs-by-result metrics); it is retried in `retry_in` (`failures` in a row).
    pub fn fail<PI>(
        self,
        error: String,
        retry_in: Duration,
        failures: u32,
        out: &mut SessionOutputs<P, PI>,
        now: Instant,
    ) {
        error!(
            reason = self.reason.name(),
            generation = self.generation,
            %error,
            failures,
            retry_in = ?retry_in,
            "sync failed"
        );
        out.event(SessionEvent::SyncFinished {
            reason: self.reason,
            ok: false,
            duration: now.saturating_duration_since(self.started),
        });
        out.event(SessionEvent::SyncFailed { error, retry_in });
    }

    /// Carries out what the meter step asked for.
    fn meter_move<PI>(&mut self, next: MeterMove<P::Msg>, cx: &mut SyncCtx<'_, P, PI>) -> Progress {
        match next {
            MeterMove::Wait => Progress::Waiting,
            MeterMove::Send(mods) => {
                // An ADD answered with METER_EXISTS is modified after the barrier.
                let (xids, barrier) = self.send_with_barrier(mods.clone(), ModKind::Meter, cx);
                let adds = xids.iter().copied().zip(mods).collect();
                let step = MeterStep::Add {
                    barrier,
                    adds,
                    exists: Vec::new(),
                    rejected: None,
                };
                self.enter(Step::Meters(step), xids.into_iter().chain([barrier]), cx);
                Progress::Waiting
            }
            MeterMove::Modify(mods) => {
                let (xids, barrier) = self.send_with_barrier(mods, ModKind::Meter, cx);
                let step = MeterStep::Modify {
                    barrier,
                    rejected: None,
                };
                self.enter(Step::Meters(step), xids.into_iter().chain([barrier]), cx);
                Progress::Waiting
            }
            MeterMove::Installed => {
                if !cx.meters.in_use() {
                    cx.out.event(SessionEvent::MetersInUse(true));
                }
                *cx.meters = MeterStatus::Installed {
                    generation: self.generation,
                };
                self.read_flows(cx)
            }
            MeterMove::Rejected(why) => {
                warn!(
                    error = %why,
                    "switch rejected the reporting meter; installing the blocking flows without meters (blocking never depends on reporting)"
                );
                *cx.meters = MeterStatus::Rejected {
                    generation: self.generation,
                };
                cx.out.event(SessionEvent::MetersInUse(false));
                self.read_flows(cx)
            }
            MeterMove::Fail(why) => Progress::Failed(why),
        }
    }

    /// The meters are done (or not wanted): plan from the flows read ahead, await that read,
    /// or read the flows now.
    fn read_flows<PI>(&mut self, cx: &mut SyncCtx<'_, P, PI>) -> Progress {
        match self.prefetch.take() {
            Some(FlowPrefetch {
                entries: Some(entries),
                ..
            }) => self.plan(entries, cx),
            Some(FlowPrefetch { xid, entries: None }) => {
                self.enter(Step::Flows(FlowStep::Read { xid }), [], cx);
                Progress::Waiting
            }
            None => {
                let xid = cx.out.send(Outbound::Policy(cx.policy.flows_request()));
                self.enter(Step::Flows(FlowStep::Read { xid }), [xid], cx);
                Progress::Waiting
            }
        }
    }

    /// Our flows as the switch reported them: plan the changes and send the first batch (or
    /// complete the sync when nothing differs).
    fn plan<PI>(&mut self, actual: Vec<P::FlowEntry>, cx: &mut SyncCtx<'_, P, PI>) -> Progress {
        debug!(entries = actual.len(), "read our flows");
        tracing::trace!(?actual, "flows on the switch");
        let mut view = cx.view.clone();
        view.meters_supported = cx.meters.in_use();
        let plan = cx.policy.plan(&view, &actual);
        let (desired, rest, summary) = flow_sync::batches(plan, actual.len());
        if self.reason.finds_drift() && summary.changed() {
            // The switch no longer holds what an earlier sync left there.
            cx.out.event(SessionEvent::DriftFound {
                reason: self.reason,
            });
        }
        cx.out.push(Output::Planned(desired));
        cx.out.push(Output::FlowsRead(actual));
        self.flows_read = true;
        self.send_next_batch(rest, summary, cx)
    }

    fn send_next_batch<PI>(
        &mut self,
        mut rest: VecDeque<Vec<P::Msg>>,
        summary: PlanSummary,
        cx: &mut SyncCtx<'_, P, PI>,
    ) -> Progress {
        let Some(batch) = rest.pop_front() else {
            return Progress::Done(summary);
        };
        let (xids, barrier) = self.send_with_barrier(batch, ModKind::Flow, cx);
        let step = FlowStep::Apply {
            barrier,
            rest,
            summary,
        };
        self.enter(Step::Flows(step), xids.into_iter().chain([barrier]), cx);
        Progress::Waiting
    }

    /// Sends `mods` and then a barrier, and reports them as [`SessionEvent::Sent`]; returns
    /// the xids of `mods` (in order) and the barrier's.
    fn send_with_barrier<PI>(
        &mut self,
        mods: Vec<P::Msg>,
        kind: ModKind,
        cx: &mut SyncCtx<'_, P, PI>,
    ) -> (Vec<u32>, u32) {
        let n = mods.len();
        let xids: Vec<u32> = mods
            .into_iter()
            .map(|m| cx.out.send(Outbound::Policy(m)))
            .collect();
        let barrier = cx.out.send(Outbound::BarrierRequest);
        let (flow_mods, meter_mods) = match kind {
            ModKind::Flow => (n, 0),
            ModKind::Meter => (0, n),
        };
        cx.out.event(SessionEvent::Sent {
            flow_mods,
            meter_mods,
        });
        (xids, barrier)
    }

    /// Moves to `step`, awaiting the replies to `xids`, due one echo timeout from now.
    fn enter<PI>(
        &mut self,
        step: Step<P::Msg>,
        xids: impl IntoIterator<Item = u32>,
        cx: &SyncCtx<'_, P, PI>,
    ) {
        self.xids.extend(xids);
        self.step = step;
        self.deadline = cx.now + cx.policy.timers().echo_timeout;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake_policy::FakePolicy;
    use super::super::output::Outputs;
    use super::*;
    use crate::policy::Dpid;

    type Out = SessionOutputs<FakePolicy, u32>;

    /// Runs `f` with a context over these parts.
    fn with<R>(
        policy: &FakePolicy,
        meters: &mut MeterStatus,
        out: &mut Out,
        f: impl FnOnce(&mut SyncCtx<'_, FakePolicy, u32>) -> R,
    ) -> R {
        let view = SwitchView::new(Dpid(1), []);
        let mut cx = SyncCtx {
            policy,
            view: &view,
            meters,
            out,
            now: Instant::now(),
        };
        f(&mut cx)
    }

    /// The policy messages sent, with their xids.
    fn sent(out: &mut Out) -> Vec<(u32, String)> {
        out.take()
            .into_iter()
            .filter_map(|o| match o {
                Output::Send {
                    xid,
                    msg: Outbound::Policy(m),
                } => Some((xid, m)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn meters_then_the_flows_read_ahead_then_done_when_nothing_differs() {
        let policy = FakePolicy::metered(1);
        let mut meters = MeterStatus::Unknown;
        let mut out = Outputs::new(1);
        let mut run = with(&policy, &mut meters, &mut out, |cx| {
            SyncRun::start(SyncReason::Connect, cx)
        });
        assert_eq!(
            sent(&mut out),
            vec![(1, "meters?".to_string()), (2, "flows?".to_string())]
        );
        assert!(run.asked(1) && run.asked(2) && run.reads(1) && run.reads(2));
        let flows = vec!["a".to_string(), "sample-with-meter".to_string()];
        let p = with(&policy, &mut meters, &mut out, |cx| {
            run.on_flow_stats(2, flows, cx)
        });
        assert_eq!(p, Progress::Waiting, "the meters first");
        assert!(!run.reads(2), "read ahead, answered");
        assert!(!run.take_flows_read(), "not handed out before the meters");
        let ok = MeterConfig {
            flags: 1,
            meter_id: 1,
            bands: vec![],
        };
        let p = with(&policy, &mut meters, &mut out, |cx| {
            run.on_meter_config(1, &[ok], cx)
        });
        assert!(matches!(p, Progress::Done(s) if !s.changed() && s.flows_on_switch() == 2));
        assert!(run.take_flows_read() && !run.take_flows_read());
        assert_eq!(meters, MeterStatus::Installed { generation: 1 });
        assert!(sent(&mut out).is_empty());
    }

    #[test]
    fn an_error_or_silence_in_the_flow_steps_fails_the_run() {
        let policy = FakePolicy::new(1, &["a"]);
        let mut meters = MeterStatus::Installed { generation: 1 };
        let mut out = Outputs::new(1);
        let mut run = with(&policy, &mut meters, &mut out, |cx| {
            SyncRun::start(SyncReason::PolicyChange, cx)
        });
        assert_eq!(meters, MeterStatus::Unknown, "no meters wanted: forgotten");
        let events: Vec<_> = out.take();
        assert!(events
            .iter()
            .any(|o| matches!(o, Output::Event(SessionEvent::MetersInUse(false)))));
        let p = with(&policy, &mut meters, &mut out, |cx| {
            run.on_flow_stats(1, vec![], cx)
        });
        assert_eq!(p, Progress::Waiting);
        assert_eq!(sent(&mut out), vec![(2, "add a".to_string())]);
        let timeout = policy.timers().echo_timeout;
        assert_eq!(
            run.overdue(
                run.deadline()
                    .checked_sub(Duration::from_millis(1))
                    .unwrap(),
                timeout
            ),
            None
        );
        let late = run.overdue(run.deadline(), timeout).expect("overdue");
        assert!(late.starts_with("no reply to a batch barrier"), "{late}");
        let p = with(&policy, &mut meters, &mut out, |cx| {
            run.on_error(2, (5, 1, "TABLE_FULL"), "MSG<add a>", cx)
        });
        assert_eq!(
            p,
            Progress::Failed("switch rejected MSG<add a>: TABLE_FULL".into())
        );
    }

    /// Whether a run for `reason` that reads `on_switch` (the policy wants `a`) reports drift.
    fn finds_drift(reason: SyncReason, on_switch: &[&str]) -> bool {
        let policy = FakePolicy::new(1, &["a"]);
        let mut meters = MeterStatus::Unknown;
        let mut out = Outputs::new(1);
        let mut run = with(&policy, &mut meters, &mut out, |cx| {
            SyncRun::start(reason, cx)
        });
        out.take();
        let flows = on_switch.iter().map(ToString::to_string).collect();
        with(&policy, &mut meters, &mut out, |cx| {
            run.on_flow_stats(1, flows, cx)
        });
        out.take().iter().any(
            |o| matches!(o, Output::Event(SessionEvent::DriftFound { reason: r }) if *r == reason),
        )
    }

    #[test]
    fn drift_is_what_an_audit_or_a_removed_flow_finds_changed() {
        assert!(finds_drift(SyncReason::Audit, &[]));
        assert!(finds_drift(SyncReason::Audit, &["a", "stray"]));
        assert!(finds_drift(SyncReason::FlowRemoved, &[]));
        assert!(!finds_drift(SyncReason::Audit, &["a"]), "nothing differs");
        assert!(!finds_drift(SyncReason::FlowRemoved, &["a"]));
        // A new policy or a new connection changes flows by design: not drift.
        assert!(!finds_drift(SyncReason::PolicyChange, &[]));
        assert!(!finds_drift(SyncReason::Connect, &[]));
    }

    #[test]
    fn replies_for_other_requests_change_nothing() {
        let policy = FakePolicy::new(1, &["a"]);
        let mut meters = MeterStatus::Unknown;
        let mut out = Outputs::new(1);
        let mut run = with(&policy, &mut meters, &mut out, |cx| {
            SyncRun::start(SyncReason::Audit, cx)
        });
        out.take();
        with(&policy, &mut meters, &mut out, |cx| {
            assert_eq!(run.on_flow_stats(9, vec![], cx), Progress::Waiting);
            assert_eq!(run.on_meter_config(1, &[], cx), Progress::Waiting);
            assert_eq!(run.on_barrier(1, cx), Progress::Waiting);
        });
        assert!(out.take().is_empty());
        assert!(run.reads(1) && !run.asked(9));
        assert_eq!(run.reason(), SyncReason::Audit);
    }
}
