//! Any bytes into `OfpMessage::decode`: must not panic; whatever decodes must re-encode to bytes
//! that decode to the same message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    op25b_proto_fuzz::properties::decode_round_trips(data);
});
