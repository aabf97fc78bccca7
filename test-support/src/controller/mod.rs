//! The controller for the tests/controller_*.rs files: an in-process controller on 127.0.0.1:0
//! with small timers ([`Harness`]), a raw OpenFlow client for byte-level cases ([`RawSwitch`]),
//! simulated switches under the hitless rule, and condition waits with timeouts. Everything is
//! re-exported here, so a test file imports `op25b_test_support::controller::*`.

mod harness;
mod raw_switch;
mod sim_switch;

pub use harness::*;
pub use raw_switch::*;
pub use sim_switch::*;
