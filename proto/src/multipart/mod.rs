//! Multipart (statistics) requests and replies.

pub mod reply;
pub mod request;
pub mod stats;
pub mod table_features;
