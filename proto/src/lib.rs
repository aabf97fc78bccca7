//! OpenFlow 1.3 wire codec (OpenFlow 1.3.5 numbering). Bytes in, typed messages out, and back.
//! No I/O.
//!
//! Entry points: [`OfpMessage::decode`] / [`OfpMessage::encode`] for whole frames,
//! [`framer::next_frame`] to cut a TCP stream into frames, [`multipart_assembly`] to join
//! multipart replies, [`check_prerequisites`] to judge a match as a switch would. Every wire
//! structure implements [`Codec`].
//!
//! Canonical form: decoding rejects non-zero padding and fixed-width strings that are not
//! NUL-padded UTF-8, so every message that decodes re-encodes to the same bytes.
//! Vendor extensions (experimenter messages, actions, instructions, OXM fields, properties,
//! multipart types) and unknown types are kept as raw bytes and never make decoding fail.

pub mod action;
pub mod async_config;
pub mod codec;
pub mod consts;
pub mod error;
pub mod error_codes;
pub mod error_msg;
pub mod experimenter;
pub mod flow_mod;
pub mod flow_removed;
pub mod framer;
pub mod group;
pub mod hello;
pub mod instruction;
pub mod mac;
pub mod match_;
pub mod message;
pub mod meter;
pub mod multipart;
pub mod multipart_assembly;
pub mod oxm;
pub mod packet_in;
pub mod packet_out;
pub mod port;
pub mod prereq;
pub mod queue;
pub mod reader;
pub mod role;
pub mod switch_config;
pub mod switch_features;
pub mod table_mod;
mod tlv;
mod writer;

pub use action::Action;
pub use async_config::AsyncConfig;
pub use codec::Codec;
pub use error::{DecodeError, DecodeErrorKind, Scope};
pub use error_codes::*;
pub use error_msg::ErrorMsg;
pub use experimenter::ExperimenterMsg;
pub use flow_mod::{FlowMod, FlowModCommand};
pub use flow_removed::FlowRemoved;
pub use framer::FrameError;
pub use group::{Bucket, GroupMod};
pub use hello::{Hello, HelloElement};
pub use instruction::Instruction;
pub use mac::MacAddr;
pub use match_::Match;
pub use message::{msg_type_name, Header, Message, OfpMessage};
pub use meter::{MeterBand, MeterMod};
pub use multipart::reply::{MultipartReply, MultipartReplyBody};
pub use multipart::request::{FlowStatsRequest, MultipartRequest, MultipartRequestBody};
pub use multipart::stats::{
    AggregateStats, BucketCounter, Desc, FlowStats, GroupDesc, GroupFeatures, GroupStats,
    MeterBandStats, MeterConfig, MeterFeatures, MeterStats, PortStats, QueueStats, TableStats,
};
pub use multipart::table_features::{OxmId, TableFeatureProp, TableFeatures, TlvId};
pub use multipart_assembly::{AssemblyError, AssemblyLimits, MultipartAssembler};
pub use oxm::{Oxm, OxmHeader};
pub use packet_in::PacketIn;
pub use packet_out::PacketOut;
pub use port::{Port, PortMod, PortStatus};
pub use prereq::{check_prerequisites, PrereqError};
pub use queue::{PacketQueue, QueueGetConfigReply, QueueGetConfigRequest, QueueProp};
pub use role::RoleMsg;
pub use switch_config::SwitchConfig;
pub use switch_features::FeaturesReply;
pub use table_mod::TableMod;
