//! Fuzzes the EPCIS 2.0 capture reader: any bytes in, `Ok` or `Err` out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milepost_ingest::epcis::parse_epcis;
use milepost_ingest::mapping::CodeMap;
use std::sync::OnceLock;

static CODES: OnceLock<CodeMap> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let _ = parse_epcis(data, CODES.get_or_init(CodeMap::seeded));
});
