//! Text of one decoded OpenFlow message, modelled on `ovs-ofctl ofp-print`: a first line
//! `OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD table:0 priority=30000 ...`, then indented lines for
//! entries (multipart), packets and payloads.

use std::fmt::Write as _;

use crate::consts::*;
use crate::error_codes;
use crate::{
    AsyncConfig, ErrorMsg, FeaturesReply, FlowMod, FlowModCommand, FlowRemoved, GroupMod, Hello,
    HelloElement, Message, MeterMod, OfpMessage, PacketIn, PacketOut, PortMod, PortStatus,
    QueueProp, RoleMsg, SwitchConfig,
};

use super::flag_text::flag_names;
use super::flow_entry_text::{write_flags_match_actions, write_timeouts};
use super::flow_text::{actions, group, match_text, port, table};
use super::group_text::{buckets, group_type};
use super::meter_text::{band, meter_flags, meter_id};
use super::multipart_text;
use super::packet_text;
use super::port_text::port_desc;

// `op25b ofp-print` dumps frames through this module's path, as before the dump had a file.
pub use super::hexdump::hexdump;

/// `OF1.3` for 0x04, `OF0x07` for versions without a name.
pub fn version_name(v: u8) -> String {
    match v {
        1 => "OF1.0".into(),
        2 => "OF1.1".into(),
        3 => "OF1.2".into(),
        4 => "OF1.3".into(),
        5 => "OF1.4".into(),
        6 => "OF1.5".into(),
        v => format!("OF{v:#04x}"),
    }
}

/// The spec name of an `ofp_type`, `OFPT_TYPE_<n>` when unknown.
pub fn type_name(t: u8) -> String {
    let name = match t {
        OFPT_HELLO => "OFPT_HELLO",
        OFPT_ERROR => "OFPT_ERROR",
        OFPT_ECHO_REQUEST => "OFPT_ECHO_REQUEST",
        OFPT_ECHO_REPLY => "OFPT_ECHO_REPLY",
        OFPT_EXPERIMENTER => "OFPT_EXPERIMENTER",
        OFPT_FEATURES_REQUEST => "OFPT_FEATURES_REQUEST",
        OFPT_FEATURES_REPLY => "OFPT_FEATURES_REPLY",
        OFPT_GET_CONFIG_REQUEST => "OFPT_GET_CONFIG_REQUEST",
        OFPT_GET_CONFIG_REPLY => "OFPT_GET_CONFIG_REPLY",
        OFPT_SET_CONFIG => "OFPT_SET_CONFIG",
        OFPT_PACKET_IN => "OFPT_PACKET_IN",
        OFPT_FLOW_REMOVED => "OFPT_FLOW_REMOVED",
        OFPT_PORT_STATUS => "OFPT_PORT_STATUS",
        OFPT_PACKET_OUT => "OFPT_PACKET_OUT",
        OFPT_FLOW_MOD => "OFPT_FLOW_MOD",
        OFPT_GROUP_MOD => "OFPT_GROUP_MOD",
        OFPT_PORT_MOD => "OFPT_PORT_MOD",
        OFPT_TABLE_MOD => "OFPT_TABLE_MOD",
        OFPT_MULTIPART_REQUEST => "OFPT_MULTIPART_REQUEST",
        OFPT_MULTIPART_REPLY => "OFPT_MULTIPART_REPLY",
        OFPT_BARRIER_REQUEST => "OFPT_BARRIER_REQUEST",
        OFPT_BARRIER_REPLY => "OFPT_BARRIER_REPLY",
        OFPT_QUEUE_GET_CONFIG_REQUEST => "OFPT_QUEUE_GET_CONFIG_REQUEST",
        OFPT_QUEUE_GET_CONFIG_REPLY => "OFPT_QUEUE_GET_CONFIG_REPLY",
        OFPT_ROLE_REQUEST => "OFPT_ROLE_REQUEST",
        OFPT_ROLE_REPLY => "OFPT_ROLE_REPLY",
        OFPT_GET_ASYNC_REQUEST => "OFPT_GET_ASYNC_REQUEST",
        OFPT_GET_ASYNC_REPLY => "OFPT_GET_ASYNC_REPLY",
        OFPT_SET_ASYNC => "OFPT_SET_ASYNC",
        OFPT_METER_MOD => "OFPT_METER_MOD",
        t => return format!("OFPT_TYPE_{t}"),
    };
    name.into()
}

/// The whole text of a message, ending with a newline.
pub fn message_text(m: &OfpMessage) -> String {
    let mut out = format!(
        "{} ({}) (xid={:#x}):",
        type_name(m.body.msg_type()),
        version_name(m.version),
        m.xid
    );
    let (summary, detail) = body_text(&m.body);
    if !summary.is_empty() {
        out.push(' ');
        out.push_str(&summary);
    }
    out.push('\n');
    out.push_str(&detail);
    out
}

/// (rest of the first line, following lines each ending with '\n'). Public for the
/// controller's logs, which name a message by its type and this first-line text.
pub fn body_text(body: &Message) -> (String, String) {
    match body {
        Message::Hello(h) => (hello(h), String::new()),
        Message::Error(e) => error(e),
        Message::EchoRequest(d) | Message::EchoReply(d) => payload(d),
        Message::Experimenter(e) => {
            let (len, dump) = payload(&e.data);
            (
                format!(
                    "experimenter={:#010x} exp_type={} {len}",
                    e.experimenter, e.exp_type
                ),
                dump,
            )
        }
        Message::FeaturesRequest
        | Message::GetConfigRequest
        | Message::BarrierRequest
        | Message::BarrierReply
        | Message::GetAsyncRequest => (String::new(), String::new()),
        Message::FeaturesReply(f) => features(f),
        Message::GetConfigReply(c) | Message::SetConfig(c) => (switch_config(c), String::new()),
        Message::PacketIn(p) => packet_in(p),
        Message::FlowRemoved(f) => (flow_removed(f), String::new()),
        Message::PortStatus(p) => port_status(p),
        Message::PacketOut(p) => packet_out(p),
        Message::FlowMod(f) => (flow_mod(f), String::new()),
        Message::GroupMod(g) => group_mod(g),
        Message::PortMod(p) => (port_mod(p), String::new()),
        Message::TableMod(t) => (
            format!("table_id={} config={:#x}", table(t.table_id), t.config),
            String::new(),
        ),
        Message::MultipartRequest(r) => multipart_text::request(r),
        Message::MultipartReply(r) => multipart_text::reply(r),
        Message::QueueGetConfigRequest(q) => (format!("port={}", port(q.port)), String::new()),
        Message::QueueGetConfigReply(q) => {
            let mut lines = String::new();
            for queue in &q.queues {
                let props: Vec<String> = queue.properties.iter().map(queue_prop).collect();
                let _ = writeln!(
                    lines,
                    " queue {} port={} {}",
                    queue.queue_id,
                    port(queue.port),
                    props.join(" ")
                );
            }
            (
                format!("port={} {} queues", port(q.port), q.queues.len()),
                lines,
            )
        }
        Message::RoleRequest(r) | Message::RoleReply(r) => (role(r), String::new()),
        Message::GetAsyncReply(a) | Message::SetAsync(a) => (async_config(a), String::new()),
        Message::MeterMod(m) => meter_mod(m),
        Message::Unknown { body, .. } => {
            let (len, dump) = payload(body);
            (format!("unknown message type, {len}"), dump)
        }
    }
}

fn payload(data: &[u8]) -> (String, String) {
    (format!("{} bytes of payload", data.len()), hexdump(data))
}

fn hello(h: &Hello) -> String {
    if h.elements.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = h
        .elements
        .iter()
        .map(|e| match e {
            HelloElement::VersionBitmap(words) => {
                let versions: Vec<String> = words
                    .iter()
                    .enumerate()
                    .flat_map(|(w, bits)| {
                        (0..32u32)
                            .filter(move |b| bits & (1 << b) != 0)
                            // w indexes 32-bit words of one HELLO element (< 64 KiB).
                            .map(move |b| u32::try_from(w).unwrap_or(u32::MAX / 32) * 32 + b)
                    })
                    .map(|v| u8::try_from(v).map_or_else(|_| format!("version {v}"), version_name))
                    .collect();
                format!("version bitmap: {}", versions.join(", "))
            }
            HelloElement::Unknown { typ, body } => {
                format!("element type {typ} ({} bytes)", body.len())
            }
        })
        .collect();
    parts.join("; ")
}

fn error(e: &ErrorMsg) -> (String, String) {
    let name = match e.experimenter {
        Some(exp) => format!(
            "OFPET_EXPERIMENTER experimenter={exp:#010x} exp_type={}",
            e.code
        ),
        None => error_codes::describe(e.err_type, e.code),
    };
    let mut detail = String::new();
    // The data is (the start of) the offending message: name it when it looks like one.
    if e.data.len() >= 8 {
        let len = u16::from_be_bytes([e.data[2], e.data[3]]);
        let xid = u32::from_be_bytes([e.data[4], e.data[5], e.data[6], e.data[7]]);
        let _ = writeln!(
            detail,
            " offending message: {} ({}) (xid={xid:#x}) length {len}, {} bytes included:",
            type_name(e.data[1]),
            version_name(e.data[0]),
            e.data.len()
        );
    } else if !e.data.is_empty() {
        let _ = writeln!(detail, " data, {} bytes:", e.data.len());
    }
    detail.push_str(&hexdump(&e.data));
    (name, detail)
}

const CAPABILITIES: &[(u32, &str)] = &[
    (OFPC_FLOW_STATS, "FLOW_STATS"),
    (OFPC_TABLE_STATS, "TABLE_STATS"),
    (OFPC_PORT_STATS, "PORT_STATS"),
    (OFPC_GROUP_STATS, "GROUP_STATS"),
    (OFPC_IP_REASM, "IP_REASM"),
    (OFPC_QUEUE_STATS, "QUEUE_STATS"),
    (OFPC_PORT_BLOCKED, "PORT_BLOCKED"),
];

fn features(f: &FeaturesReply) -> (String, String) {
    (
        format!(
            "dpid={:#018x} n_buffers={} n_tables={} auxiliary_id={}",
            f.datapath_id, f.n_buffers, f.n_tables, f.auxiliary_id
        ),
        format!(
            " capabilities: {}\n",
            flag_names(f.capabilities, CAPABILITIES, " ")
        ),
    )
}

fn switch_config(c: &SwitchConfig) -> String {
    let frags = match c.flags & OFPC_FRAG_MASK {
        OFPC_FRAG_NORMAL => "normal",
        OFPC_FRAG_DROP => "drop",
        OFPC_FRAG_REASM => "reassemble",
        _ => "mask",
    };
    let other = c.flags & !OFPC_FRAG_MASK;
    let other = if other != 0 {
        format!(" flags={other:#x}")
    } else {
        String::new()
    };
    let miss = if c.miss_send_len == OFPCML_NO_BUFFER {
        "NO_BUFFER".to_string()
    } else {
        c.miss_send_len.to_string()
    };
    format!("frags={frags}{other} miss_send_len={miss}")
}

fn buffer(id: u32) -> String {
    if id == OFP_NO_BUFFER {
        "NO_BUFFER".into()
    } else {
        format!("{id:#x}")
    }
}

fn packet_in(p: &PacketIn) -> (String, String) {
    let reason = match p.reason {
        OFPR_NO_MATCH => "NO_MATCH".to_string(),
        OFPR_ACTION => "ACTION".to_string(),
        OFPR_INVALID_TTL => "INVALID_TTL".to_string(),
        r => r.to_string(),
    };
    (
        format!(
            "reason={reason} table_id={} cookie={:#x} total_len={} buffer_id={} match={} data_len={}",
            p.table_id,
            p.cookie,
            p.total_len,
            buffer(p.buffer_id),
            match_text(&p.match_),
            p.data.len()
        ),
        format!(" packet: {}\n", packet_text::summary(&p.data)),
    )
}

fn packet_out(p: &PacketOut) -> (String, String) {
    (
        format!(
            "in_port={} buffer_id={} actions={} data_len={}",
            port(p.in_port),
            buffer(p.buffer_id),
            actions(&p.actions),
            p.data.len()
        ),
        if p.data.is_empty() {
            String::new()
        } else {
            format!(" packet: {}\n", packet_text::summary(&p.data))
        },
    )
}

fn flow_removed(f: &FlowRemoved) -> String {
    let reason = match f.reason {
        OFPRR_IDLE_TIMEOUT => "IDLE_TIMEOUT".to_string(),
        OFPRR_HARD_TIMEOUT => "HARD_TIMEOUT".to_string(),
        OFPRR_DELETE => "DELETE".to_string(),
        OFPRR_GROUP_DELETE => "GROUP_DELETE".to_string(),
        r => r.to_string(),
    };
    format!(
        "reason={reason} table:{} priority={} cookie={:#x} duration={}.{:03}s idle_timeout={} hard_timeout={} packets={} bytes={} {}",
        f.table_id,
        f.priority,
        f.cookie,
        f.duration_sec,
        f.duration_nsec / 1_000_000,
        f.idle_timeout,
        f.hard_timeout,
        f.packet_count,
        f.byte_count,
        match_text(&f.match_)
    )
}

fn port_status(p: &PortStatus) -> (String, String) {
    let reason = match p.reason {
        OFPPR_ADD => "ADD".to_string(),
        OFPPR_DELETE => "DELETE".to_string(),
        OFPPR_MODIFY => "MODIFY".to_string(),
        r => format!("reason {r}"),
    };
    (format!("{reason} {}", port_desc(&p.desc)), String::new())
}

fn port_mod(p: &PortMod) -> String {
    format!(
        "port={} addr:{} config={:#x} mask={:#x} advertise={:#x}",
        port(p.port_no),
        p.hw_addr,
        p.config,
        p.mask,
        p.advertise
    )
}

fn command_name(c: FlowModCommand) -> String {
    match c {
        FlowModCommand::Add => "ADD".into(),
        FlowModCommand::Modify => "MODIFY".into(),
        FlowModCommand::ModifyStrict => "MODIFY_STRICT".into(),
        FlowModCommand::Delete => "DELETE".into(),
        FlowModCommand::DeleteStrict => "DELETE_STRICT".into(),
        FlowModCommand::Other(n) => format!("command_{n}"),
    }
}

fn flow_mod(f: &FlowMod) -> String {
    let mut out = format!(
        "{} table:{} priority={} cookie={:#x}",
        command_name(f.command),
        table(f.table_id),
        f.priority,
        f.cookie
    );
    if f.cookie_mask != 0 {
        let _ = write!(out, "/{:#x}", f.cookie_mask);
    }
    write_timeouts(&mut out, f.idle_timeout, f.hard_timeout);
    if f.buffer_id != OFP_NO_BUFFER {
        let _ = write!(out, " buffer_id={:#x}", f.buffer_id);
    }
    let deleting = matches!(
        f.command,
        FlowModCommand::Delete | FlowModCommand::DeleteStrict
    );
    if deleting || f.out_port != OFPP_ANY {
        let _ = write!(out, " out_port={}", port(f.out_port));
    }
    if deleting || f.out_group != OFPG_ANY {
        let _ = write!(out, " out_group={}", group(f.out_group));
    }
    write_flags_match_actions(&mut out, f.flags, &f.match_, &f.instructions);
    out
}

fn group_mod(g: &GroupMod) -> (String, String) {
    let command = match g.command {
        OFPGC_ADD => "ADD".to_string(),
        OFPGC_MODIFY => "MODIFY".to_string(),
        OFPGC_DELETE => "DELETE".to_string(),
        c => format!("command_{c}"),
    };
    (
        format!(
            "{command} group_id={} type={} {} buckets",
            group(g.group_id),
            group_type(g.group_type),
            g.buckets.len()
        ),
        buckets(&g.buckets),
    )
}

fn queue_prop(p: &QueueProp) -> String {
    match p {
        QueueProp::MinRate(r) => format!("min_rate={r}"),
        QueueProp::MaxRate(r) => format!("max_rate={r}"),
        QueueProp::Experimenter { experimenter, data } => {
            format!("experimenter={experimenter:#010x}({} bytes)", data.len())
        }
        QueueProp::Unknown { typ, body } => format!("property_{typ}({} bytes)", body.len()),
    }
}

fn role(r: &RoleMsg) -> String {
    let name = match r.role {
        OFPCR_ROLE_NOCHANGE => "NOCHANGE".to_string(),
        OFPCR_ROLE_EQUAL => "EQUAL".to_string(),
        OFPCR_ROLE_MASTER => "MASTER".to_string(),
        OFPCR_ROLE_SLAVE => "SLAVE".to_string(),
        r => r.to_string(),
    };
    format!("role={name} generation_id={}", r.generation_id)
}

fn async_config(a: &AsyncConfig) -> String {
    format!(
        "packet_in_mask={:#x}/{:#x} port_status_mask={:#x}/{:#x} flow_removed_mask={:#x}/{:#x} (master or equal/slave)",
        a.packet_in_mask[0],
        a.packet_in_mask[1],
        a.port_status_mask[0],
        a.port_status_mask[1],
        a.flow_removed_mask[0],
        a.flow_removed_mask[1]
    )
}

fn meter_mod(m: &MeterMod) -> (String, String) {
    let command = match m.command {
        OFPMC_ADD => "ADD".to_string(),
        OFPMC_MODIFY => "MODIFY".to_string(),
        OFPMC_DELETE => "DELETE".to_string(),
        c => format!("command_{c}"),
    };
    let meter = meter_id(m.meter_id);
    let bands: Vec<String> = m.bands.iter().map(band).collect();
    (
        format!(
            "{command} meter={meter} flags={} bands: {}",
            meter_flags(m.flags),
            bands.join("; ")
        ),
        String::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_versions_and_types() {
        assert_eq!(version_name(4), "OF1.3");
        assert_eq!(version_name(9), "OF0x09");
        assert_eq!(type_name(14), "OFPT_FLOW_MOD");
        assert_eq!(type_name(99), "OFPT_TYPE_99");
    }
}
