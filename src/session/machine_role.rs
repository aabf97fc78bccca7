//! The session's role steps in a cluster (a child of `machine`, so it reaches the session's
//! fields): what the cluster wants, the ROLE_REQUEST sent for it, the ROLE_REPLY, and stepping
//! down when the switch fences this connection off. The decisions are `role`'s pure functions.

use super::super::output::SessionEvent;
use super::super::output::SessionOutput;
use super::super::phase::Phase;
use super::super::role::{self, Ask, Role, Wanted};
use super::super::session_policy::SessionPolicy;
use super::super::sync_reason::SyncReason;
use super::super::wire::Outbound;
use super::SwitchSession;
use std::time::Instant;
use tracing::{debug, info, warn};

impl<P: SessionPolicy + ?Sized, PI> SwitchSession<P, PI> {
    /// The cluster wants this connection to be `wanted` (called whenever that may have changed;
    /// asks the switch only when it did, see [`role::request_for`]).
    pub fn on_wanted(&mut self, wanted: Wanted) -> Vec<SessionOutput<P, PI>> {
        if self.role == Role::Equal || self.phase == Phase::Closed {
            return Vec::new();
        }
        self.wanted = Some(wanted);
        if !self.phase.is_handshake() {
            self.ask_role();
        }
        self.out.take()
    }

    /// Sends the ROLE_REQUEST the wanted role calls for, if any; a master asked to be slave
    /// stops writing first.
    pub(super) fn ask_role(&mut self) {
        let Some(wanted) = self.wanted else {
            return;
        };
        let Some((ask, generation)) = role::request_for(self.role, wanted) else {
            return;
        };
        if ask == Ask::Slave && self.role.may_write() {
            info!(
                generation,
                "the cluster gave this switch to another instance; stepping down"
            );
            self.stop_writing();
        }
        let xid = self.out.send(Outbound::RoleRequest {
            role: ask.code(),
            generation_id: generation,
        });
        debug!(role = ask.name(), generation, xid, "ROLE_REQUEST sent");
        self.role = Role::Asked {
            ask,
            generation,
            xid,
        };
    }

    pub(super) fn on_role_reply(
        &mut self,
        xid: u32,
        role_code: u32,
        generation: u64,
        now: Instant,
    ) {
        let before = self.role;
        self.role = role::on_reply(before, xid, role_code, generation);
        if self.role == before {
            debug!(
                xid,
                role_code, generation, "ROLE_REPLY not awaited; ignored"
            );
            return;
        }
        info!(
            role = self.role.name(),
            generation, "the switch confirmed our role"
        );
        self.out.event(SessionEvent::RoleConfirmed {
            role: self.role.name(),
            generation,
        });
        if self.role.may_write() {
            self.begin_writing(SyncReason::Mastership, now);
        }
    }

    /// No more writes: the running sync (if any) is dropped, the counter poll stops.
    pub(super) fn stop_writing(&mut self) {
        self.run = None;
        self.counters.stop();
        if !self.phase.is_handshake() && self.phase != Phase::Closed {
            self.set_phase(Phase::Standby, "not this switch's master");
        }
    }

    /// The switch fenced this connection off (`fence`): step down, once, logged and counted.
    pub(super) fn step_down(&mut self, fence: role::Fence) {
        let before = self.role;
        self.role = role::after_fence(before);
        if before.claims_master() {
            self.stop_writing();
            warn!(
                fence = fence.name(),
                was = before.name(),
                "the switch refused us as master (another instance holds a newer generation); stepped down, writing nothing"
            );
            self.out.event(SessionEvent::SteppedDown { fence });
        }
    }
}
