//! One switch connection: a sans-I/O state machine ([`machine`]) driven by a tokio task
//! ([`connection`]); [`codec_bridge`] translates between the session's vocabulary ([`wire`]) and
//! the codec.
//!
//! The boundary with the codec: the session builds on `op25b_proto` rather than hiding it. Its
//! vocabulary uses proto's types where proto has them (`MeterConfig` entries), its numbers come
//! from proto (`op25b_proto::consts`, `op25b_proto::error_codes`; nothing is redeclared here),
//! and what the codec refuses stays typed (`FrameError`, `DecodeError`) up to where the
//! connection logs it. What the session does not take from proto is the shape of a message: the
//! machine sees [`wire::Inbound`]/[`wire::Outbound`], classified by what it does with them, and is
//! generic over the policy's messages (its unit tests drive it with strings), so it stays
//! sans-I/O; [`codec_bridge`] is the one place that decodes and encodes whole messages.
pub mod active_policy;
pub mod backoff;
pub mod codec_bridge;
pub mod config_audit;
pub mod connection;
pub mod counter_poll;
pub mod error_routing;
pub mod fail_open;
pub mod fail_open_watch;
pub mod flow_sync;
pub mod handshake;
pub mod held_replies;
pub mod keepalive;
pub mod log_budget;
pub mod machine;
pub mod meter_sync;
pub mod outbox;
pub mod output;
pub mod packet_in_sample;
pub mod phase;
pub mod read_cap;
pub mod role;
pub mod sample_trust;
pub mod sent_log;
pub mod session_policy;
pub mod stream_io;
pub mod sync_reason;
pub mod sync_run;
pub mod sync_schedule;
pub mod wire;

#[cfg(test)]
mod fake_policy;
#[cfg(test)]
mod machine_role_tests;
#[cfg(test)]
mod machine_tests;
#[cfg(test)]
mod scenario;
