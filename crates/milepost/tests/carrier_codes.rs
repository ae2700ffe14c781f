//! The unmapped-code queue (rule 6): raw codes nobody has mapped are listed for staff; an admin's
//! mapping re-normalizes the stored events that carry the code, moves the statuses they change,
//! and applies to everything ingested afterwards.

mod common;

use common::{TestApp, order_json, spawn_app};
use serde_json::{Value, json};

const TN: &str = "1ZA4R7090398765432";

async fn parcel_with_an_unmapped_code(app: &TestApp) {
    assert_eq!(app.put_order(&order_json("SO-1")).await.status, 201);
    assert_eq!(app.add_shipment("SO-1", &json!({"carrier": "ups", "tracking_number": TN})).await.status, 201);
    let reply = app
        .post_events(json!([
            {"source": "carrier", "source_event_id": "e1", "tracking_number": TN, "carrier": "ups", "code": "OR",
             "description": "Origin Scan", "occurred_at": "2026-11-02T09:00:00-05:00"},
            {"source": "carrier", "source_event_id": "e2", "tracking_number": TN, "carrier": "ups", "code": "ZX9",
             "description": "Held at hub pending broker documents", "occurred_at": "2026-11-03T09:00:00-05:00"}
        ]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn status(order: &Value) -> String {
    order["shipments"][0]["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn staff_see_each_unmapped_code_with_its_count_and_an_example() {
    let app = spawn_app().await;
    parcel_with_an_unmapped_code(&app).await;

    let reply = app.get("/api/v1/carrier-codes/unmapped", &app.support).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let codes = reply.body["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0]["carrier"], "ups");
    assert_eq!(codes[0]["code"], "ZX9");
    assert_eq!(codes[0]["count"], 1);
    assert_eq!(codes[0]["example_description"], "Held at hub pending broker documents");
    assert!(codes[0]["first_seen"].as_str().is_some() && codes[0]["last_seen"].as_str().is_some());

    let other = app.get("/api/v1/carrier-codes/unmapped", &app.other_admin).await;
    assert_eq!(other.body["codes"], json!([]), "another account sees none of it");
}

#[tokio::test]
async fn a_mapping_added_through_the_api_moves_the_affected_shipment() {
    let app = spawn_app().await;
    parcel_with_an_unmapped_code(&app).await;
    assert_eq!(status(&app.order("SO-1").await.body), "handed_to_carrier");

    let reply = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/carrier-codes/ups/ZX9",
            Some(&app.admin),
            Some(json!({"milestone": "exception"}).to_string()),
        )
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["renormalized"]["events"], 1);
    assert_eq!(reply.body["renormalized"]["shipments"], 1);
    let order = app.order("SO-1").await.body;
    assert_eq!(status(&order), "exception");
    let held = order["shipments"][0]["timeline"].as_array().unwrap().iter().find(|e| e["code"] == "ZX9").unwrap();
    assert_eq!(held["milestone"], "exception");
    assert_eq!(app.get("/api/v1/carrier-codes/unmapped", &app.support).await.body["codes"], json!([]));
}

#[tokio::test]
async fn later_events_with_the_code_use_the_accounts_mapping() {
    let app = spawn_app().await;
    parcel_with_an_unmapped_code(&app).await;
    let put = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/carrier-codes/ups/ZX9",
            Some(&app.admin),
            Some(json!({"milestone": "in_transit"}).to_string()),
        )
        .await;
    assert_eq!(put.status, 200);

    let reply = app
        .post_events(json!([{"source": "carrier", "source_event_id": "e3", "tracking_number": TN, "carrier": "ups",
            "code": "ZX9", "occurred_at": "2026-11-04T09:00:00-05:00"}]))
        .await;

    assert_eq!(reply.body["results"][0]["result"], "accepted");
    let order = app.order("SO-1").await.body;
    let latest = order["shipments"][0]["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(latest["milestone"], "in_transit");
}

#[tokio::test]
async fn a_null_milestone_marks_the_code_informational() {
    let app = spawn_app().await;
    parcel_with_an_unmapped_code(&app).await;

    let reply = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/carrier-codes/ups/ZX9",
            Some(&app.admin),
            Some(r#"{"milestone":null}"#.into()),
        )
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["milestone"], Value::Null);
    let order = app.order("SO-1").await.body;
    assert_eq!(status(&order), "handed_to_carrier");
    let held = order["shipments"][0]["timeline"].as_array().unwrap().iter().find(|e| e["code"] == "ZX9").unwrap();
    assert_eq!(held["milestone"], Value::Null);
    assert_eq!(app.get("/api/v1/carrier-codes/unmapped", &app.support).await.body["codes"], json!([]));
}

#[tokio::test]
async fn only_an_admin_maps_codes_and_the_milestone_is_checked() {
    let app = spawn_app().await;
    let put = |key: String, body: &'static str| {
        let app = &app;
        async move { app.send(reqwest::Method::PUT, "/api/v1/carrier-codes/ups/ZX9", Some(&key), Some(body.into())).await }
    };

    assert_eq!(put(app.support.clone(), r#"{"milestone":"in_transit"}"#).await.status, 403);
    let bad = put(app.admin.clone(), r#"{"milestone":"teleported"}"#).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["field"], "milestone");
    let missing = put(app.admin.clone(), r#"{}"#).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["errors"][0]["field"], "milestone");
    let unknown = put(app.admin.clone(), r#"{"milestone":"in_transit","note":"x"}"#).await;
    assert_eq!(unknown.status, 400);
}
