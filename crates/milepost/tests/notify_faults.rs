//! The outbox against peers that fail. A merchant's webhook receiver answering 500: the message
//! is retried with growing waits, then dead-lettered, never dropped; once the receiver is well and
//! the dead letter is resent it arrives exactly once. A mail server or a receiver that takes the
//! connection and never answers: the send gives up after the send timeout, the message is retried
//! later (not lost, not doubled), the other messages go out meanwhile, and it goes out once when
//! the peer answers again.

mod common;

use common::{TestApp, carrier_event, order_json, spawn_app, spawn_app_with, test_start};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const TRACKING: &str = "1ZHOOKFAIL000001";
/// The send timeout of the hanging-peer tests: short, so a test does not wait 15 s per send.
const SEND_TIMEOUT_MS: u64 = 400;

/// Answer `0` in a receiver's record: the request arrived and was never answered.
const NO_ANSWER: u16 = 0;

/// A receiver that answers with `status` (changeable) and records each idempotency key it saw.
async fn receiver(status: Arc<AtomicU16>) -> (String, Arc<Mutex<Vec<(u16, String)>>>) {
    hanging_receiver(status, Arc::new(AtomicBool::new(false))).await
}

/// As `receiver`, but while `hang` is set it reads each request and never answers.
async fn hanging_receiver(status: Arc<AtomicU16>, hang: Arc<AtomicBool>) -> (String, Arc<Mutex<Vec<(u16, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (record, status, hang) = (record.clone(), status.clone(), hang.clone());
            async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                if hang.load(Ordering::SeqCst) {
                    record.lock().unwrap().push((NO_ANSWER, key.clone()));
                    std::future::pending::<()>().await;
                }
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

/// A mail server on 127.0.0.1. While `hang` is set it takes each connection and never says a
/// word (not even the greeting); otherwise it speaks enough SMTP to take mail, and records each
/// mail's `Message-ID`.
struct MailServer {
    url: String,
    hang: Arc<AtomicBool>,
    message_ids: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicU16>,
}

impl MailServer {
    async fn start(hang: bool) -> MailServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let server = MailServer {
            url,
            hang: Arc::new(AtomicBool::new(hang)),
            message_ids: Arc::new(Mutex::new(Vec::new())),
            connections: Arc::new(AtomicU16::new(0)),
        };
        let (hang, ids, connections) = (server.hang.clone(), server.message_ids.clone(), server.connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                connections.fetch_add(1, Ordering::SeqCst);
                if hang.load(Ordering::SeqCst) {
                    // Keep the socket open and silent until the test ends.
                    tokio::spawn(async move {
                        let _held = socket;
                        std::future::pending::<()>().await;
                    });
                } else {
                    tokio::spawn(smtp_session(socket, ids.clone()));
                }
            }
        });
        server
    }
}

async fn smtp_session(socket: tokio::net::TcpStream, message_ids: Arc<Mutex<Vec<String>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 test.invalid ESMTP ready\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test.invalid\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" | "RSET" | "MAIL" | "RCPT" => b"250 ok\r\n",
            "DATA" => {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut id = String::new();
                while let Ok(Some(body_line)) = lines.next_line().await {
                    if body_line == "." {
                        break;
                    }
                    if body_line.to_ascii_lowercase().starts_with("message-id:") {
                        id = body_line["message-id:".len()..].trim().to_string();
                    }
                }
                message_ids.lock().unwrap().push(id);
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 not implemented\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// An app that mails through `mail` and posts webhooks to `webhook_url`, with the short send
/// timeout, and an order whose parcel just had a failed delivery attempt: that queues a customer
/// e-mail and the merchant's webhook messages.
async fn app_with_peers(mail: &MailServer, webhook_url: &str) -> TestApp {
    let smtp_url = mail.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(smtp_url);
        s.smtp_from = Some("Acme Shop <orders@acme.test>".into());
        s.send_timeout_ms = SEND_TIMEOUT_MS;
    })
    .await;
    let settings = json!({"webhook_url": webhook_url, "webhook_secret": "merchant-secret-0123456789"});
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
    app
}

async fn notifications_on(app: &TestApp, channel: &str) -> Vec<Value> {
    let order = app.order("HF-1").await.body;
    order["notifications"].as_array().unwrap().iter().filter(|n| n["channel"] == channel).cloned().collect()
}

#[tokio::test]
async fn a_mail_server_that_never_answers_delays_the_mail_but_not_the_webhooks_and_it_goes_out_once_later() {
    let mail = MailServer::start(true).await;
    let (url, seen) = receiver(Arc::new(AtomicU16::new(204))).await;
    let app = app_with_peers(&mail, &url).await;
    let emails = notifications_on(&app, "email").await;
    let hooks = notifications_on(&app, "webhook").await;
    assert!(!emails.is_empty() && !hooks.is_empty(), "an e-mail and webhooks are queued");

    let started = Instant::now();
    let step = deliver(&app).await;
    assert!(started.elapsed() < Duration::from_secs(10), "the worker was held: {:?}", started.elapsed());
    assert!(mail.connections.load(Ordering::SeqCst) >= 1, "the mail server was reached and held the connection");
    assert_eq!((step.sent, step.retried), (hooks.len() as u32, emails.len() as u32), "{step:?}");
    let waiting = notifications_on(&app, "email").await;
    assert!(waiting.iter().all(|n| n["state"] == "pending" && n["attempts"] == 1), "{waiting:#?}");
    assert!(waiting.iter().all(|n| n["last_error"].as_str().unwrap_or("").contains("no answer")), "{waiting:#?}");
    assert!(notifications_on(&app, "webhook").await.iter().all(|n| n["state"] == "sent"));
    assert!(mail.message_ids.lock().unwrap().is_empty());

    // The mail server answers again: at the retry the mail goes out, once.
    mail.hang.store(false, Ordering::SeqCst);
    app.clock.set(test_start() + chrono::Duration::minutes(3));
    assert_eq!(deliver(&app).await.sent, emails.len() as u32);
    app.clock.set(test_start() + chrono::Duration::days(2));
    assert_eq!(deliver(&app).await.claimed, 0);
    let ids = mail.message_ids.lock().unwrap().clone();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (emails.len(), emails.len()), "each mail arrived once: {ids:?}");
    assert!(notifications_on(&app, "email").await.iter().all(|n| n["state"] == "sent" && n["attempts"] == 2));
    let answered = seen.lock().unwrap().iter().filter(|(status, _)| *status == 204).count();
    assert_eq!(answered, hooks.len(), "the webhooks went out once each");
}

#[tokio::test]
async fn a_webhook_receiver_that_never_answers_is_retried_while_mail_goes_out_and_gets_each_message_once_it_answers() {
    let mail = MailServer::start(false).await;
    let hang = Arc::new(AtomicBool::new(true));
    let (url, seen) = hanging_receiver(Arc::new(AtomicU16::new(204)), hang.clone()).await;
    let app = app_with_peers(&mail, &url).await;
    let emails = notifications_on(&app, "email").await;
    let hooks = notifications_on(&app, "webhook").await;

    let started = Instant::now();
    let step = deliver(&app).await;
    assert!(started.elapsed() < Duration::from_secs(10), "the worker was held: {:?}", started.elapsed());
    assert_eq!((step.sent, step.retried), (emails.len() as u32, hooks.len() as u32), "{step:?}");
    assert_eq!(mail.message_ids.lock().unwrap().len(), emails.len(), "the mail went out meanwhile");
    let waiting = notifications_on(&app, "webhook").await;
    assert!(waiting.iter().all(|n| n["state"] == "pending" && n["attempts"] == 1), "{waiting:#?}");
    assert_eq!(seen.lock().unwrap().len(), hooks.len(), "each webhook reached the receiver, unanswered");

    hang.store(false, Ordering::SeqCst);
    app.clock.set(test_start() + chrono::Duration::minutes(3));
    assert_eq!(deliver(&app).await.sent, hooks.len() as u32);
    app.clock.set(test_start() + chrono::Duration::days(2));
    assert_eq!(deliver(&app).await.claimed, 0);
    let answered: Vec<String> =
        seen.lock().unwrap().iter().filter(|(status, _)| *status == 204).map(|(_, key)| key.clone()).collect();
    let distinct: std::collections::BTreeSet<&String> = answered.iter().collect();
    assert_eq!((answered.len(), distinct.len()), (hooks.len(), hooks.len()), "each message answered once");
    assert!(notifications_on(&app, "webhook").await.iter().all(|n| n["state"] == "sent" && n["attempts"] == 2));
    assert_eq!(mail.message_ids.lock().unwrap().len(), emails.len(), "no mail doubled");
}
