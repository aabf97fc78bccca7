//! One switch connection: a sans-I/O state machine ([`machine`]) driven by a tokio task
//! ([`connection`]).
pub mod backoff;
pub mod machine;
pub mod sent_log;
pub mod switch_policy;
pub mod wire;

#[cfg(test)]
mod machine_tests;
