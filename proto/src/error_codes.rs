//! Every OpenFlow 1.3.5 error type (`ofp_error_type`) and code, named as in the spec, with
//! `Display` giving "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ".

use std::fmt;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $value:expr => $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum $name { $($variant = $value,)+ }

        impl $name {
            /// The value's spec name, e.g. "OFPBMC_BAD_PREREQ".
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl TryFrom<u16> for $name {
            type Error = u16;
            fn try_from(v: u16) -> Result<Self, u16> {
                match v { $($value => Ok($name::$variant),)+ other => Err(other) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

code_enum!(
    /// `ofp_error_type`.
    ErrorType {
        HelloFailed = 0 => "OFPET_HELLO_FAILED",
        BadRequest = 1 => "OFPET_BAD_REQUEST",
        BadAction = 2 => "OFPET_BAD_ACTION",
        BadInstruction = 3 => "OFPET_BAD_INSTRUCTION",
        BadMatch = 4 => "OFPET_BAD_MATCH",
        FlowModFailed = 5 => "OFPET_FLOW_MOD_FAILED",
        GroupModFailed = 6 => "OFPET_GROUP_MOD_FAILED",
        PortModFailed = 7 => "OFPET_PORT_MOD_FAILED",
        TableModFailed = 8 => "OFPET_TABLE_MOD_FAILED",
        QueueOpFailed = 9 => "OFPET_QUEUE_OP_FAILED",
        SwitchConfigFailed = 10 => "OFPET_SWITCH_CONFIG_FAILED",
        RoleRequestFailed = 11 => "OFPET_ROLE_REQUEST_FAILED",
        MeterModFailed = 12 => "OFPET_METER_MOD_FAILED",
        TableFeaturesFailed = 13 => "OFPET_TABLE_FEATURES_FAILED",
        Experimenter = 0xffff => "OFPET_EXPERIMENTER",
    }
);

code_enum!(
    /// `ofp_hello_failed_code`.
    HelloFailedCode {
        Incompatible = 0 => "OFPHFC_INCOMPATIBLE",
        Eperm = 1 => "OFPHFC_EPERM",
    }
);

code_enum!(
    /// `ofp_bad_request_code`.
    BadRequestCode {
        BadVersion = 0 => "OFPBRC_BAD_VERSION",
        BadType = 1 => "OFPBRC_BAD_TYPE",
        BadMultipart = 2 => "OFPBRC_BAD_MULTIPART",
        BadExperimenter = 3 => "OFPBRC_BAD_EXPERIMENTER",
        BadExpType = 4 => "OFPBRC_BAD_EXP_TYPE",
        Eperm = 5 => "OFPBRC_EPERM",
        BadLen = 6 => "OFPBRC_BAD_LEN",
        BufferEmpty = 7 => "OFPBRC_BUFFER_EMPTY",
        BufferUnknown = 8 => "OFPBRC_BUFFER_UNKNOWN",
        BadTableId = 9 => "OFPBRC_BAD_TABLE_ID",
        IsSlave = 10 => "OFPBRC_IS_SLAVE",
        BadPort = 11 => "OFPBRC_BAD_PORT",
        BadPacket = 12 => "OFPBRC_BAD_PACKET",
        MultipartBufferOverflow = 13 => "OFPBRC_MULTIPART_BUFFER_OVERFLOW",
    }
);

code_enum!(
    /// `ofp_bad_action_code`.
    BadActionCode {
        BadType = 0 => "OFPBAC_BAD_TYPE",
        BadLen = 1 => "OFPBAC_BAD_LEN",
        BadExperimenter = 2 => "OFPBAC_BAD_EXPERIMENTER",
        BadExpType = 3 => "OFPBAC_BAD_EXP_TYPE",
        BadOutPort = 4 => "OFPBAC_BAD_OUT_PORT",
        BadArgument = 5 => "OFPBAC_BAD_ARGUMENT",
        Eperm = 6 => "OFPBAC_EPERM",
        TooMany = 7 => "OFPBAC_TOO_MANY",
        BadQueue = 8 => "OFPBAC_BAD_QUEUE",
        BadOutGroup = 9 => "OFPBAC_BAD_OUT_GROUP",
        MatchInconsistent = 10 => "OFPBAC_MATCH_INCONSISTENT",
        UnsupportedOrder = 11 => "OFPBAC_UNSUPPORTED_ORDER",
        BadTag = 12 => "OFPBAC_BAD_TAG",
        BadSetType = 13 => "OFPBAC_BAD_SET_TYPE",
        BadSetLen = 14 => "OFPBAC_BAD_SET_LEN",
        BadSetArgument = 15 => "OFPBAC_BAD_SET_ARGUMENT",
    }
);

code_enum!(
    /// `ofp_bad_instruction_code`.
    BadInstructionCode {
        UnknownInst = 0 => "OFPBIC_UNKNOWN_INST",
        UnsupInst = 1 => "OFPBIC_UNSUP_INST",
        BadTableId = 2 => "OFPBIC_BAD_TABLE_ID",
        UnsupMetadata = 3 => "OFPBIC_UNSUP_METADATA",
        UnsupMetadataMask = 4 => "OFPBIC_UNSUP_METADATA_MASK",
        BadExperimenter = 5 => "OFPBIC_BAD_EXPERIMENTER",
        BadExpType = 6 => "OFPBIC_BAD_EXP_TYPE",
        BadLen = 7 => "OFPBIC_BAD_LEN",
        Eperm = 8 => "OFPBIC_EPERM",
    }
);

code_enum!(
    /// `ofp_bad_match_code`.
    BadMatchCode {
        BadType = 0 => "OFPBMC_BAD_TYPE",
        BadLen = 1 => "OFPBMC_BAD_LEN",
        BadTag = 2 => "OFPBMC_BAD_TAG",
        BadDlAddrMask = 3 => "OFPBMC_BAD_DL_ADDR_MASK",
        BadNwAddrMask = 4 => "OFPBMC_BAD_NW_ADDR_MASK",
        BadWildcards = 5 => "OFPBMC_BAD_WILDCARDS",
        BadField = 6 => "OFPBMC_BAD_FIELD",
        BadValue = 7 => "OFPBMC_BAD_VALUE",
        BadMask = 8 => "OFPBMC_BAD_MASK",
        BadPrereq = 9 => "OFPBMC_BAD_PREREQ",
        DupField = 10 => "OFPBMC_DUP_FIELD",
        Eperm = 11 => "OFPBMC_EPERM",
    }
);

code_enum!(
    /// `ofp_flow_mod_failed_code`.
    FlowModFailedCode {
        Unknown = 0 => "OFPFMFC_UNKNOWN",
        TableFull = 1 => "OFPFMFC_TABLE_FULL",
        BadTableId = 2 => "OFPFMFC_BAD_TABLE_ID",
        Overlap = 3 => "OFPFMFC_OVERLAP",
        Eperm = 4 => "OFPFMFC_EPERM",
        BadTimeout = 5 => "OFPFMFC_BAD_TIMEOUT",
        BadCommand = 6 => "OFPFMFC_BAD_COMMAND",
        BadFlags = 7 => "OFPFMFC_BAD_FLAGS",
    }
);

code_enum!(
    /// `ofp_group_mod_failed_code`.
    GroupModFailedCode {
        GroupExists = 0 => "OFPGMFC_GROUP_EXISTS",
        InvalidGroup = 1 => "OFPGMFC_INVALID_GROUP",
        WeightUnsupported = 2 => "OFPGMFC_WEIGHT_UNSUPPORTED",
        OutOfGroups = 3 => "OFPGMFC_OUT_OF_GROUPS",
        OutOfBuckets = 4 => "OFPGMFC_OUT_OF_BUCKETS",
        ChainingUnsupported = 5 => "OFPGMFC_CHAINING_UNSUPPORTED",
        WatchUnsupported = 6 => "OFPGMFC_WATCH_UNSUPPORTED",
        Loop = 7 => "OFPGMFC_LOOP",
        UnknownGroup = 8 => "OFPGMFC_UNKNOWN_GROUP",
        ChainedGroup = 9 => "OFPGMFC_CHAINED_GROUP",
        BadType = 10 => "OFPGMFC_BAD_TYPE",
        BadCommand = 11 => "OFPGMFC_BAD_COMMAND",
        BadBucket = 12 => "OFPGMFC_BAD_BUCKET",
        BadWatch = 13 => "OFPGMFC_BAD_WATCH",
        Eperm = 14 => "OFPGMFC_EPERM",
    }
);

code_enum!(
    /// `ofp_port_mod_failed_code`.
    PortModFailedCode {
        BadPort = 0 => "OFPPMFC_BAD_PORT",
        BadHwAddr = 1 => "OFPPMFC_BAD_HW_ADDR",
        BadConfig = 2 => "OFPPMFC_BAD_CONFIG",
        BadAdvertise = 3 => "OFPPMFC_BAD_ADVERTISE",
        Eperm = 4 => "OFPPMFC_EPERM",
    }
);

code_enum!(
    /// `ofp_table_mod_failed_code`.
    TableModFailedCode {
        BadTable = 0 => "OFPTMFC_BAD_TABLE",
        BadConfig = 1 => "OFPTMFC_BAD_CONFIG",
        Eperm = 2 => "OFPTMFC_EPERM",
    }
);

code_enum!(
    /// `ofp_queue_op_failed_code`.
    QueueOpFailedCode {
        BadPort = 0 => "OFPQOFC_BAD_PORT",
        BadQueue = 1 => "OFPQOFC_BAD_QUEUE",
        Eperm = 2 => "OFPQOFC_EPERM",
    }
);

code_enum!(
    /// `ofp_switch_config_failed_code`.
    SwitchConfigFailedCode {
        BadFlags = 0 => "OFPSCFC_BAD_FLAGS",
        BadLen = 1 => "OFPSCFC_BAD_LEN",
        Eperm = 2 => "OFPSCFC_EPERM",
    }
);

code_enum!(
    /// `ofp_role_request_failed_code`.
    RoleRequestFailedCode {
        Stale = 0 => "OFPRRFC_STALE",
        Unsup = 1 => "OFPRRFC_UNSUP",
        BadRole = 2 => "OFPRRFC_BAD_ROLE",
    }
);

code_enum!(
    /// `ofp_meter_mod_failed_code`.
    MeterModFailedCode {
        Unknown = 0 => "OFPMMFC_UNKNOWN",
        MeterExists = 1 => "OFPMMFC_METER_EXISTS",
        InvalidMeter = 2 => "OFPMMFC_INVALID_METER",
        UnknownMeter = 3 => "OFPMMFC_UNKNOWN_METER",
        BadCommand = 4 => "OFPMMFC_BAD_COMMAND",
        BadFlags = 5 => "OFPMMFC_BAD_FLAGS",
        BadRate = 6 => "OFPMMFC_BAD_RATE",
        BadBurst = 7 => "OFPMMFC_BAD_BURST",
        BadBand = 8 => "OFPMMFC_BAD_BAND",
        BadBandValue = 9 => "OFPMMFC_BAD_BAND_VALUE",
        OutOfMeters = 10 => "OFPMMFC_OUT_OF_METERS",
        OutOfBands = 11 => "OFPMMFC_OUT_OF_BANDS",
    }
);

code_enum!(
    /// `ofp_table_features_failed_code`.
    TableFeaturesFailedCode {
        BadTable = 0 => "OFPTFFC_BAD_TABLE",
        BadMetadata = 1 => "OFPTFFC_BAD_METADATA",
        BadType = 2 => "OFPTFFC_BAD_TYPE",
        BadLen = 3 => "OFPTFFC_BAD_LEN",
        BadArgument = 4 => "OFPTFFC_BAD_ARGUMENT",
        Eperm = 5 => "OFPTFFC_EPERM",
    }
);

/// Raw code constants used by the codec's own error mapping.
pub const OFPBRC_BAD_VERSION: u16 = BadRequestCode::BadVersion as u16;
pub const OFPBRC_BAD_TYPE: u16 = BadRequestCode::BadType as u16;
pub const OFPBRC_BAD_LEN: u16 = BadRequestCode::BadLen as u16;
pub const OFPBAC_BAD_LEN: u16 = BadActionCode::BadLen as u16;
pub const OFPBIC_BAD_LEN: u16 = BadInstructionCode::BadLen as u16;
pub const OFPBMC_BAD_TYPE: u16 = BadMatchCode::BadType as u16;
pub const OFPBMC_BAD_LEN: u16 = BadMatchCode::BadLen as u16;
pub const OFPMMFC_BAD_BAND: u16 = MeterModFailedCode::BadBand as u16;
pub const OFPTFFC_BAD_LEN: u16 = TableFeaturesFailedCode::BadLen as u16;

/// The spec name of a (type, code) pair: "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ"; unknown values are
/// shown as numbers ("OFPET_BAD_MATCH/99", "type 77/code 3").
pub fn describe(err_type: u16, code: u16) -> String {
    fn code_name<T: TryFrom<u16> + fmt::Display>(code: u16) -> String {
        match T::try_from(code) {
            Ok(c) => c.to_string(),
            Err(_) => code.to_string(),
        }
    }
    let Ok(t) = ErrorType::try_from(err_type) else {
        return format!("type {err_type}/code {code}");
    };
    let c = match t {
        ErrorType::HelloFailed => code_name::<HelloFailedCode>(code),
        ErrorType::BadRequest => code_name::<BadRequestCode>(code),
        ErrorType::BadAction => code_name::<BadActionCode>(code),
        ErrorType::BadInstruction => code_name::<BadInstructionCode>(code),
        ErrorType::BadMatch => code_name::<BadMatchCode>(code),
        ErrorType::FlowModFailed => code_name::<FlowModFailedCode>(code),
        ErrorType::GroupModFailed => code_name::<GroupModFailedCode>(code),
        ErrorType::PortModFailed => code_name::<PortModFailedCode>(code),
        ErrorType::TableModFailed => code_name::<TableModFailedCode>(code),
        ErrorType::QueueOpFailed => code_name::<QueueOpFailedCode>(code),
        ErrorType::SwitchConfigFailed => code_name::<SwitchConfigFailedCode>(code),
        ErrorType::RoleRequestFailed => code_name::<RoleRequestFailedCode>(code),
        ErrorType::MeterModFailed => code_name::<MeterModFailedCode>(code),
        ErrorType::TableFeaturesFailed => code_name::<TableFeaturesFailedCode>(code),
        ErrorType::Experimenter => format!("exp_type {code}"),
    };
    format!("{t}/{c}")
}

/// The spec names of a (type, code) pair when the spec names both; `None` for anything else,
/// experimenter errors included (their codes are the experimenter's). What a metric may label
/// by: the peer cannot choose how many different answers there are.
pub fn known_names(err_type: u16, code: u16) -> Option<(&'static str, &'static str)> {
    fn name<T: TryFrom<u16> + Copy>(
        code: u16,
        name: fn(T) -> &'static str,
    ) -> Option<&'static str> {
        T::try_from(code).ok().map(name)
    }
    let t = ErrorType::try_from(err_type).ok()?;
    let c = match t {
        ErrorType::HelloFailed => name(code, HelloFailedCode::name),
        ErrorType::BadRequest => name(code, BadRequestCode::name),
        ErrorType::BadAction => name(code, BadActionCode::name),
        ErrorType::BadInstruction => name(code, BadInstructionCode::name),
        ErrorType::BadMatch => name(code, BadMatchCode::name),
        ErrorType::FlowModFailed => name(code, FlowModFailedCode::name),
        ErrorType::GroupModFailed => name(code, GroupModFailedCode::name),
        ErrorType::PortModFailed => name(code, PortModFailedCode::name),
        ErrorType::TableModFailed => name(code, TableModFailedCode::name),
        ErrorType::QueueOpFailed => name(code, QueueOpFailedCode::name),
        ErrorType::SwitchConfigFailed => name(code, SwitchConfigFailedCode::name),
        ErrorType::RoleRequestFailed => name(code, RoleRequestFailedCode::name),
        ErrorType::MeterModFailed => name(code, MeterModFailedCode::name),
        ErrorType::TableFeaturesFailed => name(code, TableFeaturesFailedCode::name),
        ErrorType::Experimenter => None,
    }?;
    Some((t.name(), c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_only_for_pairs_the_spec_names() {
        assert_eq!(
            known_names(4, 9),
            Some(("OFPET_BAD_MATCH", "OFPBMC_BAD_PREREQ"))
        );
        assert_eq!(known_names(4, 99), None);
        assert_eq!(known_names(77, 3), None);
        assert_eq!(known_names(0xffff, 1), None);
        let known = (0..=u16::from(u8::MAX))
            .flat_map(|t| (0..=u16::from(u8::MAX)).map(move |c| (t, c)))
            .filter(|&(t, c)| known_names(t, c).is_some())
            .count();
        assert!((100..200).contains(&known), "{known} named pairs");
    }

    #[test]
    fn names_pairs_as_the_spec_does() {
        assert_eq!(describe(4, 9), "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ");
        assert_eq!(describe(1, 6), "OFPET_BAD_REQUEST/OFPBRC_BAD_LEN");
        assert_eq!(describe(13, 5), "OFPET_TABLE_FEATURES_FAILED/OFPTFFC_EPERM");
        assert_eq!(describe(4, 99), "OFPET_BAD_MATCH/99");
        assert_eq!(describe(77, 3), "type 77/code 3");
    }

    #[test]
    fn every_code_round_trips_through_its_number() {
        for v in 0..=15u16 {
            if let Ok(c) = BadActionCode::try_from(v) {
                assert_eq!(c as u16, v);
            }
        }
        assert_eq!(BadActionCode::try_from(16), Err(16));
        assert_eq!(BadRequestCode::MultipartBufferOverflow as u16, 13);
        assert_eq!(GroupModFailedCode::Eperm as u16, 14);
        assert_eq!(MeterModFailedCode::OutOfBands as u16, 11);
    }
}
