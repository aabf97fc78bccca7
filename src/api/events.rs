//! `GET /api/events`: a server-sent event stream (`text/event-stream`) for the status page and
//! for tooling (`curl -N`).
//!
//! | event | data (JSON) | when |
//! |---|---|---|
//! | `snapshot` | `{switches, policy, reloads, offenders_visible}`: `GET /api/switches`'s answer, the policy in force (generation, sha256, loaded_at, trigger), the reload history | first, on every (re)connect |
//! | `switch` | one switch as in `GET /api/switches` | its state, flows, sync or drift changed |
//! | `reload` | `{reload, policy}`: the reload and the policy in force after it | every reload (installed, unchanged, rejected) |
//! | `offenders` | `{tracked, flagged, offenders}` (the 20 worst) | **token only**: at connect, then when it changed (checked every 2 s) |
//! | `overflow` | `{"error": ...}` | the client fell too far behind: the stream ends (reconnect for a fresh snapshot) |
//!
//! A `: heartbeat` comment goes out every 15 s when nothing else does, so proxies and clients
//! can tell a quiet stream from a dead one.
//!
//! **Token**: without an `Authorization` header the stream carries no `offenders` event (no
//! subscriber address ever goes to an unauthenticated client); with a valid
//! `Authorization: Bearer TOKEN` it does; with a wrong one the answer is 401.
//!
//! **Bounded**: at most [`EventLimits::max_streams`] streams at once (more get 503). Each stream
//! reads the registry's and the policy store's broadcast channels, whose buffers are bounded
//! (`CHANGE_BUFFER` changes): a client that does not read falls behind, is sent `overflow` and
//! dropped. Nothing the controller does ever waits for a client. Streams end when the API
//! shuts down, and with the connection's lifetime (`ApiLimits::connection_lifetime`, 120 s):
//! clients reconnect (`EventSource` does it by itself; the status page does too).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::controller::offender_service::OffenderHandle;
use crate::controller::reload_history::{PolicyOrigin, ReloadRecord};
use crate::fleet::registry::SwitchStatus;
use crate::offenders::OffenderView;

use super::error::ApiError;
use super::switches::{summary, switch_list, SwitchList};
use super::ApiState;

/// Limits of `GET /api/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventLimits {
    /// Streams open at once (each holds one of the accept loop's connections).
    pub max_streams: usize,
    /// A `: heartbeat` comment after this long without an event.
    pub heartbeat: Duration,
    /// How often the offender table is looked at for a token holder's stream.
    pub offender_interval: Duration,
}

impl Default for EventLimits {
    fn default() -> Self {
        Self {
            max_streams: 16,
            heartbeat: Duration::from_secs(15),
            offender_interval: Duration::from_secs(2),
        }
    }
}

/// Offenders in an `offenders` event.
pub const OFFENDERS_SHOWN: usize = 20;

/// The event streams' shared limits: the slots and the shutdown signal.
#[derive(Debug, Clone)]
pub struct EventStreams {
    limits: EventLimits,
    slots: Arc<Semaphore>,
    stop: CancellationToken,
}

impl EventStreams {
    pub fn new(limits: EventLimits) -> Self {
        Self {
            limits,
            slots: Arc::new(Semaphore::new(limits.max_streams)),
            stop: CancellationToken::new(),
        }
    }

    /// Streams end when `stop` is cancelled (the API's shutdown).
    pub(super) fn stop_with(&mut self, stop: CancellationToken) {
        self.stop = stop;
    }
}

#[derive(Serialize)]
struct Snapshot {
    switches: SwitchList,
    policy: PolicyOrigin,
    reloads: Vec<ReloadRecord>,
    /// True when this stream carries `offenders` events (a valid token was sent).
    offenders_visible: bool,
}

#[derive(Serialize)]
struct ReloadEvent {
    reload: ReloadRecord,
    policy: PolicyOrigin,
}

#[derive(Serialize)]
struct OffendersEvent {
    tracked: usize,
    flagged: usize,
    offenders: Vec<OffenderView>,
}

/// One client's stream: what it reads from, and its slot.
struct Feed {
    state: ApiState,
    changes: broadcast::Receiver<SwitchStatus>,
    reloads: broadcast::Receiver<ReloadRecord>,
    /// For a token holder when reporting is on.
    offenders: Option<(OffenderHandle, Interval)>,
    /// The last `offenders` event's data, to send only changes.
    last_offenders: Option<String>,
    first: Option<Event>,
    stop: CancellationToken,
    ended: bool,
    _slot: OwnedSemaphorePermit,
}

/// `GET /api/events`.
pub async fn get(State(state): State<ApiState>, request: Request) -> Response {
    let with_token = match request.headers().get(AUTHORIZATION) {
        None => false,
        Some(_) if super::access::authorized(&state.token, &request) => true,
        Some(_) => return super::access::unauthorized(),
    };
    let Ok(slot) = state.events.slots.clone().try_acquire_owned() else {
        return ApiError::Unavailable(format!(
            "too many event streams open (at most {})",
            state.events.limits.max_streams
        ))
        .into_response();
    };
    let limits = state.events.limits;
    // Subscribe before the snapshot, so no change falls between the two.
    let changes = state.registry.subscribe_changes();
    let reloads = state.store.subscribe_reloads();
    let first = encode(
        "snapshot",
        &Snapshot {
            switches: switch_list(&state),
            policy: state.store.origin(),
            reloads: state.store.reload_history(),
            offenders_visible: with_token,
        },
    );
    let offenders = state.offenders.clone().filter(|_| with_token).map(|h| {
        let mut tick = tokio::time::interval(limits.offender_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        (h, tick)
    });
    let feed = Feed {
        stop: state.events.stop.clone(),
        state,
        changes,
        reloads,
        offenders,
        last_offenders: None,
        first: Some(first),
        ended: false,
        _slot: slot,
    };
    Sse::new(events(feed))
        .keep_alive(
            KeepAlive::new()
                .interval(limits.heartbeat)
                .text("heartbeat"),
        )
        .into_response()
}

fn events(feed: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    })
}

/// `data` as an event named `name`; a value that cannot be serialised (a bug) becomes a
/// comment rather than a panic.
fn encode<T: Serialize>(name: &str, data: &T) -> Event {
    match Event::default().event(name).json_data(data) {
        Ok(e) => e,
        Err(e) => Event::default().comment(format!("{name} not serialisable: {e}")),
    }
}

fn overflow(what: &str) -> Event {
    encode(
        "overflow",
        &serde_json::json!({ "error": format!("this client fell behind the {what}; reconnect for a fresh snapshot") }),
    )
}

impl Feed {
    /// The next event, or `None` to end the stream.
    async fn next(&mut self) -> Option<Event> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        if self.ended {
            return None;
        }
        loop {
            let tick = async {
                match &mut self.offenders {
                    Some((_, tick)) => {
                        tick.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = self.stop.cancelled() => return None,
                change = self.changes.recv() => match change {
                    Ok(status) => return Some(encode("switch", &summary(&status, &self.state))),
                    Err(RecvError::Lagged(n)) => {
                        debug!(missed = n, "event stream client too slow: dropped");
                        self.ended = true;
                        return Some(overflow("switch changes"));
                    }
                    Err(RecvError::Closed) => return None,
                },
                reload = self.reloads.recv() => match reload {
                    Ok(reload) => {
                        let policy = self.state.store.origin();
                        return Some(encode("reload", &ReloadEvent { reload, policy }));
                    }
                    Err(RecvError::Lagged(_)) => {
                        self.ended = true;
                        return Some(overflow("reloads"));
                    }
                    Err(RecvError::Closed) => return None,
                },
                () = tick => {
                    if let Some(event) = self.offenders_changed().await {
                        return Some(event);
                    }
                }
            }
        }
    }

    /// An `offenders` event when the worst offenders changed since the last one.
    async fn offenders_changed(&mut self) -> Option<Event> {
        let handle = self.offenders.as_ref()?.0.clone();
        // `top` sorts the whole table: off the async threads.
        let now = tokio::task::spawn_blocking(move || {
            let summary = handle.summary();
            OffendersEvent {
                tracked: summary.tracked,
                flagged: summary.flagged,
                offenders: handle.top(OFFENDERS_SHOWN, false),
            }
        })
        .await
        .ok()?;
        let json = serde_json::to_string(&now).ok()?;
        if self.last_offenders.as_ref() == Some(&json) {
            return None;
        }
        self.last_offenders = Some(json.clone());
        Some(Event::default().event("offenders").data(json))
    }
}
