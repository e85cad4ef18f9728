//! Fuzz target: the ftm_entities reader never panics, and refuses what it cannot read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sanctions_ledger::import::formats::{self, Format};

fuzz_target!(|bytes: &[u8]| {
    let _ = formats::read(Format::FtmEntities, "fuzz", bytes);
    let _ = formats::detect(bytes);
});
