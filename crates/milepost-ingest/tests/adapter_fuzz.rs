//! Fuzzing every adapter in the normal test run: each reader of outside bytes (the eight sender
//! adapters, each with every payload shape it reads, EPCIS, Shopify's topics, CSV order files and
//! Amazon order reports) gets arbitrary bytes, byte-level mutations of its seed payloads from the
//! tests, and structure-aware mutations (any JSON value of the seed replaced by a hostile one).
//! Whatever comes in, it must answer `Ok` or `Err`: never panic, never hang. This proptest harness runs in every `cargo test`;
//! the coverage-guided `cargo fuzz` targets of the same readers are in `fuzz/` (run with
//! `fuzz/run`, which needs a build with sanitizer flags). Set `PROPTEST_CASES` to fuzz longer.

use milepost_ingest::adapters::{SenderKind, parse};
use milepost_ingest::epcis::parse_epcis;
use milepost_ingest::gs1::Gs1Key;
use milepost_ingest::mapping::CodeMap;
use milepost_ingest::order_files::{detect_format, parse_amazon_order_report, parse_order_csv};
use milepost_ingest::samples::{SAMPLES, SampleFormat};
use milepost_ingest::shopify::{ShopifyTopic, parse_shopify};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

/// One reader of outside bytes and the seed it is fuzzed from.
#[derive(Debug, Clone, Copy)]
enum Target {
    Sender(SenderKind, &'static [u8]),
    Epcis(&'static [u8]),
    Shopify(ShopifyTopic),
    OrderCsv,
    AmazonReport,
}

const SHOPIFY_ORDER: &[u8] = br##"{"id": 6102938475610, "name": "#1042", "order_number": 1042, "email": "dana@example.net",
 "created_at": "2026-11-01T09:14:22-05:00", "currency": "USD", "total_price": "58.00", "cancelled_at": null,
 "line_items": [{"id": 15001122334455, "sku": "MUG-STN-12OZ", "title": "Stoneware Mug", "quantity": 2, "price": "29.00"}],
 "shipping_address": {"name": "Dana Ruiz", "address1": "415 Juniper St", "city": "Boise", "province_code": "ID",
  "zip": "83702", "country_code": "US"}}"##;
const SHOPIFY_FULFILLMENT: &[u8] = br##"{"id": 4455, "order_id": 6102938475610, "name": "#1042.1", "status": "success",
 "shipment_status": "in_transit", "tracking_company": "UPS", "tracking_number": "1ZA4R7090398765432",
 "tracking_numbers": ["1ZA4R7090398765432"], "created_at": "2026-11-02T10:00:00-05:00", "updated_at": "2026-11-02T10:00:00-05:00",
 "line_items": [{"id": 15001122334455, "sku": "MUG-STN-12OZ", "quantity": 2}]}"##;
const ORDER_CSV: &[u8] = b"order_number,channel,placed_at,promised_by,currency,customer_name,customer_email,customer_phone,ship_line1,ship_line2,ship_city,ship_region,ship_postal_code,ship_country,sku,description,quantity,unit_price\n\
SO-1042,b2b,2026-11-01T09:14:22-05:00,2026-11-05,USD,Dana Ruiz,dana@example.net,,415 Juniper St,,Boise,ID,83702,US,MUG-STN-12OZ,\"Stoneware Mug, Slate\",2,29.00\n\
SO-1043,,2026-11-01T11:00:00-05:00,,USD,Ben Okafor,ben@example.net,,1 Main St,,Austin,TX,78701,US,LAMP-DESK,Desk lamp,1,89.00\n";
const AMAZON_REPORT: &[u8] = b"order-id\torder-item-id\tpurchase-date\tpayments-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\tquantity-purchased\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tship-service-level\trecipient-name\tship-address-1\tship-address-2\tship-address-3\tship-city\tship-state\tship-postal-code\tship-country\tsales-channel\tdelivery-end-date\n\
113-5520147-8839021\t62019384756102\t2025-03-10T14:05:11-07:00\t2025-03-10T14:05:11-07:00\tk3h8qz1w0p@marketplace.amazon.com\tLee Park\tMUG-STN-12OZ\tStoneware Mug, Slate\t2\tUSD\t58.00\t4.79\t0.00\t0.00\tStandard\tLee Park\t88 Alder Way\t\t\tSpokane\tWA\t99201\tUS\tAmazon.com\t2025-03-14\n";

/// All five EPCIS event types, an error declaration and an event type that does not read.
const EPCIS_ALL_EVENT_TYPES: &[u8] = include_bytes!("fixtures/epcis_all_event_types.json");

/// The other shapes a sender's adapter reads besides its sample (push and poll answers, test
/// webhooks), each fuzzed from its own seed so their readers are covered too.
const OTHER_SHAPES: [(SenderKind, &[u8]); 8] = [
    (SenderKind::Ups, include_bytes!("fixtures/ups_track_alert_out_for_delivery.json")),
    (SenderKind::Ups, include_bytes!("fixtures/ups_track_alert_delivered_local_only.json")),
    (SenderKind::Dhl, include_bytes!("fixtures/dhl_mydhl_express.json")),
    (SenderKind::Aftership, include_bytes!("fixtures/aftership_get_tracking.json")),
    (SenderKind::Aftership, include_bytes!("fixtures/aftership_list_trackings.json")),
    (SenderKind::Shippo, include_bytes!("fixtures/shippo_track_object.json")),
    (SenderKind::Shippo, include_bytes!("fixtures/shippo_test_webhook.json")),
    (SenderKind::Easypost, include_bytes!("fixtures/easypost_test_webhook.json")),
];

fn targets() -> Vec<Target> {
    let mut all: Vec<Target> = SAMPLES
        .iter()
        .map(|s| match s.format {
            SampleFormat::Sender(kind) => Target::Sender(kind, s.body),
            SampleFormat::Epcis => Target::Epcis(s.body),
        })
        .collect();
    all.extend(OTHER_SHAPES.map(|(kind, body)| Target::Sender(kind, body)));
    all.extend(
        [
            ShopifyTopic::OrdersCreate,
            ShopifyTopic::OrdersUpdated,
            ShopifyTopic::OrdersCancelled,
            ShopifyTopic::FulfillmentsCreate,
            ShopifyTopic::FulfillmentsUpdate,
        ]
        .map(Target::Shopify),
    );
    all.push(Target::Epcis(EPCIS_ALL_EVENT_TYPES));
    all.extend([Target::OrderCsv, Target::AmazonReport]);
    all
}

impl Target {
    fn seed(self) -> &'static [u8] {
        match self {
            Target::Sender(_, body) | Target::Epcis(body) => body,
            Target::Shopify(ShopifyTopic::FulfillmentsCreate | ShopifyTopic::FulfillmentsUpdate) => SHOPIFY_FULFILLMENT,
            Target::Shopify(_) => SHOPIFY_ORDER,
            Target::OrderCsv => ORDER_CSV,
            Target::AmazonReport => AMAZON_REPORT,
        }
    }

    /// Reads `bytes`; the only thing that matters is that it returns. Returns whether it was read.
    fn read(self, bytes: &[u8]) -> bool {
        let codes = codes();
        match self {
            Target::Sender(kind, _) => parse(kind, bytes, codes).is_ok(),
            Target::Epcis(_) => parse_epcis(bytes, codes).is_ok_and(|entries| {
                // The caller reads every identifier's GS1 key and every transaction's number.
                for event in entries.iter().filter_map(|e| e.read.as_ref().ok()) {
                    for epc in &event.epcs {
                        let _ = Gs1Key::parse(epc).map(|k| (k.element_strings(), k.location_key()));
                    }
                    for bt in &event.biz_transactions {
                        let _ = bt.number();
                    }
                }
                true
            }),
            Target::Shopify(topic) => parse_shopify(topic, bytes, codes).is_ok(),
            Target::OrderCsv => {
                let _ = detect_format(bytes);
                parse_order_csv(bytes).is_ok()
            }
            Target::AmazonReport => {
                let _ = detect_format(bytes);
                parse_amazon_order_report(bytes).is_ok()
            }
        }
    }
}

fn codes() -> &'static CodeMap {
    static CODES: OnceLock<CodeMap> = OnceLock::new();
    CODES.get_or_init(CodeMap::seeded)
}

#[test]
fn every_seed_reads_cleanly_so_the_mutations_start_from_valid_input() {
    for target in targets() {
        assert!(target.read(target.seed()), "{target:?} does not read its own seed");
    }
}

/// A byte-level edit of a seed: overwrite, insert or delete at a position.
#[derive(Debug, Clone)]
enum Edit {
    Overwrite(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Overwrite(at, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Overwrite(at, b) if !bytes.is_empty() => bytes[at % len] = *b,
            Edit::Overwrite(..) => {}
            Edit::Insert(at, more) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, more.iter().copied());
            }
            Edit::Delete(at, n) if !bytes.is_empty() => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Delete(..) => {}
        }
    }
    bytes
}

/// Values that break readers which trust their input.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::from(u64::MAX)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "",
            "0",
            "-1",
            "99999999999999999999",
            "2026-13-45T25:61:61Z",
            "2026-11-01T10:00:00+99:00",
            "9999-12-31",
            "\u{0}",
            "\u{202e}",
            "NaN",
            "1e309",
            "urn:epc:id:sscc:",
            "urn:epc:id:sgtin:.",
            "urn:epc:id:grai:0.0.%",
            "urn:epc:id:sgln:..",
            "https://id.gs1.org/01/",
            "https://id.gs1.org/00/%F0%9F",
            "https://id.gs1.org/8003/0",
            "urn:epcglobal:cbv:bt::",
            "TransformationEvent",
            "AssociationEvent",
            "#",
            "T",
            "24:00",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        Just(Value::Array(vec![])),
        Just(Value::Object(Default::default())),
    ]
}

/// Every JSON value in the document, as a JSON pointer.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                pointers(v, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn mutate_json(seed: &[u8], choices: &[(usize, Value)]) -> Option<Vec<u8>> {
    let mut doc: Value = serde_json::from_slice(seed).ok()?;
    for (choice, replacement) in choices {
        let mut all = vec![];
        pointers(&doc, String::new(), &mut all);
        let pointer = &all[choice % all.len()];
        if pointer.is_empty() {
            doc = replacement.clone();
        } else if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = replacement.clone();
        }
    }
    Some(serde_json::to_vec(&doc).expect("a value serializes"))
}

fn target() -> impl Strategy<Value = Target> {
    prop::sample::select(targets())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_any_reader(t in target(), bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        t.read(&bytes);
    }

    #[test]
    fn byte_mutations_of_each_seed_never_panic_its_reader(t in target(), edits in prop::collection::vec(edit(), 1..12)) {
        t.read(&apply(t.seed(), &edits));
    }

    #[test]
    fn hostile_values_anywhere_in_each_json_seed_never_panic_its_reader(
        t in target(),
        choices in prop::collection::vec((any::<usize>(), hostile_value()), 1..6),
    ) {
        if let Some(bytes) = mutate_json(t.seed(), &choices) {
            t.read(&bytes);
        }
    }
}

#[test]
fn deeply_nested_json_is_an_error_for_every_reader_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    for t in targets() {
        assert!(!t.read(deep.as_bytes()), "{t:?}");
        assert!(!t.read(deep_object.as_bytes()), "{t:?}");
    }
}
