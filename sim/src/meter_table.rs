//! The switch's meters (OpenFlow 1.3.5, 5.7 and 7.3.4.4), pure: METER_MOD in, change or
//! [`MeterError`] out; METER_CONFIG entries out. Rates are stored, never enforced.

use std::collections::BTreeMap;

use op25b_proto::consts::{
    OFPMC_ADD, OFPMC_DELETE, OFPMC_MODIFY, OFPMF_BURST, OFPMF_KBPS, OFPMF_PKTPS, OFPMF_STATS,
    OFPM_ALL, OFPM_MAX,
};
use op25b_proto::error_codes::{ErrorType, MeterModFailedCode};
use op25b_proto::{MeterBand, MeterConfig, MeterMod};

const KNOWN_FLAGS: u16 = OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS;

/// A refused METER_MOD; [`MeterError::ofp_error`] gives the OpenFlow error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("meter {meter_id}: {code}: {detail}")]
pub struct MeterError {
    /// The meter the request named.
    pub meter_id: u32,
    /// OFPET_METER_MOD_FAILED code.
    pub code: MeterModFailedCode,
    /// What is wrong.
    pub detail: String,
}

impl MeterError {
    /// The OpenFlow error (type, code).
    pub fn ofp_error(&self) -> (u16, u16) {
        (ErrorType::MeterModFailed as u16, self.code as u16)
    }
}

/// One installed meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meter {
    /// OFPMF_* flags.
    pub flags: u16,
    /// Bands, as the controller sent them.
    pub bands: Vec<MeterBand>,
}

/// What a successful METER_MOD changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterChange {
    /// A new meter.
    Added(u32),
    /// An existing meter's bands and flags replaced.
    Modified(u32),
    /// These meters deleted (flows using them must go too).
    Deleted(Vec<u32>),
}

/// The meters of one switch.
#[derive(Debug, Clone)]
pub struct MeterTable {
    meters: BTreeMap<u32, Meter>,
    capacity: usize,
}

impl MeterTable {
    /// An empty table holding at most `capacity` meters.
    pub fn new(capacity: usize) -> Self {
        Self {
            meters: BTreeMap::new(),
            capacity,
        }
    }

    /// Whether meter `id` exists.
    pub fn contains(&self, id: u32) -> bool {
        self.meters.contains_key(&id)
    }

    /// A meter by id.
    pub fn get(&self, id: u32) -> Option<&Meter> {
        self.meters.get(&id)
    }

    /// Number of meters.
    pub fn len(&self) -> usize {
        self.meters.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.meters.is_empty()
    }

    /// Applies a METER_MOD.
    pub fn apply(&mut self, mm: &MeterMod) -> Result<MeterChange, MeterError> {
        let err = |code, detail: &str| MeterError {
            meter_id: mm.meter_id,
            code,
            detail: detail.to_string(),
        };
        match mm.command {
            OFPMC_DELETE if mm.meter_id == OFPM_ALL => {
                let ids = self.meters.keys().copied().collect();
                self.meters.clear();
                Ok(MeterChange::Deleted(ids))
            }
            OFPMC_DELETE => {
                // Deleting a meter that does not exist is not an error (OVS agrees).
                let gone = self.meters.remove(&mm.meter_id).map(|_| mm.meter_id);
                Ok(MeterChange::Deleted(gone.into_iter().collect()))
            }
            OFPMC_ADD | OFPMC_MODIFY => {
                if mm.meter_id == 0 || mm.meter_id > OFPM_MAX {
                    return Err(err(
                        MeterModFailedCode::InvalidMeter,
                        "meter ids run from 1 to OFPM_MAX",
                    ));
                }
                if mm.flags & !KNOWN_FLAGS != 0
                    || (mm.flags & OFPMF_KBPS != 0) == (mm.flags & OFPMF_PKTPS != 0)
                {
                    return Err(err(
                        MeterModFailedCode::BadFlags,
                        "flags must hold exactly one of OFPMF_KBPS, OFPMF_PKTPS and no unknown bit",
                    ));
                }
                if mm.bands.is_empty() {
                    return Err(err(MeterModFailedCode::BadBand, "a meter needs a band"));
                }
                for b in &mm.bands {
                    match b {
                        MeterBand::Drop { rate: 0, .. } | MeterBand::DscpRemark { rate: 0, .. } => {
                            return Err(err(MeterModFailedCode::BadRate, "band rate 0"))
                        }
                        MeterBand::Drop { .. } | MeterBand::DscpRemark { .. } => {}
                        MeterBand::Experimenter { .. } | MeterBand::Raw(_) => {
                            return Err(err(MeterModFailedCode::BadBand, "unsupported band type"))
                        }
                    }
                }
                let meter = Meter {
                    flags: mm.flags,
                    bands: mm.bands.clone(),
                };
                let exists = self.meters.contains_key(&mm.meter_id);
                match (mm.command, exists) {
                    (OFPMC_ADD, true) => {
                        Err(err(MeterModFailedCode::MeterExists, "already exists"))
                    }
                    (OFPMC_ADD, false) if self.meters.len() >= self.capacity => Err(err(
                        MeterModFailedCode::OutOfMeters,
                        "the meter table is full",
                    )),
                    (OFPMC_ADD, false) => {
                        self.meters.insert(mm.meter_id, meter);
                        Ok(MeterChange::Added(mm.meter_id))
                    }
                    (_, false) => Err(err(
                        MeterModFailedCode::UnknownMeter,
                        "no such meter to modify",
                    )),
                    (_, true) => {
                        self.meters.insert(mm.meter_id, meter);
                        Ok(MeterChange::Modified(mm.meter_id))
                    }
                }
            }
            _ => Err(err(
                MeterModFailedCode::BadCommand,
                "unknown meter-mod command",
            )),
        }
    }

    /// METER_CONFIG entries for `meter_id` (OFPM_ALL: every meter; an unknown id: none).
    pub fn configs(&self, meter_id: u32) -> Vec<MeterConfig> {
        self.meters
            .iter()
            .filter(|(id, _)| meter_id == OFPM_ALL || **id == meter_id)
            .map(|(id, m)| MeterConfig {
                flags: m.flags,
                meter_id: *id,
                bands: m.bands.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mm(command: u16, meter_id: u32, flags: u16, rate: u32) -> MeterMod {
        MeterMod {
            command,
            flags,
            meter_id,
            bands: vec![MeterBand::Drop {
                rate,
                burst_size: 0,
            }],
        }
    }

    #[test]
    fn add_modify_delete() {
        let mut t = MeterTable::new(4);
        assert_eq!(
            t.apply(&mm(OFPMC_ADD, 1, OFPMF_PKTPS, 10)),
            Ok(MeterChange::Added(1))
        );
        let again = t
            .apply(&mm(OFPMC_ADD, 1, OFPMF_PKTPS, 10))
            .expect_err("exists");
        assert_eq!(again.code, MeterModFailedCode::MeterExists);
        assert_eq!(
            t.apply(&mm(OFPMC_MODIFY, 1, OFPMF_KBPS, 99)),
            Ok(MeterChange::Modified(1))
        );
        assert_eq!(t.configs(OFPM_ALL)[0].flags, OFPMF_KBPS);
        let unknown = t
            .apply(&mm(OFPMC_MODIFY, 2, OFPMF_PKTPS, 10))
            .expect_err("unknown");
        assert_eq!(unknown.code, MeterModFailedCode::UnknownMeter);
        assert_eq!(
            t.apply(&mm(OFPMC_DELETE, 1, 0, 0)),
            Ok(MeterChange::Deleted(vec![1]))
        );
        assert_eq!(
            t.apply(&mm(OFPMC_DELETE, 1, 0, 0)),
            Ok(MeterChange::Deleted(vec![]))
        );
        assert!(t.is_empty());
    }

    #[test]
    fn rejects_bad_requests() {
        let mut t = MeterTable::new(1);
        let code = |t: &mut MeterTable, m| t.apply(&m).expect_err("refused").code;
        assert_eq!(
            code(&mut t, mm(OFPMC_ADD, 0, OFPMF_PKTPS, 1)),
            MeterModFailedCode::InvalidMeter
        );
        assert_eq!(
            code(&mut t, mm(OFPMC_ADD, 1, 0, 1)),
            MeterModFailedCode::BadFlags
        );
        assert_eq!(
            code(&mut t, mm(OFPMC_ADD, 1, OFPMF_PKTPS | OFPMF_KBPS, 1)),
            MeterModFailedCode::BadFlags
        );
        assert_eq!(
            code(&mut t, mm(OFPMC_ADD, 1, OFPMF_PKTPS, 0)),
            MeterModFailedCode::BadRate
        );
        assert_eq!(
            code(&mut t, mm(7, 1, OFPMF_PKTPS, 1)),
            MeterModFailedCode::BadCommand
        );
        let mut no_band = mm(OFPMC_ADD, 1, OFPMF_PKTPS, 1);
        no_band.bands.clear();
        assert_eq!(code(&mut t, no_band), MeterModFailedCode::BadBand);
        t.apply(&mm(OFPMC_ADD, 1, OFPMF_PKTPS, 1))
            .expect("first fits");
        assert_eq!(
            code(&mut t, mm(OFPMC_ADD, 2, OFPMF_PKTPS, 1)),
            MeterModFailedCode::OutOfMeters
        );
        let e = t
            .apply(&mm(OFPMC_ADD, 1, OFPMF_PKTPS, 1))
            .expect_err("exists");
        assert_eq!(e.ofp_error(), (12, 1));
    }

    #[test]
    fn delete_all_and_configs_filter() {
        let mut t = MeterTable::new(8);
        for id in [3, 1, 2] {
            t.apply(&mm(OFPMC_ADD, id, OFPMF_PKTPS, 5)).expect("add");
        }
        assert_eq!(t.configs(2).len(), 1);
        assert_eq!(t.configs(9).len(), 0);
        assert_eq!(
            t.configs(OFPM_ALL)
                .iter()
                .map(|c| c.meter_id)
                .collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            t.apply(&mm(OFPMC_DELETE, OFPM_ALL, 0, 0)),
            Ok(MeterChange::Deleted(vec![1, 2, 3]))
        );
    }
}
