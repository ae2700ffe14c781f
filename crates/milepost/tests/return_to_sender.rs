//! Failed delivery and return to sender from outside (issue 7, part 5): the carrier turning a
//! parcel back shows on the order and opens `return_in_motion`; once the parcel is back (the
//! warehouse scans it in, or the carrier says `returned_to_sender`) a `returned_to_sender`
//! exception asks staff to decide, and each decision (reship, refund, cancel) lands on the
//! timeline, closes the task and does what it says; a second or early decision is 409 with the
//! reason, bad input is 422 naming the field. Claims show on the order view.

mod common;
mod ops_support;

use common::{TestApp, carrier_event, order_json, spawn_app};
use ops_support::{ADMIN, SUPPORT, Staff, staff};
use serde_json::{Value, json};

async fn decide(app: &TestApp, order: &str, tracking: &str, body: Value) -> common::Reply {
    app.post_json(&format!("/api/v1/orders/{order}/shipments/{tracking}/decision"), &app.admin, &body).await
}

/// An order with one parcel (all its items) that the carrier turned back after a failed attempt.
async fn seed_returning(app: &TestApp, order: &str, tracking: &str) {
    assert_eq!(app.put_order(&order_json(order)).await.status, 201);
    let parcel = app.add_shipment(order, &json!({"carrier": "ups", "tracking_number": tracking})).await;
    assert_eq!(parcel.status, 201, "{}", parcel.body);
    let events = json!([
        carrier_event(tracking, &format!("{tracking}-1"), "handed_to_carrier", "2026-11-02T09:00:00Z"),
        carrier_event(tracking, &format!("{tracking}-2"), "delivery_attempted", "2026-11-04T15:00:00Z"),
        carrier_event(tracking, &format!("{tracking}-3"), "returning_to_sender", "2026-11-06T08:00:00Z"),
    ]);
    assert_eq!(app.post_events(events).await.status, 200);
}

async fn scan_in(app: &TestApp, barcode: &str, step: &str) {
    let scan = app
        .post_json(
            "/api/v1/scans",
            &app.ingest,
            &json!({"barcode": barcode, "step": step, "station": "DOCK-2", "scanned_at": "2026-11-08T10:00:00Z"}),
        )
        .await;
    assert_eq!(scan.status, 200, "{}", scan.body);
}

/// The exceptions of an order as (kind, state) pairs.
async fn exceptions_of(app: &TestApp, order: &str) -> Vec<(String, String)> {
    let listed = app.get(&format!("/api/v1/exceptions?order_number={order}"), &app.support).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let mut found: Vec<(String, String)> = listed.body["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["state"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    found
}

fn has(found: &[(String, String)], kind: &str, state: &str) -> bool {
    found.iter().any(|(k, s)| k == kind && s == state)
}

/// The codes (or milestones) of a parcel's timeline, in `occurred_at` order.
fn steps(shipment: &Value) -> Vec<String> {
    shipment["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["milestone"].as_str().or(e["code"].as_str()).unwrap_or("?").to_string())
        .collect()
}

#[tokio::test]
async fn a_parcel_turned_back_is_on_the_order_and_a_warehouse_scan_asks_for_a_decision_that_reship_answers() {
    let app = spawn_app().await;
    seed_returning(&app, "RTS-1", "1ZRTS00001").await;

    let order = app.order("RTS-1").await;
    assert_eq!(order.body["status"], "returning_to_sender", "{}", order.body);
    assert_eq!(order.body["item_status"][0]["shipped"], 0, "the items no longer travel to the customer");
    let found = exceptions_of(&app, "RTS-1").await;
    assert!(has(&found, "return_in_motion", "open"), "{found:?}");
    assert!(!found.iter().any(|(k, _)| k == "returned_to_sender"), "not back yet: {found:?}");

    let early = decide(&app, "RTS-1", "1ZRTS00001", json!({"decision": "refund"})).await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert!(early.body["detail"].as_str().unwrap().contains("not back with the sender"), "{}", early.body);

    // The warehouse scans the parcel in: the decision task opens, the motion is over.
    scan_in(&app, "1ZRTS00001", "receive").await;
    let found = exceptions_of(&app, "RTS-1").await;
    assert!(has(&found, "returned_to_sender", "open"), "{found:?}");
    assert!(!has(&found, "return_in_motion", "open"), "{found:?}");

    // Bad input names the field; nothing is decided by it.
    let unknown = decide(&app, "RTS-1", "1ZRTS00001", json!({"decision": "burn"})).await;
    assert_eq!((unknown.status, unknown.body["errors"][0]["field"].as_str()), (422, Some("decision")));
    let no_parcel = decide(&app, "RTS-1", "1ZRTS00001", json!({"decision": "reship"})).await;
    assert_eq!((no_parcel.status, no_parcel.body["errors"][0]["field"].as_str()), (422, Some("shipment")));
    let refund_with_parcel =
        decide(&app, "RTS-1", "1ZRTS00001", json!({"decision": "refund", "shipment": {"tracking_number": "1ZX1"}}))
            .await;
    assert_eq!(refund_with_parcel.status, 422);
    let items_given = decide(
        &app,
        "RTS-1",
        "1ZRTS00001",
        json!({"decision": "reship", "shipment": {"tracking_number": "1ZRTS00002", "items": [{"sku": "MUG", "quantity": 1}]}}),
    )
    .await;
    assert_eq!(items_given.body["errors"][0]["field"], "shipment.items", "{}", items_given.body);
    let unknown_parcel = decide(&app, "RTS-1", "1ZNOSUCH01", json!({"decision": "cancel"})).await;
    assert_eq!(unknown_parcel.status, 404);

    let reship = decide(
        &app,
        "RTS-1",
        "1ZRTS00001",
        json!({"decision": "reship", "note": "address confirmed by phone",
               "shipment": {"carrier": "ups", "service": "ground", "tracking_number": "1ZRTS00002"}}),
    )
    .await;
    assert_eq!(reship.status, 200, "{}", reship.body);
    assert_eq!(reship.body["decision"], "reship");
    assert_eq!(reship.body["order_status"], "in_fulfillment");
    assert_eq!(reship.body["reshipment"]["tracking_number"], "1ZRTS00002");
    assert_eq!(reship.body["reshipment"]["direction"], "outbound");

    let again = decide(&app, "RTS-1", "1ZRTS00001", json!({"decision": "cancel"})).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains("already decided: `reship`"), "{}", again.body);

    let order = app.order("RTS-1").await;
    let shipments = order.body["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 2);
    let back = shipments.iter().find(|s| s["tracking_number"] == "1ZRTS00001").unwrap();
    let new = shipments.iter().find(|s| s["tracking_number"] == "1ZRTS00002").unwrap();
    assert_eq!(new["items"], back["items"], "the same items go out again");
    assert_eq!(
        steps(back),
        ["handed_to_carrier", "delivery_attempted", "returning_to_sender", "receive", "rts_decision_reship"]
    );
    let decision = back["timeline"].as_array().unwrap().last().unwrap();
    assert_eq!(decision["source"], "staff");
    assert!(decision["description"].as_str().unwrap().contains("address confirmed by phone"));
    let found = exceptions_of(&app, "RTS-1").await;
    assert!(has(&found, "returned_to_sender", "resolved"), "the decision closes the task: {found:?}");
    assert_eq!(order.body["claims"], json!([]), "claims are part of the order view");

    // The new parcel moves the order on as usual.
    let moving =
        app.post_events(json!([carrier_event("1ZRTS00002", "n-1", "in_transit", "2026-11-10T11:00:00Z")])).await;
    assert_eq!(moving.status, 200);
    assert_eq!(app.order("RTS-1").await.body["status"], "shipped");
}

#[tokio::test]
async fn the_carriers_returned_to_sender_asks_for_a_decision_and_a_refund_tells_the_customer_and_the_merchant() {
    let app = spawn_app().await;
    let settings = json!({"webhook_url": "http://127.0.0.1:9/hooks", "webhook_secret": "whsec_rts_0123456789"});
    let reply = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    seed_returning(&app, "RTS-2", "1ZRTS00003").await;
    let returned =
        app.post_events(json!([carrier_event("1ZRTS00003", "b-1", "returned_to_sender", "2026-11-09T08:00:00Z")]));
    assert_eq!(returned.await.status, 200);
    assert_eq!(app.order("RTS-2").await.body["status"], "returned_to_sender");
    assert!(has(&exceptions_of(&app, "RTS-2").await, "returned_to_sender", "open"));

    let refund = decide(&app, "RTS-2", "1ZRTS00003", json!({"decision": "refund", "note": "customer moved"})).await;
    assert_eq!(refund.status, 200, "{}", refund.body);
    assert_eq!(refund.body["reshipment"], Value::Null);

    let order = app.order("RTS-2").await;
    let messages = order.body["notifications"].as_array().unwrap();
    let refunded: Vec<(&str, &str)> = messages
        .iter()
        .filter(|n| n["milestone"] == "undelivered_refunded")
        .map(|n| (n["audience"].as_str().unwrap(), n["channel"].as_str().unwrap()))
        .collect();
    assert!(refunded.contains(&("customer", "email")), "{messages:#?}");
    assert!(refunded.contains(&("internal", "webhook")), "the merchant's system hears of it: {messages:#?}");
    let back = &order.body["shipments"][0];
    assert_eq!(
        steps(back),
        ["handed_to_carrier", "delivery_attempted", "returning_to_sender", "returned_to_sender", "rts_decision_refund"]
    );
    assert!(has(&exceptions_of(&app, "RTS-2").await, "returned_to_sender", "resolved"));
    let twice = decide(&app, "RTS-2", "1ZRTS00003", json!({"decision": "refund"})).await;
    assert_eq!(twice.status, 409);
}

#[tokio::test]
async fn cancel_after_the_parcel_came_back_cancels_what_was_not_delivered() {
    let app = spawn_app().await;
    seed_returning(&app, "RTS-3", "1ZRTS00004").await;
    scan_in(&app, "1ZRTS00004", "return_receive").await;
    assert_eq!(app.order("RTS-3").await.body["status"], "returning_to_sender");
    let cancel = decide(&app, "RTS-3", "1ZRTS00004", json!({"decision": "cancel", "note": "out of stock"})).await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(cancel.body["order_status"], "cancelled");
    let order = app.order("RTS-3").await;
    let lines: Vec<&str> =
        order.body["item_status"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(lines, ["cancelled", "cancelled"]);
    let own: Vec<&str> =
        order.body["timeline"].as_array().unwrap().iter().filter_map(|e| e["milestone"].as_str()).collect();
    assert!(own.contains(&"cancelled"), "the order's own timeline shows the cancellation: {own:?}");
    assert_eq!(steps(&order.body["shipments"][0]).last().unwrap(), "rts_decision_cancel");
}

#[tokio::test]
async fn a_delivered_parcel_or_a_return_parcel_gets_no_sender_decision() {
    let app = spawn_app().await;
    assert_eq!(app.put_order(&order_json("RTS-4")).await.status, 201);
    assert_eq!(
        app.add_shipment("RTS-4", &json!({"carrier": "ups", "tracking_number": "1ZRTS00005"})).await.status,
        201
    );
    let events = json!([
        carrier_event("1ZRTS00005", "d-1", "handed_to_carrier", "2026-11-02T09:00:00Z"),
        carrier_event("1ZRTS00005", "d-2", "delivered", "2026-11-04T15:00:00Z"),
    ]);
    assert_eq!(app.post_events(events).await.status, 200);
    // A stray receive scan of a delivered parcel is not a return to sender.
    scan_in(&app, "1ZRTS00005", "receive").await;
    let refused = decide(
        &app,
        "RTS-4",
        "1ZRTS00005",
        json!({"decision": "reship",
        "shipment": {"tracking_number": "1ZRTS00006"}}),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("status `delivered`"), "{}", refused.body);
    assert!(!exceptions_of(&app, "RTS-4").await.iter().any(|(k, _)| k == "returned_to_sender"));
    let other = app
        .post_json(
            "/api/v1/orders/RTS-4/shipments/1ZRTS00005/decision",
            &app.other_admin,
            &json!({"decision": "refund"}),
        )
        .await;
    assert_eq!(other.status, 404, "another account's parcel is not found");
}

#[tokio::test]
async fn the_dashboard_shows_the_decision_task_and_its_form_decides_with_the_sessions_csrf_token() {
    let app = spawn_app().await;
    staff(&app).await;
    seed_returning(&app, "RTS-5", "1ZRTS00007").await;
    let page_path = "/ops/orders/RTS-5";
    let form_path = "/ops/orders/RTS-5/shipments/1ZRTS00007/decision";
    let mut lead = Staff::logged_in(&app, ADMIN).await;
    let before = lead.get(page_path).await;
    assert!(!before.body.contains(form_path), "no decision is asked before the parcel is back");

    scan_in(&app, "1ZRTS00007", "receive").await;
    let mut agent = Staff::logged_in(&app, SUPPORT).await;
    let looked = agent.get(page_path).await;
    assert!(looked.body.contains("returned_to_sender"), "the task is among the order's exceptions");
    assert!(!looked.body.contains(form_path), "support looks, admin acts");
    let queue = lead.get("/ops/exceptions").await;
    assert!(queue.body.contains("returned_to_sender"), "the task is in the exception queue");
    let shown = lead.get(page_path).await;
    assert!(shown.body.contains(form_path), "{}", shown.body);

    let forged = lead.post(form_path, &[("csrf", "forged"), ("decision", "cancel")]).await;
    assert_eq!(forged.status, 403);
    let refused = agent.post_with_csrf(page_path, form_path, &[("decision", "cancel")]).await;
    assert_eq!(refused.status, 403, "a support user may not decide");
    let no_number = lead.post_with_csrf(page_path, form_path, &[("decision", "reship")]).await;
    assert_eq!(no_number.status, 422);
    assert_eq!(app.order("RTS-5").await.body["status"], "returning_to_sender", "nothing was decided yet");

    let decided = lead
        .post_with_csrf(
            page_path,
            form_path,
            &[("decision", "reship"), ("tracking_number", "1ZRTS00008"), ("carrier", "ups"), ("note", "new label")],
        )
        .await;
    assert_eq!(
        (decided.status, decided.location.as_str()),
        (303, "/ops/orders/RTS-5?decided=reship"),
        "{}",
        decided.body
    );
    let after = lead.get(page_path).await;
    assert!(!after.body.contains(form_path), "decided once");
    assert!(after.body.contains("decided: reship"), "{}", after.body);
    assert!(after.body.contains("1ZRTS00008"), "the new parcel is on the order");
    let order = app.order("RTS-5").await;
    let decision = order.body["shipments"][0]["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(decision["code"], "rts_decision_reship");
    assert!(decision["description"].as_str().unwrap().contains("staff:lead@acme.example"), "{decision}");
    let twice = lead.post_with_csrf(page_path, form_path, &[("decision", "refund")]).await;
    assert_eq!(twice.status, 409);
    assert!(twice.body.contains("already decided"), "{}", twice.body);
}
