//! What an outsider can try without a key: replay a captured webhook delivery, move its
//! timestamp to make it look fresh, and probe the tracking page for which orders exist. Each
//! attempt is refused or answered so that it learns nothing.

mod common;
mod tracking_support;

use common::{order_json, spawn_app};
use milepost_ingest::signature::sign_milepost;
use serde_json::json;
use std::time::{Duration, Instant};
use tracking_support::seed_delivered;

const SECRET: &str = "whsec_replay_7c1e9d3b";
const TRACKING: &str = "1ZREPLAY000000001";

fn delivery() -> Vec<u8> {
    json!({"trackResponse": {"shipment": [{"inquiryNumber": TRACKING, "package": [{
        "trackingNumber": TRACKING,
        "activity": [{"date": "20261103", "time": "101500", "gmtOffset": "-06:00",
            "location": {"address": {"city": "Boise", "stateProvince": "ID", "countryCode": "US"}},
            "status": {"type": "I", "code": "DP", "description": "Departed from facility"}}]}]}]}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_replayed_or_re_timestamped_webhook_delivery_stores_nothing_new() {
    let app = spawn_app().await;
    assert_eq!(app.put_order(&order_json("RP-1")).await.status, 201);
    assert_eq!(app.add_shipment("RP-1", &json!({"carrier": "ups", "tracking_number": TRACKING})).await.status, 201);
    let id = app.create_integration("ups", SECRET).await;
    let path = format!("/webhooks/carriers/{id}");
    let body = delivery();
    let sent_at = common::test_start().timestamp();
    let captured = sign_milepost(SECRET.as_bytes(), sent_at, &body);
    let post = |signature: String| {
        let (app, path, body) = (&app, path.clone(), body.clone());
        async move { app.post_bytes(&path, None, "application/json", &[("Milepost-Signature", signature)], body).await }
    };

    let first = post(captured.clone()).await;
    assert_eq!((first.status, &first.body["accepted"]), (200, &json!(1)), "{}", first.body);
    // Replayed at once, inside the tolerance: a fact seen twice, counted, not stored again.
    let replay = post(captured.clone()).await;
    assert_eq!((replay.status, &replay.body["duplicate"]), (200, &json!(1)), "{}", replay.body);

    // The captured MAC under a fresher timestamp does not verify: the timestamp is signed.
    let v1 = captured.split("v1=").nth(1).expect("v1");
    for moved in [sent_at + 60, sent_at + 600, sent_at - 1] {
        let reply = post(format!("t={moved},v1={v1}")).await;
        assert_eq!(reply.status, 401, "t moved to {moved}: {}", reply.body);
    }
    // Replayed after the five minutes' tolerance: refused.
    app.clock.set(common::test_start() + chrono::Duration::seconds(301));
    let late = post(captured).await;
    assert_eq!(late.status, 401, "{}", late.body);
    assert_eq!(late.content_type, "application/problem+json");

    let order = app.order("RP-1").await.body;
    assert_eq!(order["shipments"][0]["timeline"].as_array().unwrap().len(), 1, "stored once: {order}");
}

async fn timed_lookup(app: &common::TestApp, path: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let response = app.client.get(format!("{}{}", app.base, path)).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, body, started.elapsed())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn a_wrong_email_and_an_unknown_order_look_the_same_in_status_body_and_time() {
    let app = spawn_app().await;
    seed_delivered(&app, "EN-1").await;
    let wrong_email = "/track?account=acme&order_number=EN-1&email=eve%40example.com";
    let unknown_order = "/track?account=acme&order_number=EN-9&email=eve%40example.com";
    let (mut wrong_times, mut unknown_times) = (vec![], vec![]);
    // Interleaved, so that whatever else the machine does falls on both alike.
    for _ in 0..25 {
        let (status, body, time) = timed_lookup(&app, wrong_email).await;
        assert_eq!(status, 404);
        wrong_times.push(time);
        let (unknown_status, unknown_body, time) = timed_lookup(&app, unknown_order).await;
        assert_eq!(unknown_status, 404);
        unknown_times.push(time);
        assert_eq!(body.replace("EN-1", "EN-x"), unknown_body.replace("EN-9", "EN-x"));
    }
    let (wrong, unknown) = (median(wrong_times), median(unknown_times));
    let (fast, slow) = if wrong < unknown { (wrong, unknown) } else { (unknown, wrong) };
    assert!(
        slow <= fast * 2 + Duration::from_millis(5),
        "the medians differ too much: wrong e-mail {wrong:?}, unknown order {unknown:?}"
    );
}

#[tokio::test]
async fn the_lookup_limit_holds_across_orders_and_spares_other_addresses_pages() {
    let app = common::spawn_app_with(|s| s.track_rate_limit = 5).await;
    seed_delivered(&app, "EN-2").await;
    // An enumerator trying a different order number each time is limited like a repeat.
    let mut statuses = vec![];
    for n in 0..8 {
        let (status, _, _) =
            timed_lookup(&app, &format!("/track?account=acme&order_number=EN-{n}00&email=a%40b.co")).await;
        statuses.push(status);
    }
    assert_eq!(statuses, [404, 404, 404, 404, 404, 429, 429, 429]);
    // Even the right pair is refused while limited: the limit is not a hint.
    let (status, _, _) = timed_lookup(&app, &tracking_support::lookup_path("EN-2")).await;
    assert_eq!(status, 429);
}
