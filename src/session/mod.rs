//! One switch connection: a sans-I/O state machine ([`machine`]) driven by a tokio task
//! ([`connection`]).
pub mod backoff;
