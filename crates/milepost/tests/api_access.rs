//! API keys, roles and tenant isolation: a key never sees or changes another account's data,
//! on any endpoint; read-only keys cannot write; no key, no data.

mod common;

use common::{carrier_event, order_json, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn requests_without_a_valid_key_are_401_with_a_problem_body() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/v1/orders"),
        (Method::GET, "/api/v1/orders/X"),
        (Method::POST, "/api/v1/orders"),
        (Method::POST, "/api/v1/orders/X/shipments"),
        (Method::POST, "/api/v1/events"),
    ] {
        let body = (method == Method::POST).then(|| "{}".to_string());
        let none = app.send(method.clone(), path, None, body.clone()).await;
        assert_eq!(none.status, 401, "{method} {path}: {:?}", none.body);
        let forged = app.send(method.clone(), path, Some("mp_0000000000000000000000000000000x"), body).await;
        assert_eq!(forged.status, 401, "{method} {path}");
        assert_eq!(forged.body["status"], 401);
    }
}

#[tokio::test]
async fn a_support_key_reads_but_cannot_write() {
    let app = spawn_app().await;
    app.put_order(&order_json("A-1")).await;
    assert_eq!(app.get("/api/v1/orders/A-1", &app.support).await.status, 200);
    let write = app.post_json("/api/v1/orders", &app.support, &order_json("A-2")).await;
    assert_eq!(write.status, 403, "{:?}", write.body);
    let events = app.post_json("/api/v1/events", &app.support, &json!({"events": []})).await;
    assert_eq!(events.status, 403);
    assert_eq!(app.post_json("/api/v1/orders", &app.admin, &order_json("A-3")).await.status, 201);
}

#[tokio::test]
async fn another_accounts_key_sees_and_touches_nothing_of_this_account() {
    let app = spawn_app().await;
    app.put_order(&order_json("T-1")).await;
    app.add_shipment("T-1", &json!({"tracking_number": "1ZTENANT001"})).await;
    app.post_events(json!([carrier_event("1ZTENANT001", "t1", "in_transit", "2026-11-02T10:00:00Z")])).await;
    let other = &app.other_admin;

    assert_eq!(app.get("/api/v1/orders/T-1", other).await.status, 404);
    let search = app.get("/api/v1/orders?q=T-1", other).await;
    assert_eq!(search.body["orders"], json!([]));
    let by_tracking = app.get("/api/v1/orders?q=1ZTENANT001", other).await;
    assert_eq!(by_tracking.body["orders"], json!([]));
    let ship = app.post_json("/api/v1/orders/T-1/shipments", other, &json!({"tracking_number": "1ZTENANT002"})).await;
    assert_eq!(ship.status, 404);
    let event = app
        .post_json(
            "/api/v1/events",
            other,
            &json!({"events": [{"source": "carrier", "order_number": "T-1", "milestone": "delivered", "occurred_at": "2026-11-03T10:00:00Z"}]}),
        )
        .await;
    assert_eq!(event.status, 422, "an order of another account is unknown: {:?}", event.body);
    // The other account's event by tracking number is kept in its own account, not ours.
    let foreign = app
        .post_json(
            "/api/v1/events",
            other,
            &json!({"events": [carrier_event("1ZTENANT001", "f1", "delivered", "2026-11-03T10:00:00Z")]}),
        )
        .await;
    assert_eq!(foreign.status, 200);
    // The same order number in the other account is a different order.
    assert_eq!(app.post_json("/api/v1/orders", other, &order_json("T-1")).await.status, 201);

    let ours = app.order("T-1").await.body;
    assert_eq!(ours["shipments"][0]["status"], "in_transit", "the other account's events changed nothing here");
    assert_eq!(ours["shipments"][0]["timeline"].as_array().unwrap().len(), 1);
    assert_eq!(ours["shipments"].as_array().unwrap().len(), 1);
}
