//! The status rules of DESIGN §3, end to end: whatever order events arrive in, however often,
//! the stored timeline and status come out the same; labels never read as shipped; terminal
//! states hold; claims from the wrong source are advisory; unmapped codes are kept.

mod common;

use common::{TestApp, carrier_event, order_json, spawn_app};
use serde_json::{Value, json};

const SCRIPT: [(&str, &str, &str); 6] = [
    ("e1", "label_created", "2026-11-01T12:00:00-05:00"),
    ("e2", "handed_to_carrier", "2026-11-01T18:00:00-05:00"),
    ("e3", "in_transit", "2026-11-02T06:00:00Z"),
    ("e4", "in_transit", "2026-11-02T20:00:00Z"),
    ("e5", "out_for_delivery", "2026-11-03T07:00:00-06:00"),
    ("e6", "delivered", "2026-11-03T15:00:00-06:00"),
];

async fn with_parcel(number: &str, tracking: &str) -> TestApp {
    let app = spawn_app().await;
    app.put_order(&order_json(number)).await;
    let r = app.add_shipment(number, &json!({"carrier": "ups", "tracking_number": tracking})).await;
    assert_eq!(r.status, 201);
    app
}

fn summary(order: &Value) -> (Value, Value, Vec<(Value, Value)>) {
    let shipment = &order["shipments"][0];
    let timeline = shipment["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["milestone"].clone(), e["occurred_at"].clone()))
        .collect();
    (order["status"].clone(), shipment["status"].clone(), timeline)
}

#[tokio::test]
async fn reversed_duplicated_and_late_delivery_gives_the_same_record_as_in_order() {
    let mut results = Vec::new();
    let arrivals: [&[usize]; 4] =
        [&[0, 1, 2, 3, 4, 5], &[5, 4, 3, 2, 1, 0], &[0, 0, 2, 5, 1, 3, 3, 4, 5], &[0, 2, 3, 4, 5, 1]];
    for arrival in arrivals {
        let app = with_parcel("R-1", "1ZRULES0001").await;
        for &i in arrival {
            let (id, m, at) = SCRIPT[i];
            let r = app.post_events(json!([carrier_event("1ZRULES0001", id, m, at)])).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        results.push(summary(&app.order("R-1").await.body));
    }
    assert_eq!(results[0].0, "delivered");
    assert_eq!(results[0].2.len(), 6);
    for other in &results[1..] {
        assert_eq!(&results[0], other);
    }
}

#[tokio::test]
async fn a_resent_batch_is_answered_duplicate_item_by_item() {
    let app = with_parcel("R-2", "1ZRULES0002").await;
    let batch = json!([
        carrier_event("1ZRULES0002", "a", "handed_to_carrier", "2026-11-01T18:00:00Z"),
        carrier_event("1ZRULES0002", "b", "in_transit", "2026-11-02T18:00:00Z"),
    ]);
    let first = app.post_events(batch.clone()).await;
    assert_eq!(first.body["results"], json!([{"index": 0, "result": "accepted"}, {"index": 1, "result": "accepted"}]));
    let again = app.post_events(batch).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["results"][0]["result"], "duplicate");
    assert_eq!(again.body["results"][1]["result"], "duplicate");
    let o = app.order("R-2").await.body;
    assert_eq!(o["shipments"][0]["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(o["shipments"][0]["timeline"][0]["duplicates"], 1);
}

#[tokio::test]
async fn a_label_only_shipment_never_reads_as_shipped_even_if_the_store_says_so() {
    let app = with_parcel("R-3", "1ZRULES0003").await;
    let store_claim = json!({"source": "channel", "source_event_id": "shopify-f1", "order_number": "R-3",
        "milestone": "handed_to_carrier", "occurred_at": "2026-11-01T13:00:00Z"});
    let r = app
        .post_events(json!([carrier_event("1ZRULES0003", "l", "label_created", "2026-11-01T12:00:00Z"), store_claim]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let o = app.order("R-3").await.body;
    assert_eq!(o["status"], "in_fulfillment");
    assert_eq!(o["shipments"][0]["status"], "label_created");
    assert!(o["shipments"][0]["shipped_at"].is_null());
    let claim = o["shipments"][0]["timeline"].as_array().unwrap().iter().find(|e| e["source"] == "channel").unwrap();
    assert_eq!(claim["advisory"], true, "the store's claim is kept as advisory");
}

#[tokio::test]
async fn a_delivered_shipment_does_not_regress_on_a_late_in_transit_event() {
    let app = with_parcel("R-4", "1ZRULES0004").await;
    app.post_events(json!([carrier_event("1ZRULES0004", "d", "delivered", "2026-11-03T15:00:00Z")])).await;
    app.post_events(json!([carrier_event("1ZRULES0004", "t", "in_transit", "2026-11-03T16:00:00Z")])).await;
    let o = app.order("R-4").await.body;
    assert_eq!(o["shipments"][0]["status"], "delivered");
    assert_eq!(o["status"], "delivered");
    assert_eq!(o["shipments"][0]["timeline"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_raw_code_maps_through_the_carrier_table_and_an_unknown_one_is_kept_unmapped() {
    let app = with_parcel("R-5", "1ZRULES0005").await;
    let r = app
        .post_events(json!([
            {"source": "carrier", "source_event_id": "c1", "tracking_number": "1ZRULES0005", "carrier": "ups",
             "code": "OR", "description": "Origin scan", "occurred_at": "2026-11-01T18:00:00Z",
             "location": {"city": "Reno", "region": "NV", "postal_code": "89502", "country": "US"}},
            {"source": "carrier", "source_event_id": "c2", "tracking_number": "1ZRULES0005", "carrier": "ups",
             "code": "ZQ7", "description": "Mystery scan", "occurred_at": "2026-11-02T18:00:00Z"}
        ]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let o = app.order("R-5").await.body;
    let timeline = o["shipments"][0]["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["milestone"], "handed_to_carrier");
    assert_eq!(timeline[0]["code"], "OR");
    assert_eq!(timeline[0]["location"]["city"], "Reno");
    assert_eq!(timeline[1]["milestone"], "unmapped");
    assert_eq!(timeline[1]["code"], "ZQ7");
    assert_eq!(o["shipments"][0]["status"], "handed_to_carrier", "unmapped codes do not move status");
}

#[tokio::test]
async fn events_for_an_unregistered_tracking_number_attach_when_the_shipment_arrives() {
    let app = spawn_app().await;
    app.put_order(&order_json("R-6")).await;
    let early = app.post_events(json!([carrier_event("1ZRULES0006", "x", "in_transit", "2026-11-02T10:00:00Z")])).await;
    assert_eq!(early.body["results"][0]["result"], "accepted");
    let s = app.add_shipment("R-6", &json!({"carrier": "ups", "tracking_number": "1ZRULES0006"})).await;
    assert_eq!(s.body["status"], "in_transit");
    assert_eq!(app.order("R-6").await.body["status"], "shipped");
}

#[tokio::test]
async fn a_warehouse_scan_by_order_number_lands_on_the_orders_only_parcel() {
    let app = with_parcel("R-7", "1ZRULES0007").await;
    let r = app
        .post_events(json!([{"source": "warehouse", "source_event_id": "w1", "order_number": "R-7",
            "milestone": "packed", "occurred_at": "2026-11-01T11:00:00Z"}]))
        .await;
    assert_eq!(r.status, 200);
    let o = app.order("R-7").await.body;
    assert_eq!(o["shipments"][0]["status"], "packed");
    assert_eq!(o["shipments"][0]["timeline"][0]["source"], "warehouse");
}
