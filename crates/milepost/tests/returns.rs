//! Returns (RMA) from outside: a staff request through the API and a customer request from the
//! tracking page meet the same eligibility rules; the state machine refuses invalid moves with 409
//! listing the allowed ones; a return parcel's carrier scans and the warehouse's `return_receive`
//! scan move the return on their own; roles and accounts are kept apart.

mod common;
mod ops_support;
mod tracking_support;

use common::{TestApp, carrier_event, spawn_app};
use hmac::{KeyInit, Mac};
use ops_support::{ADMIN, OTHER, Staff, staff};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tracking_support::{lookup_path, post_form, seed_delivered};

const WEBHOOK_SECRET: &str = "whsec_returns_test_0123456789";

/// A real HTTP endpoint that records each webhook body with whether its `Milepost-Signature`
/// verifies (`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).
async fn start_receiver() -> (String, Arc<Mutex<Vec<(Value, bool)>>>) {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    let seen: Arc<Mutex<Vec<(Value, bool)>>> = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let record = record.clone();
            async move {
                let signature = headers.get("milepost-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
                let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
                record.lock().unwrap().push((parsed, verify(signature, &body)));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

fn verify(header: &str, body: &[u8]) -> bool {
    let parts: Vec<(&str, &str)> = header.split(',').filter_map(|p| p.split_once('=')).collect();
    let find = |name: &str| parts.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let (Some(t), Some(v1)) = (find("t"), find("v1")) else { return false };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn inspect(app: &TestApp, id: &str, body: Value) -> common::Reply {
    app.post_json(&format!("/api/v1/returns/{id}/inspection"), &app.admin, &body).await
}

async fn request_return(app: &TestApp, order_number: &str, body: Value) -> common::Reply {
    app.post_json(&format!("/api/v1/orders/{order_number}/returns"), &app.admin, &body).await
}

async fn move_return(app: &TestApp, id: &str, to: &str) -> common::Reply {
    app.post_json(
        &format!("/api/v1/returns/{id}/transitions"),
        &app.admin,
        &json!({"to": to, "note": format!("to {to}")}),
    )
    .await
}

async fn put_policy(app: &TestApp, policy: Value) -> common::Reply {
    app.send(reqwest::Method::PUT, "/api/v1/return-policy", Some(&app.admin), Some(policy.to_string())).await
}

fn one_mug(reason: &str) -> Value {
    json!({"items": [{"sku": "MUG", "quantity": 1, "reason": reason}], "note": "chipped rim"})
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc)
}

fn field_of(reply: &common::Reply) -> String {
    reply.body["errors"][0]["field"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_return_runs_from_request_to_close_and_its_parcel_moves_it_on_the_way() {
    let app = spawn_app().await;
    let (hook_url, hooks) = start_receiver().await;
    let settings = json!({"webhook_url": hook_url, "webhook_secret": WEBHOOK_SECRET});
    let reply = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    seed_delivered(&app, "RT-1").await;
    // The customer starts the return on the tracking page, proving ownership by e-mail.
    let token = return_form_token(&app, "RT-1").await;
    let asked = post_form(&app, "/returns/start", &page_form(&token, "MUG", "damaged")).await;
    assert_eq!(asked.status(), 200);
    let order = app.order("RT-1").await;
    let id = order.body["returns"][0]["id"].as_str().expect("the page's return is on the order").to_string();
    let created = app.get(&format!("/api/v1/returns/{id}"), &app.support).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["state"], "requested");
    assert_eq!(created.body["order_number"], "RT-1");
    assert_eq!(created.body["allowed"], json!(["approved", "rejected"]));

    assert_eq!(move_return(&app, &id, "approved").await.body["state"], "approved");
    let parcel = json!({"carrier": "ups", "tracking_number": "1ZRETURN01", "direction": "return",
        "items": [{"sku": "MUG", "quantity": 1}]});
    assert_eq!(app.add_shipment("RT-1", &parcel).await.status, 201);

    // A label alone is not carrier possession: the return waits.
    let label = app.post_events(json!([carrier_event("1ZRETURN01", "r-1", "label_created", "2026-11-09T09:00:00Z")]));
    assert_eq!(label.await.status, 200);
    let read = app.get(&format!("/api/v1/returns/{id}"), &app.support).await;
    assert_eq!(read.body["state"], "approved");

    let moving = app.post_events(json!([carrier_event("1ZRETURN01", "r-2", "in_transit", "2026-11-09T15:00:00Z")]));
    assert_eq!(moving.await.status, 200);
    let read = app.get(&format!("/api/v1/returns/{id}"), &app.support).await;
    assert_eq!(read.body["state"], "in_return_transit");
    assert_eq!(read.body["return_tracking_number"], "1ZRETURN01");
    assert_eq!(read.body["history"][1]["actor"], "system");
    let page = app.client.get(format!("{}{}", app.base, lookup_path("RT-1"))).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("On its way back to us"), "the customer sees the return state");

    let scan = app
        .post_json(
            "/api/v1/scans",
            &app.ingest,
            &json!({"barcode": "1ZRETURN01", "step": "return_receive", "station": "R1", "scanned_at": "2026-11-10T09:00:00Z"}),
        )
        .await;
    assert_eq!(scan.status, 200, "{}", scan.body);
    let read = app.get(&format!("/api/v1/returns/{id}"), &app.support).await;
    assert_eq!(read.body["state"], "received");
    assert_eq!(read.body["allowed"], json!(["inspection_pending"]));

    assert_eq!(move_return(&app, &id, "inspection_pending").await.body["state"], "inspection_pending");
    let shortcut = move_return(&app, &id, "disposition_decided").await;
    assert_eq!(shortcut.status, 422, "a disposition comes with the inspection: {}", shortcut.body);
    assert_eq!(field_of(&shortcut), "to");
    let wrong = inspect(
        &app,
        &id,
        json!({"items": [{"sku": "MUG", "quantity": 2, "result": "opened", "disposition": "restock"}]}),
    )
    .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(field_of(&wrong), "items[0].quantity");
    let bad =
        inspect(&app, &id, json!({"items": [{"sku": "MUG", "quantity": 1, "result": "meh", "disposition": "burn"}]}))
            .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"].as_array().unwrap().len(), 2);
    let inspected = inspect(
        &app,
        &id,
        json!({"items": [{"sku": "MUG", "quantity": 1, "result": "damaged", "disposition": "scrap"}], "note": "rim chipped"}),
    )
    .await;
    assert_eq!(inspected.status, 200, "{}", inspected.body);
    assert_eq!(inspected.body["state"], "disposition_decided");
    assert_eq!(
        inspected.body["inspection"],
        json!([{"sku": "MUG", "quantity": 1, "result": "damaged", "disposition": "scrap"}])
    );
    let again = inspect(
        &app,
        &id,
        json!({"items": [{"sku": "MUG", "quantity": 1, "result": "damaged", "disposition": "scrap"}]}),
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["allowed"], json!(["refund_released", "replacement_released", "closed"]));

    app.clock.set(at("2026-11-12T12:00:00Z"));
    for to in ["refund_released", "closed"] {
        let moved = move_return(&app, &id, to).await;
        assert_eq!(moved.status, 200, "{to}: {}", moved.body);
        assert_eq!(moved.body["state"], to);
    }

    // The refund reaches the merchant's system signed, and the customer is told, through the outbox.
    let mut report = app.notifier.deliver_due().await.unwrap();
    while report.claimed > 0 {
        report = app.notifier.deliver_due().await.unwrap();
    }
    let hooks = hooks.lock().unwrap().clone();
    let refund = hooks.iter().find(|(body, _)| body["milestone"] == "refund_released").expect("refund webhook");
    assert!(refund.1, "the refund webhook is signed: {hooks:#?}");
    assert_eq!(refund.0["type"], "return.released");
    assert_eq!(refund.0["order_number"], "RT-1");
    assert_eq!(refund.0["shipments"], json!(["1ZRETURN01"]));
    let order = app.order("RT-1").await;
    let messages = order.body["notifications"].as_array().unwrap();
    assert!(
        messages.iter().any(|n| n["audience"] == "customer" && n["milestone"] == "refund_released"),
        "a customer message is queued: {messages:#?}"
    );
    let figures = app.get("/api/v1/kpis/returns?from=2026-10-01&to=2026-12-01", &app.support).await;
    assert_eq!(figures.status, 200, "{}", figures.body);
    assert_eq!(figures.body["delivered_orders"], 1);
    assert_eq!(figures.body["return_rate"], 100.0);
    assert_eq!(figures.body["by_reason"], json!([{"reason": "damaged", "orders": 1, "rate": 100.0}]));
    assert_eq!(figures.body["by_sku"], json!([{"sku": "MUG", "ordered_units": 2, "returned_units": 1, "rate": 50.0}]));
    assert_eq!(figures.body["request_to_refund_hours"], json!({"median": 48.0, "p90": 48.0}));
    let overall = app.get("/api/v1/kpis?from=2026-10-01&to=2026-12-01", &app.support).await;
    assert_eq!(overall.body["return_rate"], 100.0, "{}", overall.body);
    assert_eq!(overall.body["order_accuracy_rate"], 0.0, "a damaged return counts against accuracy");
    let bad = app.get("/api/v1/kpis/returns?from=yesterday", &app.support).await;
    assert_eq!(bad.status, 422);
    assert_eq!(field_of(&bad), "from");
    let shown = &order.body["returns"][0];
    assert_eq!(shown["state"], "closed");
    let steps: Vec<&str> = shown["history"].as_array().unwrap().iter().map(|s| s["to"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "approved",
            "in_return_transit",
            "received",
            "inspection_pending",
            "disposition_decided",
            "refund_released",
            "closed"
        ]
    );
    assert_eq!(shown["history"][0]["from"], "requested");
    assert_eq!(shown["history"][6]["note"], "to closed");
    assert_eq!(shown["history"][4]["note"], "rim chipped");
    assert!(shown["history"][0]["actor"].as_str().unwrap().starts_with("key:"));
}

#[tokio::test]
async fn an_invalid_transition_is_409_listing_the_allowed_states() {
    let app = spawn_app().await;
    seed_delivered(&app, "RT-2").await;
    let id = request_return(&app, "RT-2", one_mug("defective")).await.body["id"].as_str().unwrap().to_string();

    let skipped = move_return(&app, &id, "received").await;
    assert_eq!(skipped.status, 409, "{}", skipped.body);
    assert_eq!(skipped.content_type, "application/problem+json");
    assert_eq!(skipped.body["allowed"], json!(["approved", "rejected"]));
    assert!(skipped.body["detail"].as_str().unwrap().contains("`requested` cannot move to `received`"));

    let unknown = move_return(&app, &id, "teleported").await;
    assert_eq!(unknown.status, 422);
    assert_eq!(field_of(&unknown), "to");

    assert_eq!(move_return(&app, &id, "rejected").await.status, 200);
    assert_eq!(move_return(&app, &id, "closed").await.status, 200);
    let after_close = move_return(&app, &id, "approved").await;
    assert_eq!(after_close.status, 409);
    assert_eq!(after_close.body["allowed"], json!([]));

    let missing = move_return(&app, "999999", "approved").await;
    assert_eq!(missing.status, 404);
    let garbage = move_return(&app, "abc", "approved").await;
    assert_eq!(garbage.status, 404);
}

#[tokio::test]
async fn ineligible_staff_requests_are_refused_naming_the_field() {
    let app = spawn_app().await;
    seed_delivered(&app, "RT-3").await;
    let set = put_policy(
        &app,
        json!({"window_days": 14, "non_returnable_skus": ["TEE"], "reasons": ["damaged", "defective", "wrong_item"]}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let read = app.get("/api/v1/return-policy", &app.support).await;
    assert_eq!(read.body["window_days"], 14);
    assert_eq!(read.body["non_returnable_skus"], json!(["TEE"]));

    let tee =
        request_return(&app, "RT-3", json!({"items": [{"sku": "TEE", "quantity": 1, "reason": "damaged"}]})).await;
    assert_eq!(tee.status, 422);
    assert_eq!(field_of(&tee), "items[0].sku");
    let bored = request_return(&app, "RT-3", one_mug("no_longer_needed")).await;
    assert_eq!(bored.status, 422);
    assert_eq!(field_of(&bored), "items[0].reason");
    let nonsense = request_return(&app, "RT-3", one_mug("bored")).await;
    assert_eq!(nonsense.status, 422);
    assert_eq!(field_of(&nonsense), "items[0].reason");
    let too_many =
        request_return(&app, "RT-3", json!({"items": [{"sku": "MUG", "quantity": 3, "reason": "damaged"}]})).await;
    assert_eq!(too_many.status, 422);
    assert_eq!(field_of(&too_many), "items[0].quantity");
    let empty = request_return(&app, "RT-3", json!({"items": []})).await;
    assert_eq!(empty.status, 422);
    assert_eq!(field_of(&empty), "items");
    let unknown_field = request_return(&app, "RT-3", json!({"items": [], "refund": "all"})).await;
    assert_eq!(unknown_field.status, 400);

    // Delivered on 2026-11-04 at 18:30 UTC: the fourteen days end on the 18th.
    app.clock.set(at("2026-11-18T18:00:00Z"));
    assert_eq!(request_return(&app, "RT-3", one_mug("damaged")).await.status, 201);
    app.clock.set(at("2026-11-19T09:00:00Z"));
    let late = request_return(&app, "RT-3", one_mug("damaged")).await;
    assert_eq!(late.status, 422);
    assert_eq!(field_of(&late), "items");
    assert!(late.body["detail"].as_str().unwrap().contains("closed on 2026-11-18"), "{}", late.body);

    let bad_policy = put_policy(&app, json!({"window_days": 10, "non_returnable_skus": [], "reasons": []})).await;
    assert_eq!(bad_policy.status, 422);
    assert_eq!(field_of(&bad_policy), "reasons");
    let bad_reason = put_policy(&app, json!({"window_days": 10, "non_returnable_skus": [], "reasons": ["meh"]})).await;
    assert_eq!(field_of(&bad_reason), "reasons[0]");
    let unknown_order = request_return(&app, "RT-NOPE", one_mug("damaged")).await;
    assert_eq!(unknown_order.status, 404);
}

/// The return form's token on the order's tracking page, opened with the customer's e-mail.
async fn return_form_token(app: &TestApp, order_number: &str) -> String {
    let found = app.client.get(format!("{}{}", app.base, lookup_path(order_number))).send().await.unwrap();
    let html = found.text().await.unwrap();
    let start = html.find("name=\"token\" value=\"").expect("return form") + "name=\"token\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

/// The tracking page's return form asking for one unit of `sku`.
fn page_form(token: &str, sku: &str, reason: &str) -> Vec<(&'static str, String)> {
    vec![
        ("token", token.to_string()),
        ("sku_0", sku.to_string()),
        ("qty_0", "1".to_string()),
        ("reason", reason.into()),
    ]
}

#[tokio::test]
async fn the_tracking_page_request_meets_the_same_rules() {
    let app = spawn_app().await;
    seed_delivered(&app, "RT-4").await;
    assert_eq!(
        put_policy(&app, json!({"window_days": 3, "non_returnable_skus": [], "reasons": ["damaged"]})).await.status,
        200
    );
    let token = return_form_token(&app, "RT-4").await;
    let form = |reason: &str| page_form(&token, "MUG", reason);

    // The test clock stands at 2026-11-10: six days after delivery, past the three-day window.
    let late = post_form(&app, "/returns/start", &form("damaged")).await;
    assert_eq!(late.status(), 422);
    app.clock.set(at("2026-11-06T12:00:00Z"));
    let wrong_reason = post_form(&app, "/returns/start", &form("wrong_item")).await;
    assert_eq!(wrong_reason.status(), 422);
    let ok = post_form(&app, "/returns/start", &form("damaged")).await;
    assert_eq!(ok.status(), 200);
    let order = app.order("RT-4").await;
    assert_eq!(order.body["returns"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn roles_and_accounts_are_kept_apart_and_the_queue_filters_by_state() {
    let app = spawn_app().await;
    seed_delivered(&app, "RT-5").await;
    let support_try = app.post_json("/api/v1/orders/RT-5/returns", &app.support, &one_mug("damaged")).await;
    assert_eq!(support_try.status, 403);
    let id = request_return(&app, "RT-5", one_mug("damaged")).await.body["id"].as_str().unwrap().to_string();
    let ingest_move =
        app.post_json(&format!("/api/v1/returns/{id}/transitions"), &app.ingest, &json!({"to": "approved"})).await;
    assert_eq!(ingest_move.status, 403);
    let other_read = app.get(&format!("/api/v1/returns/{id}"), &app.other_admin).await;
    assert_eq!(other_read.status, 404);
    let other_move =
        app.post_json(&format!("/api/v1/returns/{id}/transitions"), &app.other_admin, &json!({"to": "approved"})).await;
    assert_eq!(other_move.status, 404);
    let other_queue = app.get("/api/v1/returns", &app.other_admin).await;
    assert_eq!(other_queue.body["returns"], json!([]));

    let requested = app.get("/api/v1/returns?state=requested", &app.support).await;
    assert_eq!(requested.status, 200);
    assert_eq!(requested.body["returns"][0]["id"], id.as_str());
    assert_eq!(requested.body["returns"][0]["order_number"], "RT-5");
    assert_eq!(move_return(&app, &id, "rejected").await.status, 200);
    let open = app.get("/api/v1/returns", &app.support).await;
    assert_eq!(open.body["returns"], json!([]));
    let rejected = app.get("/api/v1/returns?state=rejected", &app.support).await;
    assert_eq!(rejected.body["returns"].as_array().unwrap().len(), 1);
    let bad = app.get("/api/v1/returns?state=lost", &app.support).await;
    assert_eq!(bad.status, 422);
    assert_eq!(field_of(&bad), "state");

    // A rejected return gives its items back: the two mugs may be asked for again.
    let again =
        request_return(&app, "RT-5", json!({"items": [{"sku": "MUG", "quantity": 2, "reason": "damaged"}]})).await;
    assert_eq!(again.status, 201, "{}", again.body);
}

#[tokio::test]
async fn the_dashboard_shows_the_returns_queue_by_state_and_age_and_each_return_on_its_order() {
    let app = spawn_app().await;
    staff(&app).await;
    seed_delivered(&app, "RT-6").await;
    seed_delivered(&app, "RT-7").await;
    let first = request_return(&app, "RT-6", one_mug("damaged")).await.body["id"].as_str().unwrap().to_string();
    app.clock.set(at("2026-11-12T12:00:00Z"));
    request_return(&app, "RT-7", one_mug("wrong_item")).await;
    assert_eq!(move_return(&app, &first, "approved").await.status, 200);
    app.clock.set(at("2026-11-13T12:00:00Z"));

    let mut lead = Staff::logged_in(&app, ADMIN).await;
    let queue = lead.get("/ops/returns").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("requested</a>: 1") && queue.body.contains("approved</a>: 1"), "{}", queue.body);
    let rt6 = queue.body.find("RT-6").expect("RT-6 listed");
    let rt7 = queue.body.find("RT-7").expect("RT-7 listed");
    assert!(rt6 < rt7, "oldest first");
    let approved = lead.get("/ops/returns?state=approved").await;
    assert!(approved.body.contains("RT-6") && !approved.body.contains("RT-7"));

    let order = lead.get("/ops/orders/RT-6").await;
    assert!(order.body.contains("requested → approved"), "the return's steps show on the order");

    let mut stranger = Staff::logged_in(&app, OTHER).await;
    let theirs = stranger.get("/ops/returns").await;
    assert!(!theirs.body.contains("RT-6"), "another account's returns stay hidden");
}

#[tokio::test]
async fn a_claim_for_a_damaged_parcel_is_opened_from_its_exception_and_moves_through_its_states() {
    let app = spawn_app().await;
    assert_eq!(app.put_order(&common::order_json("CL-1")).await.status, 201);
    let parcel = json!({"carrier": "ups", "tracking_number": "1ZCLAIM001"});
    assert_eq!(app.add_shipment("CL-1", &parcel).await.status, 201);
    let events = app
        .post_events(json!([
            carrier_event("1ZCLAIM001", "c-1", "handed_to_carrier", "2026-11-08T10:00:00Z"),
            carrier_event("1ZCLAIM001", "c-2", "delivery_attempted", "2026-11-09T10:00:00Z"),
            {"source": "carrier", "source_event_id": "c-3", "tracking_number": "1ZCLAIM001", "carrier": "ups",
             "milestone": "exception", "description": "Package damaged in transit", "occurred_at": "2026-11-09T18:00:00Z"}
        ]))
        .await;
    assert_eq!(events.status, 200, "{}", events.body);
    let list = app.get("/api/v1/exceptions?order_number=CL-1", &app.support).await;
    let exceptions = list.body["exceptions"].as_array().unwrap().clone();
    let id_of = |kind: &str| {
        let e = exceptions.iter().find(|e| e["kind"] == kind).unwrap_or_else(|| panic!("{kind} in {exceptions:#?}"));
        e["id"].as_str().map(str::to_string).unwrap_or_else(|| e["id"].to_string())
    };
    let damaged = id_of("carrier_exception");
    let failed = id_of("delivery_failed");
    let open = |key: &str, exception: &str, body: Value| {
        let (app, key, path) = (&app, key.to_string(), format!("/api/v1/exceptions/{exception}/claims"));
        async move { app.post_json(&path, &key, &body).await }
    };
    let claim = json!({"amount": "36.00", "evidence": "Photos of the crushed box; invoice 7731"});

    let not_lost = open(&app.admin, &failed, claim.clone()).await;
    assert_eq!(not_lost.status, 422, "{}", not_lost.body);
    assert_eq!(field_of(&not_lost), "exception");
    let bad_amount = open(&app.admin, &damaged, json!({"amount": "-3"})).await;
    assert_eq!(field_of(&bad_amount), "amount");
    assert_eq!(open(&app.support, &damaged, claim.clone()).await.status, 403);
    assert_eq!(open(&app.other_admin, &damaged, claim.clone()).await.status, 404);

    let opened = open(&app.admin, &damaged, claim.clone()).await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(opened.body["state"], "open");
    assert_eq!(opened.body["carrier"], "ups");
    assert_eq!(opened.body["amount"], "36.00");
    assert_eq!(opened.body["currency"], "USD");
    assert_eq!(opened.body["tracking_number"], "1ZCLAIM001");
    assert_eq!(open(&app.admin, &damaged, claim).await.status, 409, "one claim per exception");
    let id = opened.body["id"].as_str().unwrap().to_string();

    let path = format!("/api/v1/claims/{id}/transitions");
    let early = app.post_json(&path, &app.admin, &json!({"to": "paid"})).await;
    assert_eq!(early.status, 409);
    assert_eq!(early.body["allowed"], json!(["submitted", "closed"]));
    for to in ["submitted", "approved", "paid"] {
        let moved = app.post_json(&path, &app.admin, &json!({"to": to})).await;
        assert_eq!(moved.body["state"], to, "{}", moved.body);
    }
    assert_eq!(app.get(&format!("/api/v1/claims/{id}"), &app.other_admin).await.status, 404);
    let listed = app.get("/api/v1/orders/CL-1/claims", &app.support).await;
    assert_eq!(listed.body["claims"][0]["state"], "paid");
    assert_eq!(listed.body["claims"][0]["evidence"], "Photos of the crushed box; invoice 7731");
    let order = app.order("CL-1").await;
    assert_eq!(order.body["claims"], listed.body["claims"], "the order view carries the same claims");

    staff(&app).await;
    let mut lead = Staff::logged_in(&app, ADMIN).await;
    let order = lead.get("/ops/orders/CL-1").await;
    assert!(order.body.contains(&format!("Claim {id} · paid · 36.00 USD against ups")), "{}", order.body);
}

#[tokio::test]
async fn a_released_replacement_is_a_new_outbound_parcel_on_the_same_order() {
    let app = spawn_app().await;
    seed_delivered(&app, "RP-1").await;
    let created = request_return(&app, "RP-1", one_mug("defective")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(move_return(&app, &id, "approved").await.status, 200);
    let parcel = json!({"carrier": "ups", "tracking_number": "1ZRPBACK01", "direction": "return",
        "items": [{"sku": "MUG", "quantity": 1}]});
    assert_eq!(app.add_shipment("RP-1", &parcel).await.status, 201);
    let moving = app.post_events(json!([carrier_event("1ZRPBACK01", "p-1", "in_transit", "2026-11-09T15:00:00Z")]));
    assert_eq!(moving.await.status, 200);
    let scan = json!({"barcode": "1ZRPBACK01", "step": "return_receive", "scanned_at": "2026-11-10T09:00:00Z"});
    assert_eq!(app.post_json("/api/v1/scans", &app.ingest, &scan).await.status, 200);
    assert_eq!(move_return(&app, &id, "inspection_pending").await.status, 200);
    let inspected = inspect(
        &app,
        &id,
        json!({"items": [{"sku": "MUG", "quantity": 1, "result": "damaged", "disposition": "return_to_vendor"}]}),
    )
    .await;
    assert_eq!(inspected.body["state"], "disposition_decided", "{}", inspected.body);

    let release = |body: Value| {
        let app = &app;
        let path = format!("/api/v1/returns/{id}/transitions");
        async move { app.post_json(&path, &app.admin, &body).await }
    };
    let no_parcel = release(json!({"to": "replacement_released"})).await;
    assert_eq!((no_parcel.status, field_of(&no_parcel).as_str()), (422, "shipment"), "{}", no_parcel.body);
    let with_items = release(json!({"to": "replacement_released",
        "shipment": {"tracking_number": "1ZREPLACE01", "items": [{"sku": "TEE", "quantity": 1}]}}))
    .await;
    assert_eq!((with_items.status, field_of(&with_items).as_str()), (422, "shipment.items"));
    let closing_with_parcel = release(json!({"to": "closed", "shipment": {"tracking_number": "1ZREPLACE01"}})).await;
    assert_eq!((closing_with_parcel.status, field_of(&closing_with_parcel).as_str()), (422, "shipment"));
    let taken = release(json!({"to": "replacement_released", "shipment": {"tracking_number": "1ZRPBACK01"}})).await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert_eq!(field_of(&taken), "shipment.tracking_number");
    assert_eq!(app.get(&format!("/api/v1/returns/{id}"), &app.support).await.body["state"], "disposition_decided");

    let released = release(json!({"to": "replacement_released", "note": "new mug",
        "shipment": {"carrier": "ups", "service": "ground", "tracking_number": "1ZREPLACE01"}}))
    .await;
    assert_eq!(released.status, 200, "{}", released.body);
    assert_eq!(released.body["state"], "replacement_released");

    let order = app.order("RP-1").await;
    let replacement = order.body["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tracking_number"] == "1ZREPLACE01")
        .expect("the replacement parcel is on the order");
    assert_eq!(replacement["direction"], "outbound");
    assert_eq!(replacement["carrier"], "ups");
    assert_eq!(replacement["items"], json!([{"sku": "MUG", "quantity": 1}]));
    let messages = order.body["notifications"].as_array().unwrap();
    assert!(
        messages.iter().any(|n| n["audience"] == "customer" && n["milestone"] == "replacement_released"),
        "{messages:#?}"
    );
    // The replacement then travels like any parcel.
    let shipped =
        app.post_events(json!([carrier_event("1ZREPLACE01", "x-1", "handed_to_carrier", "2026-11-10T11:00:00Z")]));
    assert_eq!(shipped.await.status, 200);
    let order = app.order("RP-1").await;
    let replacement =
        order.body["shipments"].as_array().unwrap().iter().find(|s| s["tracking_number"] == "1ZREPLACE01");
    assert_eq!(replacement.unwrap()["status"], "handed_to_carrier");
}

#[tokio::test]
async fn a_parcel_sent_before_approval_is_kept_on_its_return_and_the_customer_hears_of_each_step() {
    let app = spawn_app().await;
    seed_delivered(&app, "RQ-1").await;
    let created = request_return(&app, "RQ-1", one_mug("damaged")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let parcel = json!({"carrier": "ups", "tracking_number": "1ZEARLY01", "direction": "return",
        "items": [{"sku": "MUG", "quantity": 1}]});
    assert_eq!(app.add_shipment("RQ-1", &parcel).await.status, 201);
    let moving = app.post_events(json!([carrier_event("1ZEARLY01", "e-1", "in_transit", "2026-11-09T15:00:00Z")]));
    assert_eq!(moving.await.status, 200);

    let waiting = app.get(&format!("/api/v1/returns/{id}"), &app.support).await;
    assert_eq!(waiting.body["state"], "requested", "a scan approves nothing");
    assert_eq!(waiting.body["return_tracking_number"], "1ZEARLY01", "but the parcel is kept on the return");
    let listed = app.get("/api/v1/exceptions?order_number=RQ-1&kind=return_in_motion", &app.support).await;
    assert_eq!(listed.body["exceptions"][0]["state"], "open", "staff are told: {}", listed.body);
    assert_eq!(listed.body["exceptions"][0]["tracking_number"], "1ZEARLY01");

    let approved = move_return(&app, &id, "approved").await;
    assert_eq!(approved.body["state"], "in_return_transit", "approval picks the moving parcel up: {}", approved.body);
    let scan = json!({"barcode": "1ZEARLY01", "step": "return_receive", "scanned_at": "2026-11-10T09:00:00Z"});
    assert_eq!(app.post_json("/api/v1/scans", &app.ingest, &scan).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/returns/{id}"), &app.support).await.body["state"], "received");

    // A second request, rejected: the customer hears that too.
    let second = request_return(&app, "RQ-1", one_mug("no_longer_needed")).await;
    let second = second.body["id"].as_str().unwrap().to_string();
    assert_eq!(move_return(&app, &second, "rejected").await.body["state"], "rejected");

    let order = app.order("RQ-1").await;
    let told: Vec<&str> = order.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["audience"] == "customer" && n["channel"] == "email")
        .filter_map(|n| n["milestone"].as_str())
        .filter(|m| m.starts_with("return_"))
        .collect();
    assert_eq!(told, ["return_approved", "return_received", "return_rejected"]);
}
