//! The meter steps of a sync. When reporting wants meters, the sync first reads the switch's
//! meter config (METER_CONFIG) and sends only what differs: ADD for a missing meter, MODIFY for a
//! changed one, nothing for an identical one (so a controller restart costs no METER_EXISTS
//! error). The first sync of a generation and every audit read them (the audit verifies and
//! repairs the meter); a switch that cannot answer METER_CONFIG gets ADDs (MODIFY when it says
//! the meter exists); a switch that rejects meters gets flows without them and a WARNING.
//!
//! The steps here only decide ([`MeterMove`]); the sync run sends.

use super::session_policy::SessionPolicy;
use crate::flows::SwitchView;
use op25b_proto::error_codes::{ErrorType, MeterModFailedCode};
use op25b_proto::MeterConfig;
use tracing::debug;

/// Most meters a METER_CONFIG reply may list before the sync gives up (OVS allows 200,000).
pub const MAX_METER_ENTRIES: usize = 262_144;

/// What the session knows of its meters on the switch (kept across syncs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterStatus {
    /// Never settled, or the policy wants no meters.
    Unknown,
    /// Installed (or found as wanted) for the policy `generation`.
    Installed { generation: u64 },
    /// The switch rejected them under the policy `generation`.
    Rejected { generation: u64 },
}

impl MeterStatus {
    /// The flows may use the meters.
    pub fn in_use(self) -> bool {
        matches!(self, MeterStatus::Installed { .. })
    }

    /// Whether a sync of policy `generation` (an audit when `audit`) reads the switch's meters
    /// first, given the policy wants some: the first sync of a generation does, and an audit
    /// re-reads installed meters to verify (and repair) them.
    pub fn must_read(self, generation: u64, audit: bool) -> bool {
        let current = match self {
            MeterStatus::Installed { generation: g } | MeterStatus::Rejected { generation: g } => {
                g == generation
            }
            MeterStatus::Unknown => false,
        };
        !current || (audit && self.in_use())
    }
}

/// Where the meter part of a sync stands.
#[derive(Debug)]
pub enum MeterStep<M> {
    /// METER_CONFIG request sent with `xid`.
    Read { xid: u32 },
    /// METER_MODs (ADDs, or what the read asked for) sent, then a barrier.
    Add {
        barrier: u32,
        /// Each METER_MOD sent, by xid.
        adds: Vec<(u32, M)>,
        /// ADDs the switch answered with METER_EXISTS (modified after the barrier).
        exists: Vec<M>,
        rejected: Option<String>,
    },
    /// METER_MOD MODIFYs for meters that existed, then a barrier.
    Modify {
        barrier: u32,
        rejected: Option<String>,
    },
}

/// What the meter step asks for next.
#[derive(Debug, PartialEq)]
pub enum MeterMove<M> {
    /// Nothing yet.
    Wait,
    /// Send these METER_MODs and a barrier (the next step: [`MeterStep::Add`]).
    Send(Vec<M>),
    /// Send these MODIFYs and a barrier (the next step: [`MeterStep::Modify`]).
    Modify(Vec<M>),
    /// The meters are on the switch.
    Installed,
    /// The switch rejected them: why.
    Rejected(String),
    /// The sync fails: why.
    Fail(String),
}

impl<M> MeterStep<M> {
    /// What the step calls the reply it waits for (for the log of a step that timed out).
    pub fn awaits(&self) -> &'static str {
        match self {
            MeterStep::Read { .. } => "the METER_CONFIG request",
            MeterStep::Add { .. } | MeterStep::Modify { .. } => "the meter barrier",
        }
    }

    /// `xid` is the METER_CONFIG request this step waits for.
    pub fn reads(&self, xid: u32) -> bool {
        matches!(self, MeterStep::Read { xid: want } if *want == xid)
    }

    /// The whole METER_CONFIG reply `xid` listed `actual`.
    pub fn on_config<P: SessionPolicy<Msg = M> + ?Sized>(
        &self,
        xid: u32,
        actual: &[MeterConfig],
        policy: &P,
        view: &SwitchView,
    ) -> MeterMove<M> {
        match self {
            MeterStep::Read { xid: want } if *want == xid => {}
            MeterStep::Read { .. } => {
                debug!(xid, "METER_CONFIG reply for another request ignored");
                return MeterMove::Wait;
            }
            _ => {
                debug!(xid, "METER_CONFIG reply out of step ignored");
                return MeterMove::Wait;
            }
        }
        if actual.len() > MAX_METER_ENTRIES {
            return MeterMove::Fail(format!(
                "switch reported {} meters, more than {MAX_METER_ENTRIES}",
                actual.len()
            ));
        }
        let mods = policy.meter_plan(view, actual);
        if mods.is_empty() {
            debug!(meters = actual.len(), "meters on the switch as desired");
            MeterMove::Installed
        } else {
            MeterMove::Send(mods)
        }
    }

    /// An ERROR (`err_type`, `code`, `names`) answering the request `xid` of the run, which
    /// was `request`.
    pub fn on_error<P: SessionPolicy<Msg = M> + ?Sized>(
        &mut self,
        xid: u32,
        (err_type, code, names): (u16, u16, &str),
        request: &str,
        policy: &P,
        view: &SwitchView,
    ) -> MeterMove<M> {
        let what = || format!("{names} for {request}");
        match self {
            MeterStep::Read { .. } => {
                // A switch that cannot list its meters: install them blind (ADD, MODIFY on
                // EXISTS).
                debug!(error = %names, "METER_CONFIG rejected; sending the meter ADDs");
                MeterMove::Send(policy.meter_adds(view))
            }
            MeterStep::Add {
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
                        return MeterMove::Wait;
                    }
                }
                rejected.get_or_insert_with(what);
                MeterMove::Wait
            }
            MeterStep::Modify { rejected, .. } => {
                rejected.get_or_insert_with(what);
                MeterMove::Wait
            }
        }
    }

    /// The barrier reply `xid`: `None` when it is not this step's barrier.
    pub fn on_barrier<P: SessionPolicy<Msg = M> + ?Sized>(
        &mut self,
        xid: u32,
        policy: &P,
    ) -> Option<MeterMove<M>> {
        match self {
            MeterStep::Add {
                barrier,
                exists,
                rejected,
                ..
            } if *barrier == xid => Some(match rejected.take() {
                Some(why) => MeterMove::Rejected(why),
                None if exists.is_empty() => MeterMove::Installed,
                None => MeterMove::Modify(
                    exists
                        .iter()
                        .filter_map(|a| policy.meter_modify(a))
                        .collect(),
                ),
            }),
            MeterStep::Modify { barrier, rejected } if *barrier == xid => {
                Some(match rejected.take() {
                    Some(why) => MeterMove::Rejected(why),
                    None => MeterMove::Installed,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake_policy::FakePolicy;
    use super::*;
    use crate::policy::Dpid;

    const EXISTS: (u16, u16, &str) = (12, 1, "OFPET_METER_MOD_FAILED/OFPMMFC_METER_EXISTS");
    const BAD: (u16, u16, &str) = (12, 6, "OFPET_METER_MOD_FAILED/OFPMMFC_BAD_RATE");

    fn view() -> SwitchView {
        SwitchView::new(Dpid(1), [])
    }

    fn meter(id: u32, flags: u16) -> MeterConfig {
        MeterConfig {
            flags,
            meter_id: id,
            bands: vec![],
        }
    }

    #[test]
    fn the_read_sends_only_what_differs() {
        let policy = FakePolicy::metered(1);
        let read = MeterStep::<String>::Read { xid: 4 };
        assert!(read.reads(4) && !read.reads(5));
        assert_eq!(read.awaits(), "the METER_CONFIG request");
        assert_eq!(
            read.on_config(5, &[], policy.as_ref(), &view()),
            MeterMove::Wait,
            "another request's reply"
        );
        assert_eq!(
            read.on_config(4, &[], policy.as_ref(), &view()),
            MeterMove::Send(vec!["meter add 1".into()])
        );
        assert_eq!(
            read.on_config(4, &[meter(7, 9), meter(1, 1)], policy.as_ref(), &view()),
            MeterMove::Installed
        );
        assert_eq!(
            read.on_config(4, &[meter(1, 2)], policy.as_ref(), &view()),
            MeterMove::Send(vec!["meter modify 1".into()])
        );
        let many: Vec<MeterConfig> = (0..=u32::try_from(MAX_METER_ENTRIES)
            .expect("an entry count"))
            .map(|i| meter(i, 1))
            .collect();
        assert!(matches!(
            read.on_config(4, &many, policy.as_ref(), &view()),
            MeterMove::Fail(why) if why.contains("more than")
        ));
        let modify = MeterStep::<String>::Modify {
            barrier: 9,
            rejected: None,
        };
        assert_eq!(
            modify.on_config(4, &[], policy.as_ref(), &view()),
            MeterMove::Wait,
            "out of step"
        );
    }

    #[test]
    fn a_rejected_read_sends_the_adds_and_an_existing_meter_is_modified_after_the_barrier() {
        let policy = FakePolicy::metered(1);
        let mut read = MeterStep::<String>::Read { xid: 4 };
        assert_eq!(
            read.on_error(4, BAD, "meters?", policy.as_ref(), &view()),
            MeterMove::Send(vec!["meter add 1".into()])
        );
        let mut add = MeterStep::Add {
            barrier: 6,
            adds: vec![(5, "meter add 1".to_string())],
            exists: vec![],
            rejected: None,
        };
        assert_eq!(add.awaits(), "the meter barrier");
        assert_eq!(
            add.on_error(5, EXISTS, "meter add 1", policy.as_ref(), &view()),
            MeterMove::Wait
        );
        assert_eq!(add.on_barrier(7, policy.as_ref()), None, "not its barrier");
        assert_eq!(
            add.on_barrier(6, policy.as_ref()),
            Some(MeterMove::Modify(vec!["meter modify 1".into()]))
        );
        let mut modify = MeterStep::<String>::Modify {
            barrier: 8,
            rejected: None,
        };
        assert_eq!(
            modify.on_barrier(8, policy.as_ref()),
            Some(MeterMove::Installed)
        );
    }

    #[test]
    fn any_other_error_rejects_the_meters_at_the_barrier_naming_the_first() {
        let policy = FakePolicy::metered(1);
        let mut add = MeterStep::Add {
            barrier: 6,
            adds: vec![(5, "meter add 1".to_string())],
            exists: vec![],
            rejected: None,
        };
        add.on_error(5, BAD, "MSG<meter add 1>", policy.as_ref(), &view());
        add.on_error(5, EXISTS, "MSG<meter add 1>", policy.as_ref(), &view());
        assert_eq!(
            add.on_barrier(6, policy.as_ref()),
            Some(MeterMove::Rejected(
                "OFPET_METER_MOD_FAILED/OFPMMFC_BAD_RATE for MSG<meter add 1>".into()
            ))
        );
        let mut modify = MeterStep::<String>::Modify {
            barrier: 8,
            rejected: None,
        };
        modify.on_error(7, BAD, "MSG<meter modify 1>", policy.as_ref(), &view());
        assert!(matches!(
            modify.on_barrier(8, policy.as_ref()),
            Some(MeterMove::Rejected(why)) if why.ends_with("for MSG<meter modify 1>")
        ));
    }

    #[test]
    fn meters_are_read_first_per_generation_and_by_an_audit_when_in_use() {
        use MeterStatus::*;
        assert!(Unknown.must_read(1, false));
        assert!(!Installed { generation: 1 }.must_read(1, false));
        assert!(Installed { generation: 1 }.must_read(1, true), "audit");
        assert!(Installed { generation: 1 }.must_read(2, false));
        assert!(!Rejected { generation: 1 }.must_read(1, false));
        assert!(
            !Rejected { generation: 1 }.must_read(1, true),
            "a rejected meter is not retried within its generation"
        );
        assert!(Rejected { generation: 1 }.must_read(2, false));
        assert!(Installed { generation: 3 }.in_use());
        assert!(!Rejected { generation: 3 }.in_use() && !Unknown.in_use());
    }
}
