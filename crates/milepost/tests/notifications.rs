//! Notifications end to end: events go in over the API, the outbox fills in the same
//! transaction, and the worker (driven one step at a time on the fixed clock) delivers to a real
//! SMTP server speaking the protocol on 127.0.0.1 and a real HTTP receiver that checks the
//! `Milepost-Signature`. Nothing of the sending code is mocked.

mod common;

use common::{TestApp, carrier_event, spawn_app_with, test_start};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const TRACKING: &str = "1Z999AA10123456784";
const WEBHOOK_SECRET: &str = "whsec-0123456789abcdef";

/// One mail as the test server received it.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

impl Mail {
    /// The mail with quoted-printable soft line breaks and escapes undone.
    fn decoded(&self) -> String {
        let joined = self.data.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(b);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
}

/// A tiny SMTP server: enough of RFC 5321 for a client to deliver (EHLO/HELO, MAIL FROM,
/// RCPT TO, DATA, RSET, NOOP, QUIT). It can be stopped (the port then refuses connections, as
/// a mail server that is down does) and started again on the same port.
struct SmtpServer {
    addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let task = Some(tokio::spawn(serve_smtp(listener, mails.clone())));
        SmtpServer { addr, mails, task }
    }

    /// A server that is down: its port is known but refuses connections.
    async fn down() -> SmtpServer {
        let mut server = SmtpServer::start().await;
        server.stop().await;
        server
    }

    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("the port is free again");
        self.task = Some(tokio::spawn(serve_smtp(listener, self.mails.clone())));
    }

    fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|m| m.to.iter().any(|t| t.contains(address))).collect()
    }
}

async fn serve_smtp(listener: TcpListener, mails: Arc<Mutex<Vec<Mail>>>) {
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        let Ok((socket, _)) = listener.accept().await else { return };
        sessions.spawn(smtp_session(socket, mails.clone()));
    }
}

async fn smtp_session(socket: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 test.invalid ESMTP ready\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test.invalid\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "RSET" => {
                to.clear();
                b"250 ok\r\n"
            }
            "MAIL" => b"250 sender ok\r\n",
            "RCPT" => {
                to.push(line.clone());
                b"250 recipient ok\r\n"
            }
            "DATA" => {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                while let Ok(Some(body_line)) = lines.next_line().await {
                    if body_line == "." {
                        break;
                    }
                    data.push_str(body_line.strip_prefix('.').unwrap_or(&body_line));
                    data.push('\n');
                }
                mails.lock().unwrap().push(Mail { to: std::mem::take(&mut to), data });
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

/// One webhook delivery as the receiver saw it.
#[derive(Debug, Clone)]
struct Delivery {
    raw: String,
    authorization: String,
    body: Value,
    idempotency_key: String,
    signature_ok: bool,
}

/// A real HTTP endpoint (axum on 127.0.0.1:0) that records deliveries and checks their
/// signature the way the docs tell merchants to.
async fn start_receiver() -> (String, Arc<Mutex<Vec<Delivery>>>) {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let record = record.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let signature = header("milepost-signature");
                let delivery = Delivery {
                    raw: String::from_utf8_lossy(&body).into_owned(),
                    authorization: header("authorization"),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    idempotency_key: header("idempotency-key"),
                    signature_ok: verify(&signature, &body),
                };
                record.lock().unwrap().push(delivery);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

/// `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as the docs describe.
fn verify(header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_string()),
            Some(("v1", value)) => v1 = Some(value.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn app_with_mail(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(move |s| {
        s.smtp_url = Some(url);
        s.smtp_from = Some("Acme Shop <orders@acme.test>".into());
    })
    .await
}

/// An order due well after the test's clock, so no `late` exception muddies the story.
fn routine_order(number: &str) -> Value {
    let mut order = common::order_json(number);
    order["promised_by"] = json!("2026-11-20");
    order
}

async fn order_with_parcel(app: &TestApp, number: &str) {
    assert_eq!(app.put_order(&routine_order(number)).await.status, 201);
    let shipment = json!({"carrier": "ups", "service": "ground", "tracking_number": TRACKING, "items": []});
    assert_eq!(app.add_shipment(number, &shipment).await.status, 201);
}

fn confirmed(number: &str) -> Value {
    json!({"source": "channel", "source_event_id": format!("{number}-confirmed"), "order_number": number,
           "milestone": "confirmed", "occurred_at": "2026-11-08T09:00:00Z"})
}

/// Every carrier scan of a routine delivery, in the order they happened.
fn every_scan() -> Vec<Value> {
    vec![
        carrier_event(TRACKING, "s1", "label_created", "2026-11-08T12:00:00Z"),
        carrier_event(TRACKING, "s2", "handed_to_carrier", "2026-11-08T18:00:00Z"),
        carrier_event(TRACKING, "s3", "in_transit", "2026-11-08T23:00:00Z"),
        carrier_event(TRACKING, "s4", "in_transit", "2026-11-09T04:00:00Z"),
        carrier_event(TRACKING, "s5", "in_transit", "2026-11-09T20:00:00Z"),
        carrier_event(TRACKING, "s6", "out_for_delivery", "2026-11-10T07:00:00Z"),
        carrier_event(TRACKING, "s7", "delivered", "2026-11-10T11:00:00Z"),
    ]
}

/// Drives the worker until nothing more is due now.
async fn deliver(app: &TestApp) -> milepost_notify::DeliveryReport {
    let mut total = milepost_notify::DeliveryReport::default();
    loop {
        let step = app.notifier.deliver_due().await.expect("delivery step");
        total.claimed += step.claimed;
        total.sent += step.sent;
        total.retried += step.retried;
        total.dead += step.dead;
        total.suppressed += step.suppressed;
        if step.claimed == 0 {
            return total;
        }
    }
}

async fn notifications(app: &TestApp, number: &str) -> Vec<Value> {
    let reply = app.order(number).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["notifications"].as_array().expect("notifications").clone()
}

fn customer_milestones(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter(|n| n["audience"] == "customer")
        .map(|n| n["milestone"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn subjects(mails: &[Mail]) -> Vec<String> {
    mails.iter().map(|m| m.header("Subject").unwrap_or_default()).collect()
}

/// Posts each batch and delivers after it; returns the customer's mail subjects.
async fn run_story(batches: Vec<Vec<Value>>) -> (Vec<String>, Vec<String>) {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    order_with_parcel(&app, "R-1").await;
    for batch in batches {
        let reply = app.post_events(Value::Array(batch)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        deliver(&app).await;
    }
    let list = notifications(&app, "R-1").await;
    assert!(list.iter().all(|n| n["state"] == "sent"), "{list:#?}");
    (customer_milestones(&list), subjects(&smtp.mails_to("ana@example.com")))
}

#[tokio::test]
async fn a_routine_order_through_every_carrier_scan_sends_at_most_four_customer_messages() {
    let mut batches = vec![vec![confirmed("R-1")]];
    batches.extend(every_scan().into_iter().map(|e| vec![e]));
    let (milestones, subjects) = run_story(batches).await;
    assert_eq!(milestones, ["confirmed", "shipped", "out_for_delivery", "delivered"]);
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    assert!(subjects[1].contains(": Your order has shipped (order R-1)"), "{subjects:?}");
    assert!(subjects[3].contains(": Your order was delivered (order R-1)"), "{subjects:?}");
}

#[tokio::test]
async fn the_same_events_duplicated_and_out_of_order_send_the_same_messages() {
    let s = every_scan();
    let batches = vec![
        vec![s[0].clone(), confirmed("R-1"), s[0].clone(), confirmed("R-1")],
        vec![s[3].clone(), s[1].clone(), s[2].clone(), s[0].clone(), s[3].clone()],
        vec![s[4].clone(), s[1].clone(), confirmed("R-1")],
        vec![s[5].clone(), s[2].clone()],
        vec![s[0].clone(), s[5].clone()],
        vec![s[6].clone(), s[5].clone(), s[4].clone()],
        vec![s[6].clone()],
    ];
    let (shuffled, _) = run_story(batches).await;
    let mut in_order = vec![vec![confirmed("R-1")]];
    in_order.extend(every_scan().into_iter().map(|e| vec![e]));
    let (expected, _) = run_story(in_order).await;
    assert_eq!(shuffled, expected);
}

#[tokio::test]
async fn a_batch_bringing_out_for_delivery_and_delivered_tells_the_customer_only_delivered() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    order_with_parcel(&app, "B-1").await;
    let s = every_scan();
    app.post_events(json!([s[1], s[2]])).await;
    deliver(&app).await;
    // The carrier's batch arrives late, with both last steps at once.
    app.post_events(json!([s[6], s[5]])).await;
    deliver(&app).await;
    // A straggling copy of the earlier step says nothing after delivery.
    app.post_events(json!([carrier_event(TRACKING, "late-ofd", "out_for_delivery", "2026-11-10T08:00:00Z")])).await;
    deliver(&app).await;
    let list = notifications(&app, "B-1").await;
    assert_eq!(customer_milestones(&list), ["shipped", "delivered"]);
    let subjects = subjects(&smtp.mails_to("ana@example.com"));
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(!subjects.iter().any(|s| s.contains("out for delivery")), "{subjects:?}");
}

#[tokio::test]
async fn a_failed_attempt_alerts_the_team_before_the_customer_hears() {
    let smtp = SmtpServer::start().await;
    let (hook_url, hooks) = start_receiver().await;
    let (chat_url, chat) = start_receiver().await;
    let app = app_with_mail(&smtp).await;
    let settings = json!({"webhook_url": hook_url, "webhook_secret": WEBHOOK_SECRET, "alert_email": "ops@acme.test",
                          "chat_webhook_url": chat_url});
    let reply = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["webhook_secret_set"], true);
    assert!(reply.body.get("webhook_secret").is_none(), "the secret is never shown back");
    order_with_parcel(&app, "F-1").await;
    let s = every_scan();
    app.post_events(json!([s[1], s[5]])).await;
    deliver(&app).await;
    let before = smtp.mails().len();

    let attempt = carrier_event(TRACKING, "att", "delivery_attempted", "2026-11-10T11:30:00Z");
    app.post_events(json!([attempt])).await;
    let list = notifications(&app, "F-1").await;
    let position = |pred: &dyn Fn(&Value) -> bool| list.iter().position(pred).expect("queued");
    let alert = position(&|n| n["kind"] == "delivery_failed" && n["channel"] == "email");
    let customer = position(&|n| n["milestone"] == "delivery_attempted" && n["audience"] == "customer");
    assert!(alert < customer, "the alert is queued first: {list:#?}");
    assert_eq!(list[alert]["team"], "customer_care");

    deliver(&app).await;
    let mails = smtp.mails()[before..].to_vec();
    let alert_at = mails.iter().position(|m| m.to.iter().any(|t| t.contains("ops@acme.test"))).expect("alert sent");
    let customer_at =
        mails.iter().position(|m| m.to.iter().any(|t| t.contains("ana@example.com"))).expect("customer told");
    assert!(alert_at < customer_at, "the team hears first");
    assert!(mails[customer_at].header("Subject").unwrap().contains(": We tried to deliver your order (order "));
    // The message carries a signed link that opens the order, and no address in any URL.
    let body = mails[customer_at].decoded();
    let prefix = format!("{}/t/", app.base);
    let start = body.find(&prefix).unwrap_or_else(|| panic!("signed tracking link: {}", mails[customer_at].data));
    let link: String =
        body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/._-~%".contains(*c)).collect();
    assert!(!body.contains("email=ana"), "no e-mail address in a link");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "the link opens the order: {link}");
    assert!(page.text().await.unwrap().contains("F-1"));

    let hooks = hooks.lock().unwrap().clone();
    assert!(hooks.iter().all(|d| d.signature_ok), "every webhook is signed: {hooks:#?}");
    let failed = hooks.iter().find(|d| d.body["kind"] == "delivery_failed").expect("exception webhook");
    assert_eq!(failed.body["type"], "exception.opened");
    assert_eq!(failed.idempotency_key, format!("F-1/{TRACKING}/delivery_failed/internal/webhook"));
    assert!(hooks.iter().any(|d| d.body["milestone"] == "delivery_attempted"));
    let chat = chat.lock().unwrap().clone();
    let text = chat.iter().map(|d| d.body["text"].as_str().unwrap_or("")).collect::<Vec<_>>().join("\n");
    assert!(text.contains("exception delivery_failed on order F-1 for customer_care"), "{text}");
    assert!(!text.contains("tried to deliver"), "chat rooms get staff alerts, not customer notices");
}

#[tokio::test]
async fn with_the_mail_server_down_messages_wait_and_go_out_once_when_it_is_back() {
    let mut smtp = SmtpServer::down().await;
    let app = app_with_mail(&smtp).await;
    order_with_parcel(&app, "D-1").await;
    let s = every_scan();
    app.post_events(json!([confirmed("D-1")])).await;
    app.post_events(json!([s[1]])).await;

    let first = deliver(&app).await;
    assert_eq!((first.claimed, first.sent, first.retried), (2, 0, 2));
    let list = notifications(&app, "D-1").await;
    for n in &list {
        assert_eq!(n["state"], "pending");
        assert_eq!(n["attempts"], 1);
        assert!(n["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{n}");
        assert_eq!(n["next_attempt_at"], (test_start() + chrono::Duration::seconds(30)).to_rfc3339());
    }
    // Nothing is retried before its time, and the wait doubles after each failure.
    assert_eq!(deliver(&app).await.claimed, 0);
    app.clock.set(test_start() + chrono::Duration::seconds(30));
    assert_eq!(deliver(&app).await.retried, 2);
    let list = notifications(&app, "D-1").await;
    assert_eq!(list[0]["next_attempt_at"], (test_start() + chrono::Duration::seconds(90)).to_rfc3339());

    smtp.restart().await;
    app.clock.set(test_start() + chrono::Duration::seconds(90));
    let back = deliver(&app).await;
    assert_eq!(back.sent, 2);
    for minutes in [5, 60, 600] {
        app.clock.set(test_start() + chrono::Duration::minutes(minutes));
        assert_eq!(deliver(&app).await.claimed, 0);
    }
    let mails = smtp.mails_to("ana@example.com");
    assert_eq!(mails.len(), 2, "each message exactly once");
    let ids: std::collections::HashSet<_> = mails.iter().map(|m| m.header("Message-ID").unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(notifications(&app, "D-1").await.iter().all(|n| n["state"] == "sent" && n["attempts"] == 3));
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_dead_lettered_and_can_be_resent() {
    let mut smtp = SmtpServer::down().await;
    let app = app_with_mail(&smtp).await;
    order_with_parcel(&app, "X-1").await;
    app.post_events(json!([every_scan()[1]])).await;
    let mut at = test_start();
    for _ in 0..8 {
        deliver(&app).await;
        at += chrono::Duration::hours(3);
        app.clock.set(at);
    }
    let dead = app.get("/api/v1/notifications/dead", &app.admin).await;
    assert_eq!(dead.status, 200, "{}", dead.body);
    let letters = dead.body["notifications"].as_array().unwrap().clone();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert_eq!(letters[0]["state"], "failed");
    assert_eq!(letters[0]["attempts"], 8);
    assert_eq!(app.get("/api/v1/notifications/dead", &app.support).await.status, 403);

    smtp.restart().await;
    let id = letters[0]["id"].as_str().unwrap();
    let resent = app.post_json(&format!("/api/v1/notifications/{id}/resend"), &app.admin, &json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(resent.body["state"], "pending");
    assert_eq!(deliver(&app).await.sent, 1);
    assert_eq!(smtp.mails_to("ana@example.com").len(), 1);
    let again = app.post_json(&format!("/api/v1/notifications/{id}/resend"), &app.admin, &json!({})).await;
    assert_eq!(again.status, 409, "a sent message is not resent: {}", again.body);
    assert_eq!(app.post_json("/api/v1/notifications/999999/resend", &app.admin, &json!({})).await.status, 404);
}

#[tokio::test]
async fn a_worker_that_claimed_and_died_neither_loses_nor_doubles_the_message() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    order_with_parcel(&app, "W-1").await;
    app.post_events(json!([confirmed("W-1")])).await;
    app.post_events(json!([every_scan()[1]])).await;

    // A worker claims the batch and dies before recording anything.
    let lease = chrono::Duration::minutes(2);
    let orphaned = app.milepost.claim_notifications(lease, 50).await.unwrap();
    assert_eq!(orphaned.len(), 2);
    // While its lease holds, nobody else sends the messages.
    assert_eq!(deliver(&app).await.claimed, 0);
    assert!(smtp.mails().is_empty());
    // When the lease runs out, the next worker takes them and sends each once.
    app.clock.set(test_start() + chrono::Duration::minutes(3));
    assert_eq!(deliver(&app).await.sent, 2);
    // The dead worker coming back cannot record over what the live one did.
    let late = app.milepost.finish_notification(&orphaned[0], milepost_app::notifications::DeliveryOutcome::Sent).await;
    assert!(!late.unwrap(), "a run-out claim records nothing");
    app.clock.set(test_start() + chrono::Duration::hours(1));
    assert_eq!(deliver(&app).await.claimed, 0);
    assert_eq!(smtp.mails_to("ana@example.com").len(), 2);
    let list = notifications(&app, "W-1").await;
    assert!(list.iter().all(|n| n["state"] == "sent" && n["attempts"] == 2), "{list:#?}");
}

#[tokio::test]
async fn bad_notification_settings_are_refused_naming_the_field() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    let put = |body: Value| {
        let app = &app;
        async move {
            app.send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(body.to_string()))
                .await
        }
    };
    let reply = put(json!({"webhook_url": "ftp://nope", "webhook_secret": WEBHOOK_SECRET})).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "webhook_url");
    let reply = put(json!({"webhook_url": "https://hooks.acme.test/x"})).await;
    assert_eq!(reply.body["errors"][0]["field"], "webhook_secret");
    let reply = put(json!({"alert_email": "nobody"})).await;
    assert_eq!(reply.body["errors"][0]["field"], "alert_email");
    let reply = put(json!({"alert": "x"})).await;
    assert!(reply.status >= 400 && reply.status < 500, "unknown fields are refused");
    let as_ingest =
        app.send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.ingest), Some("{}".into())).await;
    assert_eq!(as_ingest.status, 403);
}

#[tokio::test]
async fn a_customer_with_a_phone_gets_a_short_sms_through_the_providers_form_post() {
    let smtp = SmtpServer::start().await;
    let (receiver, posts) = start_receiver().await;
    let sms_url = receiver.replace("http://", "http://AC123:secret-token@");
    let (smtp_url, sms) = (smtp.url(), sms_url.clone());
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(smtp_url);
        s.smtp_from = Some("orders@acme.test".into());
        s.sms_url = Some(sms);
        s.sms_from = Some("+15550100".into());
    })
    .await;
    let mut order = routine_order("S-1");
    order["customer"]["phone"] = json!("+15125550123");
    assert_eq!(app.put_order(&order).await.status, 201);
    let shipment = json!({"carrier": "ups", "service": "ground", "tracking_number": TRACKING, "items": []});
    assert_eq!(app.add_shipment("S-1", &shipment).await.status, 201);
    app.post_events(json!([every_scan()[1]])).await;
    let report = deliver(&app).await;
    assert_eq!(report.sent, 2, "{report:?}");

    let posts = posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let sms = &posts[0];
    assert!(
        sms.raw.starts_with("To=%2B15125550123&From=%2B15550100&Body=acme%3A%20Your%20order%20has%20shipped"),
        "{}",
        sms.raw
    );
    assert_eq!(sms.idempotency_key, format!("acme/S-1/{TRACKING}/shipped/customer/sms"));
    assert!(sms.authorization.starts_with("Basic "), "credentials in the URL become basic auth");
    let list = notifications(&app, "S-1").await;
    let channels: Vec<_> = list.iter().map(|n| n["channel"].as_str().unwrap().to_string()).collect();
    assert_eq!(channels, ["email", "sms"]);
}

#[tokio::test]
async fn without_a_mail_server_configured_messages_are_suppressed_with_the_reason() {
    let app = spawn_app_with(|_| {}).await;
    order_with_parcel(&app, "N-1").await;
    app.post_events(json!([every_scan()[1]])).await;
    assert_eq!(deliver(&app).await.suppressed, 1);
    let list = notifications(&app, "N-1").await;
    assert_eq!(list[0]["state"], "suppressed");
    assert!(list[0]["last_error"].as_str().unwrap().contains("MILEPOST_SMTP_URL"), "{}", list[0]);
}

#[tokio::test]
async fn a_split_order_of_three_parcels_delivered_the_same_day_hears_once_per_step() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    assert_eq!(app.put_order(&routine_order("P-1")).await.status, 201);
    let parcels = ["1Z999AA10000000001", "1Z999AA10000000002", "1Z999AA10000000003"];
    let items = [json!([{"sku": "MUG", "quantity": 1}]), json!([{"sku": "MUG", "quantity": 1}]), json!([])];
    for (tracking, items) in parcels.iter().zip(items) {
        let shipment = json!({"carrier": "ups", "service": "ground", "tracking_number": tracking, "items": items});
        let reply = app.add_shipment("P-1", &shipment).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    // All three leave together: one "shipped".
    let picked_up: Vec<Value> = parcels
        .iter()
        .map(|t| carrier_event(t, &format!("{t}-pu"), "handed_to_carrier", "2026-11-09T18:00:00Z"))
        .collect();
    app.post_events(Value::Array(picked_up)).await;
    deliver(&app).await;
    // They arrive hours apart on the same day: nothing goes out until the last one is in.
    for (hour, tracking) in [(0, parcels[0]), (3, parcels[1]), (5, parcels[2])] {
        app.clock.set(test_start() + chrono::Duration::hours(hour));
        let at = (test_start() + chrono::Duration::hours(hour) - chrono::Duration::minutes(5)).to_rfc3339();
        app.post_events(json!([carrier_event(tracking, &format!("{tracking}-dl"), "delivered", &at)])).await;
        let report = deliver(&app).await;
        assert_eq!(report.sent, u32::from(hour == 5), "at hour {hour}: {report:?}");
    }
    let list = notifications(&app, "P-1").await;
    assert_eq!(customer_milestones(&list), ["shipped", "delivered"]);
    assert_eq!(list[1]["shipments"].as_array().unwrap().len(), 3, "{}", list[1]);
    assert_eq!(smtp.mails_to("ana@example.com").len(), 2);
}

#[tokio::test]
async fn a_parcel_whose_sibling_lags_is_announced_when_the_merge_window_ends() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    assert_eq!(app.put_order(&routine_order("P-2")).await.status, 201);
    for (tracking, items) in
        [("1Z999AA10000000011", json!([{"sku": "MUG", "quantity": 2}])), ("1Z999AA10000000012", json!([]))]
    {
        let shipment = json!({"carrier": "ups", "tracking_number": tracking, "items": items});
        assert_eq!(app.add_shipment("P-2", &shipment).await.status, 201);
    }
    app.post_events(json!([carrier_event("1Z999AA10000000011", "a", "handed_to_carrier", "2026-11-10T08:00:00Z")]))
        .await;
    assert_eq!(deliver(&app).await.sent, 0, "waits for the sibling");
    app.clock.set(test_start() + chrono::Duration::hours(8));
    assert_eq!(deliver(&app).await.sent, 1, "but not longer than the window");
    app.post_events(json!([carrier_event("1Z999AA10000000012", "b", "handed_to_carrier", "2026-11-10T19:00:00Z")]))
        .await;
    assert_eq!(deliver(&app).await.sent, 1, "the late sibling gets its own message");
    assert_eq!(customer_milestones(&notifications(&app, "P-2").await), ["shipped", "shipped"]);
}

#[tokio::test]
async fn the_customer_sms_waits_while_the_staff_alert_cannot_be_mailed() {
    let mut smtp = SmtpServer::down().await;
    let (receiver, posts) = start_receiver().await;
    let (smtp_url, sms_url) = (smtp.url(), receiver.clone());
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(smtp_url);
        s.smtp_from = Some("orders@acme.test".into());
        s.sms_url = Some(sms_url);
        s.sms_from = Some("+15550100".into());
    })
    .await;
    let settings = json!({"alert_email": "ops@acme.test"});
    let reply = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut order = routine_order("Q-1");
    order["customer"]["email"] = Value::Null;
    order["customer"]["phone"] = json!("+15125550123");
    assert_eq!(app.put_order(&order).await.status, 201);
    let shipment = json!({"carrier": "ups", "tracking_number": TRACKING, "items": []});
    assert_eq!(app.add_shipment("Q-1", &shipment).await.status, 201);
    let packed = json!({"source": "warehouse", "source_event_id": "pk", "tracking_number": TRACKING,
                        "milestone": "packed", "occurred_at": "2026-11-08T10:00:00Z"});
    let s = every_scan();
    app.post_events(json!([packed, s[1], s[5]])).await;
    deliver(&app).await;
    let before = posts.lock().unwrap().len();

    app.post_events(json!([carrier_event(TRACKING, "att", "delivery_attempted", "2026-11-10T11:30:00Z")])).await;
    deliver(&app).await;
    assert_eq!(posts.lock().unwrap().len(), before, "no SMS before the team is told");
    smtp.restart().await;
    app.clock.set(test_start() + chrono::Duration::minutes(1));
    deliver(&app).await;
    assert_eq!(smtp.mails_to("ops@acme.test").len(), 1);
    let posts = posts.lock().unwrap().clone();
    assert_eq!(posts.len(), before + 1);
    assert!(posts[before].raw.contains("We%20tried%20to%20deliver"), "{}", posts[before].raw);
}

#[tokio::test]
async fn a_promise_that_will_not_be_kept_tells_the_customer_once_after_shipped_and_never_after_delivery() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    // `order_json` promises 2026-11-06, before the test's clock: the parcel is late.
    assert_eq!(app.put_order(&common::order_json("L-1")).await.status, 201);
    let shipment = json!({"carrier": "ups", "tracking_number": TRACKING, "items": []});
    assert_eq!(app.add_shipment("L-1", &shipment).await.status, 201);
    let s = every_scan();
    app.post_events(json!([s[1]])).await;
    app.post_events(json!([s[2]])).await;
    deliver(&app).await;
    assert_eq!(customer_milestones(&notifications(&app, "L-1").await), ["shipped", "delayed"]);
    // Both were sent: the KPI "customer messages per order" counts them (2 over L-1 alone).
    let kpis = app.get("/api/v1/kpis?from=2026-11-01&to=2026-11-02", &app.support).await;
    assert_eq!((kpis.body["orders"].clone(), kpis.body["customer_messages_per_order"].clone()), (json!(1), json!(2.0)));
    app.post_events(json!([s[6]])).await;
    deliver(&app).await;
    assert_eq!(customer_milestones(&notifications(&app, "L-1").await), ["shipped", "delayed", "delivered"]);

    // Delivered late without a word before: the customer hears "delivered", not "late".
    assert_eq!(app.put_order(&common::order_json("L-2")).await.status, 201);
    let other = json!({"carrier": "ups", "tracking_number": "1Z999AA10000000099", "items": []});
    assert_eq!(app.add_shipment("L-2", &other).await.status, 201);
    app.post_events(json!([carrier_event("1Z999AA10000000099", "l2", "delivered", "2026-11-09T10:00:00Z")])).await;
    deliver(&app).await;
    assert_eq!(customer_milestones(&notifications(&app, "L-2").await), ["delivered"]);
}
