//! A flow's instructions: the checks a switch makes before installing them, and the view the
//! pipeline executes (in the spec's fixed order, whatever the order on the wire).

use op25b_proto::consts::{
    OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX, OFPP_NORMAL,
    OFPTT_ALL, OFPTT_MAX,
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
                    s.write_metadata = Some((*metadata, *mask));
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
            // OFPTT_ALL has no current table). Whether it exists: see [`check_references`].
            Instruction::GotoTable(next) if table_id != OFPTT_ALL && *next <= table_id => {
                return Err(bad_inst(
                    BadInstructionCode::BadTableId,
                    format!("goto_table {next} from table {table_id} (tables 0..{n_tables})"),
                ))
            }
            Instruction::ApplyActions(actions) | Instruction::WriteActions(actions) => {
                actions.iter().try_for_each(validate_action)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn validate_action(a: &Action) -> Result<(), TableError> {
    let bad = |code, detail: String| TableError::BadAction { code, detail };
    match a {
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

/// The tables, meters and groups instructions refer to (this switch has no groups). OVS checks them
/// only for flows it adds or modifies: a MODIFY selecting no flow, or a DELETE, is not
/// refused for them (seen by tests/ovs_differential.rs).
pub fn check_references(
    instructions: &[Instruction],
    n_tables: u8,
    meter_exists: impl Fn(u32) -> bool,
) -> Result<(), TableError> {
    for i in instructions {
        match i {
            // OVS, with its 254 visible tables, also accepts a goto to its hidden table 254
            // (such a packet then misses here).
            Instruction::GotoTable(next)
                if *next >= n_tables && !(n_tables == OFPTT_MAX && *next == OFPTT_MAX) =>
            {
                return Err(TableError::BadInstruction {
                    code: BadInstructionCode::BadTableId,
                    detail: format!("goto_table {next}: the switch has tables 0..{n_tables}"),
                })
            }
            Instruction::Meter(m) if !meter_exists(*m) => return Err(TableError::UnknownMeter(*m)),
            Instruction::ApplyActions(actions) | Instruction::WriteActions(actions) => {
                if let Some(g) = actions.iter().find_map(|a| match a {
                    Action::Group(g) => Some(*g),
                    _ => None,
                }) {
                    return Err(TableError::BadAction {
                        code: BadActionCode::BadOutGroup,
                        detail: format!("group {g}: this switch has no groups"),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// An output must name a port below OFPP_MAX (OVS accepts port 0 and ports it does not have)
/// or a reserved port a flow may use.
fn check_output_port(a: &Action) -> Result<(), TableError> {
    let Action::Output { port, .. } = a else {
        return Ok(());
    };
    let reserved_ok = matches!(
        *port,
        OFPP_IN_PORT | OFPP_NORMAL | OFPP_FLOOD | OFPP_ALL | OFPP_CONTROLLER | OFPP_LOCAL
    );
    if *port > OFPP_MAX && !reserved_ok {
        return Err(TableError::BadAction {
            code: BadActionCode::BadOutPort,
            detail: format!("output to port {port:#x}"),
        });
    }
    Ok(())
}

/// What every FLOW_MOD's outputs must name, DELETEs included: ports below OFPP_MAX or
/// reserved ports a flow may use (OVS accepts port 0 and ports it does not have).
pub fn check_consistency(instructions: &[Instruction]) -> Result<(), TableError> {
    for i in instructions {
        match i {
            Instruction::ApplyActions(actions) | Instruction::WriteActions(actions) => {
                actions.iter().try_for_each(check_output_port)?;
            }
            _ => {}
        }
    }
    Ok(())
}
