//! `ofp_port` (spec 7.2.1) and the messages built on it: OFPT_PORT_STATUS and OFPT_PORT_MOD.

use bytes::{BufMut, BytesMut};

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::mac::MacAddr;
use crate::reader::Reader;
use crate::writer;

/// Size of `ofp_port` on the wire.
pub const OFP_PORT_LEN: usize = 64;
/// Size of the `name` field (OFP_MAX_PORT_NAME_LEN).
pub const OFP_MAX_PORT_NAME_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Port {
    pub port_no: u32,
    pub hw_addr: MacAddr,
    /// NUL-trimmed; the wire field is 16 bytes, NUL-terminated and NUL-padded (decode rejects
    /// anything else, so re-encoding is byte-identical; encode cuts names at 16 bytes).
    pub name: String,
    pub config: u32,
    pub state: u32,
    pub curr: u32,
    pub advertised: u32,
    pub supported: u32,
    pub peer: u32,
    pub curr_speed: u32,
    pub max_speed: u32,
}

impl Codec for Port {
    const NAME: &'static str = "ofp_port";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let port_no = r.u32()?;
        r.pad(4)?;
        let hw_addr = MacAddr(r.array()?);
        r.pad(2)?;
        let name = r.fixed_str(OFP_MAX_PORT_NAME_LEN)?;
        Ok(Port {
            port_no,
            hw_addr,
            name,
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
            curr_speed: r.u32()?,
            max_speed: r.u32()?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.port_no);
        out.put_u32(0);
        out.put_slice(&self.hw_addr.0);
        out.put_u16(0);
        writer::fixed_str(out, &self.name, OFP_MAX_PORT_NAME_LEN);
        for v in [
            self.config,
            self.state,
            self.curr,
            self.advertised,
            self.supported,
            self.peer,
            self.curr_speed,
            self.max_speed,
        ] {
            out.put_u32(v);
        }
    }
}

/// OFPT_PORT_STATUS body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortStatus {
    /// OFPPR_ADD / OFPPR_DELETE / OFPPR_MODIFY.
    pub reason: u8,
    pub desc: Port,
}

impl Codec for PortStatus {
    const NAME: &'static str = "ofp_port_status";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let reason = r.u8()?;
        r.pad(7)?;
        Ok(PortStatus {
            reason,
            desc: Port::read(r)?,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.reason);
        out.put_bytes(0, 7);
        self.desc.encode(out);
    }
}

/// OFPT_PORT_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortMod {
    pub port_no: u32,
    pub hw_addr: MacAddr,
    pub config: u32,
    pub mask: u32,
    pub advertise: u32,
}

impl Codec for PortMod {
    const NAME: &'static str = "ofp_port_mod";

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let port_no = r.u32()?;
        r.pad(4)?;
        let hw_addr = MacAddr(r.array()?);
        r.pad(2)?;
        let config = r.u32()?;
        let mask = r.u32()?;
        let advertise = r.u32()?;
        r.pad(4)?;
        Ok(PortMod {
            port_no,
            hw_addr,
            config,
            mask,
            advertise,
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.port_no);
        out.put_u32(0);
        out.put_slice(&self.hw_addr.0);
        out.put_u16(0);
        out.put_u32(self.config);
        out.put_u32(self.mask);
        out.put_u32(self.advertise);
        out.put_u32(0);
    }
}
