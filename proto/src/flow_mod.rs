//! OFPT_FLOW_MOD body (`ofp_flow_mod`, spec 7.3.4.1).

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::consts::*;
use crate::error::DecodeError;
use crate::instruction::{read_instructions, write_instructions, Instruction};
use crate::match_::Match;
use crate::reader::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowModCommand {
    Add,
    Modify,
    ModifyStrict,
    Delete,
    DeleteStrict,
    /// A command number the spec does not define, kept so it re-encodes as received.
    Other(u8),
}

impl From<u8> for FlowModCommand {
    fn from(v: u8) -> Self {
        match v {
            OFPFC_ADD => FlowModCommand::Add,
            OFPFC_MODIFY => FlowModCommand::Modify,
            OFPFC_MODIFY_STRICT => FlowModCommand::ModifyStrict,
            OFPFC_DELETE => FlowModCommand::Delete,
            OFPFC_DELETE_STRICT => FlowModCommand::DeleteStrict,
            other => FlowModCommand::Other(other),
        }
    }
}

impl From<FlowModCommand> for u8 {
    fn from(c: FlowModCommand) -> u8 {
        match c {
            FlowModCommand::Add => OFPFC_ADD,
            FlowModCommand::Modify => OFPFC_MODIFY,
            FlowModCommand::ModifyStrict => OFPFC_MODIFY_STRICT,
            FlowModCommand::Delete => OFPFC_DELETE,
            FlowModCommand::DeleteStrict => OFPFC_DELETE_STRICT,
            FlowModCommand::Other(v) => v,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowMod {
    pub cookie: u64,
    pub cookie_mask: u64,
    pub table_id: u8,
    pub command: FlowModCommand,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub priority: u16,
    pub buffer_id: u32,
    pub out_port: u32,
    pub out_group: u32,
    pub flags: u16,
    pub match_: Match,
    pub instructions: Vec<Instruction>,
}

impl FlowMod {
    /// An OFPFC_ADD with the usual defaults (no buffer, any port/group, no flags, no timeouts).
    pub fn add(table_id: u8, priority: u16, match_: Match, instructions: Vec<Instruction>) -> Self {
        FlowMod {
            cookie: 0,
            cookie_mask: 0,
            table_id,
            command: FlowModCommand::Add,
            idle_timeout: 0,
            hard_timeout: 0,
            priority,
            buffer_id: OFP_NO_BUFFER,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
            flags: 0,
            match_,
            instructions,
        }
    }
}

impl FlowMod {
    /// Size of the body on the wire (after the 8-byte header), what [`Codec::encode`] writes.
    pub fn wire_len(&self) -> usize {
        // cookie .. pad: 40 bytes of fixed fields before the match.
        40 + self.match_.wire_len()
            + self
                .instructions
                .iter()
                .map(Instruction::wire_len)
                .sum::<usize>()
    }
}

impl Codec for FlowMod {
    const NAME: &'static str = "ofp_flow_mod";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let table_id = r.u8()?;
        let command = FlowModCommand::from(r.u8()?);
        let idle_timeout = r.u16()?;
        let hard_timeout = r.u16()?;
        let priority = r.u16()?;
        let buffer_id = r.u32()?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        let flags = r.u16()?;
        r.pad(2)?;
        let match_ = Match::read(r)?;
        let instructions = read_instructions(r)?;
        Ok(FlowMod {
            cookie,
            cookie_mask,
            table_id,
            command,
            idle_timeout,
            hard_timeout,
            priority,
            buffer_id,
            out_port,
            out_group,
            flags,
            match_,
            instructions,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u64(self.cookie);
        out.put_u64(self.cookie_mask);
        out.put_u8(self.table_id);
        out.put_u8(self.command.into());
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.priority);
        out.put_u32(self.buffer_id);
        out.put_u32(self.out_port);
        out.put_u32(self.out_group);
        out.put_u16(self.flags);
        out.put_u16(0);
        self.match_.encode(out);
        write_instructions(&self.instructions, out);
    }
}
