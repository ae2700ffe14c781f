//! `cargo bench -p milepost-ingest`: parse throughput of every sender format, on the same
//! payloads `milepost bench` uses (`milepost_ingest::samples`).

use milepost_ingest::mapping::CodeMap;
use milepost_ingest::samples::{SAMPLES, measure};
use std::time::Duration;

fn main() {
    let codes = CodeMap::seeded();
    println!("| format    | payload B | MB/s    | events/s   |");
    println!("|-----------|-----------|---------|------------|");
    for sample in &SAMPLES {
        let t = measure(sample, &codes, Duration::from_millis(500)).expect("sample parses");
        println!(
            "| {:<9} | {:>9} | {:>7.1} | {:>10.0} |",
            t.format, t.payload_bytes, t.megabytes_per_s, t.events_per_s
        );
    }
}
