//! Warehouse barcode scans: a barcode may be a tracking number, an order number or a shipment
//! id; pick and pack are the warehouse's own milestones, `ship` is its advisory claim of
//! hand-off, receiving steps are kept without moving outbound status, and an unknown barcode gets
//! a message a scanner screen can show.

mod common;

use common::{TestApp, order_json, spawn_app};
use serde_json::{Value, json};

const TN: &str = "1ZA4R7090398765432";

async fn order_with_parcel(app: &TestApp) -> String {
    assert_eq!(app.put_order(&order_json("SO-1")).await.status, 201);
    let reply = app.add_shipment("SO-1", &json!({"carrier": "ups", "tracking_number": TN})).await;
    reply.body["id"].as_str().unwrap().to_string()
}

async fn scan(app: &TestApp, barcode: &str, step: &str, at: &str) -> common::Reply {
    app.post_json(
        "/api/v1/scans",
        &app.ingest,
        &json!({"barcode": barcode, "step": step, "station": "P2", "operator": "op-17", "scanned_at": at}),
    )
    .await
}

fn parcel(order: &Value) -> &Value {
    &order["shipments"][0]
}

#[tokio::test]
async fn pick_and_pack_scans_by_tracking_number_move_the_parcel() {
    let app = spawn_app().await;
    order_with_parcel(&app).await;

    let picked = scan(&app, TN, "pick", "2026-11-02T09:00:00-05:00").await;
    let packed = scan(&app, &TN.to_lowercase(), "pack", "2026-11-02T09:30:00-05:00").await;

    assert_eq!(picked.status, 200, "{}", picked.body);
    assert_eq!(picked.body["result"], "accepted");
    assert_eq!(picked.body["order_number"], "SO-1");
    assert_eq!(picked.body["tracking_number"], TN);
    assert_eq!(packed.body["milestone"], "packed");
    let order = app.order("SO-1").await.body;
    assert_eq!(parcel(&order)["status"], "packed");
    let entry = &parcel(&order)["timeline"][1];
    assert_eq!(entry["source"], "warehouse");
    assert_eq!(entry["code"], "pack");
    assert!(entry["description"].as_str().unwrap().contains("P2"));
}

#[tokio::test]
async fn a_scan_by_order_number_or_shipment_id_finds_the_same_parcel() {
    let app = spawn_app().await;
    let shipment_id = order_with_parcel(&app).await;

    assert_eq!(scan(&app, "SO-1", "pick", "2026-11-02T09:00:00-05:00").await.status, 200);
    let by_id = scan(&app, &shipment_id, "pack", "2026-11-02T09:30:00-05:00").await;

    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body["tracking_number"], TN);
    assert_eq!(parcel(&app.order("SO-1").await.body)["status"], "packed");
}

#[tokio::test]
async fn a_ship_scan_is_the_warehouses_advisory_claim() {
    let app = spawn_app().await;
    order_with_parcel(&app).await;
    scan(&app, TN, "pack", "2026-11-02T09:30:00-05:00").await;

    let reply = scan(&app, TN, "ship", "2026-11-02T16:00:00-05:00").await;

    assert_eq!(reply.body["milestone"], "handed_to_carrier");
    let order = app.order("SO-1").await.body;
    assert_eq!(parcel(&order)["status"], "packed", "only the carrier's scan moves it past packed (rule 5)");
    let claim = parcel(&order)["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(claim["milestone"], "handed_to_carrier");
    assert_eq!(claim["advisory"], true);
}

#[tokio::test]
async fn a_receiving_scan_is_kept_without_moving_outbound_status() {
    let app = spawn_app().await;
    order_with_parcel(&app).await;
    scan(&app, TN, "pack", "2026-11-02T09:30:00-05:00").await;

    let reply = scan(&app, TN, "return_receive", "2026-11-20T10:00:00-05:00").await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["milestone"], Value::Null);
    let order = app.order("SO-1").await.body;
    assert_eq!(parcel(&order)["status"], "packed");
    assert!(parcel(&order)["timeline"].as_array().unwrap().iter().any(|e| e["code"] == "return_receive"));
}

#[tokio::test]
async fn the_same_scan_sent_twice_is_a_duplicate() {
    let app = spawn_app().await;
    order_with_parcel(&app).await;
    scan(&app, TN, "pick", "2026-11-02T09:00:00-05:00").await;

    let again = scan(&app, TN, "pick", "2026-11-02T09:00:00-05:00").await;

    assert_eq!(again.body["result"], "duplicate");
}

#[tokio::test]
async fn an_unknown_barcode_gets_a_message_for_the_scanner_screen() {
    let app = spawn_app().await;
    order_with_parcel(&app).await;

    let reply = scan(&app, "NOPE-123", "pick", "2026-11-02T09:00:00-05:00").await;

    assert_eq!(reply.status, 422);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["detail"], "barcode NOPE-123 matches no order, shipment or tracking number");
    assert_eq!(reply.body["errors"][0]["field"], "barcode");
}

#[tokio::test]
async fn a_bad_step_or_time_is_named() {
    let app = spawn_app().await;
    order_with_parcel(&app).await;

    let reply = app
        .post_json("/api/v1/scans", &app.ingest, &json!({"barcode": TN, "step": "juggle", "scanned_at": "yesterday"}))
        .await;

    assert_eq!(reply.status, 422);
    let fields: Vec<&str> =
        reply.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["step", "scanned_at"]);
}
