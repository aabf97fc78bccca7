//! The offender table: per subscriber, how many port-25 connections it tried, to how many
//! hosts, and whether that looks like a spambot.
//!
//! # What is counted
//!
//! A subscriber is keyed by `(dpid, in_port, source MAC, source)`, where the source is the
//! IPv4 address, or for IPv6 the address's prefix of [`OffenderConfig::ipv6_prefix_len`] bits
//! (policy `[reporting] ipv6_prefix_len`, default 64): an infected IPv6 host rotating privacy
//! addresses inside its /64 (or across its delegated /56, with 56) never reaches a threshold
//! per /128, but is one subscriber per prefix. Each entry remembers the first
//! [`MAX_SOURCE_ADDRESSES`] distinct addresses it saw and the last one, for the view and the
//! report. Only a TCP SYN without
//! ACK/RST is a *connection attempt*. One `connect()` retransmits its SYN (Linux: after 1, 3,
//! 7, 15, 31 and 63 s, giving up at about 127 s with the default `tcp_syn_retries = 6`), so a
//! SYN with the same destination IP and the same source port as an attempt still in the
//! entry's ring and less than [`OffenderConfig::retransmit_window`] (default 130 s) after it is
//! a *retransmission*, not a new attempt. Other TCP packets (ACK, RST, ...) and later IP
//! fragments (no ports, see [`Transport::LaterFragment`]) are counted separately and never
//! count toward the flag.
//!
//! # Sliding window, precisely
//!
//! Each entry keeps a ring of its last `flag_attempts` (default 30) attempts, each with time,
//! destination IP and source port. After each new attempt the subscriber is flagged when all
//! of:
//! - the ring is full (`flag_attempts` attempts recorded since the entry was created),
//! - the oldest attempt in the ring is at most `window` (default 10 min) before `now`, i.e.
//!   the last `flag_attempts` attempts all fall within one window ending now,
//! - those attempts went to at least `flag_distinct_destinations` (default 5) distinct
//!   destination IPs.
//!
//! So a mail client misconfigured to use one outside server, however often it retries, is
//! never flagged; a bot spraying many MX hosts is. (Corner case: attempts older than the last
//! `flag_attempts` do not count toward the distinct hosts.) Flagging happens once per entry
//! and is returned from [`OffenderTable::record`] as an [`InfectionEvent`]; the entry stays
//! flagged while it keeps sending. An entry with no sample for `window` is *idle*: the next
//! [`OffenderTable::expire`] removes it, and a sample reaching an idle entry first resets it,
//! so a subscriber that starts again later is counted (and can be flagged) afresh.
//!
//! # Bounds
//!
//! At most `max_offenders` entries (default 100,000); inserting one more evicts the least
//! recently active entry (an LRU, from the `lru` crate). Per entry, the ring holds at most
//! `flag_attempts` attempts, the lifetime distinct-destination set at most
//! `max_tracked_destinations` (default 32) addresses (past that the count saturates and the
//! view says so), and the source addresses seen at most [`MAX_SOURCE_ADDRESSES`] (8). Measured
//! with `size_of` (test `entry_memory_is_small`): the fixed part of an entry, key plus state,
//! is [`ENTRY_FIXED_BYTES`] = 208 bytes; each ring slot is 32 bytes and each tracked
//! destination or source 17 (an `IpAddr`). The buffers grow only as the subscriber sends
//! (capacities double: 4, 8, 16, 32), so with the defaults an entry holds at most
//! 208 + 32 x 32 + 32 x 17 + 8 x 17 = 1,912 bytes, and a subscriber with a handful of attempts
//! from one address about 208 + 4 x 32 + 4 x 17 + 17 = 421. The LRU adds about 35 bytes per
//! entry (two list pointers per node; a key pointer, an entry pointer and a control byte per
//! hash slot). Worst case for 100,000 entries is therefore about 195 MB, reached only if
//! 100,000 subscribers each made 32+ attempts to 32+ hosts (over 3 million samples, at most 20
//! per second per switch) with none idle for 10 minutes.
//!
//! Times come in as [`UnixMillis`]; a clock stepping backwards is tolerated (durations
//! saturate at zero), and the table never panics.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::num::NonZeroUsize;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::time::Duration;

use lru::LruCache;
use op25b_proto::MacAddr;
use serde::{Deserialize, Serialize};

use crate::policy::Dpid;

use super::clock::UnixMillis;
use super::sample::{Sample, Transport};

/// Thresholds and bounds of the table. [`Default`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffenderConfig {
    /// Most subscribers tracked at once; the least recently active is evicted past it.
    pub max_offenders: usize,
    /// Attempts within `window` needed to flag (also the ring size per entry).
    pub flag_attempts: usize,
    /// Distinct destination IPs among those attempts needed to flag.
    pub flag_distinct_destinations: usize,
    /// Sliding window for flagging, and idle time after which an entry expires.
    pub window: Duration,
    /// A repeated SYN (same destination IP and source port) within this time of the first one
    /// is a retransmission of the same `connect()`.
    pub retransmit_window: Duration,
    /// Most distinct destinations remembered per entry for the view (count saturates).
    pub max_tracked_destinations: usize,
    /// IPv6 sources are counted per prefix of this many bits (1..=128); IPv4 per address.
    pub ipv6_prefix_len: u8,
}

/// Most distinct source addresses an entry remembers (an IPv6 prefix may show many).
pub const MAX_SOURCE_ADDRESSES: usize = 8;

impl Default for OffenderConfig {
    fn default() -> Self {
        Self {
            max_offenders: 100_000,
            flag_attempts: 30,
            flag_distinct_destinations: 5,
            window: Duration::from_secs(10 * 60),
            retransmit_window: Duration::from_secs(130),
            max_tracked_destinations: 32,
            ipv6_prefix_len: 64,
        }
    }
}

/// A configuration the table cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffenderConfigError {
    #[error("offenders: {field} must be at least 1")]
    Zero { field: &'static str },
    #[error(
        "offenders: flag_distinct_destinations ({distinct}) exceeds flag_attempts ({attempts}); \
         nobody could ever be flagged"
    )]
    DistinctAboveAttempts { distinct: usize, attempts: usize },
    #[error("offenders: window must be longer than zero")]
    ZeroWindow,
    #[error("offenders: ipv6_prefix_len {0} is out of range: expected 1..=128")]
    Ipv6PrefixLen(u8),
}

impl OffenderConfig {
    /// Checks the configuration; [`OffenderTable::new`] calls it.
    pub fn validate(&self) -> Result<(), OffenderConfigError> {
        for (field, value) in [
            ("max_offenders", self.max_offenders),
            ("flag_attempts", self.flag_attempts),
            (
                "flag_distinct_destinations",
                self.flag_distinct_destinations,
            ),
            ("max_tracked_destinations", self.max_tracked_destinations),
        ] {
            if value == 0 {
                return Err(OffenderConfigError::Zero { field });
            }
        }
        if self.flag_distinct_destinations > self.flag_attempts {
            return Err(OffenderConfigError::DistinctAboveAttempts {
                distinct: self.flag_distinct_destinations,
                attempts: self.flag_attempts,
            });
        }
        if self.window.is_zero() {
            return Err(OffenderConfigError::ZeroWindow);
        }
        if !(1..=128).contains(&self.ipv6_prefix_len) {
            return Err(OffenderConfigError::Ipv6PrefixLen(self.ipv6_prefix_len));
        }
        Ok(())
    }
}

/// Where and when a sample was seen: the PACKET_IN's switch and `in_port` match field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleContext {
    pub dpid: u64,
    pub in_port: u32,
    pub now: UnixMillis,
}

/// Identity of one subscriber device on one switch port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriberKey {
    pub dpid: u64,
    pub in_port: u32,
    pub source_mac: MacAddr,
    /// The IPv4 address as a /32, or the IPv6 address's `ipv6_prefix_len` prefix.
    pub source: IpNet,
}

impl SubscriberKey {
    /// What `source_ip` is counted under: itself for IPv4, its prefix of `ipv6_prefix_len`
    /// bits for IPv6 (a length over 128 counts per address).
    pub fn source_of(source_ip: IpAddr, ipv6_prefix_len: u8) -> IpNet {
        match source_ip {
            IpAddr::V4(a) => IpNet::V4(Ipv4Net::from(a)),
            IpAddr::V6(a) => IpNet::V6(
                Ipv6Net::new(a, ipv6_prefix_len)
                    .map_or_else(|_| Ipv6Net::from(a), |net| net.trunc()),
            ),
        }
    }
}

/// The prefix a view or event shows: `Some` for an IPv6 subscriber only.
fn shown_prefix(source: IpNet) -> Option<IpNet> {
    matches!(source, IpNet::V6(_)).then_some(source)
}

/// Returned once when a subscriber crosses the threshold: the input of an abuse report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InfectionEvent {
    pub dpid: u64,
    pub in_port: u32,
    #[serde(with = "super::mac_json")]
    pub source_mac: MacAddr,
    /// Source address of the attempt that crossed the threshold.
    pub source_ip: IpAddr,
    /// For an IPv6 subscriber, the prefix it is counted under (`ipv6_prefix_len`).
    pub source_prefix: Option<IpNet>,
    /// Distinct source addresses seen (first [`MAX_SOURCE_ADDRESSES`]).
    pub source_addresses: Vec<IpAddr>,
    /// Source port of the attempt that crossed the threshold.
    pub source_port: u16,
    /// Destination of the attempt that crossed the threshold.
    pub destination_ip: IpAddr,
    pub destination_port: u16,
    /// Attempts in the window that triggered (equals `flag_attempts`).
    pub attempts_in_window: usize,
    /// Distinct destination IPs among those attempts.
    pub distinct_destinations_in_window: usize,
    /// Time of the oldest attempt in the triggering window.
    pub window_start: UnixMillis,
    /// Attempts since the entry was created (may exceed the window's).
    pub total_attempts: u32,
    pub first_seen: UnixMillis,
    pub flagged_at: UnixMillis,
    /// The sampled frame that crossed the threshold, at most [`MAX_SAMPLE_FRAME_BYTES`] (its
    /// headers: the switch sends 128 bytes of a SYN), for the report's evidence. The table
    /// never sees the bytes, only the parsed [`Sample`]: it leaves this empty and the caller
    /// that parsed the frame fills it ([`InfectionEvent::with_sample_frame`]).
    #[serde(skip_serializing)]
    pub sample_frame: Vec<u8>,
}

/// Most bytes of a sampled frame an [`InfectionEvent`] carries (the drop flows send 128).
pub const MAX_SAMPLE_FRAME_BYTES: usize = 128;

impl InfectionEvent {
    /// The event with the frame that triggered it, cut to [`MAX_SAMPLE_FRAME_BYTES`].
    #[must_use]
    pub fn with_sample_frame(mut self, frame: &[u8]) -> Self {
        self.sample_frame = frame[..frame.len().min(MAX_SAMPLE_FRAME_BYTES)].to_vec();
        self
    }
}

/// One entry as `/api/offenders` shows it (and `op25b status` reads it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffenderView {
    /// Datapath id as colon hex (`00:00:00:00:00:00:00:01`).
    pub switch: String,
    pub dpid: u64,
    pub port: u32,
    #[serde(with = "super::mac_json")]
    pub source_mac: MacAddr,
    /// The last source address seen.
    pub source_ip: IpAddr,
    /// For an IPv6 subscriber, the prefix it is counted under (`ipv6_prefix_len`); absent for
    /// IPv4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_prefix: Option<IpNet>,
    /// Distinct source addresses seen (first [`MAX_SOURCE_ADDRESSES`]).
    #[serde(default)]
    pub source_addresses: Vec<IpAddr>,
    /// Connection attempts since the entry was created (retransmissions excluded).
    pub attempts: u32,
    /// Distinct destination IPs seen (at most `max_tracked_destinations`).
    pub distinct_destinations: usize,
    /// True when `distinct_destinations` hit the cap: the real number is at least that.
    pub distinct_destinations_saturated: bool,
    pub retransmissions: u32,
    /// Later IP fragments (no ports) sampled from this subscriber.
    pub fragments: u32,
    /// Other blocked TCP packets (not a SYN opening a connection).
    pub other_packets: u32,
    pub last_destination: Option<IpAddr>,
    pub last_destination_port: Option<u16>,
    pub first_seen: UnixMillis,
    pub last_seen: UnixMillis,
    pub flagged: bool,
    pub flagged_at: Option<UnixMillis>,
    /// In a cluster, the instance whose table holds the entry (set by
    /// [`super::cluster_share::merge`]; absent from one instance's own table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Running totals, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OffenderStats {
    /// Entries removed to make room for a new subscriber.
    pub evicted: u64,
    /// Entries removed by [`OffenderTable::expire`] after `window` without samples.
    pub expired: u64,
    /// Infection events returned by [`OffenderTable::record`].
    pub flagged_events: u64,
}

/// One attempt in an entry's ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Attempt {
    at: UnixMillis,
    destination: IpAddr,
    source_port: u16,
}

/// The state kept per subscriber.
#[derive(Clone, Debug)]
struct Offender {
    first_seen: UnixMillis,
    last_seen: UnixMillis,
    attempts: u32,
    retransmissions: u32,
    fragments: u32,
    other_packets: u32,
    flagged_at: Option<UnixMillis>,
    last_destination: Option<(IpAddr, u16)>,
    /// The last `flag_attempts` attempts, oldest first.
    recent: VecDeque<Attempt>,
    /// Distinct destinations ever seen by this entry, at most `max_tracked_destinations`.
    destinations: Vec<IpAddr>,
    /// Distinct source addresses seen, at most [`MAX_SOURCE_ADDRESSES`]; the last one seen
    /// is `last_source`.
    sources: Vec<IpAddr>,
    last_source: IpAddr,
}

/// Bytes of one entry without its two growable buffers' contents: key, counters, buffer
/// headers, as `size_of` measures them (checked by a test). The LRU adds two pointers per
/// node and the hash map one pointer plus a control byte per slot.
pub const ENTRY_FIXED_BYTES: usize = size_of::<SubscriberKey>() + size_of::<Offender>();

impl Offender {
    fn new(now: UnixMillis, source: IpAddr) -> Self {
        Self {
            first_seen: now,
            last_seen: now,
            attempts: 0,
            retransmissions: 0,
            fragments: 0,
            other_packets: 0,
            flagged_at: None,
            last_destination: None,
            recent: VecDeque::new(),
            destinations: Vec::new(),
            sources: vec![source],
            last_source: source,
        }
    }

    fn saw_source(&mut self, source: IpAddr) {
        self.last_source = source;
        if self.sources.len() < MAX_SOURCE_ADDRESSES && !self.sources.contains(&source) {
            self.sources.push(source);
        }
    }

    fn is_idle(&self, now: UnixMillis, window: Duration) -> bool {
        now.since(self.last_seen) >= window
    }

    fn distinct_recent_destinations(&self) -> usize {
        let mut seen: Vec<IpAddr> = Vec::with_capacity(self.recent.len());
        for attempt in &self.recent {
            if !seen.contains(&attempt.destination) {
                seen.push(attempt.destination);
            }
        }
        seen.len()
    }
}

/// Bounded LRU of subscribers seen sending blocked traffic. See the module docs.
pub struct OffenderTable {
    config: OffenderConfig,
    entries: LruCache<SubscriberKey, Offender>,
    flagged: usize,
    stats: OffenderStats,
}

impl OffenderTable {
    /// An empty table; fails on a configuration that cannot work (see
    /// [`OffenderConfig::validate`]).
    pub fn new(config: OffenderConfig) -> Result<Self, OffenderConfigError> {
        config.validate()?;
        let capacity =
            NonZeroUsize::new(config.max_offenders).ok_or(OffenderConfigError::Zero {
                field: "max_offenders",
            })?;
        Ok(Self {
            config,
            entries: LruCache::new(capacity),
            flagged: 0,
            stats: OffenderStats::default(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &OffenderConfig {
        &self.config
    }

    /// Counts one sampled packet. Returns an event the first time this subscriber crosses the
    /// threshold (and `None` for every other sample, including later ones while it stays
    /// flagged).
    pub fn record(&mut self, sample: &Sample, context: SampleContext) -> Option<InfectionEvent> {
        let key = SubscriberKey {
            dpid: context.dpid,
            in_port: context.in_port,
            source_mac: sample.source_mac,
            source: SubscriberKey::source_of(sample.source_ip, self.config.ipv6_prefix_len),
        };
        let now = context.now;
        let window = self.config.window;

        let mut unflagged = 0;
        let mut evicted_flagged = false;
        if let Some(entry) = self.entries.get_mut(&key) {
            if entry.is_idle(now, window) {
                if entry.flagged_at.is_some() {
                    unflagged += 1;
                }
                *entry = Offender::new(now, sample.source_ip);
            }
        } else if let Some((_, old)) = self.entries.push(key, Offender::new(now, sample.source_ip))
        {
            // `push` returns the evicted LRU entry (it never replaces: the key was absent).
            evicted_flagged = old.flagged_at.is_some();
            self.stats.evicted = self.stats.evicted.saturating_add(1);
        }
        self.flagged = self
            .flagged
            .saturating_sub(unflagged + usize::from(evicted_flagged));

        let entry = self.entries.get_mut(&key)?;
        entry.last_seen = entry.last_seen.max(now);
        entry.saw_source(sample.source_ip);

        let tcp = match sample.transport {
            Transport::LaterFragment { .. } => {
                entry.fragments = entry.fragments.saturating_add(1);
                return None;
            }
            Transport::Tcp(tcp) if !tcp.is_connection_attempt() => {
                entry.other_packets = entry.other_packets.saturating_add(1);
                return None;
            }
            Transport::Tcp(tcp) => tcp,
        };

        let destination = sample.destination_ip;
        let retransmit_window = self.config.retransmit_window;
        let is_retransmission = entry.recent.iter().any(|attempt| {
            attempt.destination == destination
                && attempt.source_port == tcp.source_port
                && now.since(attempt.at) < retransmit_window
        });
        if is_retransmission {
            entry.retransmissions = entry.retransmissions.saturating_add(1);
            return None;
        }

        entry.attempts = entry.attempts.saturating_add(1);
        entry.last_destination = Some((destination, tcp.destination_port));
        if entry.recent.len() == self.config.flag_attempts {
            entry.recent.pop_front();
        }
        entry.recent.push_back(Attempt {
            at: now,
            destination,
            source_port: tcp.source_port,
        });
        if entry.destinations.len() < self.config.max_tracked_destinations
            && !entry.destinations.contains(&destination)
        {
            entry.destinations.push(destination);
        }

        if entry.flagged_at.is_some() || entry.recent.len() < self.config.flag_attempts {
            return None;
        }
        let window_start = entry.recent.front()?.at;
        if now.since(window_start) > window {
            return None;
        }
        let distinct = entry.distinct_recent_destinations();
        if distinct < self.config.flag_distinct_destinations {
            return None;
        }

        entry.flagged_at = Some(now);
        self.flagged += 1;
        self.stats.flagged_events = self.stats.flagged_events.saturating_add(1);
        Some(InfectionEvent {
            dpid: key.dpid,
            in_port: key.in_port,
            source_mac: key.source_mac,
            source_ip: sample.source_ip,
            source_prefix: shown_prefix(key.source),
            source_addresses: entry.sources.clone(),
            source_port: tcp.source_port,
            destination_ip: destination,
            destination_port: tcp.destination_port,
            attempts_in_window: entry.recent.len(),
            distinct_destinations_in_window: distinct,
            window_start,
            total_attempts: entry.attempts,
            first_seen: entry.first_seen,
            flagged_at: now,
            sample_frame: Vec::new(),
        })
    }

    /// Removes entries idle for `window` (no sample since `now - window`). Entries are removed
    /// from the least recently active end and the scan stops at the first active one, so the
    /// cost is the number removed (if the clock stepped back, a few idle entries may wait for
    /// a later call). Returns how many were removed.
    pub fn expire(&mut self, now: UnixMillis) -> usize {
        let window = self.config.window;
        let mut removed = 0;
        while let Some((_, oldest)) = self.entries.peek_lru() {
            if !oldest.is_idle(now, window) {
                break;
            }
            if let Some((_, gone)) = self.entries.pop_lru() {
                if gone.flagged_at.is_some() {
                    self.flagged = self.flagged.saturating_sub(1);
                }
                removed += 1;
            }
        }
        self.stats.expired = self.stats.expired.saturating_add(removed as u64);
        removed
    }

    /// The `n` worst entries: flagged first, then most attempts, then most recent.
    pub fn top(&self, n: usize) -> Vec<OffenderView> {
        let mut all: Vec<(&SubscriberKey, &Offender)> = self.entries.iter().collect();
        let rank = |(_, o): &(&SubscriberKey, &Offender)| {
            (
                std::cmp::Reverse(o.flagged_at.is_some()),
                std::cmp::Reverse(o.attempts),
                std::cmp::Reverse(o.last_seen),
            )
        };
        if n < all.len() {
            if n == 0 {
                return Vec::new();
            }
            all.select_nth_unstable_by_key(n - 1, rank);
            all.truncate(n);
        }
        all.sort_by_key(rank);
        all.into_iter()
            .map(|(key, entry)| self.view(key, entry))
            .collect()
    }

    /// The entry for one subscriber, if tracked.
    pub fn get(&self, key: &SubscriberKey) -> Option<OffenderView> {
        self.entries.peek(key).map(|entry| self.view(key, entry))
    }

    /// Entries currently flagged as likely infected.
    pub fn flagged_count(&self) -> usize {
        self.flagged
    }

    /// Entries tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no subscriber is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Running totals (evictions, expiries, events).
    pub fn stats(&self) -> OffenderStats {
        self.stats
    }

    fn view(&self, key: &SubscriberKey, entry: &Offender) -> OffenderView {
        OffenderView {
            switch: Dpid(key.dpid).to_string(),
            dpid: key.dpid,
            port: key.in_port,
            source_mac: key.source_mac,
            source_ip: entry.last_source,
            source_prefix: shown_prefix(key.source),
            source_addresses: entry.sources.clone(),
            attempts: entry.attempts,
            distinct_destinations: entry.destinations.len(),
            distinct_destinations_saturated: entry.destinations.len()
                >= self.config.max_tracked_destinations,
            retransmissions: entry.retransmissions,
            fragments: entry.fragments,
            other_packets: entry.other_packets,
            last_destination: entry.last_destination.map(|(ip, _)| ip),
            last_destination_port: entry.last_destination.map(|(_, port)| port),
            first_seen: entry.first_seen,
            last_seen: entry.last_seen,
            flagged: entry.flagged_at.is_some(),
            flagged_at: entry.flagged_at,
            instance: None,
        }
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
