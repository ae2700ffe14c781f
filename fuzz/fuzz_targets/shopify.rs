//! Fuzzes the Shopify webhook reader under every topic it reads: any bytes in, `Ok` or `Err`
//! out, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milepost_ingest::mapping::CodeMap;
use milepost_ingest::shopify::{ShopifyTopic, parse_shopify};
use std::sync::OnceLock;

static CODES: OnceLock<CodeMap> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    for topic in [
        ShopifyTopic::OrdersCreate,
        ShopifyTopic::OrdersUpdated,
        ShopifyTopic::OrdersCancelled,
        ShopifyTopic::FulfillmentsCreate,
        ShopifyTopic::FulfillmentsUpdate,
    ] {
        let _ = parse_shopify(topic, data, CODES.get_or_init(CodeMap::seeded));
    }
});
