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
//!
//! ```
//! use op25b_proto::{check_prerequisites, consts::*, Action, FlowMod, Instruction, Match, Message, OfpMessage, Oxm};
//!
//! // Drop subscribers' TCP to port 25: a flow with a match and no instructions.
//! let m = Match::new(vec![Oxm::EthType(ETH_TYPE_IPV4), Oxm::IpProto(IP_PROTO_TCP), Oxm::TcpDst(25)]);
//! check_prerequisites(&m).expect("tcp_dst has its prerequisites");
//! let drop = FlowMod::add(0, 100, m, vec![]);
//! let wire = OfpMessage::new(7, Message::FlowMod(drop)).to_bytes();
//! assert_eq!(wire.len(), 8 + 40 + 24);
//! let back = OfpMessage::decode(&wire).expect("our own bytes decode");
//! assert_eq!(back.xid, 7);
//!
//! // A cut frame is a typed error that says what to answer the peer.
//! let err = OfpMessage::decode(&wire[..20]).unwrap_err();
//! assert!(err.is_truncation());
//! assert_eq!(err.to_ofp_error(), (1, 6)); // OFPET_BAD_REQUEST / OFPBRC_BAD_LEN
//! # let _ = (Action::output(OFPP_CONTROLLER), Instruction::ClearActions);
//! ```

pub mod action;
pub mod async_config;
pub mod codec;
pub mod consts;
pub mod encode_error;
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
pub mod oxm_bytes;
mod oxm_types;
mod oxm_wire;
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
pub mod text;
mod tlv;
mod writer;

pub use action::Action;
pub use async_config::AsyncConfig;
pub use codec::Codec;
pub use encode_error::EncodeError;
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
pub use oxm_bytes::OxmBytes;
pub use packet_in::PacketIn;
pub use packet_out::PacketOut;
pub use port::{Port, PortMod, PortStatus};
pub use prereq::{check_prerequisites, PrereqError};
pub use queue::{PacketQueue, QueueGetConfigReply, QueueGetConfigRequest, QueueProp};
pub use role::RoleMsg;
pub use switch_config::SwitchConfig;
pub use switch_features::FeaturesReply;
pub use table_mod::TableMod;
