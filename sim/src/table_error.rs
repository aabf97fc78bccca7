//! Why the flow table refused a FLOW_MOD or a flow-stats request; each maps to the OpenFlow
//! error (type, code) a switch sends back.

use op25b_proto::error_codes::{
    BadActionCode, BadInstructionCode, BadMatchCode, BadRequestCode, ErrorType, FlowModFailedCode,
    MeterModFailedCode,
};

use crate::flow_match::MatchError;

/// A refused FLOW_MOD or stats request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// `command` is not one of ADD, MODIFY, MODIFY_STRICT, DELETE, DELETE_STRICT.
    #[error("unknown flow-mod command {0}")]
    BadCommand(u8),
    /// The table does not exist (or OFPTT_ALL where only one table is allowed).
    #[error("table {table_id} does not exist (the switch has {n_tables})")]
    BadTableId {
        /// Requested table.
        table_id: u8,
        /// Tables the switch has.
        n_tables: u8,
    },
    /// An ADD or MODIFY for OVS's hidden, read-only table 254 (OFPBRC_EPERM).
    #[error("table {0} is read-only")]
    ReadOnlyTable(u8),
    /// A stats request named a table that does not exist.
    #[error("stats request for table {table_id}, the switch has {n_tables}")]
    BadStatsTableId {
        /// Requested table.
        table_id: u8,
        /// Tables the switch has.
        n_tables: u8,
    },
    /// The table already holds `capacity` flows.
    #[error("table {table_id} is full ({capacity} flows)")]
    TableFull {
        /// The full table.
        table_id: u8,
        /// Its capacity.
        capacity: usize,
    },
    /// OFPFF_CHECK_OVERLAP and a flow of the same priority overlaps.
    #[error("flow overlaps an existing flow of priority {priority} in table {table_id}")]
    Overlap {
        /// Table.
        table_id: u8,
        /// Shared priority.
        priority: u16,
    },
    /// Flag bits the spec does not define.
    #[error("unknown flow-mod flags {0:#06x}")]
    BadFlags(u16),
    /// `buffer_id` other than OFP_NO_BUFFER: this switch buffers nothing.
    #[error("buffer {0:#x} unknown: the switch buffers no packets")]
    BufferUnknown(u32),
    /// The match is invalid.
    #[error("bad match ({code}): {detail}")]
    BadMatch {
        /// OFPET_BAD_MATCH code.
        code: BadMatchCode,
        /// What is wrong.
        detail: String,
    },
    /// An instruction is invalid.
    #[error("bad instruction ({code}): {detail}")]
    BadInstruction {
        /// OFPET_BAD_INSTRUCTION code.
        code: BadInstructionCode,
        /// What is wrong.
        detail: String,
    },
    /// An action is invalid.
    #[error("bad action ({code}): {detail}")]
    BadAction {
        /// OFPET_BAD_ACTION code.
        code: BadActionCode,
        /// What is wrong.
        detail: String,
    },
    /// A meter instruction names a meter that does not exist.
    #[error("meter {0} does not exist")]
    UnknownMeter(u32),
}

impl TableError {
    /// The OpenFlow error (type, code) answering the request.
    pub fn ofp_error(&self) -> (u16, u16) {
        let fm = |c: FlowModFailedCode| (ErrorType::FlowModFailed as u16, c as u16);
        match self {
            TableError::BadCommand(_) => fm(FlowModFailedCode::BadCommand),
            TableError::BadTableId { .. } => fm(FlowModFailedCode::BadTableId),
            TableError::BadStatsTableId { .. } => (
                ErrorType::BadRequest as u16,
                BadRequestCode::BadTableId as u16,
            ),
            TableError::ReadOnlyTable(_) => {
                (ErrorType::BadRequest as u16, BadRequestCode::Eperm as u16)
            }
            TableError::TableFull { .. } => fm(FlowModFailedCode::TableFull),
            TableError::Overlap { .. } => fm(FlowModFailedCode::Overlap),
            TableError::BadFlags(_) => fm(FlowModFailedCode::BadFlags),
            TableError::BufferUnknown(_) => (
                ErrorType::BadRequest as u16,
                BadRequestCode::BufferUnknown as u16,
            ),
            TableError::BadMatch { code, .. } => (ErrorType::BadMatch as u16, *code as u16),
            TableError::BadInstruction { code, .. } => {
                (ErrorType::BadInstruction as u16, *code as u16)
            }
            TableError::BadAction { code, .. } => (ErrorType::BadAction as u16, *code as u16),
            // OVS 3.1 answers a flow using a missing meter with OFPMMFC_INVALID_METER
            // (seen by tests/ovs_differential.rs), not OFPMMFC_UNKNOWN_METER.
            TableError::UnknownMeter(_) => (
                ErrorType::MeterModFailed as u16,
                MeterModFailedCode::InvalidMeter as u16,
            ),
        }
    }
}

impl From<MatchError> for TableError {
    fn from(e: MatchError) -> Self {
        let code = match e {
            MatchError::DuplicateField(_) => BadMatchCode::DupField,
            MatchError::ValueOutsideMask(_) => BadMatchCode::BadWildcards,
            MatchError::BadWidth { .. } => BadMatchCode::BadLen,
        };
        TableError::BadMatch {
            code,
            detail: e.to_string(),
        }
    }
}
