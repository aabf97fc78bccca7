//! Multipart reply bodies (spec 7.3.5): description, flow/aggregate/table/port/queue/group/meter
//! statistics, group and meter descriptions and features. One file per concern; everything is
//! re-exported here, so `multipart::stats::*` paths are unchanged.

mod desc;
mod flow;
mod group;
mod meter;
mod port;

pub use desc::{Desc, DESC_STR_LEN, SERIAL_NUM_LEN};
pub use flow::{AggregateStats, FlowStats, TableStats};
pub use group::{BucketCounter, GroupDesc, GroupFeatures, GroupStats};
pub use meter::{MeterBandStats, MeterConfig, MeterFeatures, MeterStats};
pub use port::{PortStats, QueueStats};
