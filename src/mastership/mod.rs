//! Who should be master of which switch in a cluster of op25b instances, pure: values in (the
//! holders etcd reports, the live instances, the switches this instance is connected to, the
//! time), decisions out (which mastership keys to campaign for, which to release, which role each
//! connection must ask). The etcd I/O is `cluster`; the OpenFlow side is `session::role`.
//!
//! - [`view::MastershipView`]: the holders as this instance last saw them, and the role it
//!   wants for a switch ([`Wanted`]).
//! - [`balance`]: rendezvous (highest-random-weight) hashing names each switch's preferred
//!   instance among the live ones; [`balance::plan`] campaigns for unheld switches (at once when
//!   preferred, after a grace period otherwise, so a switch no preferred instance can reach is
//!   still taken) and releases a bounded number of held ones whose preferred instance is another
//!   live one (so a returning instance gets its share back gradually, never all at once).

pub mod balance;
pub mod view;

pub use balance::{plan, preferred, Plan, PlanInput};
pub use view::{Holder, MastershipView, Wanted};
