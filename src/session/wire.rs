//! The session's vocabulary: what it receives from a switch and what it sends, each message
//! classified by what the session does with it. Where `op25b_proto` has a type for a part of a
//! message (a METER_CONFIG entry) the vocabulary uses it; `codec_bridge` translates whole
//! messages to and from `op25b_proto`.

/// A message from the switch, already decoded and classified.
#[derive(Debug, Clone)]
pub enum Inbound<F, P> {
    Hello {
        /// Header version of the switch's HELLO.
        version: u8,
        /// The switch supports OpenFlow 1.3 (bitmap bit 4, or header version >= 4 without bitmap).
        supports_13: bool,
    },
    Error {
        err_type: u16,
        code: u16,
        /// "OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL" style text.
        names: String,
    },
    EchoRequest {
        data: Vec<u8>,
    },
    EchoReply,
    FeaturesReply {
        dpid: u64,
    },
    /// A whole PORT_DESC reply (its parts joined).
    PortDesc {
        ports: Vec<u32>,
    },
    /// A whole FLOW stats reply (its parts joined).
    FlowStats {
        entries: Vec<F>,
    },
    /// A whole METER_CONFIG reply (its parts joined).
    MeterConfig {
        entries: Vec<op25b_proto::MeterConfig>,
    },
    /// A part of a multipart reply held until its last part arrives (it proves the switch
    /// alive; nothing else).
    ReplyPart,
    /// A multipart reply whose parts could not be joined (over the bounds, or parts that do
    /// not fit together); the reply is dropped.
    ReplyRefused(op25b_proto::AssemblyError),
    BarrierReply,
    /// GET_CONFIG_REPLY: the switch's fragment handling flags and miss_send_len.
    GetConfigReply {
        flags: u16,
        miss_send_len: u16,
    },
    PacketIn {
        cookie: u64,
        packet_in: P,
    },
    /// Open vSwitch's fail-open probe (`fail_open::is_fail_open_probe`): the switch is failed
    /// open, forwarding everything with NORMAL.
    FailOpenProbe,
    FlowRemoved {
        cookie: u64,
    },
    /// ROLE_REPLY: the role (`OFPCR_ROLE_*`) and the highest generation the switch knows.
    RoleReply {
        role: u32,
        generation_id: u64,
    },
    PortStatus {
        /// OFPPR_ADD / DELETE / MODIFY.
        reason: u8,
        port_no: u32,
    },
    /// Anything else (logged at debug and ignored).
    Other {
        msg_type: u8,
    },
}

/// A message for the switch.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound<M> {
    Hello,
    /// ERROR OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE with a text explanation.
    HelloIncompatible {
        /// The switch's HELLO version: the error is sent in it so an older switch can read it.
        peer_version: u8,
        text: String,
    },
    FeaturesRequest,
    PortDescRequest,
    SetConfig {
        flags: u16,
        miss_send_len: u16,
    },
    EchoRequest,
    EchoReply {
        data: Vec<u8>,
    },
    BarrierRequest,
    /// Read the switch configuration back (audits check the fragment mode).
    GetConfigRequest,
    /// ROLE_REQUEST (`OFPCR_ROLE_*`) with the cluster's generation (fencing, see `role`).
    RoleRequest {
        role: u32,
        generation_id: u64,
    },
    /// FLOW_MOD, METER_MOD or FLOW stats request built by the policy.
    Policy(M),
}

impl<M> Outbound<M> {
    /// Short name for logs and counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Outbound::Hello => "HELLO",
            Outbound::HelloIncompatible { .. } => "ERROR",
            Outbound::FeaturesRequest => "FEATURES_REQUEST",
            Outbound::PortDescRequest => "PORT_DESC_REQUEST",
            Outbound::SetConfig { .. } => "SET_CONFIG",
            Outbound::EchoRequest => "ECHO_REQUEST",
            Outbound::EchoReply { .. } => "ECHO_REPLY",
            Outbound::BarrierRequest => "BARRIER_REQUEST",
            Outbound::GetConfigRequest => "GET_CONFIG_REQUEST",
            Outbound::RoleRequest { .. } => "ROLE_REQUEST",
            Outbound::Policy(_) => "POLICY_MESSAGE",
        }
    }
}
