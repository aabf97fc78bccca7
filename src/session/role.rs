//! This connection's OpenFlow 1.3 role (spec 6.3.7), pure: what the cluster wants it to be, what
//! was asked of the switch, what the switch confirmed, and when the switch's refusals mean this
//! instance must step down.
//!
//! Without a cluster a connection stays in OpenFlow's default role, EQUAL: it writes flows and
//! receives samples, exactly as a single op25b did before roles existed; no ROLE_REQUEST is sent.
//! With a cluster ([`Role::Unassigned`] at the start) it writes nothing until the switch has
//! confirmed it MASTER with the generation the cluster gave it; every other connection of the
//! switch asks SLAVE. Open vSwitch keeps one `generation_id` per switch, the highest it was sent,
//! and refuses a MASTER or SLAVE request with a lower one (OFPRRFC_STALE); when a connection
//! becomes MASTER it demotes the previous master to SLAVE, whose writes it then refuses
//! (OFPBRC_IS_SLAVE). Either refusal is the fence: [`fenced_by`] names it, and the session steps
//! down (writes nothing more, drops samples) until the cluster hands it a newer generation.

pub use crate::mastership::Wanted;
use op25b_proto::consts::{OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE};
use op25b_proto::error_codes::ErrorType;

/// The role asked of the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Master,
    Slave,
}

impl Ask {
    /// The role's number in `ofp_role_request`.
    pub fn code(self) -> u32 {
        match self {
            Ask::Master => OFPCR_ROLE_MASTER,
            Ask::Slave => OFPCR_ROLE_SLAVE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Ask::Master => "master",
            Ask::Slave => "slave",
        }
    }
}

/// Where this connection's role stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// No cluster: OpenFlow's default; writes and samples as ever.
    Equal,
    /// Cluster, nothing asked yet: no writes, no samples.
    Unassigned,
    /// The switch fenced this connection off while it was master, or asking to be, at
    /// `generation`: no writes, no samples, and MASTER is asked again only at a newer one.
    Fenced { generation: u64 },
    /// ROLE_REQUEST `ask` at `generation` sent with `xid`, its reply awaited: no writes yet.
    Asked { ask: Ask, generation: u64, xid: u32 },
    /// The switch confirmed this role at `generation`.
    Confirmed { ask: Ask, generation: u64 },
}

impl Role {
    /// Whether this connection may change flows, meters and the switch configuration.
    pub fn may_write(self) -> bool {
        matches!(
            self,
            Role::Equal
                | Role::Confirmed {
                    ask: Ask::Master,
                    ..
                }
        )
    }

    /// Whether this connection's samples (PACKET_IN) go to the offender table.
    pub fn takes_samples(self) -> bool {
        self.may_write()
    }

    /// For status and logs: `equal`, `unassigned`, `master`, `slave`, `asking_master`, ...
    pub fn name(self) -> &'static str {
        match self {
            Role::Equal => "equal",
            Role::Unassigned => "unassigned",
            Role::Fenced { .. } => "fenced",
            Role::Asked {
                ask: Ask::Master, ..
            } => "asking_master",
            Role::Asked {
                ask: Ask::Slave, ..
            } => "asking_slave",
            Role::Confirmed {
                ask: Ask::Master, ..
            } => "master",
            Role::Confirmed {
                ask: Ask::Slave, ..
            } => "slave",
        }
    }
}

/// The ROLE_REQUEST to send when the cluster wants `wanted` and the role stands at `current`,
/// if any: MASTER when not master (or asking) at that generation yet, and never at a generation
/// the switch already fenced off; SLAVE when not slave (or asking) yet. Without a cluster
/// ([`Role::Equal`]) never.
pub fn request_for(current: Role, wanted: Wanted) -> Option<(Ask, u64)> {
    let (ask, generation) = match wanted {
        Wanted::Master { generation } => (Ask::Master, generation),
        Wanted::Slave { generation } => (Ask::Slave, generation),
    };
    let done = match current {
        Role::Equal => true,
        Role::Unassigned => false,
        Role::Fenced { generation: g } => ask == Ask::Master && generation <= g,
        Role::Asked {
            ask: a,
            generation: g,
            ..
        }
        | Role::Confirmed {
            ask: a,
            generation: g,
        } => match ask {
            Ask::Master => a == Ask::Master && g == generation,
            // A slave stays slave whatever the master's generation becomes.
            Ask::Slave => a == Ask::Slave,
        },
    };
    (!done).then_some((ask, generation))
}

/// A ROLE_REPLY with `xid`, `role` and `generation` arrived while the role stands at `current`:
/// the new role. A reply to the request awaited confirms it (with the generation the switch
/// reports, which is the highest it knows); any other is ignored.
pub fn on_reply(current: Role, xid: u32, role: u32, generation: u64) -> Role {
    match current {
        Role::Asked {
            ask, xid: asked, ..
        } if asked == xid && ask.code() == role => Role::Confirmed { ask, generation },
        other => other,
    }
}

/// Why the switch fenced this connection off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// OFPRRFC_STALE: our ROLE_REQUEST's generation is older than one the switch was sent.
    Stale,
    /// OFPBRC_IS_SLAVE: the switch holds this connection as slave and refused a write.
    IsSlave,
}

impl Fence {
    /// The metric label and log word.
    pub fn name(self) -> &'static str {
        match self {
            Fence::Stale => "stale_generation",
            Fence::IsSlave => "is_slave",
        }
    }
}

/// Whether an ERROR (`err_type`, `code`) fences this connection off. Only in a cluster: without
/// one ([`Role::Equal`]) these errors are ordinary errors.
pub fn fenced_by(current: Role, err_type: u16, code: u16) -> Option<Fence> {
    const OFPRRFC_STALE: u16 = 0;
    const OFPBRC_IS_SLAVE: u16 = 10;
    if current == Role::Equal {
        return None;
    }
    if err_type == ErrorType::RoleRequestFailed as u16 && code == OFPRRFC_STALE {
        Some(Fence::Stale)
    } else if err_type == ErrorType::BadRequest as u16 && code == OFPBRC_IS_SLAVE {
        Some(Fence::IsSlave)
    } else {
        None
    }
}

/// The role after the switch fenced this connection off: [`Role::Fenced`] at the generation it
/// held or asked MASTER at; a refused SLAVE request leaves it [`Role::Unassigned`] (asked again
/// when the cluster's view changes); unchanged otherwise.
pub fn after_fence(current: Role) -> Role {
    match current {
        Role::Asked {
            ask: Ask::Master,
            generation,
            ..
        }
        | Role::Confirmed {
            ask: Ask::Master,
            generation,
        } => Role::Fenced { generation },
        Role::Asked {
            ask: Ask::Slave, ..
        } => Role::Unassigned,
        other => other,
    }
}

impl Role {
    /// Master, or asking to be: a fence on it is a step down (logged and counted).
    pub fn claims_master(self) -> bool {
        matches!(
            self,
            Role::Confirmed {
                ask: Ask::Master,
                ..
            } | Role::Asked {
                ask: Ask::Master,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER_7: Wanted = Wanted::Master { generation: 7 };

    fn confirmed(ask: Ask, generation: u64) -> Role {
        Role::Confirmed { ask, generation }
    }

    #[test]
    fn without_a_cluster_nothing_is_asked_and_everything_allowed() {
        assert_eq!(request_for(Role::Equal, MASTER_7), None);
        assert!(Role::Equal.may_write());
        assert!(Role::Equal.takes_samples());
        assert_eq!(fenced_by(Role::Equal, 1, 10), None, "IS_SLAVE is no fence");
    }

    #[test]
    fn only_a_confirmed_master_writes_or_takes_samples() {
        let asked = Role::Asked {
            ask: Ask::Master,
            generation: 7,
            xid: 3,
        };
        for r in [
            Role::Unassigned,
            Role::Fenced { generation: 7 },
            asked,
            confirmed(Ask::Slave, 7),
        ] {
            assert!(!r.may_write(), "{r:?}");
            assert!(!r.takes_samples(), "{r:?}");
        }
        assert!(confirmed(Ask::Master, 7).may_write());
    }

    #[test]
    fn master_is_asked_once_per_generation() {
        assert_eq!(
            request_for(Role::Unassigned, MASTER_7),
            Some((Ask::Master, 7))
        );
        let asked = Role::Asked {
            ask: Ask::Master,
            generation: 7,
            xid: 3,
        };
        assert_eq!(request_for(asked, MASTER_7), None);
        assert_eq!(request_for(confirmed(Ask::Master, 7), MASTER_7), None);
        assert_eq!(
            request_for(confirmed(Ask::Master, 7), Wanted::Master { generation: 9 }),
            Some((Ask::Master, 9)),
            "a new generation is asked again"
        );
        assert_eq!(
            request_for(confirmed(Ask::Slave, 5), MASTER_7),
            Some((Ask::Master, 7))
        );
    }

    #[test]
    fn slave_is_asked_once_whatever_the_masters_generation() {
        let slave = Wanted::Slave { generation: 9 };
        assert_eq!(request_for(Role::Unassigned, slave), Some((Ask::Slave, 9)));
        assert_eq!(
            request_for(confirmed(Ask::Master, 7), slave),
            Some((Ask::Slave, 9)),
            "a master losing the key steps down"
        );
        assert_eq!(request_for(confirmed(Ask::Slave, 5), slave), None);
    }

    #[test]
    fn a_fenced_generation_is_not_asked_again_a_newer_one_is() {
        let fenced = Role::Fenced { generation: 7 };
        assert!(!fenced.may_write());
        assert_eq!(request_for(fenced, MASTER_7), None);
        assert_eq!(request_for(fenced, Wanted::Master { generation: 6 }), None);
        assert_eq!(
            request_for(fenced, Wanted::Master { generation: 8 }),
            Some((Ask::Master, 8))
        );
        assert_eq!(
            request_for(fenced, Wanted::Slave { generation: 8 }),
            Some((Ask::Slave, 8))
        );
    }

    #[test]
    fn only_the_awaited_reply_confirms() {
        let asked = Role::Asked {
            ask: Ask::Master,
            generation: 7,
            xid: 3,
        };
        assert_eq!(on_reply(asked, 4, OFPCR_ROLE_MASTER, 7), asked, "other xid");
        assert_eq!(on_reply(asked, 3, OFPCR_ROLE_SLAVE, 7), asked, "other role");
        assert_eq!(
            on_reply(asked, 3, OFPCR_ROLE_MASTER, 7),
            confirmed(Ask::Master, 7)
        );
        assert_eq!(
            on_reply(Role::Unassigned, 3, OFPCR_ROLE_MASTER, 7),
            Role::Unassigned
        );
    }

    #[test]
    fn a_fence_keeps_the_generation_and_fencing_twice_changes_nothing() {
        let once = after_fence(confirmed(Ask::Master, 7));
        assert_eq!(once, Role::Fenced { generation: 7 });
        assert_eq!(after_fence(once), once);
        assert_eq!(after_fence(Role::Unassigned), Role::Unassigned);
        let slave_asked = Role::Asked {
            ask: Ask::Slave,
            generation: 3,
            xid: 1,
        };
        assert_eq!(after_fence(slave_asked), Role::Unassigned);
        assert!(!slave_asked.claims_master());
        assert_eq!(after_fence(Role::Equal), Role::Equal);
    }

    #[test]
    fn stale_and_is_slave_fence_other_errors_do_not() {
        let m = confirmed(Ask::Master, 7);
        assert_eq!(fenced_by(m, 11, 0), Some(Fence::Stale));
        assert_eq!(fenced_by(m, 1, 10), Some(Fence::IsSlave));
        assert_eq!(fenced_by(m, 11, 1), None, "OFPRRFC_UNSUP");
        assert_eq!(fenced_by(m, 1, 9), None);
        assert_eq!(fenced_by(m, 5, 0), None);
    }
}
