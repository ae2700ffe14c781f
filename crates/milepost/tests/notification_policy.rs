//! Each account's notification policy over the API: the TOML document is checked field by
//! field, read back complete, kept per account, and obeyed by the outbox in the transaction of
//! each change (which milestones reach customers, quiet hours in the customer's zone on the
//! fixed clock). Also the preview of a customer message, branded and in the account's language.

mod common;

use common::{TestApp, carrier_event, spawn_app};
use serde_json::{Value, json};

const TOML: &str = "application/toml";

async fn put_typed(app: &TestApp, key: &str, content_type: &str, body: &str) -> common::Reply {
    let response = app
        .client
        .put(format!("{}/api/v1/notification-policy", app.base))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    common::Reply { status, content_type, body }
}

async fn put_policy(app: &TestApp, key: &str, document: &str) -> common::Reply {
    put_typed(app, key, TOML, document).await
}

async fn order_with_parcel(app: &TestApp, number: &str, tracking: &str) {
    let mut order = common::order_json(number);
    order["promised_by"] = json!("2026-11-20");
    assert_eq!(app.put_order(&order).await.status, 201);
    let shipment = json!({"carrier": "ups", "service": "ground", "tracking_number": tracking, "items": []});
    assert_eq!(app.add_shipment(number, &shipment).await.status, 201);
}

fn every_step(number: &str, tracking: &str, day: &str) -> Vec<Value> {
    let at = |time: &str| format!("{day}T{time}Z");
    let id = |n: &str| format!("{tracking}-{n}");
    vec![
        json!({"source": "channel", "source_event_id": format!("{number}-confirmed"), "order_number": number,
               "milestone": "confirmed", "occurred_at": at("01:00:00")}),
        carrier_event(tracking, &id("s1"), "label_created", &at("01:10:00")),
        carrier_event(tracking, &id("s2"), "handed_to_carrier", &at("01:20:00")),
        carrier_event(tracking, &id("s3"), "in_transit", &at("01:30:00")),
        carrier_event(tracking, &id("s4"), "out_for_delivery", &at("01:40:00")),
        carrier_event(tracking, &id("s5"), "delivered", &at("01:50:00")),
    ]
}

async fn customer_messages(app: &TestApp, number: &str) -> Vec<Value> {
    let reply = app.order(number).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter(|n| n["audience"] == "customer")
        .cloned()
        .collect()
}

fn milestones(list: &[Value]) -> Vec<&str> {
    list.iter().map(|n| n["milestone"].as_str().unwrap_or("?")).collect()
}

#[tokio::test]
async fn a_changed_policy_changes_which_milestones_reach_customers_from_then_on() {
    let app = spawn_app().await;
    let reply = put_policy(&app, &app.admin, "[customer]\nstandard = [\"shipped\", \"delivered\"]\n").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type.starts_with(TOML), "{}", reply.content_type);
    let document = reply.body.as_str().expect("a TOML document");
    assert!(document.contains("standard = [\"shipped\", \"delivered\"]"), "{document}");
    assert!(document.contains("bulky = [\"confirmed\""), "sections left out show the default: {document}");

    order_with_parcel(&app, "P-1", "1Z999AA10000000001").await;
    for event in every_step("P-1", "1Z999AA10000000001", "2026-11-09") {
        assert_eq!(app.post_events(json!([event])).await.status, 200);
    }
    assert_eq!(milestones(&customer_messages(&app, "P-1").await), ["shipped", "delivered"]);

    // Back to the built-in policy: the next order hears the default four.
    assert_eq!(put_policy(&app, &app.admin, "").await.status, 200);
    order_with_parcel(&app, "P-2", "1Z999AA10000000002").await;
    for event in every_step("P-2", "1Z999AA10000000002", "2026-11-09") {
        assert_eq!(app.post_events(json!([event])).await.status, 200);
    }
    assert_eq!(
        milestones(&customer_messages(&app, "P-2").await),
        ["confirmed", "shipped", "out_for_delivery", "delivered"]
    );
    assert_eq!(milestones(&customer_messages(&app, "P-1").await), ["shipped", "delivered"], "queued ones stay");
}

#[tokio::test]
async fn quiet_hours_hold_customer_messages_until_the_morning_in_the_customers_zone() {
    let app = spawn_app().await;
    let policy = "[quiet_hours]\nstart = \"21:00\"\nend = \"08:00\"\ntime_zone = \"Europe/Madrid\"\n\
                  by_country = { US = \"America/Chicago\" }\n";
    assert_eq!(put_policy(&app, &app.admin, policy).await.status, 200);
    order_with_parcel(&app, "Q-1", "1Z999AA10000000003").await;
    // 03:00 UTC is 21:00 in Austin (CST): the parcel ships as the quiet hours begin.
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-10T03:00:00Z").unwrap().into());
    let shipped = carrier_event("1Z999AA10000000003", "q1", "handed_to_carrier", "2026-11-10T02:55:00Z");
    assert_eq!(app.post_events(json!([shipped])).await.status, 200);

    let held = customer_messages(&app, "Q-1").await;
    assert_eq!(milestones(&held), ["shipped"]);
    assert_eq!(held[0]["next_attempt_at"], "2026-11-10T14:00:00+00:00", "08:00 in Chicago");
    assert_eq!(app.notifier.deliver_due().await.unwrap().claimed, 0, "nothing goes out at night");

    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-10T13:59:00Z").unwrap().into());
    assert_eq!(app.notifier.deliver_due().await.unwrap().claimed, 0, "still quiet at 07:59");

    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-10T14:00:00Z").unwrap().into());
    let report = app.notifier.deliver_due().await.unwrap();
    assert_eq!(report.claimed, 1, "the held message goes out when the quiet hours end");
    let after = customer_messages(&app, "Q-1").await;
    assert_eq!(after[0]["attempts"], 1);
    // No mail server is configured in this test, so the released message is suppressed with that reason.
    assert_eq!(after[0]["state"], "suppressed");

    // In daytime a message is due at once.
    let delivered = carrier_event("1Z999AA10000000003", "q2", "delivered", "2026-11-10T13:58:00Z");
    assert_eq!(app.post_events(json!([delivered])).await.status, 200);
    let now = customer_messages(&app, "Q-1").await;
    assert_eq!(milestones(&now), ["shipped", "delivered"]);
    assert_eq!(now[1]["next_attempt_at"], "2026-11-10T14:00:00+00:00");
}

#[tokio::test]
async fn a_bad_policy_is_refused_naming_the_field_and_each_account_keeps_its_own() {
    let app = spawn_app().await;
    let table = [
        ("[customer]\nstandard = [\"shipped\", \"teleported\"]\n", "customer.standard[1]"),
        ("[alerts.delivery_failed]\nchannels = [\"pager\"]\n", "alerts.delivery_failed.channels[0]"),
        ("[quiet_hours]\nstart = \"21:00\"\nend = \"08:00\"\ntime_zone = \"Moon/Base\"\n", "quiet_hours.time_zone"),
        ("language = \"fr\"\n", "language"),
        ("this is = not toml [", "policy"),
    ];
    for (document, field) in table {
        let reply = put_policy(&app, &app.admin, document).await;
        assert_eq!(reply.status, 422, "{document}: {}", reply.body);
        assert_eq!(reply.body["errors"][0]["field"], field, "{document}: {}", reply.body);
    }
    let json = put_typed(&app, &app.admin, "application/json", "{}").await;
    assert_eq!(json.status, 415);
    assert_eq!(put_policy(&app, &app.support, "").await.status, 403, "support may look, not change");

    assert_eq!(put_policy(&app, &app.admin, "merge_window_minutes = 30\nlanguage = \"es\"\n").await.status, 200);
    let mine = app.get("/api/v1/notification-policy", &app.support).await;
    assert_eq!(mine.status, 200);
    let mine = mine.body.as_str().unwrap().to_string();
    assert!(mine.contains("merge_window_minutes = 30") && mine.contains("language = \"es\""), "{mine}");
    let theirs = app.get("/api/v1/notification-policy", &app.other_admin).await.body.as_str().unwrap().to_string();
    assert!(theirs.contains("merge_window_minutes = 480") && theirs.contains("language = \"en\""), "{theirs}");
}

#[tokio::test]
async fn the_preview_renders_the_branded_message_in_the_accounts_language() {
    let app = spawn_app().await;
    order_with_parcel(&app, "V-1", "1Z999AA10000000004").await;
    let branding =
        json!({"name": "Tienda Sol", "primary_color": "#7a1f5c", "logo_url": "https://cdn.sol.test/logo.png"});
    let reply = app.send(reqwest::Method::PUT, "/api/v1/branding", Some(&app.admin), Some(branding.to_string())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(put_policy(&app, &app.admin, "language = \"es\"\n").await.status, 200);

    let path = "/api/v1/orders/V-1/notifications/preview";
    let email = app.get(&format!("{path}?milestone=delivered&channel=email"), &app.support).await;
    assert_eq!(email.status, 200, "{}", email.body);
    assert_eq!(email.body["language"], "es");
    assert_eq!(email.body["to"], "ana@example.com");
    assert_eq!(email.body["email"]["subject"], "Tienda Sol: Tu pedido ha sido entregado (pedido V-1)");
    let html = email.body["email"]["html"].as_str().unwrap();
    assert!(html.contains("background:#7a1f5c") && html.contains("https://cdn.sol.test/logo.png"), "{html}");
    let text = email.body["text"].as_str().unwrap();
    assert!(text.contains("Hola, Ana:") && text.contains("1Z999AA10000000004"), "{text}");
    let link = text.lines().find_map(|l| l.strip_prefix("Sigue tu pedido: ")).expect("the tracking link");
    assert!(link.starts_with(&format!("{}/t/", app.base)), "{link}");
    let page = app.client.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200, "the signed link opens the order");

    let sms = app.get(&format!("{path}?milestone=out_for_delivery&channel=sms"), &app.support).await;
    assert_eq!(sms.status, 200, "{}", sms.body);
    assert!(sms.body.get("email").is_none());
    let sms_text = sms.body["text"].as_str().unwrap();
    assert!(sms_text.starts_with("Tienda Sol: Tu pedido está en reparto (pedido V-1). "), "{sms_text}");
    assert!(sms_text.chars().count() <= 160, "{sms_text}");

    let bad = app.get(&format!("{path}?milestone=teleported&channel=pigeon"), &app.support).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["milestone", "channel"]);
    assert_eq!(app.get(&format!("{path}?channel=email"), &app.support).await.status, 422, "milestone is required");
    assert_eq!(app.get(&format!("{path}?milestone=delivered"), &app.other_admin).await.status, 404);
    let anonymous = app.send(reqwest::Method::GET, &format!("{path}?milestone=delivered"), None, None).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn the_policy_routes_each_exception_to_its_team_on_its_channels() {
    let app = spawn_app().await;
    let settings = json!({"alert_email": "ops@acme.test", "chat_webhook_url": "http://127.0.0.1:9/chat"});
    let reply = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let policy = "[alerts.delivery_failed]\nteam = \"escalations\"\nchannels = [\"chat\"]\n";
    assert_eq!(put_policy(&app, &app.admin, policy).await.status, 200);
    order_with_parcel(&app, "A-1", "1Z999AA10000000005").await;
    let events = json!([
        carrier_event("1Z999AA10000000005", "a1", "out_for_delivery", "2026-11-10T07:00:00Z"),
        carrier_event("1Z999AA10000000005", "a2", "delivery_attempted", "2026-11-10T11:00:00Z"),
    ]);
    assert_eq!(app.post_events(events).await.status, 200);
    let reply = app.order("A-1").await;
    let internal: Vec<(String, String, String)> = reply.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["audience"] == "internal" && n["kind"] == "delivery_failed")
        .map(|n| {
            (
                n["channel"].as_str().unwrap().into(),
                n["team"].as_str().unwrap().into(),
                n["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(internal, [("chat".to_string(), "escalations".to_string(), "pending".to_string())], "{}", reply.body);
    let customer = customer_messages(&app, "A-1").await;
    assert_eq!(milestones(&customer), ["delivery_attempted"], "the customer still hears, after the alert");
}
