//! A simulated OpenFlow 1.3 switch.
pub mod datapath;
pub mod faults;
pub mod flow_match;
pub mod flow_table;
pub mod handshake;
pub mod instructions;
pub mod match_check;
pub mod meter_table;
pub mod observe;
pub mod packet;
pub mod switch;
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
pub use table_error::TableError;
pub use verdict::{Fate, Hit, Verdict};
