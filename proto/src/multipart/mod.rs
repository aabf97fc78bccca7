//! Multipart (statistics) requests and replies.

mod entries;
mod header;
pub mod reply;
pub mod request;
pub mod stats;
pub mod table_features;
