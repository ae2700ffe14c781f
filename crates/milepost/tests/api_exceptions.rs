//! Exceptions end to end: rules open them on ingest or when the sweeper finds time has passed
//! (driven one step at a time with a fixed clock), they close by themselves when the cause
//! clears, and staff acknowledge, assign and resolve them, each action recorded.

mod common;

use chrono::Duration;
use common::{TestApp, carrier_event, spawn_app, test_start};
use serde_json::{Value, json};

async fn order_with_parcel(app: &TestApp, number: &str, tracking: &str) {
    let mut order = common::order_json(number);
    order["placed_at"] = json!("2026-11-09T10:00:00Z");
    order["promised_by"] = json!("2026-11-20");
    assert_eq!(app.put_order(&order).await.status, 201);
    let r = app.add_shipment(number, &json!({"carrier": "ups", "tracking_number": tracking})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

async fn queue(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/exceptions?{query}"), &app.support).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["exceptions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_store_claim_without_carrier_possession_opens_handoff_mismatch_after_the_grace_and_a_scan_closes_it() {
    let app = spawn_app().await;
    order_with_parcel(&app, "X-1", "1ZEXCEPT01").await;
    let claim = json!({"source": "channel", "source_event_id": "shop-1", "order_number": "X-1",
        "shipment": "1ZEXCEPT01", "milestone": "handed_to_carrier", "occurred_at": "2026-11-10T11:00:00Z"});
    let label = carrier_event("1ZEXCEPT01", "l1", "label_created", "2026-11-10T10:00:00Z");
    assert_eq!(app.post_events(json!([label, claim])).await.status, 200);

    app.clock.set(test_start() + Duration::hours(20));
    app.milepost.sweep().await.unwrap();
    assert!(queue(&app, "kind=handoff_mismatch").await.is_empty(), "still inside the grace period");

    app.clock.set(test_start() + Duration::hours(25));
    let report = app.milepost.sweep().await.unwrap();
    assert_eq!(report.opened, 1, "{report:?}");
    let open = queue(&app, "kind=handoff_mismatch&state=open").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["order_number"], "X-1");
    assert_eq!(open[0]["tracking_number"], "1ZEXCEPT01");
    assert_eq!(open[0]["severity"], "medium");
    app.milepost.sweep().await.unwrap();
    assert_eq!(queue(&app, "kind=handoff_mismatch").await.len(), 1, "opens once per cause");

    let order = app.order("X-1").await.body;
    assert_eq!(order["exceptions"][0]["kind"], "handoff_mismatch");

    let scan = carrier_event("1ZEXCEPT01", "p1", "handed_to_carrier", "2026-11-11T14:00:00Z");
    assert_eq!(app.post_events(json!([scan])).await.status, 200);
    let closed = queue(&app, "kind=handoff_mismatch").await;
    assert_eq!(closed[0]["state"], "resolved");
    assert_eq!(closed[0]["resolved_by"], "system");
    assert!(!closed[0]["closed_at"].is_null());
}

#[tokio::test]
async fn a_failed_attempt_opens_at_once_and_staff_acknowledge_assign_and_resolve_it() {
    let app = spawn_app().await;
    order_with_parcel(&app, "X-2", "1ZEXCEPT02").await;
    let events = json!([
        carrier_event("1ZEXCEPT02", "a", "handed_to_carrier", "2026-11-09T18:00:00Z"),
        carrier_event("1ZEXCEPT02", "b", "out_for_delivery", "2026-11-10T08:00:00Z"),
        carrier_event("1ZEXCEPT02", "c", "delivery_attempted", "2026-11-10T11:00:00Z"),
    ]);
    assert_eq!(app.post_events(events).await.status, 200);
    let failed = queue(&app, "kind=delivery_failed").await;
    assert_eq!(failed.len(), 1, "opened by the ingest itself, no sweep needed");
    assert_eq!(failed[0]["severity"], "high");
    let id = failed[0]["id"].as_str().unwrap().to_string();

    let by_support = app.post_json(&format!("/api/v1/exceptions/{id}/acknowledge"), &app.support, &json!({})).await;
    assert_eq!(by_support.status, 403, "support is read-only");
    let by_other = app.post_json(&format!("/api/v1/exceptions/{id}/acknowledge"), &app.other_admin, &json!({})).await;
    assert_eq!(by_other.status, 404, "another account cannot see it");
    assert!(app.get("/api/v1/exceptions", &app.other_admin).await.body["exceptions"].as_array().unwrap().is_empty());

    let ack =
        app.send(reqwest::Method::POST, &format!("/api/v1/exceptions/{id}/acknowledge"), Some(&app.admin), None).await;
    assert_eq!(ack.status, 200, "{:?}", ack.body);
    assert_eq!(ack.body["state"], "acknowledged");
    assert!(ack.body["acknowledged_by"].as_str().unwrap().starts_with("key:mp_"));
    let twice =
        app.send(reqwest::Method::POST, &format!("/api/v1/exceptions/{id}/acknowledge"), Some(&app.admin), None).await;
    assert_eq!(twice.status, 409);

    let assigned =
        app.post_json(&format!("/api/v1/exceptions/{id}/assign"), &app.admin, &json!({"owner": "carrier-desk"})).await;
    assert_eq!(assigned.body["owner"], "carrier-desk");
    assert_eq!(queue(&app, "owner=carrier-desk").await.len(), 1);
    let empty_note =
        app.post_json(&format!("/api/v1/exceptions/{id}/resolve"), &app.admin, &json!({"note": "  "})).await;
    assert_eq!(empty_note.status, 422);
    assert_eq!(empty_note.body["errors"][0]["field"], "note");
    let resolved = app
        .post_json(
            &format!("/api/v1/exceptions/{id}/resolve"),
            &app.admin,
            &json!({"note": "Called the customer; redelivery booked"}),
        )
        .await;
    assert_eq!(resolved.status, 200);
    assert_eq!(resolved.body["state"], "resolved");
    assert_eq!(resolved.body["note"], "Called the customer; redelivery booked");
    assert!(resolved.body["resolved_by"].as_str().unwrap().starts_with("key:"));
    let again = app.post_json(&format!("/api/v1/exceptions/{id}/resolve"), &app.admin, &json!({"note": "x"})).await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn a_parcel_that_stops_moving_stalls_and_goes_late_and_delivery_closes_both() {
    let app = spawn_app().await;
    order_with_parcel(&app, "X-3", "1ZEXCEPT03").await;
    let events = json!([
        {"source": "warehouse", "source_event_id": "w1", "order_number": "X-3", "milestone": "packed", "occurred_at": "2026-11-09T12:00:00Z"},
        carrier_event("1ZEXCEPT03", "a", "handed_to_carrier", "2026-11-09T18:00:00Z"),
        carrier_event("1ZEXCEPT03", "b", "in_transit", "2026-11-10T06:00:00Z"),
    ]);
    assert_eq!(app.post_events(events).await.status, 200);
    assert!(queue(&app, "").await.is_empty(), "the happy path opens nothing");

    app.clock.set(test_start() + Duration::days(4));
    app.milepost.sweep().await.unwrap();
    let kinds: Vec<_> = queue(&app, "state=open").await.iter().map(|e| e["kind"].clone()).collect();
    assert_eq!(kinds, vec![json!("stalled")]);

    app.clock.set(test_start() + Duration::days(11));
    app.milepost.sweep().await.unwrap();
    let mut kinds: Vec<_> =
        queue(&app, "state=open").await.iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["late", "stalled"]);

    let delivered = carrier_event("1ZEXCEPT03", "d", "delivered", "2026-11-21T10:00:00Z");
    assert_eq!(app.post_events(json!([delivered])).await.status, 200);
    assert!(queue(&app, "state=open").await.is_empty(), "a delivery ends the stall and the lateness");
}

#[tokio::test]
async fn bad_queue_filters_are_422_naming_the_field() {
    let app = spawn_app().await;
    for (query, field) in
        [("state=closed", "state"), ("kind=teleported", "kind"), ("limit=500", "limit"), ("cursor=x", "cursor")]
    {
        let r = app.get(&format!("/api/v1/exceptions?{query}"), &app.support).await;
        assert_eq!(r.status, 422, "{query}");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    let r = app.send(reqwest::Method::POST, "/api/v1/exceptions/999/acknowledge", Some(&app.admin), None).await;
    assert_eq!(r.status, 404);
}
