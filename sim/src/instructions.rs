//! A flow's instructions: the checks a switch makes before installing them, and the view the
//! pipeline executes (in the spec's fixed order, whatever the order on the wire).

use op25b_proto::consts::{
    OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX, OFPP_NORMAL,
    OFPTT_ALL,
};
use op25b_proto::error_codes::{BadActionCode, BadInstructionCode};
use op25b_proto::{Action, Instruction, Oxm};

use crate::table_error::TableError;

/// The instructions of one flow, sorted into what the pipeline needs.
#[derive(Debug, Default)]
pub struct InstructionSummary<'a> {
    /// OFPIT_METER's meter.
    pub meter: Option<u32>,
    /// OFPIT_APPLY_ACTIONS's actions.
    pub apply: &'a [Action],
    /// Whether OFPIT_CLEAR_ACTIONS is present.
    pub clear: bool,
    /// OFPIT_WRITE_ACTIONS's actions.
    pub write: &'a [Action],
    /// OFPIT_WRITE_METADATA's (value, mask).
    pub write_metadata: Option<(u64, u64)>,
    /// OFPIT_GOTO_TABLE's table.
    pub goto: Option<u8>,
}

impl<'a> InstructionSummary<'a> {
    /// Sorts the instructions (unknown ones are ignored: [`validate_instructions`] refuses
    /// them before a flow is installed).
    pub fn of(instructions: &'a [Instruction]) -> Self {
        let mut s = Self::default();
        for i in instructions {
            match i {
                Instruction::Meter(m) => s.meter = Some(*m),
                Instruction::ApplyActions(a) => s.apply = a,
                Instruction::ClearActions => s.clear = true,
                Instruction::WriteActions(a) => s.write = a,
                Instruction::WriteMetadata { metadata, mask } => {
                    s.write_metadata = Some((*metadata, *mask))
                }
                Instruction::GotoTable(t) => s.goto = Some(*t),
                Instruction::Raw(_) => {}
            }
        }
        s
    }
}

/// Checks a FLOW_MOD's instructions for a flow in `table_id` of a switch with `n_tables`
/// tables and no groups.
pub fn validate_instructions(
    instructions: &[Instruction],
    table_id: u8,
    n_tables: u8,
) -> Result<(), TableError> {
    let bad_inst = |code, detail: String| TableError::BadInstruction { code, detail };
    let mut seen: Vec<u16> = Vec::with_capacity(instructions.len());
    for i in instructions {
        let t = i.instruction_type();
        if seen.contains(&t) {
            // OF1.3 has no OFPBIC_DUP_INST; OVS answers a repeated instruction as unsupported.
            return Err(bad_inst(
                BadInstructionCode::UnsupInst,
                format!("instruction type {t} appears twice"),
            ));
        }
        seen.push(t);
        match i {
            Instruction::Raw(_) => {
                return Err(bad_inst(
                    BadInstructionCode::UnknownInst,
                    format!("instruction type {t} is not supported"),
                ))
            }
            // "the next table ... must be greater than the current table" (a DELETE for
            // OFPTT_ALL has no current table: OVS then only checks the table exists).
            Instruction::GotoTable(next)
                if (table_id != OFPTT_ALL && *next <= table_id) || *next >= n_tables =>
            {
                return Err(bad_inst(
                    BadInstructionCode::BadTableId,
                    format!("goto_table {next} from table {table_id} (tables 0..{n_tables})"),
                ))
            }
            Instruction::ApplyActions(actions) | Instruction::WriteActions(actions) => {
                actions.iter().try_for_each(validate_action)?
            }
            _ => {}
        }
    }
    Ok(())
}

fn validate_action(a: &Action) -> Result<(), TableError> {
    let bad = |code, detail: String| TableError::BadAction { code, detail };
    match a {
        Action::Output { port, .. } => {
            let reserved_ok = matches!(
                *port,
                OFPP_IN_PORT | OFPP_NORMAL | OFPP_FLOOD | OFPP_ALL | OFPP_CONTROLLER | OFPP_LOCAL
            );
            // OVS accepts any port below OFPP_MAX, port 0 included (checked against OVS by
            // tests/ovs_differential.rs).
            if *port > OFPP_MAX && !reserved_ok {
                return Err(bad(
                    BadActionCode::BadOutPort,
                    format!("output to port {port:#x}"),
                ));
            }
            Ok(())
        }
        Action::Group(g) => Err(bad(
            BadActionCode::BadOutGroup,
            format!("group {g}: this switch has no groups"),
        )),
        Action::SetField(Oxm::Raw(_)) => Err(bad(
            BadActionCode::BadSetType,
            "set_field of a field this switch does not know".to_string(),
        )),
        Action::Raw(_) => Err(bad(
            BadActionCode::BadType,
            format!("action type {} is not supported", a.action_type()),
        )),
        _ => Ok(()),
    }
}
