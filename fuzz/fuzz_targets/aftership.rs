//! Fuzzes the aftership adapter: any bytes in, `Ok` or `Err` out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milepost_ingest::adapters::{SenderKind, parse};
use milepost_ingest::mapping::CodeMap;
use std::sync::OnceLock;

static CODES: OnceLock<CodeMap> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let _ = parse(SenderKind::Aftership, data, CODES.get_or_init(CodeMap::seeded));
});
