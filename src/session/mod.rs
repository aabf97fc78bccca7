//! One switch connection: a sans-I/O state machine ([`machine`]) driven by a tokio task
//! ([`connection`]); [`codec_bridge`] translates between the session's vocabulary and the codec.
pub mod active_policy;
pub mod backoff;
pub mod codec_bridge;
pub mod connection;
pub mod machine;
pub mod outbox;
pub mod output;
pub mod phase;
pub mod sent_log;
pub mod session_policy;
pub mod stream_io;
pub mod sync_reason;
pub mod wire;

#[cfg(test)]
mod machine_tests;
