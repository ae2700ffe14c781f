//! Black-box test harness: `spawn_app()` builds the real application on a fresh SQLite file (or,
//! when `MILEPOST_TEST_DATABASE_URL=postgres://…` is set, on a fresh PostgreSQL schema there,
//! dropped afterwards) and a free port, creates keys of each role for two accounts, and offers one method per endpoint
//! so tests read like stories.

#![allow(dead_code)]

use milepost::Application;
use milepost::settings::Settings;
use milepost_app::{FixedClock, Milepost};
use milepost_domain::{AccountName, Role};
use serde_json::{Value, json};
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin: String,
    pub ingest: String,
    pub support: String,
    /// An admin key of a second account, to prove isolation.
    pub other_admin: String,
    pub dir: tempfile::TempDir,
    /// The application's clock: tests move time with `clock.set(…)`.
    pub clock: Arc<FixedClock>,
    /// The use cases, to drive background work (the sweeper) one step at a time.
    pub milepost: Milepost,
    /// The notification worker, driven one step at a time (`deliver_due`); it does not run in
    /// the background in tests.
    pub notifier: milepost_notify::Notifier,
    /// The PostgreSQL schema the app lives in, when the suite runs on PostgreSQL.
    pub scratch: Option<milepost_store::postgres::ScratchSchema>,
}

/// The PostgreSQL server the suite runs on, when `MILEPOST_TEST_DATABASE_URL` names one.
pub fn test_postgres_url() -> Option<String> {
    std::env::var("MILEPOST_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty())
}

/// The moment every test starts at, a few days after the orders the helpers create.
pub fn test_start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").unwrap().with_timezone(&chrono::Utc)
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As `spawn_app`, with the settings adjusted first (say, a mail server to talk to).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let scratch = test_postgres_url()
        .map(|url| milepost_store::postgres::ScratchSchema::create(&url, "mp_app_test").expect("PostgreSQL reachable"));
    let database_url = match &scratch {
        Some(schema) => schema.url().to_string(),
        None => format!("sqlite://{}", dir.path().join("milepost.db").display()),
    };
    let mut settings = Settings {
        database_url,
        listen: "127.0.0.1:0".into(),
        track_rate_limit: 0,
        deliver_in_background: false,
        ..Settings::default()
    };
    configure(&mut settings);
    let clock = Arc::new(FixedClock::at(test_start()));
    let app = Application::build_with_clock(&settings, clock.clone()).await.expect("build app");
    let milepost = app.app().clone();
    let notifier = app.notifier().clone();
    let base = app.base_url().to_string();
    let key = |account: &str, role| {
        let milepost = app.app().clone();
        let account = AccountName::parse(account).unwrap();
        async move { milepost.create_api_key(&account, role).await.unwrap() }
    };
    let admin = key("acme", Role::Admin).await;
    let ingest = key("acme", Role::Ingest).await;
    let support = key("acme", Role::Support).await;
    let other_admin = key("globex", Role::Admin).await;
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
        admin,
        ingest,
        support,
        other_admin,
        dir,
        clock,
        milepost,
        notifier,
        scratch,
    }
}

impl TestApp {
    pub async fn send(&self, method: reqwest::Method, path: &str, key: Option<&str>, body: Option<String>) -> Reply {
        let mut request = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, content_type, body }
    }

    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(key), Some(body.to_string())).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(key), None).await
    }

    pub async fn put_order(&self, order: &Value) -> Reply {
        self.post_json("/api/v1/orders", &self.ingest, order).await
    }

    pub async fn add_shipment(&self, order_number: &str, shipment: &Value) -> Reply {
        self.post_json(&format!("/api/v1/orders/{order_number}/shipments"), &self.ingest, shipment).await
    }

    pub async fn post_events(&self, events: Value) -> Reply {
        self.post_json("/api/v1/events", &self.ingest, &json!({ "events": events })).await
    }

    /// Posts raw bytes with a content type and extra headers (webhooks, files).
    pub async fn post_bytes(
        &self,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request =
            self.client.post(format!("{}{}", self.base, path)).header("content-type", content_type).body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, content_type, body }
    }

    /// Registers an integration with the admin key and returns its id.
    pub async fn create_integration(&self, kind: &str, secret: &str) -> String {
        let reply = self.post_json("/api/v1/integrations", &self.admin, &json!({"kind": kind, "secret": secret})).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().expect("id").to_string()
    }

    pub async fn order(&self, order_number: &str) -> Reply {
        self.get(&format!("/api/v1/orders/{order_number}"), &self.support).await
    }
}

pub fn order_json(number: &str) -> Value {
    json!({
        "order_number": number,
        "channel": "shopify",
        "placed_at": "2026-11-01T10:00:00-05:00",
        "promised_by": "2026-11-06",
        "currency": "USD",
        "customer": {"name": "Ana Diaz", "email": "ana@example.com", "postal_code": "78701"},
        "ship_to": {"line1": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "country": "US"},
        "items": [
            {"sku": "MUG", "description": "Mug", "quantity": 2, "unit_price": "18.00"},
            {"sku": "TEE", "description": "Tee", "quantity": 1, "unit_price": "29.00"}
        ]
    })
}

pub fn carrier_event(tracking: &str, id: &str, milestone: &str, at: &str) -> Value {
    json!({
        "source": "carrier", "source_event_id": id, "tracking_number": tracking, "carrier": "ups",
        "milestone": milestone, "occurred_at": at
    })
}
