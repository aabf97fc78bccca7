//! The properties the fuzz targets check, shared with `proto/tests/fuzz_corpus.rs` (which
//! includes `properties.rs` by path) so the saved corpus is checked by plain `cargo test` too.
pub mod properties;
