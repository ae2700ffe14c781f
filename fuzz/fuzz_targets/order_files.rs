//! Fuzzes the order-file readers (CSV order files and Amazon order reports): any bytes in, `Ok`
//! or `Err` out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milepost_ingest::order_files::{parse_amazon_order_report, parse_order_csv};

fuzz_target!(|data: &[u8]| {
    let _ = parse_order_csv(data);
    let _ = parse_amazon_order_report(data);
});
