//! Fuzzes the order-file readers (CSV order files, Amazon order reports and the format read from
//! a header row): any bytes in, `Ok`/`Err` or `Some`/`None` out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milepost_ingest::order_files::{detect_format, parse_amazon_order_report, parse_order_csv};

fuzz_target!(|data: &[u8]| {
    let _ = parse_order_csv(data);
    let _ = parse_amazon_order_report(data);
    let _ = detect_format(data);
});
