//! A simulated OpenFlow 1.3 switch, for op25b's tests and its load swarm.
//!
//! Two layers:
//! - pure cores: [`FlowTable`] (OpenFlow 1.3.5 section 6.4 flow-mod semantics, stats,
//!   [`FlowTable::classify`] of a [`PacketHeaders`] into a [`Verdict`]), [`MeterTable`], and
//!   [`Datapath`], which answers one decoded controller message with the switch's replies;
//! - [`SimSwitch`]: a tokio task per connection speaking OpenFlow over real TCP (or mutual TLS,
//!   [`SwitchTls`]), with fault
//!   injection and observation (counters, message record, events, invariant hook, waits).
//!
//! ```no_run
//! use std::time::Duration;
//! use op25b_sim::{PacketHeaders, SimSwitch, SimSwitchConfig};
//!
//! # async fn demo(controller: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = SimSwitchConfig::new(0x1, 4); // dpid 1, ports 1..=4
//! config.datapath.flow_stats_per_reply = 50;      // split FLOW stats with REPLY_MORE
//! let sw = SimSwitch::new(config);
//! // Fail the test if TCP/25 from port 1 to an outside host is ever forwarded.
//! sw.set_invariant(|dp| {
//!     let pkt = PacketHeaders::tcp(1, "10.0.0.5".parse().unwrap(), 40000,
//!                                  "198.51.100.7".parse().unwrap(), 25);
//!     if dp.flows().is_empty() || dp.classify(&pkt).is_blocked() { Ok(()) }
//!     else { Err("port 25 leaked".into()) }
//! });
//! sw.connect(controller).await?;
//! sw.wait_until(Duration::from_secs(5), "two flows", |v| v.flows().count() == 2).await?;
//! assert!(sw.classify(&PacketHeaders::tcp(1, "10.0.0.5".parse()?, 1,
//!                                         "198.51.100.7".parse()?, 25)).is_blocked());
//! assert!(sw.violation().is_none());
//! sw.disconnect(); // flows stay; sw.connect(controller) again to reconnect
//! # Ok(()) }
//! ```
mod canonical_flow;
mod connection;
mod connection_io;
pub mod datapath;
pub mod faults;
mod flow_entry;
pub mod flow_match;
mod flow_stats;
pub mod flow_table;
pub mod frame;
pub mod handshake;
pub mod instructions;
pub mod match_check;
pub mod meter_table;
pub mod observe;
pub mod packet;
mod pipeline;
pub mod switch;
mod switch_config;
mod switch_state;
pub mod switch_tls;
pub mod table_error;
pub mod verdict;

pub use datapath::{Datapath, DatapathConfig};
pub use faults::{FlowModFault, FlowModTrigger, HandshakeBehaviour};
pub use flow_match::FlowMatch;
pub use flow_table::{CanonicalFlow, FlowEntry, FlowModOutcome, FlowTable, TableConfig};
pub use meter_table::{MeterError, MeterTable};
pub use observe::{Counters, SwitchEvent, Violation};
pub use packet::PacketHeaders;
pub use switch::{Invariant, SimSwitch, SimSwitchConfig, SwitchError, SwitchView, WaitTimeout};
pub use switch_tls::SwitchTls;
pub use table_error::TableError;
pub use verdict::{Fate, Hit, Verdict};
