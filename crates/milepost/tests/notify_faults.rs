//! The outbox against a merchant's webhook receiver that fails: answering 500 the message is
//! retried with growing waits, then dead-lettered, never dropped; once the receiver is well and
//! the dead letter is resent it arrives exactly once.

mod common;

use common::{TestApp, carrier_event, order_json, spawn_app};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

const TRACKING: &str = "1ZHOOKFAIL000001";

/// A receiver that answers with `status` (changeable) and records each idempotency key it saw.
async fn receiver(status: Arc<AtomicU16>) -> (String, Arc<Mutex<Vec<(u16, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (record, status) = (record.clone(), status.clone());
            async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let answer = status.load(Ordering::SeqCst);
                record.lock().unwrap().push((answer, key));
                axum::http::StatusCode::from_u16(answer).unwrap()
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

async fn deliver(app: &TestApp) -> milepost_notify::DeliveryReport {
    let mut total = milepost_notify::DeliveryReport::default();
    loop {
        let step = app.notifier.deliver_due().await.expect("delivery step");
        total.claimed += step.claimed;
        total.sent += step.sent;
        total.retried += step.retried;
        total.dead += step.dead;
        if step.claimed == 0 {
            return total;
        }
    }
}

async fn webhook_notifications(app: &TestApp) -> Vec<Value> {
    let order = app.order("HF-1").await.body;
    order["notifications"].as_array().unwrap().iter().filter(|n| n["channel"] == "webhook").cloned().collect()
}

#[tokio::test]
async fn a_receiver_answering_500_gets_retries_then_a_dead_letter_and_after_a_resend_each_message_once() {
    let app = spawn_app().await;
    let status = Arc::new(AtomicU16::new(500));
    let (url, seen) = receiver(status.clone()).await;
    let settings = json!({"webhook_url": url, "webhook_secret": "merchant-secret-0123456789"});
    let r = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut order = order_json("HF-1");
    order["promised_by"] = json!("2026-11-20");
    assert_eq!(app.put_order(&order).await.status, 201);
    assert_eq!(app.add_shipment("HF-1", &json!({"carrier": "ups", "tracking_number": TRACKING})).await.status, 201);
    let r = app.post_events(json!([carrier_event(TRACKING, "a", "delivery_attempted", "2026-11-10T11:00:00Z")])).await;
    assert_eq!(r.status, 200);
    let queued = webhook_notifications(&app).await;
    assert!(!queued.is_empty(), "the failed attempt queued webhook messages");

    let first = deliver(&app).await;
    assert_eq!((first.sent, first.retried), (0, queued.len() as u32));
    let mut at = common::test_start();
    for _ in 0..10 {
        at += chrono::Duration::hours(3);
        app.clock.set(at);
        deliver(&app).await;
    }
    let after = webhook_notifications(&app).await;
    assert!(after.iter().all(|n| n["state"] == "failed"), "{after:#?}");
    let attempts = after[0]["attempts"].as_u64().unwrap();
    assert!(attempts > 1, "retried before giving up");
    assert_eq!(seen.lock().unwrap().len(), queued.len() * attempts as usize, "every attempt reached the receiver");
    let dead = app.get("/api/v1/notifications/dead", &app.admin).await.body;
    assert_eq!(dead["notifications"].as_array().unwrap().len(), queued.len(), "nothing dropped: all dead-lettered");

    status.store(204, Ordering::SeqCst);
    for n in &after {
        let id = n["id"].as_str().unwrap();
        let resent = app.post_json(&format!("/api/v1/notifications/{id}/resend"), &app.admin, &json!({})).await;
        assert_eq!(resent.status, 200, "{}", resent.body);
    }
    assert_eq!(deliver(&app).await.sent as usize, queued.len());
    app.clock.set(at + chrono::Duration::days(2));
    assert_eq!(deliver(&app).await.claimed, 0);
    let delivered: Vec<String> =
        seen.lock().unwrap().iter().filter(|(status, _)| *status == 204).map(|(_, key)| key.clone()).collect();
    let distinct: std::collections::BTreeSet<&String> = delivered.iter().collect();
    assert_eq!((delivered.len(), distinct.len()), (queued.len(), queued.len()), "each message arrived once");
    assert!(webhook_notifications(&app).await.iter().all(|n| n["state"] == "sent"));
}
