//! Carrier pollers against a local server that answers in each carrier's documented shape:
//! OAuth client credentials (UPS basic auth, FedEx and USPS form posts) with cached tokens, DHL's
//! API key, a schedule by stage (a delivered parcel is never asked about again), a 404 for an
//! unknown number, and the per-carrier request rate.

mod common;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use common::{TestApp, spawn_app};
use milepost_poll::{CarrierApi, CarrierAuth, Poller};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const UPS: &str = "1ZPOLLTEST00000001";
const UPS_UNKNOWN: &str = "1ZPOLLTEST00000009";
const FEDEX: &str = "771234567890";
const USPS: &str = "9400111899223100000001";
const DHL: &str = "JD014600003828911111";

#[derive(Default)]
struct Log {
    /// (path, when, authorization or api-key header)
    requests: Vec<(String, Instant, String)>,
    /// Answer 401 to the next UPS track call (a revoked token).
    revoke_next: bool,
}

type Shared = Arc<Mutex<Log>>;

fn record(log: &Shared, path: &str, headers: &HeaderMap) {
    let auth = headers
        .get("authorization")
        .or_else(|| headers.get("dhl-api-key"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().requests.push((path.to_string(), Instant::now(), auth));
}

fn ups_body(tn: &str) -> Value {
    json!({"trackResponse": {"shipment": [{"inquiryNumber": tn, "package": [{"trackingNumber": tn, "activity": [
        {"date": "20261109", "time": "180000", "gmtOffset": "-08:00",
         "location": {"address": {"city": "Reno", "stateProvince": "NV", "postalCode": "89502", "countryCode": "US"}},
         "status": {"type": "I", "code": "OR", "description": "Origin scan"}}]}]}]}})
}

async fn fake_carriers() -> (String, Shared) {
    let log: Shared = Arc::new(Mutex::new(Log::default()));
    let app = Router::new()
        .route(
            "/security/v1/oauth/token",
            post(|State(log): State<Shared>, headers: HeaderMap, body: String| async move {
                record(&log, "ups-token", &headers);
                // Basic base64("ups-id:ups-secret")
                let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Basic dXBzLWlkOnVwcy1zZWNyZXQ=");
                if !ok || body != "grant_type=client_credentials" {
                    return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
                }
                let n = log.lock().unwrap().requests.iter().filter(|r| r.0 == "ups-token").count();
                Json(json!({"access_token": format!("ups-token-{n}"), "expires_in": "14399", "token_type": "Bearer"})).into_response()
            }),
        )
        .route(
            "/api/track/v1/details/{tn}",
            get(|State(log): State<Shared>, Path(tn): Path<String>, headers: HeaderMap| async move {
                record(&log, "ups-track", &headers);
                let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
                let revoke = std::mem::take(&mut log.lock().unwrap().revoke_next);
                if revoke || !bearer.starts_with("Bearer ups-token-") || headers.get("transId").is_none() {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                if tn == UPS_UNKNOWN {
                    return (StatusCode::NOT_FOUND, Json(json!({"response": {"errors": [{"code": "TW0001"}]}}))).into_response();
                }
                Json(ups_body(&tn)).into_response()
            }),
        )
        .route(
            "/oauth/token",
            post(|State(log): State<Shared>, headers: HeaderMap, body: String| async move {
                record(&log, "fedex-token", &headers);
                if body != "grant_type=client_credentials&client_id=fx-id&client_secret=fx%20secret" {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                Json(json!({"access_token": "fx-token", "expires_in": 3599})).into_response()
            }),
        )
        .route(
            "/track/v1/trackingnumbers",
            post(|State(log): State<Shared>, headers: HeaderMap, Json(body): Json<Value>| async move {
                record(&log, "fedex-track", &headers);
                let tn = body["trackingInfo"][0]["trackingNumberInfo"]["trackingNumber"].as_str().unwrap_or("").to_string();
                Json(json!({"output": {"completeTrackResults": [{"trackingNumber": tn, "trackResults": [
                    {"trackingNumberInfo": {"trackingNumber": tn}, "scanEvents": [
                        {"date": "2026-11-09T15:00:00-06:00", "eventType": "DL", "eventDescription": "Delivered",
                         "scanLocation": {"city": "Austin", "stateOrProvinceCode": "TX", "postalCode": "78701", "countryCode": "US"}},
                        {"date": "2026-11-08T09:00:00-06:00", "eventType": "PU", "eventDescription": "Picked up",
                         "scanLocation": {"city": "Memphis", "stateOrProvinceCode": "TN", "postalCode": "38118", "countryCode": "US"}}
                    ]}]}]}}))
            }),
        )
        .route(
            "/oauth2/v3/token",
            post(|State(log): State<Shared>, headers: HeaderMap| async move {
                record(&log, "usps-token", &headers);
                Json(json!({"access_token": "usps-token", "expires_in": 28799}))
            }),
        )
        .route(
            "/tracking/v3/tracking/{tn}",
            get(|State(log): State<Shared>, Path(tn): Path<String>, headers: HeaderMap| async move {
                record(&log, "usps-track", &headers);
                Json(json!({"trackingNumber": tn, "trackingEvents": [
                    {"eventType": "Out for Delivery", "eventTimestamp": "2026-11-10T07:00:00", "GMTTimestamp": "2026-11-10T13:00:00Z",
                     "GMTOffset": "-06:00", "eventCity": "AUSTIN", "eventState": "TX", "eventZIP": "78701", "eventCode": "OF"}]}))
            }),
        )
        .route(
            "/track/shipments",
            get(|State(log): State<Shared>, Query(q): Query<HashMap<String, String>>, headers: HeaderMap| async move {
                record(&log, "dhl-track", &headers);
                if headers.get("dhl-api-key").and_then(|v| v.to_str().ok()) != Some("dhl-key") {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                let tn = q.get("trackingNumber").cloned().unwrap_or_default();
                Json(json!({"shipments": [{"id": tn, "service": "parcel-de", "events": [
                    {"timestamp": "2026-11-09T10:00:00+01:00", "statusCode": "transit", "description": "In transit",
                     "location": {"address": {"addressLocality": "Leipzig", "postalCode": "04109", "countryCode": "DE"}}}]}]}))
                .into_response()
            }),
        )
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, log)
}

fn apis(base: &str, ups_rate: f64) -> Vec<CarrierApi> {
    let oauth = |id: &str, secret: &str| CarrierAuth::OAuth { client_id: id.into(), client_secret: secret.into() };
    vec![
        CarrierApi {
            carrier: "ups".into(),
            base_url: base.into(),
            auth: oauth("ups-id", "ups-secret"),
            requests_per_second: ups_rate,
        },
        CarrierApi {
            carrier: "fedex".into(),
            base_url: base.into(),
            auth: oauth("fx-id", "fx secret"),
            requests_per_second: 50.0,
        },
        CarrierApi {
            carrier: "usps".into(),
            base_url: base.into(),
            auth: oauth("usps-id", "usps-secret"),
            requests_per_second: 50.0,
        },
        CarrierApi {
            carrier: "dhl".into(),
            base_url: base.into(),
            auth: CarrierAuth::ApiKey("dhl-key".into()),
            requests_per_second: 50.0,
        },
    ]
}

async fn parcels(app: &TestApp, parcels: &[(&str, &str)]) {
    let mut order = common::order_json("POLL-1");
    order["items"] = json!([{"sku": "MUG", "quantity": 10, "unit_price": "1.00"}]);
    assert_eq!(app.put_order(&order).await.status, 201);
    for (carrier, tn) in parcels {
        let r = app
            .add_shipment(
                "POLL-1",
                &json!({"carrier": carrier, "tracking_number": tn, "items": [{"sku": "MUG", "quantity": 1}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
}

fn count(log: &Shared, path: &str) -> usize {
    log.lock().unwrap().requests.iter().filter(|r| r.0 == path).count()
}

#[tokio::test]
async fn each_carrier_is_asked_in_its_own_shape_and_the_answers_move_the_parcels() {
    let app = spawn_app().await;
    let (base, log) = fake_carriers().await;
    parcels(&app, &[("ups", UPS), ("fedex", FEDEX), ("usps", USPS), ("dhl", DHL), ("ups", UPS_UNKNOWN)]).await;
    let poller = Poller::new(app.milepost.clone(), apis(&base, 50.0));

    let report = poller.poll_due(100).await.unwrap();
    assert_eq!(report.polled, 5, "{report:?}");
    assert_eq!(report.failures, 0, "{report:?}");
    assert!(report.accepted >= 5, "{report:?}");
    let order = app.order("POLL-1").await.body;
    let status = |tn: &str| {
        order["shipments"].as_array().unwrap().iter().find(|s| s["tracking_number"] == tn).unwrap()["status"].clone()
    };
    assert_eq!(status(UPS), "handed_to_carrier");
    assert_eq!(status(FEDEX), "delivered");
    assert_eq!(status(USPS), "out_for_delivery");
    assert_eq!(status(DHL), "in_transit");
    assert_eq!(status(UPS_UNKNOWN), "pending", "a number the carrier does not know yet");
    assert_eq!(count(&log, "ups-token"), 1, "one token for both UPS numbers");
    assert_eq!(count(&log, "fedex-token"), 1);
    assert!(log.lock().unwrap().requests.iter().any(|r| r.0 == "usps-track" && r.2 == "Bearer usps-token"));

    // Nothing is due right after a round.
    assert_eq!(poller.poll_due(100).await.unwrap().polled, 0);

    // Forty minutes on, only the parcel out for delivery is due again.
    app.clock.set(common::test_start() + Duration::minutes(40));
    let report = poller.poll_due(100).await.unwrap();
    assert_eq!(report.polled, 1, "{report:?}");
    assert_eq!(count(&log, "usps-track"), 2);
    assert_eq!(report.duplicates, 1, "the same scan again adds nothing");

    // A day on, every parcel but the delivered one is asked again; the token is reused.
    app.clock.set(common::test_start() + Duration::hours(24));
    let report = poller.poll_due(100).await.unwrap();
    assert_eq!(report.polled, 4, "{report:?}");
    assert_eq!(count(&log, "fedex-track"), 1, "a delivered parcel is never polled again");
    assert_eq!(count(&log, "ups-token"), 1, "the cached token is still valid");
}

#[tokio::test]
async fn a_revoked_token_fails_one_poll_and_the_next_round_fetches_a_new_one() {
    let app = spawn_app().await;
    let (base, log) = fake_carriers().await;
    parcels(&app, &[("ups", UPS)]).await;
    let poller = Poller::new(app.milepost.clone(), apis(&base, 50.0));
    log.lock().unwrap().revoke_next = true;
    let report = poller.poll_due(100).await.unwrap();
    assert_eq!(report.failures, 1);
    app.clock.set(common::test_start() + Duration::hours(2));
    let report = poller.poll_due(100).await.unwrap();
    assert_eq!((report.polled, report.failures), (1, 0), "{report:?}");
    assert_eq!(count(&log, "ups-token"), 2, "a fresh token after the 401");
}

#[tokio::test]
async fn requests_to_one_carrier_are_spaced_by_its_rate() {
    let app = spawn_app().await;
    let (base, log) = fake_carriers().await;
    parcels(&app, &[("ups", "1ZPOLLTEST00000011"), ("ups", "1ZPOLLTEST00000012"), ("ups", "1ZPOLLTEST00000013")]).await;
    let poller = Poller::new(app.milepost.clone(), apis(&base, 5.0));
    assert_eq!(poller.poll_due(100).await.unwrap().polled, 3);
    let times: Vec<Instant> =
        log.lock().unwrap().requests.iter().filter(|r| r.0.starts_with("ups")).map(|r| r.1).collect();
    assert_eq!(times.len(), 4, "one token and three tracks");
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= std::time::Duration::from_millis(180), "requests only {gap:?} apart at 5 per second");
    }
}
