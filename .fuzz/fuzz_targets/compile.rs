//! Fuzz target `compile`: see .fuzz/common.rs for the input format and the invariants.
#![no_main]

#[path = "../common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check_compile(data));
