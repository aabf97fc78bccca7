//! Telling systemd (or any service manager speaking the `sd_notify` protocol) how `op25b run`
//! is doing, for the packaged unit's `Type=notify`.
//!
//! `READY=1` is sent once the OpenFlow listener(s) and the HTTP API are bound, so "active" in
//! `systemctl status` means switches and `op25b status` can connect; `STOPPING=1` when SIGINT
//! or SIGTERM arrives. Without `NOTIFY_SOCKET` in the environment (any start by hand, the
//! tests) every call does nothing. The messages are datagrams on a unix socket, sent by the
//! `sd-notify` crate (pure Rust, no libsystemd).

use sd_notify::NotifyState;
use tracing::warn;

/// `READY=1` plus a `STATUS=` line shown by `systemctl status`.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `STOPPING=1`: shutting down, sessions closing.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

fn send(states: &[NotifyState]) {
    // A failure to notify is not fatal: the controller works; systemd will time the start out.
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify the service manager (NOTIFY_SOCKET)");
    }
}
