//! Orders and shipments through the HTTP API: create, update, read back, search, split.

mod common;

use common::{order_json, spawn_app};
use serde_json::json;

#[tokio::test]
async fn an_order_is_created_then_updated_idempotently_on_its_number() {
    let app = spawn_app().await;
    let created = app.put_order(&order_json("SO-1")).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["result"], "created");
    let mut changed = order_json("SO-1");
    changed["items"][0]["quantity"] = json!(3);
    let updated = app.put_order(&changed).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["result"], "updated");

    let read = app.order("SO-1").await;
    assert_eq!(read.status, 200);
    let o = &read.body;
    assert_eq!(o["order_number"], "SO-1");
    assert_eq!(o["channel"], "shopify");
    assert_eq!(o["items"][0]["quantity"], 3);
    assert_eq!(o["value"], "83.00");
    assert_eq!(o["status"], "placed");
    assert_eq!(o["promised_by"], "2026-11-06T23:59:59-05:00");
    assert_eq!(o["customer"]["email"], "ana@example.com");
    assert_eq!(o["timeline"][0]["milestone"], "placed");
    assert_eq!(o["timeline"].as_array().unwrap().len(), 1);
    for field in ["shipments", "exceptions", "returns", "notifications"] {
        assert!(o[field].is_array(), "{field} is part of the contract");
    }
}

#[tokio::test]
async fn a_split_order_rolls_up_per_shipment_and_per_item() {
    let app = spawn_app().await;
    app.put_order(&order_json("SO-2")).await;
    let first = app
        .add_shipment(
            "SO-2",
            &json!({"carrier": "ups", "tracking_number": "1ZSPLIT0001", "items": [{"sku": "MUG", "quantity": 2}]}),
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["status"], "pending");
    let second = app.add_shipment("SO-2", &json!({"carrier": "fedex", "tracking_number": "123456789012"})).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body["items"], json!([{"sku": "TEE", "quantity": 1}]), "the rest of the order");
    let too_many = app
        .add_shipment("SO-2", &json!({"tracking_number": "1ZSPLIT0003", "items": [{"sku": "MUG", "quantity": 1}]}))
        .await;
    assert_eq!(too_many.status, 422);
    assert_eq!(too_many.body["errors"][0]["field"], "items");

    let delivered = common::carrier_event("1ZSPLIT0001", "d1", "delivered", "2026-11-03T15:00:00Z");
    let r = app.post_events(json!([delivered])).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let o = app.order("SO-2").await.body;
    assert_eq!(o["status"], "partially_delivered");
    let items = o["item_status"].as_array().unwrap();
    let mug = items.iter().find(|i| i["sku"] == "MUG").unwrap();
    assert_eq!(mug["status"], "delivered");
    let tee = items.iter().find(|i| i["sku"] == "TEE").unwrap();
    assert_eq!(tee["status"], "in_fulfillment");
}

#[tokio::test]
async fn a_shipment_without_carrier_gets_the_detected_one_and_a_tracking_link() {
    let app = spawn_app().await;
    app.put_order(&order_json("SO-3")).await;
    let r = app.add_shipment("SO-3", &json!({"tracking_number": "1Z999AA10123456784"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["carrier"], "ups");
    assert!(r.body["tracking_url"].as_str().unwrap().contains("ups.com"));
    let again = app.add_shipment("SO-3", &json!({"tracking_number": "1Z999AA10123456784"})).await;
    assert_eq!(again.status, 201, "registering the same parcel twice is idempotent");
    assert_eq!(again.body["id"], r.body["id"]);
    app.put_order(&order_json("SO-4")).await;
    let elsewhere = app.add_shipment("SO-4", &json!({"tracking_number": "1Z999AA10123456784"})).await;
    assert_eq!(elsewhere.status, 409);
}

#[tokio::test]
async fn search_filters_by_status_and_text_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.put_order(&order_json(&format!("P-{i}"))).await;
    }
    app.add_shipment("P-2", &json!({"tracking_number": "1ZSEARCH0002"})).await;
    app.post_events(json!([common::carrier_event("1ZSEARCH0002", "s", "in_transit", "2026-11-02T10:00:00Z")])).await;

    let page = app.get("/api/v1/orders?limit=2", &app.support).await;
    assert_eq!(page.status, 200);
    let numbers: Vec<_> = page.body["orders"].as_array().unwrap().iter().map(|o| o["order_number"].clone()).collect();
    assert_eq!(numbers, vec![json!("P-4"), json!("P-3")]);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    let next = app.get(&format!("/api/v1/orders?limit=2&cursor={cursor}"), &app.support).await;
    assert_eq!(next.body["orders"][0]["order_number"], "P-2");

    let shipped = app.get("/api/v1/orders?status=shipped", &app.support).await;
    assert_eq!(shipped.body["orders"].as_array().unwrap().len(), 1);
    assert_eq!(shipped.body["orders"][0]["order_number"], "P-2");
    let by_tracking = app.get("/api/v1/orders?q=1zsearch0002", &app.support).await;
    assert_eq!(by_tracking.body["orders"][0]["order_number"], "P-2");
    let bad = app.get("/api/v1/orders?status=teleported", &app.support).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["field"], "status");
}
