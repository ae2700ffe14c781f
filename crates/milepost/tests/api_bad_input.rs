//! Bad input of every kind gets a 4xx problem document naming the field, never a 500, and the
//! server keeps serving.

mod common;

use common::{carrier_event, order_json, spawn_app};
use reqwest::Method;
use serde_json::json;

fn assert_problem(reply: &common::Reply, status: u16) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert!(reply.content_type.starts_with("application/problem+json"), "{}", reply.content_type);
    for field in ["type", "title", "status", "detail"] {
        assert!(!reply.body[field].is_null(), "problem body lacks {field}: {:?}", reply.body);
    }
}

fn first_field(reply: &common::Reply) -> String {
    reply.body["errors"][0]["field"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400_naming_the_field() {
    let app = spawn_app().await;
    let r = app.send(Method::POST, "/api/v1/orders", Some(&app.ingest), Some("{\"order_number\": ".into())).await;
    assert_problem(&r, 400);
    let mut order = order_json("B-1");
    order["items"][1]["quantity"] = json!("two");
    let r = app.put_order(&order).await;
    assert_problem(&r, 400);
    assert_eq!(first_field(&r), "items[1].quantity");
    let mut order = order_json("B-1");
    order["items"][0]["quantity"] = json!(99999999999999999999u128.to_string().parse::<f64>().unwrap());
    assert_problem(&app.put_order(&order).await, 400);
}

#[tokio::test]
async fn unknown_and_missing_fields_are_named() {
    let app = spawn_app().await;
    let mut order = order_json("B-2");
    order["customer"]["nickname"] = json!("Annie");
    let r = app.put_order(&order).await;
    assert_problem(&r, 400);
    assert_eq!(first_field(&r), "customer.nickname");
    let mut order = order_json("B-2");
    order.as_object_mut().unwrap().remove("placed_at");
    let r = app.put_order(&order).await;
    assert_problem(&r, 400);
    assert_eq!(first_field(&r), "placed_at");
}

#[tokio::test]
async fn invalid_values_are_422_with_every_bad_field_listed() {
    let app = spawn_app().await;
    let mut order = order_json("B-3");
    order["placed_at"] = json!("yesterday");
    order["currency"] = json!("dollars");
    order["customer"]["email"] = json!("not-an-email");
    order["items"][0]["unit_price"] = json!("1e3");
    let r = app.put_order(&order).await;
    assert_problem(&r, 422);
    let fields: Vec<_> =
        r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    for expected in ["placed_at", "currency", "customer.email", "items[0].unit_price"] {
        assert!(fields.contains(&expected.to_string()), "{expected} missing from {fields:?}");
    }
}

#[tokio::test]
async fn bad_events_are_rejected_item_by_item_and_a_batch_of_only_bad_events_is_422() {
    let app = spawn_app().await;
    app.put_order(&order_json("B-4")).await;
    app.add_shipment("B-4", &json!({"tracking_number": "1ZBAD00004"})).await;
    let r = app
        .post_events(json!([
            carrier_event("1ZBAD00004", "ok", "in_transit", "2026-11-02T10:00:00Z"),
            carrier_event("1ZBAD00004", "bad-time", "in_transit", "2026-13-45T99:00:00Z"),
            carrier_event("1ZBAD00004", "bad-milestone", "teleported", "2026-11-02T10:00:00Z"),
            {"source": "carrier", "order_number": "NOPE", "milestone": "in_transit", "occurred_at": "2026-11-02T10:00:00Z"},
            {"source": "carrier", "tracking_number": "1ZBAD00004", "milestone": "in_transit", "occurred_at": "2026-11-02T10:00:00", "extra": 1}
        ]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results[0]["result"], "accepted");
    assert_eq!(results[1]["result"], "rejected");
    assert_eq!(results[1]["field"], "events[1].occurred_at");
    assert_eq!(results[2]["field"], "events[2].milestone");
    assert_eq!(results[3]["field"], "events[3].order_number");
    assert!(results[3]["reason"].as_str().unwrap().contains("unknown order"));
    assert_eq!(results[4]["field"], "events[4].extra");

    let only_bad = app.post_events(json!([carrier_event("1ZBAD00004", "x", "in_transit", "not a time")])).await;
    assert_problem(&only_bad, 422);
    assert_eq!(first_field(&only_bad), "events[0].occurred_at");
    assert_eq!(only_bad.body["results"][0]["result"], "rejected");
    let empty = app.post_events(json!([])).await;
    assert_problem(&empty, 422);
    let too_many: Vec<_> = (0..1001)
        .map(|i| carrier_event("1ZBAD00004", &format!("n{i}"), "in_transit", "2026-11-02T10:00:00Z"))
        .collect();
    let r = app.post_events(json!(too_many)).await;
    assert_problem(&r, 422);
    assert_eq!(first_field(&r), "events");
}

#[tokio::test]
async fn oversize_deeply_nested_and_non_json_bodies_are_refused() {
    let app = spawn_app().await;
    let huge = format!("{{\"events\": [\"{}\"]}}", "x".repeat(5 * 1024 * 1024));
    assert_problem(&app.send(Method::POST, "/api/v1/events", Some(&app.ingest), Some(huge)).await, 413);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_problem(&app.send(Method::POST, "/api/v1/events", Some(&app.ingest), Some(deep)).await, 400);
    let r = app
        .client
        .post(format!("{}/api/v1/orders", app.base))
        .bearer_auth(&app.ingest)
        .header("content-type", "text/plain")
        .body("order please")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let invalid_utf8 = app
        .client
        .post(format!("{}/api/v1/orders", app.base))
        .bearer_auth(&app.ingest)
        .header("content-type", "application/json")
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_utf8.status().as_u16(), 400);
}

#[tokio::test]
async fn unknown_orders_paths_and_methods_are_problems_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    assert_problem(&app.order("NO-SUCH").await, 404);
    assert_problem(&app.get("/api/v1/nothing-here", &app.support).await, 404);
    assert_problem(&app.send(Method::DELETE, "/api/v1/orders", Some(&app.admin), None).await, 405);
    assert_problem(&app.add_shipment("NO-SUCH", &json!({"tracking_number": "1ZNOPE0001"})).await, 404);
    assert_problem(&app.get("/api/v1/orders?limit=0", &app.support).await, 422);
    assert_problem(&app.get("/api/v1/orders?cursor=abc", &app.support).await, 422);
    let health = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused_naming_the_body() {
    let app = common::spawn_app().await;
    // serde would read a one-field struct from `[null]`; the API's bodies are objects.
    let reply = app.post_json("/api/v1/integrations", &app.admin, &serde_json::json!(["generic", "x"])).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "body", "{}", reply.body);
}
