//! The parts a FLOW_MOD and a flow stats entry print alike: flags, timeouts, match and
//! instructions.

use std::fmt::Write as _;

use crate::consts::*;
use crate::{Instruction, Match};

use super::flag_text::flag_names;
use super::flow_text::{instructions, match_text};

const FLOW_MOD_FLAGS: &[(u32, &str)] = &[
    (OFPFF_SEND_FLOW_REM as u32, "SEND_FLOW_REM"),
    (OFPFF_CHECK_OVERLAP as u32, "CHECK_OVERLAP"),
    (OFPFF_RESET_COUNTS as u32, "RESET_COUNTS"),
    (OFPFF_NO_PKT_COUNTS as u32, "NO_PKT_COUNTS"),
    (OFPFF_NO_BYT_COUNTS as u32, "NO_BYT_COUNTS"),
];

/// Flow-mod flags as `SEND_FLOW_REM,CHECK_OVERLAP`.
pub fn flow_flags(flags: u16) -> String {
    flag_names(u32::from(flags), FLOW_MOD_FLAGS, ",")
}

/// Appends ` idle_timeout=N` and ` hard_timeout=N`, each only when it is not zero: how a
/// flow's timeouts print in a FLOW_MOD and in a FLOW stats entry.
pub(super) fn write_timeouts(out: &mut String, idle_timeout: u16, hard_timeout: u16) {
    if idle_timeout != 0 {
        let _ = write!(out, " idle_timeout={idle_timeout}");
    }
    if hard_timeout != 0 {
        let _ = write!(out, " hard_timeout={hard_timeout}");
    }
}

/// Appends ` flags=...` (only when not zero), then the match and ` actions=...`: how a flow
/// ends in a FLOW_MOD and in a FLOW stats entry.
pub(super) fn write_flags_match_actions(
    out: &mut String,
    flags: u16,
    match_: &Match,
    list: &[Instruction],
) {
    if flags != 0 {
        let _ = write!(out, " flags={}", flow_flags(flags));
    }
    let _ = write!(
        out,
        " {} actions={}",
        match_text(match_),
        instructions(list)
    );
}
