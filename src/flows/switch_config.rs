//! The SET_CONFIG the session layer sends after the handshake.
use crate::policy::{FragmentMode, Policy};
use op25b_proto::consts::{OFPC_FRAG_DROP, OFPC_FRAG_NORMAL};

/// Bytes of a table-miss packet sent to the controller (op25b installs a catch-all, so this
/// only matters if its flows are missing).
pub const MISS_SEND_LEN: u16 = 128;

/// `(flags, miss_send_len)` for OFPT_SET_CONFIG: `OFPC_FRAG_DROP` when the policy says
/// `fragments = "drop-all"`, otherwise `OFPC_FRAG_NORMAL` (the "drop-tcp" mode closes the
/// fragment hole with flows instead).
pub fn switch_config(policy: &Policy) -> (u16, u16) {
    let flags = match policy.fragments() {
        FragmentMode::DropAll => OFPC_FRAG_DROP,
        FragmentMode::DropTcp | FragmentMode::Pass => OFPC_FRAG_NORMAL,
    };
    (flags, MISS_SEND_LEN)
}
