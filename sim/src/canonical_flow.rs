//! [`CanonicalFlow`]: a flow reduced to what a controller controls (table, priority, normal
//! match, cookie, instructions), and the order [`sort_canonical`] puts such flows in, so that
//! two flow tables, or a table and what a controller meant to install, compare with `==`.

use op25b_proto::{FlowMod, Instruction};

use crate::flow_match::FlowMatch;
use crate::table_error::TableError;

/// A flow reduced to what a controller controls, comparable whatever the field order of its
/// match: see [`FlowTable::canonical`](crate::FlowTable::canonical).
#[derive(Debug, Clone, PartialEq)]
pub struct CanonicalFlow {
    /// Table.
    pub table_id: u8,
    /// Priority.
    pub priority: u16,
    /// Normalised match.
    pub normal: FlowMatch,
    /// Cookie.
    pub cookie: u64,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

impl CanonicalFlow {
    /// The canonical form of an ADD's flow (what the table holds after applying it alone).
    pub fn of_flow_mod(fm: &FlowMod) -> Result<Self, TableError> {
        Ok(Self {
            table_id: fm.table_id,
            priority: fm.priority,
            normal: crate::match_check::normalise(&fm.match_)?,
            cookie: fm.cookie,
            instructions: fm.instructions.clone(),
        })
    }
}

/// Sorts canonical flows by table, descending priority, then match.
pub fn sort_canonical(flows: &mut [CanonicalFlow]) {
    flows.sort_by(|a, b| {
        (a.table_id, std::cmp::Reverse(a.priority), &a.normal).cmp(&(
            b.table_id,
            std::cmp::Reverse(b.priority),
            &b.normal,
        ))
    });
}
