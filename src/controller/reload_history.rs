//! Which policy is in force and how it got there ([`PolicyOrigin`]), and the last reloads
//! ([`ReloadRecord`], kept in a bounded [`ReloadHistory`]): what the status page and
//! `GET /api/events` show. Plain values; the policy store owns them.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde::Serialize;

use crate::offenders::UnixMillis;

/// Reloads kept in the history (the oldest go first).
pub const HISTORY_LEN: usize = 32;

/// The policy in force: its generation, the file's hash, when and why it was installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyOrigin {
    pub generation: u64,
    /// SHA-256 of the policy file's text (`sha256sum`); `None` when installed without a file.
    pub sha256: Option<String>,
    /// When it was installed (RFC 3339).
    pub loaded_at: UnixMillis,
    /// What installed it: `start`, `SIGHUP`, `file watch`, `API`, `install`.
    pub trigger: String,
}

/// What one reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ReloadResult {
    /// A new generation is in force.
    Installed {
        generation: u64,
        sha256: Option<String>,
    },
    /// The file is valid and identical to the policy in force.
    Unchanged { generation: u64 },
    /// The file is unreadable or invalid; the policy in force stayed.
    Rejected { generation: u64, error: String },
}

/// One reload, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadRecord {
    pub at: UnixMillis,
    pub trigger: String,
    #[serde(flatten)]
    pub result: ReloadResult,
}

impl ReloadRecord {
    pub fn new(at: SystemTime, trigger: &str, result: ReloadResult) -> Self {
        Self {
            at: UnixMillis::from_system_time(at),
            trigger: trigger.to_owned(),
            result,
        }
    }
}

/// The last [`HISTORY_LEN`] reloads, oldest first.
#[derive(Debug, Default)]
pub struct ReloadHistory {
    records: VecDeque<ReloadRecord>,
}

impl ReloadHistory {
    pub fn push(&mut self, record: ReloadRecord) {
        if self.records.len() == HISTORY_LEN {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// Oldest first.
    pub fn to_vec(&self) -> Vec<ReloadRecord> {
        self.records.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_last_records_in_order() {
        let mut h = ReloadHistory::default();
        for g in 0..(HISTORY_LEN as u64 + 5) {
            h.push(ReloadRecord::new(
                SystemTime::UNIX_EPOCH,
                "SIGHUP",
                ReloadResult::Unchanged { generation: g },
            ));
        }
        let v = h.to_vec();
        assert_eq!(v.len(), HISTORY_LEN);
        assert_eq!(v[0].result, ReloadResult::Unchanged { generation: 5 });
        let json = serde_json::to_value(&v[0]).unwrap();
        assert_eq!(json["result"], "unchanged");
        assert_eq!(json["trigger"], "SIGHUP");
    }
}
