//! Time as the offender table sees it: whole milliseconds since the Unix epoch.
//!
//! The table is pure: callers pass `now` in. Tests pass made-up instants; the session layer
//! passes [`UnixMillis::now`]. A clock that steps backwards is tolerated (durations saturate
//! at zero), never a panic.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant, in milliseconds since 1970-01-01T00:00:00Z. Serialized as RFC 3339 (UTC, ms),
/// and read back from it (`op25b status` reads the API's times).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    /// The system clock now. A clock before 1970 reads as the epoch.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// Converts a `SystemTime`; instants before the epoch become the epoch, and instants past
    /// `u64::MAX` ms (year 584 million) saturate.
    pub fn from_system_time(t: SystemTime) -> Self {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Self(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The same instant as a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later (clock stepped back).
    pub fn since(self, earlier: UnixMillis) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// The last instant RFC 3339 can write (`9999-12-31T23:59:59.999Z`): humantime refuses
    /// later ones with a `fmt::Error`, which `to_string` turns into a panic.
    pub const LAST_RFC3339: UnixMillis = UnixMillis(253_402_300_799_999);

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-27T21:16:16.000Z`. Instants after
    /// [`Self::LAST_RFC3339`] (a clock set absurdly far ahead) are written as it.
    pub fn to_rfc3339(self) -> String {
        humantime::format_rfc3339_millis(self.min(Self::LAST_RFC3339).to_system_time()).to_string()
    }
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for UnixMillis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UnixMillis {
    /// An RFC 3339 UTC time such as `2026-11-27T21:16:16.123Z`; digits past the millisecond
    /// are dropped.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_rfc3339(&text)
            .map(Self::from_system_time)
            .map_err(|e| D::Error::custom(format!("{text:?} is not an RFC 3339 UTC time: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc_with_millis() {
        assert_eq!(UnixMillis(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        // 2026-11-27T21:16:16.123Z
        assert_eq!(
            UnixMillis(1_795_814_176_123).to_rfc3339(),
            "2026-11-27T21:16:16.123Z"
        );
    }

    #[test]
    fn instants_past_year_9999_format_as_its_last_millisecond_instead_of_panicking() {
        let last = "9999-12-31T23:59:59.999Z";
        assert_eq!(UnixMillis(253_402_300_799_999).to_rfc3339(), last);
        assert_eq!(UnixMillis(253_402_300_800_000).to_rfc3339(), last);
        assert_eq!(UnixMillis(u64::MAX).to_rfc3339(), last);
        assert_eq!(
            serde_json::to_string(&UnixMillis(u64::MAX)).expect("serializes"),
            format!("\"{last}\"")
        );
    }

    #[test]
    fn rfc3339_text_reads_back_as_the_same_instant() {
        for ms in [0, 1_795_814_176_123, UnixMillis::LAST_RFC3339.0] {
            let json = serde_json::to_string(&UnixMillis(ms)).expect("serializes");
            assert_eq!(
                serde_json::from_str::<UnixMillis>(&json).expect("deserializes"),
                UnixMillis(ms),
                "{json}"
            );
        }
        let err = serde_json::from_str::<UnixMillis>("\"yesterday\"").expect_err("not a time");
        assert!(
            err.to_string().contains("not an RFC 3339 UTC time"),
            "{err}"
        );
    }

    #[test]
    fn since_saturates_when_the_clock_steps_back() {
        assert_eq!(
            UnixMillis(5_000).since(UnixMillis(2_000)),
            Duration::from_secs(3)
        );
        assert_eq!(UnixMillis(2_000).since(UnixMillis(5_000)), Duration::ZERO);
    }

    #[test]
    fn system_time_round_trip() {
        let t = UnixMillis(1_700_000_000_250);
        assert_eq!(UnixMillis::from_system_time(t.to_system_time()), t);
        let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(UnixMillis::from_system_time(before_epoch), UnixMillis(0));
    }
}
