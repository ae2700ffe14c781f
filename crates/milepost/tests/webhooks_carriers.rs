//! Carrier and aggregator webhooks: signed the sender's way, read with the sender's adapter,
//! stored through the same path as `POST /api/v1/events`, idempotent on resend, and refused
//! without storing anything when the signature does not verify.

mod common;

use base64::Engine;
use common::{TestApp, order_json, spawn_app};
use hmac::{Hmac, KeyInit, Mac};
use milepost_ingest::signature::sign_milepost;
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "whsec_test_3f9a1c0b7d2e";
const UPS_TN: &str = "1ZA4R7090398765432";

fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn now() -> i64 {
    common::test_start().timestamp()
}

fn ups_payload(code: &str, description: &str, time: &str) -> Vec<u8> {
    json!({"trackResponse": {"shipment": [{"inquiryNumber": UPS_TN, "package": [{
        "trackingNumber": UPS_TN,
        "activity": [{"date": "20261103", "time": time, "gmtOffset": "-06:00",
            "location": {"address": {"city": "Boise", "stateProvince": "ID", "countryCode": "US"}},
            "status": {"type": "I", "code": code, "description": description}}]}]}]}})
    .to_string()
    .into_bytes()
}

async fn order_with_ups_parcel(app: &TestApp, number: &str) {
    assert_eq!(app.put_order(&order_json(number)).await.status, 201);
    let reply = app.add_shipment(number, &json!({"carrier": "ups", "tracking_number": UPS_TN})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

async fn post_signed(app: &TestApp, id: &str, body: Vec<u8>) -> common::Reply {
    let signature = sign_milepost(SECRET.as_bytes(), now(), &body);
    app.post_bytes(
        &format!("/webhooks/carriers/{id}"),
        None,
        "application/json",
        &[("Milepost-Signature", signature)],
        body,
    )
    .await
}

fn shipment_status(order: &Value) -> &str {
    order["shipments"][0]["status"].as_str().unwrap_or("?")
}

#[tokio::test]
async fn a_signed_ups_webhook_moves_the_parcel_through_the_ups_adapter() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-1").await;
    let id = app.create_integration("ups", SECRET).await;

    let reply = post_signed(&app, &id, ups_payload("OT", "Out For Delivery Today", "074210")).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["accepted"], 1);
    let order = app.order("SO-1").await.body;
    assert_eq!(shipment_status(&order), "out_for_delivery");
    let entry = &order["shipments"][0]["timeline"][0];
    assert_eq!(entry["code"], "OT");
    assert_eq!(entry["description"], "Out For Delivery Today");
    assert_eq!(entry["occurred_at"], "2026-11-03T07:42:10-06:00");
}

#[tokio::test]
async fn a_resent_webhook_adds_nothing() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-2").await;
    let id = app.create_integration("ups", SECRET).await;
    let body = ups_payload("OT", "Out For Delivery Today", "074210");

    assert_eq!(post_signed(&app, &id, body.clone()).await.body["accepted"], 1);
    let again = post_signed(&app, &id, body).await;

    assert_eq!(again.status, 200);
    assert_eq!(again.body["accepted"], 0);
    assert_eq!(again.body["duplicate"], 1);
    let order = app.order("SO-2").await.body;
    assert_eq!(order["shipments"][0]["timeline"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_stale_or_missing_signature_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-3").await;
    let id = app.create_integration("ups", SECRET).await;
    let body = ups_payload("OT", "Out For Delivery Today", "074210");
    let path = format!("/webhooks/carriers/{id}");

    let wrong = sign_milepost(b"not-the-secret-at-all", now(), &body);
    let stale = sign_milepost(SECRET.as_bytes(), now() - 600, &body);
    for headers in [vec![("Milepost-Signature", wrong)], vec![("Milepost-Signature", stale)], vec![]] {
        let reply = app.post_bytes(&path, None, "application/json", &headers, body.clone()).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
        assert!(reply.body["detail"].as_str().unwrap().contains("Milepost-Signature"), "{}", reply.body);
    }

    let order = app.order("SO-3").await.body;
    assert_eq!(order["shipments"][0]["timeline"].as_array().unwrap().len(), 0);
    assert_eq!(shipment_status(&order), "pending");
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let app = spawn_app().await;
    let id = app.create_integration("generic", SECRET).await;
    let body = ups_payload("OT", "Out For Delivery Today", "074210");
    let signature = sign_milepost(SECRET.as_bytes(), now(), &body);
    let tampered = ups_payload("KB", "Delivered", "074210");

    let reply = app
        .post_bytes(
            &format!("/webhooks/carriers/{id}"),
            None,
            "application/json",
            &[("Milepost-Signature", signature)],
            tampered,
        )
        .await;

    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn an_unknown_integration_is_not_found() {
    let app = spawn_app().await;
    let body = ups_payload("OT", "Out For Delivery Today", "074210");
    let reply = post_signed(&app, "int_00000000000000000000000000000000", body).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.content_type, "application/problem+json");
}

#[tokio::test]
async fn events_for_a_parcel_not_yet_registered_attach_when_it_is() {
    let app = spawn_app().await;
    let id = app.create_integration("ups", SECRET).await;
    assert_eq!(post_signed(&app, &id, ups_payload("OR", "Origin Scan", "090000")).await.body["accepted"], 1);

    order_with_ups_parcel(&app, "SO-4").await;

    let order = app.order("SO-4").await.body;
    assert_eq!(shipment_status(&order), "handed_to_carrier");
}

#[tokio::test]
async fn a_body_the_adapter_cannot_read_is_refused_naming_the_path() {
    let app = spawn_app().await;
    let id = app.create_integration("ups", SECRET).await;
    let body = br#"{"trackResponse":{"shipment":[{"package":[{"trackingNumber":"1ZA4R7090398765432","activity":[{"date":"2026-11-03","status":{"code":"OT"}}]}]}]}}"#.to_vec();

    let reply = post_signed(&app, &id, body).await;

    assert_eq!(reply.status, 422, "{}", reply.body);
    let field = reply.body["errors"][0]["field"].as_str().unwrap();
    assert!(field.starts_with("trackResponse.shipment[0].package[0].activity[0]"), "{field}");
}

#[tokio::test]
async fn easypost_webhooks_are_verified_with_easyposts_own_header() {
    let app = spawn_app().await;
    let tn = "9400150106151234567890";
    assert_eq!(app.put_order(&order_json("SO-5")).await.status, 201);
    assert_eq!(app.add_shipment("SO-5", &json!({"tracking_number": tn})).await.status, 201);
    let id = app.create_integration("easypost", SECRET).await;
    let body = json!({"object": "Event", "id": "evt_1", "description": "tracker.updated", "result": {
        "object": "Tracker", "tracking_code": tn, "carrier": "USPS", "tracking_details": [
            {"message": "Delivered", "status": "delivered", "datetime": "2026-11-03T15:10:00Z",
             "tracking_location": {"city": "AUSTIN", "state": "TX", "zip": "78704"}}]}})
    .to_string()
    .into_bytes();
    let path = format!("/webhooks/carriers/{id}");

    let unsigned = app.post_bytes(&path, None, "application/json", &[], body.clone()).await;
    assert_eq!(unsigned.status, 401);
    let header = format!("hmac-sha256-hex={}", hex::encode(hmac(SECRET, &body)));
    let reply = app.post_bytes(&path, None, "application/json", &[("X-Hmac-Signature", header)], body).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(shipment_status(&app.order("SO-5").await.body), "delivered");
}

#[tokio::test]
async fn aftership_and_shippo_webhooks_are_verified_their_own_way() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-6").await;
    let aftership = app.create_integration("aftership", SECRET).await;
    let shippo = app.create_integration("shippo", SECRET).await;

    let body = json!({"event": "tracking_update", "msg": {"tracking_number": UPS_TN, "slug": "ups", "checkpoints": [
        {"checkpoint_time": "2026-11-02T07:42:10-06:00", "message": "Arrived at Facility", "tag": "InTransit",
         "subtag": "InTransit_001", "city": "Boise", "state": "ID"}]}})
    .to_string()
    .into_bytes();
    let signature = base64::engine::general_purpose::STANDARD.encode(hmac(SECRET, &body));
    let reply = app
        .post_bytes(
            &format!("/webhooks/carriers/{aftership}"),
            None,
            "application/json",
            &[("aftership-hmac-sha256", signature)],
            body,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(shipment_status(&app.order("SO-6").await.body), "in_transit");

    let body = json!({"event": "track_updated", "data": {"carrier": "ups", "tracking_number": UPS_TN,
        "tracking_status": {"status": "DELIVERED", "status_details": "Delivered", "status_date": "2026-11-03T18:00:00Z",
            "location": {"city": "Austin", "state": "TX", "zip": "78701", "country": "US"}},
        "tracking_history": []}})
    .to_string()
    .into_bytes();
    let path = format!("/webhooks/carriers/{shippo}");
    // Shippo does not use Milepost's header name.
    let misnamed = sign_milepost(SECRET.as_bytes(), now(), &body);
    let refused = app
        .post_bytes(&path, None, "application/json", &[("Milepost-Signature", misnamed.clone())], body.clone())
        .await;
    assert_eq!(refused.status, 401);
    let reply = app.post_bytes(&path, None, "application/json", &[("Shippo-Auth-Signature", misnamed)], body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(shipment_status(&app.order("SO-6").await.body), "delivered");
}

#[tokio::test]
async fn only_an_admin_registers_integrations_and_the_kind_is_checked() {
    let app = spawn_app().await;
    let by_ingest = app.post_json("/api/v1/integrations", &app.ingest, &json!({"kind": "ups", "secret": SECRET})).await;
    assert_eq!(by_ingest.status, 403);

    let bad_kind =
        app.post_json("/api/v1/integrations", &app.admin, &json!({"kind": "pigeon", "secret": SECRET})).await;
    assert_eq!(bad_kind.status, 422);
    assert_eq!(bad_kind.body["errors"][0]["field"], "kind");

    let short = app.post_json("/api/v1/integrations", &app.admin, &json!({"kind": "ups", "secret": "abc"})).await;
    assert_eq!(short.status, 422);
    assert_eq!(short.body["errors"][0]["field"], "secret");

    let ok = app.post_json("/api/v1/integrations", &app.admin, &json!({"kind": "shopify", "secret": SECRET})).await;
    assert_eq!(ok.status, 201);
    let id = ok.body["id"].as_str().unwrap();
    assert!(id.len() >= 32, "ids must be unguessable: {id}");
    assert_eq!(ok.body["webhook_path"], format!("/webhooks/channels/{id}"));
}

#[tokio::test]
async fn a_webhook_lands_in_the_integrations_account_only() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-7").await;
    // An integration of another account, for the same tracking number.
    let reply =
        app.post_json("/api/v1/integrations", &app.other_admin, &json!({"kind": "ups", "secret": SECRET})).await;
    let other = reply.body["id"].as_str().unwrap().to_string();

    assert_eq!(post_signed(&app, &other, ups_payload("KB", "Delivered", "120000")).await.status, 200);

    assert_eq!(shipment_status(&app.order("SO-7").await.body), "pending");
}

#[tokio::test]
async fn the_carriers_estimate_in_a_webhook_shapes_the_published_window() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "ETA-C1").await;
    let id = app.create_integration("generic", SECRET).await;
    // Handed over on Tuesday 10 November; the carrier says Friday the 13th. The lane has no
    // history, so the window is the carrier's day and the business day after it (Monday).
    let body = json!({"events": [{
        "tracking_number": UPS_TN, "carrier": "ups", "source": "carrier", "source_event_id": "est-1",
        "milestone": "handed_to_carrier", "occurred_at": "2026-11-10T08:00:00-05:00",
        "estimated_delivery": "2026-11-13T17:00:00-05:00"
    }]})
    .to_string()
    .into_bytes();
    let reply = post_signed(&app, &id, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let order = app.order("ETA-C1").await.body;
    assert_eq!(
        order["shipments"][0]["eta"],
        json!({"earliest": "2026-11-13T00:00:00-05:00", "latest": "2026-11-16T23:59:59-05:00"}),
        "{order}"
    );
    assert_eq!(order["shipments"][0]["carrier_eta"], "2026-11-13", "the carrier's own day is read back");
}

#[tokio::test]
async fn a_ups_track_alert_push_moves_the_parcel_through_the_same_ups_integration() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-20").await;
    let id = app.create_integration("ups", SECRET).await;
    let body = json!({"trackingNumber": UPS_TN, "localActivityDate": "20261103", "localActivityTime": "074210",
        "gmtActivityDate": "20261103", "gmtActivityTime": "134210",
        "activityLocation": {"city": "BOISE", "stateProvince": "ID", "postalCode": "83702", "country": "US"},
        "activityStatus": {"type": "I", "code": "OT", "description": "Out For Delivery Today", "descriptionCode": "021"},
        "scheduledDeliveryDate": "20261103"})
    .to_string()
    .into_bytes();

    let reply = post_signed(&app, &id, body).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["accepted"], 1);
    let order = app.order("SO-20").await.body;
    assert_eq!(shipment_status(&order), "out_for_delivery");
    assert_eq!(order["shipments"][0]["timeline"][0]["occurred_at"], "2026-11-03T07:42:10-06:00");
}

#[tokio::test]
async fn an_aggregators_dashboard_test_webhook_with_null_fields_is_answered_ok_and_stores_nothing() {
    let app = spawn_app().await;
    order_with_ups_parcel(&app, "SO-21").await;
    let aftership = app.create_integration("aftership", SECRET).await;
    let easypost = app.create_integration("easypost", SECRET).await;
    let shippo = app.create_integration("shippo", SECRET).await;

    let body = json!({"event": "tracking_update", "msg": {"id": null, "tracking_number": null, "slug": null,
        "checkpoints": null}, "ts": now()})
    .to_string()
    .into_bytes();
    let signature = base64::engine::general_purpose::STANDARD.encode(hmac(SECRET, &body));
    let path = format!("/webhooks/carriers/{aftership}");
    let reply = app.post_bytes(&path, None, "application/json", &[("aftership-hmac-sha256", signature)], body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!((reply.body["accepted"].as_u64(), reply.body["rejected"].as_u64()), (Some(0), Some(0)));

    let body = json!({"object": "Event", "id": "evt_test", "description": "tracker.updated", "result": {
        "object": "Tracker", "tracking_code": null, "carrier": null, "tracking_details": []}})
    .to_string()
    .into_bytes();
    let header = format!("hmac-sha256-hex={}", hex::encode(hmac(SECRET, &body)));
    let path = format!("/webhooks/carriers/{easypost}");
    let reply = app.post_bytes(&path, None, "application/json", &[("X-Hmac-Signature", header)], body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["accepted"], 0);

    let body = json!({"event": "track_updated", "test": true, "data": {"carrier": null, "tracking_number": null,
        "tracking_status": null, "tracking_history": []}})
    .to_string()
    .into_bytes();
    let signature = sign_milepost(SECRET.as_bytes(), now(), &body);
    let path = format!("/webhooks/carriers/{shippo}");
    let reply = app.post_bytes(&path, None, "application/json", &[("Shippo-Auth-Signature", signature)], body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["accepted"], 0);

    let order = app.order("SO-21").await.body;
    assert_eq!(order["shipments"][0]["timeline"].as_array().map(Vec::len), Some(0), "{order}");
}
