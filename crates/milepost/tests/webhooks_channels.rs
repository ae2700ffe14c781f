//! Shopify order webhooks: orders arrive as orders of channel `shopify`, cancellations as the
//! channel's `cancelled` event, and fulfillments register the parcel with its tracking number
//! and the store's (advisory) claim that it was handed to the carrier.

mod common;

use base64::Engine;
use common::{TestApp, spawn_app};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "shpss_0f1e2d3c4b5a69788796";

fn shopify_signature(body: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(body);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

fn shopify_order() -> Value {
    json!({"id": 6102938475610u64, "name": "#1042", "order_number": 1042, "email": "dana@example.net",
        "created_at": "2026-11-01T09:14:22-05:00", "currency": "USD", "total_price": "58.00",
        "line_items": [{"id": 15001122334455u64, "sku": "MUG-STN-12OZ", "title": "Stoneware Mug", "quantity": 2, "price": "29.00"}],
        "shipping_address": {"name": "Dana Ruiz", "address1": "415 Juniper St", "city": "Boise", "province_code": "ID",
            "zip": "83702", "country_code": "US"}})
}

async fn post(app: &TestApp, id: &str, topic: &str, body: &Value) -> common::Reply {
    let bytes = body.to_string().into_bytes();
    let signature = shopify_signature(&bytes);
    app.post_bytes(
        &format!("/webhooks/channels/{id}"),
        None,
        "application/json",
        &[("X-Shopify-Topic", topic.to_string()), ("X-Shopify-Hmac-Sha256", signature)],
        bytes,
    )
    .await
}

#[tokio::test]
async fn a_shopify_order_webhook_creates_the_order_on_channel_shopify() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;

    let reply = post(&app, &id, "orders/create", &shopify_order()).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["order_number"], "1042");
    let order = app.order("1042").await;
    assert_eq!(order.status, 200);
    assert_eq!(order.body["channel"], "shopify");
    assert_eq!(order.body["items"][0]["sku"], "MUG-STN-12OZ");
    assert_eq!(order.body["status"], "placed");
}

#[tokio::test]
async fn a_fulfillment_registers_the_parcel_and_the_stores_claim_stays_advisory() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;
    assert_eq!(post(&app, &id, "orders/create", &shopify_order()).await.status, 200);
    let fulfillment = json!({"id": 4567890123u64, "order_id": 6102938475610u64, "status": "success",
        "created_at": "2026-11-02T10:00:00-05:00", "tracking_company": "UPS",
        "tracking_numbers": ["1ZA4R7090398765432"], "line_items": [{"id": 15001122334455u64, "sku": "MUG-STN-12OZ", "quantity": 2}]});

    let reply = post(&app, &id, "fulfillments/create", &fulfillment).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["result"], "shipment_registered");
    assert_eq!(reply.body["shipments"], json!(["1ZA4R7090398765432"]));
    let order = app.order("1042").await.body;
    let shipment = &order["shipments"][0];
    assert_eq!(shipment["tracking_number"], "1ZA4R7090398765432");
    assert_eq!(shipment["carrier"], "ups");
    let claim = &shipment["timeline"][0];
    assert_eq!(claim["milestone"], "handed_to_carrier");
    assert_eq!(claim["source"], "channel");
    assert_eq!(claim["advisory"], true);
    assert_eq!(shipment["status"], "pending", "a store's claim does not move status (rule 5)");

    let again = post(&app, &id, "fulfillments/create", &fulfillment).await;
    assert_eq!(again.body["duplicate"], 1);
}

#[tokio::test]
async fn shopifys_shipment_status_is_kept_as_an_advisory_channel_claim() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;
    assert_eq!(post(&app, &id, "orders/create", &shopify_order()).await.status, 200);
    let fulfillment = json!({"id": 4567890123u64, "order_id": 6102938475610u64, "tracking_company": "UPS",
        "tracking_numbers": ["1ZA4R7090398765432"], "line_items": []});
    assert_eq!(post(&app, &id, "fulfillments/create", &fulfillment).await.status, 200);
    let mut update = fulfillment.clone();
    update["shipment_status"] = json!("delivered");

    let reply = post(&app, &id, "fulfillments/update", &update).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["accepted"], 1, "only the new status is new: {}", reply.body);
    let shipment = &app.order("1042").await.body["shipments"][0];
    let status = shipment["timeline"].as_array().unwrap().iter().find(|e| e["code"] == "DELIVERED").unwrap().clone();
    assert_eq!(status["milestone"], "delivered");
    assert_eq!(status["source"], "channel");
    assert_eq!(status["advisory"], true);
    assert_eq!(shipment["status"], "pending", "only the carrier says it was delivered");
}

#[tokio::test]
async fn a_fulfillment_for_an_order_milepost_never_saw_registers_nothing() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;
    let fulfillment = json!({"id": 1, "order_id": 999, "tracking_numbers": ["1ZA4R7090398765432"], "line_items": []});

    let reply = post(&app, &id, "fulfillments/create", &fulfillment).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["result"], "order_unknown");
}

#[tokio::test]
async fn a_cancelled_order_webhook_cancels_the_order() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;
    assert_eq!(post(&app, &id, "orders/create", &shopify_order()).await.status, 200);
    let mut cancelled = shopify_order();
    cancelled["cancelled_at"] = json!("2026-11-01T12:00:00-05:00");
    cancelled["cancel_reason"] = json!("customer");

    let reply = post(&app, &id, "orders/cancelled", &cancelled).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["result"], "cancelled");
    let order = app.order("1042").await.body;
    assert_eq!(order["status"], "cancelled");
    let sources: Vec<&Value> = order["timeline"].as_array().unwrap().iter().map(|e| &e["source"]).collect();
    assert!(sources.iter().all(|s| *s == "channel"), "{sources:?}");
}

#[tokio::test]
async fn a_shopify_webhook_with_a_bad_signature_is_refused() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;
    let reply = app
        .post_bytes(
            &format!("/webhooks/channels/{id}"),
            None,
            "application/json",
            &[("X-Shopify-Topic", "orders/create".into()), ("X-Shopify-Hmac-Sha256", "bm90IGl0".into())],
            shopify_order().to_string().into_bytes(),
        )
        .await;

    assert_eq!(reply.status, 401);
    assert_eq!(app.order("1042").await.status, 404);
}

#[tokio::test]
async fn a_carrier_integration_is_not_a_channel_and_the_reverse() {
    let app = spawn_app().await;
    let carrier = app.create_integration("ups", SECRET).await;
    let shopify = app.create_integration("shopify", SECRET).await;

    assert_eq!(post(&app, &carrier, "orders/create", &shopify_order()).await.status, 404);
    let reply =
        app.post_bytes(&format!("/webhooks/carriers/{shopify}"), None, "application/json", &[], b"{}".to_vec()).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn a_topic_milepost_does_not_read_is_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let id = app.create_integration("shopify", SECRET).await;

    let reply = post(&app, &id, "products/update", &json!({"id": 1})).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["result"], "ignored");
}
