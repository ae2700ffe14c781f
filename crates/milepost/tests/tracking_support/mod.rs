//! Orders that show each case of the customer tracking page, created through the API of a
//! `spawn_app()` server: a split order with one parcel delivered and one still being prepared,
//! a late one, a delivered one with an advisory claim and an unmapped carrier code that must not
//! reach the customer.

#![allow(dead_code)]

use crate::common::{TestApp, carrier_event, order_json};
use serde_json::json;

pub async fn seed_split(app: &TestApp, number: &str) {
    assert_eq!(app.put_order(&order_json(number)).await.status, 201);
    let a = format!("1Z{number}A").replace('-', "");
    let b = format!("1Z{number}B").replace('-', "");
    let r = app
        .add_shipment(
            number,
            &json!({"carrier": "ups", "tracking_number": a, "items": [{"sku": "MUG", "quantity": 2}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = app
        .add_shipment(
            number,
            &json!({"carrier": "fedex", "tracking_number": b, "items": [{"sku": "TEE", "quantity": 1}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = app
        .post_events(json!([
            carrier_event(&a, &format!("{a}-1"), "label_created", "2026-11-02T09:00:00-05:00"),
            carrier_event(&a, &format!("{a}-2"), "handed_to_carrier", "2026-11-02T16:00:00-05:00"),
            carrier_event(&a, &format!("{a}-3"), "in_transit", "2026-11-03T08:00:00-05:00"),
            carrier_event(&a, &format!("{a}-4"), "delivered", "2026-11-04T13:30:00-05:00"),
            {"source": "carrier", "source_event_id": format!("{b}-1"), "tracking_number": b, "carrier": "fedex",
             "milestone": "label_created", "occurred_at": "2026-11-03T10:00:00-05:00"}
        ]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Promised by 2026-11-06, in transit since 2026-11-02 and never delivered.
pub async fn seed_late(app: &TestApp, number: &str) {
    assert_eq!(app.put_order(&order_json(number)).await.status, 201);
    let t = format!("1Z{number}").replace('-', "");
    assert_eq!(app.add_shipment(number, &json!({"carrier": "ups", "tracking_number": t})).await.status, 201);
    let r = app
        .post_events(json!([
            carrier_event(&t, &format!("{t}-1"), "handed_to_carrier", "2026-11-02T16:00:00-05:00"),
            {"source": "carrier", "source_event_id": format!("{t}-2"), "tracking_number": t, "carrier": "ups",
             "milestone": "in_transit", "occurred_at": "2026-11-03T08:00:00-05:00",
             "location": {"city": "Memphis", "region": "TN", "country": "US"}}
        ]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Delivered, with a store's advisory claim and an unmapped raw carrier code on the way.
pub async fn seed_delivered(app: &TestApp, number: &str) {
    assert_eq!(app.put_order(&order_json(number)).await.status, 201);
    let t = format!("1Z{number}").replace('-', "");
    assert_eq!(app.add_shipment(number, &json!({"carrier": "ups", "tracking_number": t})).await.status, 201);
    let r = app
        .post_events(json!([
            {"source": "channel", "source_event_id": format!("{t}-store"), "order_number": number, "shipment": t,
             "milestone": "handed_to_carrier", "description": "Store marked fulfilled", "occurred_at": "2026-11-02T10:00:00-05:00"},
            carrier_event(&t, &format!("{t}-1"), "label_created", "2026-11-02T09:00:00-05:00"),
            carrier_event(&t, &format!("{t}-2"), "handed_to_carrier", "2026-11-02T16:00:00-05:00"),
            {"source": "carrier", "source_event_id": format!("{t}-3"), "tracking_number": t, "carrier": "ups",
             "code": "ZQ7", "description": "Hub memo 7731 for ops", "occurred_at": "2026-11-03T02:00:00-05:00"},
            carrier_event(&t, &format!("{t}-4"), "delivered", "2026-11-04T13:30:00-05:00")
        ]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// The lookup URL of an order of account `acme` by the e-mail of `order_json`.
pub fn lookup_path(number: &str) -> String {
    format!("/track?account=acme&order_number={number}&email=ana%40example.com")
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts an HTML form (`application/x-www-form-urlencoded`), following the redirect.
pub async fn post_form(app: &TestApp, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect();
    app.client
        .post(format!("{}{}", app.base, path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .expect("form post")
}
