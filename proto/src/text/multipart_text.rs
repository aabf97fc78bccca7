//! Text of OFPT_MULTIPART_REQUEST and OFPT_MULTIPART_REPLY: the multipart type and request
//! fields on the first line, reply entries one per line.

use std::fmt::Write as _;

use crate::consts::*;
use crate::{
    FlowStats, FlowStatsRequest, MultipartReply, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, TableFeatureProp, TableFeatures,
};

use super::flow_entry_text::{write_flags_match_actions, write_timeouts};
use super::flow_text::{group, match_text, port, table};
use super::group_text::buckets;
use super::hexdump::hexdump;
use super::meter_text::{band, meter_flags, meter_id};
use super::port_text::port_desc;

fn mp_name(t: u16) -> String {
    let name = match t {
        OFPMP_DESC => "OFPMP_DESC",
        OFPMP_FLOW => "OFPMP_FLOW",
        OFPMP_AGGREGATE => "OFPMP_AGGREGATE",
        OFPMP_TABLE => "OFPMP_TABLE",
        OFPMP_PORT_STATS => "OFPMP_PORT_STATS",
        OFPMP_QUEUE => "OFPMP_QUEUE",
        OFPMP_GROUP => "OFPMP_GROUP",
        OFPMP_GROUP_DESC => "OFPMP_GROUP_DESC",
        OFPMP_GROUP_FEATURES => "OFPMP_GROUP_FEATURES",
        OFPMP_METER => "OFPMP_METER",
        OFPMP_METER_CONFIG => "OFPMP_METER_CONFIG",
        OFPMP_METER_FEATURES => "OFPMP_METER_FEATURES",
        OFPMP_TABLE_FEATURES => "OFPMP_TABLE_FEATURES",
        OFPMP_PORT_DESC => "OFPMP_PORT_DESC",
        OFPMP_EXPERIMENTER => "OFPMP_EXPERIMENTER",
        t => return format!("OFPMP_TYPE_{t}"),
    };
    name.into()
}

fn more(flags: u16, more_bit: u16, more_name: &str) -> String {
    if flags & more_bit != 0 {
        let rest = flags & !more_bit;
        if rest != 0 {
            format!(" flags={more_name},{rest:#x}")
        } else {
            format!(" flags={more_name}")
        }
    } else if flags != 0 {
        format!(" flags={flags:#x}")
    } else {
        String::new()
    }
}

fn flow_request(f: &FlowStatsRequest) -> String {
    let mut out = format!(
        "table_id={} out_port={} out_group={}",
        table(f.table_id),
        port(f.out_port),
        group(f.out_group)
    );
    if f.cookie_mask != 0 {
        let _ = write!(out, " cookie={:#x}/{:#x}", f.cookie, f.cookie_mask);
    }
    let _ = write!(out, " match={}", match_text(&f.match_));
    out
}

/// (first-line summary, detail lines).
pub fn request(r: &MultipartRequest) -> (String, String) {
    use MultipartRequestBody as B;
    let mut detail = String::new();
    let fields = match &r.body {
        B::Desc | B::Table | B::GroupDesc | B::GroupFeatures | B::MeterFeatures | B::PortDesc => {
            String::new()
        }
        B::Flow(f) | B::Aggregate(f) => flow_request(f),
        B::PortStats { port_no } => format!("port={}", port(*port_no)),
        B::Queue { port_no, queue_id } => {
            let q = if *queue_id == OFPQ_ALL {
                "ALL".to_string()
            } else {
                queue_id.to_string()
            };
            format!("port={} queue={q}", port(*port_no))
        }
        B::Group { group_id } => format!("group_id={}", group(*group_id)),
        B::Meter { meter_id: m } | B::MeterConfig { meter_id: m } => {
            format!("meter={}", meter_id(*m))
        }
        B::TableFeatures(tables) => {
            for t in tables {
                let _ = writeln!(detail, " {}", table_features(t));
            }
            format!("{} tables", tables.len())
        }
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => {
            detail = hexdump(data);
            format!(
                "experimenter={experimenter:#010x} exp_type={exp_type} {} bytes",
                data.len()
            )
        }
        B::Unknown { body, .. } => {
            detail = hexdump(body);
            format!("{} bytes", body.len())
        }
    };
    let mut first = mp_name(r.body.mp_type());
    first.push_str(&more(r.flags, OFPMPF_REQ_MORE, "REQ_MORE"));
    if !fields.is_empty() {
        first.push(' ');
        first.push_str(&fields);
    }
    (first, detail)
}

fn duration(sec: u32, nsec: u32) -> String {
    format!("{sec}.{:03}s", nsec / 1_000_000)
}

/// One flow stats entry: `table:0 priority=30000 cookie=0x... duration=0.949s packets=0
/// bytes=0 tcp,... actions=output:NORMAL`.
pub fn flow_stats(f: &FlowStats) -> String {
    let mut out = format!(
        "table:{} priority={} cookie={:#x} duration={} packets={} bytes={}",
        f.table_id,
        f.priority,
        f.cookie,
        duration(f.duration_sec, f.duration_nsec),
        f.packet_count,
        f.byte_count
    );
    write_timeouts(&mut out, f.idle_timeout, f.hard_timeout);
    write_flags_match_actions(&mut out, f.flags, &f.match_, &f.instructions);
    out
}

fn prop_text(p: &TableFeatureProp) -> String {
    let miss = |m: &bool| if *m { "_miss" } else { "" };
    match p {
        TableFeatureProp::Instructions { miss: m, ids } => {
            format!("instructions{}({})", miss(m), ids.len())
        }
        TableFeatureProp::NextTables { miss: m, tables } => {
            format!("next_tables{}({})", miss(m), tables.len())
        }
        TableFeatureProp::WriteActions { miss: m, ids } => {
            format!("write_actions{}({})", miss(m), ids.len())
        }
        TableFeatureProp::ApplyActions { miss: m, ids } => {
            format!("apply_actions{}({})", miss(m), ids.len())
        }
        TableFeatureProp::Match(ids) => format!("match({})", ids.len()),
        TableFeatureProp::Wildcards(ids) => format!("wildcards({})", ids.len()),
        TableFeatureProp::WriteSetfield { miss: m, ids } => {
            format!("write_setfield{}({})", miss(m), ids.len())
        }
        TableFeatureProp::ApplySetfield { miss: m, ids } => {
            format!("apply_setfield{}({})", miss(m), ids.len())
        }
        TableFeatureProp::Raw { typ, body } => format!("property_{typ}({} bytes)", body.len()),
    }
}

fn table_features(t: &TableFeatures) -> String {
    let props: Vec<String> = t.properties.iter().map(prop_text).collect();
    format!(
        "table:{} name={:?} metadata_match={:#x} metadata_write={:#x} config={:#x} max_entries={} properties: {}",
        t.table_id,
        t.name,
        t.metadata_match,
        t.metadata_write,
        t.config,
        t.max_entries,
        props.join(" ")
    )
}

/// (first-line summary, one line per entry).
pub fn reply(r: &MultipartReply) -> (String, String) {
    use MultipartReplyBody as B;
    fn push(lines: &mut String, s: &str) {
        lines.push(' ');
        lines.push_str(s);
        lines.push('\n');
    }
    let mut lines = String::new();
    macro_rules! entry {
        ($e:expr) => {
            push(&mut lines, &$e)
        };
    }
    let count = match &r.body {
        B::Desc(d) => {
            entry!(format!("mfr_desc={:?}", d.mfr_desc));
            entry!(format!("hw_desc={:?}", d.hw_desc));
            entry!(format!("sw_desc={:?}", d.sw_desc));
            entry!(format!("serial_num={:?}", d.serial_num));
            entry!(format!("dp_desc={:?}", d.dp_desc));
            None
        }
        B::Flow(v) => {
            v.iter().for_each(|f| entry!(flow_stats(f)));
            Some(v.len())
        }
        B::Aggregate(a) => {
            entry!(format!(
                "packets={} bytes={} flows={}",
                a.packet_count, a.byte_count, a.flow_count
            ));
            None
        }
        B::Table(v) => {
            for t in v {
                entry!(format!(
                    "table:{} active={} lookup={} matched={}",
                    t.table_id, t.active_count, t.lookup_count, t.matched_count
                ));
            }
            Some(v.len())
        }
        B::PortStats(v) => {
            for p in v {
                entry!(format!(
                    "port {}: rx packets={} bytes={} dropped={} errors={} frame_err={} over_err={} crc_err={}; tx packets={} bytes={} dropped={} errors={} collisions={}; duration={}",
                    port(p.port_no),
                    p.rx_packets,
                    p.rx_bytes,
                    p.rx_dropped,
                    p.rx_errors,
                    p.rx_frame_err,
                    p.rx_over_err,
                    p.rx_crc_err,
                    p.tx_packets,
                    p.tx_bytes,
                    p.tx_dropped,
                    p.tx_errors,
                    p.collisions,
                    duration(p.duration_sec, p.duration_nsec)
                ));
            }
            Some(v.len())
        }
        B::Queue(v) => {
            for q in v {
                entry!(format!(
                    "port {} queue {}: tx packets={} bytes={} errors={} duration={}",
                    port(q.port_no),
                    q.queue_id,
                    q.tx_packets,
                    q.tx_bytes,
                    q.tx_errors,
                    duration(q.duration_sec, q.duration_nsec)
                ));
            }
            Some(v.len())
        }
        B::Group(v) => {
            for g in v {
                let buckets: Vec<String> = g
                    .bucket_stats
                    .iter()
                    .map(|b| format!("{}/{}", b.packet_count, b.byte_count))
                    .collect();
                entry!(format!(
                    "group_id={} ref_count={} packets={} bytes={} duration={} bucket packets/bytes: {}",
                    group(g.group_id),
                    g.ref_count,
                    g.packet_count,
                    g.byte_count,
                    duration(g.duration_sec, g.duration_nsec),
                    buckets.join(" ")
                ));
            }
            Some(v.len())
        }
        B::GroupDesc(v) => {
            for g in v {
                entry!(format!(
                    "group_id={} type={} {} buckets",
                    group(g.group_id),
                    g.group_type,
                    g.buckets.len()
                ));
                for b in buckets(&g.buckets).lines() {
                    push(&mut lines, b);
                }
            }
            Some(v.len())
        }
        B::GroupFeatures(g) => {
            entry!(format!(
                "types={:#x} capabilities={:#x} max_groups={} actions={}",
                g.types,
                g.capabilities,
                g.max_groups
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join("/"),
                g.actions
                    .iter()
                    .map(|a| format!("{a:#x}"))
                    .collect::<Vec<_>>()
                    .join("/")
            ));
            None
        }
        B::Meter(v) => {
            for m in v {
                let bands: Vec<String> = m
                    .band_stats
                    .iter()
                    .map(|b| format!("{}/{}", b.packet_band_count, b.byte_band_count))
                    .collect();
                entry!(format!(
                    "meter={} flow_count={} packet_in={} byte_in={} duration={} band packets/bytes: {}",
                    meter_id(m.meter_id),
                    m.flow_count,
                    m.packet_in_count,
                    m.byte_in_count,
                    duration(m.duration_sec, m.duration_nsec),
                    bands.join(" ")
                ));
            }
            Some(v.len())
        }
        B::MeterConfig(v) => {
            for m in v {
                let bands: Vec<String> = m.bands.iter().map(band).collect();
                entry!(format!(
                    "meter={} flags={} bands: {}",
                    meter_id(m.meter_id),
                    meter_flags(m.flags),
                    bands.join("; ")
                ));
            }
            Some(v.len())
        }
        B::MeterFeatures(m) => {
            entry!(format!(
                "max_meter={} band_types={:#x} capabilities={:#x} max_bands={} max_color={}",
                m.max_meter, m.band_types, m.capabilities, m.max_bands, m.max_color
            ));
            None
        }
        B::TableFeatures(v) => {
            v.iter().for_each(|t| entry!(table_features(t)));
            Some(v.len())
        }
        B::PortDesc(v) => {
            v.iter().for_each(|p| entry!(port_desc(p)));
            Some(v.len())
        }
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => {
            entry!(format!(
                "experimenter={experimenter:#010x} exp_type={exp_type} {} bytes",
                data.len()
            ));
            lines.push_str(&hexdump(data));
            None
        }
        B::Unknown { body, .. } => {
            lines.push_str(&hexdump(body));
            None
        }
    };
    let mut first = mp_name(r.body.mp_type());
    first.push_str(&more(r.flags, OFPMPF_REPLY_MORE, "REPLY_MORE"));
    if let Some(n) = count {
        let _ = write!(first, " {n} entries");
    }
    (first, lines)
}
