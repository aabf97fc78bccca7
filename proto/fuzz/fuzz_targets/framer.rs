//! Any bytes as a TCP stream through the framer: must not panic; every frame it yields must be
//! a whole OpenFlow message (length field = frame length) and satisfy the decode round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    op25b_proto_fuzz::properties::framer_splits_stream(data);
});
