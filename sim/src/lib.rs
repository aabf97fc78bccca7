//! A simulated OpenFlow 1.3 switch.
pub mod flow_match;
pub mod flow_table;
pub mod instructions;
pub mod match_check;
pub mod meter_table;
pub mod observe;
pub mod packet;
pub mod table_error;
pub mod verdict;

pub use flow_match::FlowMatch;
pub use flow_table::{FlowEntry, FlowModOutcome, FlowTable, TableConfig};
pub use meter_table::{MeterError, MeterTable};
pub use packet::PacketHeaders;
pub use table_error::TableError;
pub use verdict::{Fate, Hit, Verdict};
