//! Fuzzes the EPCIS 2.0 capture reader (all five event types, error declarations, business
//! transactions) and the GS1 key reader its identifiers go through: any bytes in, `Ok` or `Err`
//! out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milepost_ingest::epcis::parse_epcis;
use milepost_ingest::gs1::Gs1Key;
use milepost_ingest::mapping::CodeMap;
use std::sync::OnceLock;

static CODES: OnceLock<CodeMap> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = parse_epcis(data, CODES.get_or_init(CodeMap::seeded)) {
        for event in entries.iter().filter_map(|e| e.read.as_ref().ok()) {
            for epc in &event.epcs {
                let _ = Gs1Key::parse(epc).map(|k| (k.element_strings(), k.location_key()));
            }
            for bt in &event.biz_transactions {
                let _ = bt.number();
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Gs1Key::parse(text);
    }
});
