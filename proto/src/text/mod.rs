//! OpenFlow 1.3 messages as text, the way `ovs-ofctl ofp-print` prints them: used by
//! `op25b ofp-print` and by the controller's log lines (the protocol's own pretty printers,
//! kept beside the codec as smoltcp keeps its printers inside `wire/`).
pub mod flag_text;
pub mod flow_entry_text;
pub mod flow_text;
pub mod group_text;
pub mod hexdump;
pub mod message_text;
pub mod meter_text;
pub mod multipart_text;
pub mod packet_text;
pub mod port_text;
