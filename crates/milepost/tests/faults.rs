//! Milepost under faults and hostile input: oversized request heads and deep JSON are refused as
//! problem documents; a database locked by another process is answered 503 with `Retry-After`
//! (never 500), nothing half-stored, and writes work again by themselves once the lock is gone;
//! a client that opens a connection and stalls does not hold up anyone else.

mod common;

use common::{order_json, spawn_app};
use reqwest::Method;
use std::io::Write;
use std::time::{Duration, Instant};

fn assert_problem(reply: &common::Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json", "{what}");
    assert_eq!(reply.body["status"], status, "{what}");
}

#[tokio::test]
async fn oversized_heads_and_deep_json_are_problems_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let long_query = format!("/api/v1/orders?q={}", "a".repeat(9 * 1024));
    assert_problem(&app.get(&long_query, &app.support).await, 414, "a long query string");
    let huge_header = app
        .client
        .get(format!("{}/api/v1/orders", app.base))
        .bearer_auth(&app.support)
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(huge_header.status().as_u16(), 431);
    assert_eq!(huge_header.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = huge_header.json().await.unwrap();
    assert_eq!(body["type"], "https://milepost.dev/problems/headers-too-large");
    // Many headers just under the byte limit still work.
    let mut request = app.client.get(format!("{}/api/v1/orders", app.base)).bearer_auth(&app.support);
    for i in 0..40 {
        request = request.header(format!("x-pad-{i}"), "p".repeat(200));
    }
    assert_eq!(request.send().await.unwrap().status().as_u16(), 200);

    // Deep nesting on every kind of JSON endpoint: refused by the parser's depth limit.
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let deep_object = format!("{{\"events\": {}1{}}}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    for (method, path, key) in [
        (Method::POST, "/api/v1/orders", &app.ingest),
        (Method::POST, "/api/v1/events", &app.ingest),
        (Method::PUT, "/api/v1/notification-settings", &app.admin),
        (Method::PUT, "/api/v1/branding", &app.admin),
    ] {
        for body in [&deep, &deep_object] {
            let reply = app.send(method.clone(), path, Some(key), Some(body.clone())).await;
            assert_problem(&reply, 400, path);
        }
    }
    let webhook_id = app.create_integration("generic", "a-long-shared-secret-1234").await;
    let unsigned = app
        .post_bytes(&format!("/webhooks/carriers/{webhook_id}"), None, "application/json", &[], deep.into_bytes())
        .await;
    assert_problem(&unsigned, 401, "an unsigned deep webhook is refused before it is parsed");
    assert_eq!(app.send(Method::GET, "/healthz", None, None).await.status, 200);
}

#[tokio::test]
async fn a_locked_database_is_answered_503_with_retry_after_and_writes_resume_when_it_clears() {
    if common::test_postgres_url().is_some() {
        // The lock taken here is SQLite's file lock; on PostgreSQL the suite's app has no file.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"SQLite file-lock test NOT RUN on PostgreSQL\n");
        return;
    }
    let app = spawn_app().await;
    assert_eq!(app.put_order(&order_json("LOCK-0")).await.status, 201);
    // Another process takes the write lock and holds it.
    let blocker = rusqlite::Connection::open(app.dir.path().join("milepost.db")).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();

    // The writer waits out its busy timeout, then refuses; one request shows the whole answer.
    let response = app
        .client
        .post(format!("{}/api/v1/orders", app.base))
        .bearer_auth(&app.ingest)
        .json(&order_json("LOCK-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    // Reads go on meanwhile (WAL readers are not blocked by a writer).
    assert_eq!(app.order("LOCK-0").await.status, 200);

    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    assert_eq!(app.order("LOCK-1").await.status, 404, "a refused write stored nothing");
    assert_eq!(app.put_order(&order_json("LOCK-1")).await.status, 201, "writes resume by themselves");
    assert_eq!(app.order("LOCK-1").await.status, 200);
}

#[tokio::test]
async fn a_client_that_stalls_mid_request_does_not_hold_up_others() {
    let app = spawn_app().await;
    let address = app.base.trim_start_matches("http://").to_string();
    // Several clients open connections, send half a request head or half a body, and stall.
    let mut stalled = vec![];
    for i in 0..8 {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let partial = if i % 2 == 0 {
            "GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthor".to_string()
        } else {
            format!(
                "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{{\"order_",
                app.ingest
            )
        };
        stream.write_all(partial.as_bytes()).unwrap();
        stalled.push(stream);
    }
    let started = Instant::now();
    for n in 0..20 {
        assert_eq!(app.put_order(&order_json(&format!("SLOW-{n}"))).await.status, 201);
        assert_eq!(app.order(&format!("SLOW-{n}")).await.status, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(10), "others were held up: {:?}", started.elapsed());
    drop(stalled);
}

/// A server on the SQLite file in `dir` with a storage quota, an admin key, and the sender that
/// stops it.
struct QuotaServer {
    base: String,
    key: String,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn serve_with_quota(dir: &std::path::Path, max_bytes: Option<u64>) -> QuotaServer {
    let settings = milepost::settings::Settings {
        database_url: format!("sqlite://{}", dir.join("milepost.db").display()),
        listen: "127.0.0.1:0".into(),
        track_rate_limit: 0,
        deliver_in_background: false,
        sqlite_max_bytes: max_bytes,
        ..milepost::settings::Settings::default()
    };
    let clock = std::sync::Arc::new(milepost_app::FixedClock::at(common::test_start()));
    let app = milepost::Application::build_with_clock(&settings, clock).await.expect("build app");
    let account = milepost_domain::AccountName::parse("acme").unwrap();
    let key = app.app().create_api_key(&account, milepost_domain::Role::Admin).await.expect("a key");
    let base = app.base_url().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    QuotaServer { base, key, stop, served }
}

impl QuotaServer {
    async fn post(&self, client: &reqwest::Client, path: &str, body: &serde_json::Value) -> reqwest::Response {
        client.post(format!("{}{}", self.base, path)).bearer_auth(&self.key).json(body).send().await.unwrap()
    }

    async fn shut_down(self) {
        let _ = self.stop.send(());
        self.served.await.unwrap().unwrap();
    }
}

/// Thirty events of the parcel, numbered from `first`, each with a long description (so the
/// quota fills in a few hundred requests).
fn event_batch(first: usize) -> serde_json::Value {
    let events: Vec<serde_json::Value> = (first..first + 30)
        .map(|n| {
            let mut event = common::carrier_event(
                "1ZDISKFULL000001",
                &format!("full-{n}"),
                "in_transit",
                &(common::test_start() - chrono::Duration::days(5) + chrono::Duration::minutes(n as i64)).to_rfc3339(),
            );
            event["description"] = serde_json::json!(format!("scan {n} at the hub {}", "x".repeat(400)));
            event
        })
        .collect();
    serde_json::json!({ "events": events })
}

#[tokio::test]
async fn a_full_disk_is_answered_503_with_retry_after_keeps_what_was_acknowledged_and_recovers_when_space_returns() {
    if common::test_postgres_url().is_some() {
        // The quota is SQLite's page limit; PostgreSQL's disk is the server's.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"SQLite storage quota test NOT RUN on PostgreSQL\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    // The quota behaves as a disk with 1.5 MiB: SQLite answers SQLITE_FULL beyond it.
    let server = serve_with_quota(dir.path(), Some(1536 * 1024)).await;
    assert_eq!(server.post(&client, "/api/v1/orders", &order_json("FULL-1")).await.status().as_u16(), 201);
    let shipment = serde_json::json!({"carrier": "ups", "tracking_number": "1ZDISKFULL000001"});
    assert_eq!(server.post(&client, "/api/v1/orders/FULL-1/shipments", &shipment).await.status().as_u16(), 201);

    let mut acknowledged = 0;
    let mut refused = None;
    for batch in 0..400 {
        let response = server.post(&client, "/api/v1/events", &event_batch(batch * 30)).await;
        match response.status().as_u16() {
            200 => {
                let body: serde_json::Value = response.json().await.unwrap();
                let results = body["results"].as_array().unwrap();
                assert!(results.iter().all(|r| r["result"] == "accepted"), "{body}");
                acknowledged += results.len();
            }
            503 => {
                refused = Some((batch, response));
                break;
            }
            other => panic!("a filling disk must not be answered {other}: {}", response.text().await.unwrap()),
        }
    }
    let (full_batch, response) = refused.expect("the quota filled up");
    assert!(acknowledged > 0, "some events went in before the disk was full");
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    // Still full: every write kind is refused the same way, never 500; reads go on.
    for _ in 0..3 {
        let again = server.post(&client, "/api/v1/events", &event_batch(full_batch * 30)).await;
        assert_eq!(again.status().as_u16(), 503);
        assert!(again.headers().contains_key("retry-after"));
    }
    let another_order = server.post(&client, "/api/v1/orders", &order_json("FULL-2")).await.status().as_u16();
    assert!(another_order == 503 || another_order == 201, "an order on a full disk: {another_order}");
    let read = client.get(format!("{}/api/v1/orders/FULL-1", server.base)).bearer_auth(&server.key).send().await;
    let order: serde_json::Value = read.unwrap().json().await.unwrap();
    let stored = order["shipments"][0]["timeline"].as_array().unwrap().len();
    assert_eq!(stored, acknowledged, "every acknowledged event is stored, nothing of the refused batch");
    server.shut_down().await;

    // Space returns (the quota is raised): the refused batch goes in, once, without help.
    let server = serve_with_quota(dir.path(), Some(64 * 1024 * 1024)).await;
    let retried = server.post(&client, "/api/v1/events", &event_batch(full_batch * 30)).await;
    assert_eq!(retried.status().as_u16(), 200);
    let body: serde_json::Value = retried.json().await.unwrap();
    assert!(body["results"].as_array().unwrap().iter().all(|r| r["result"] == "accepted"), "{body}");
    let resent = server.post(&client, "/api/v1/events", &event_batch(0)).await;
    let body: serde_json::Value = resent.json().await.unwrap();
    assert!(body["results"].as_array().unwrap().iter().all(|r| r["result"] == "duplicate"), "{body}");
    let read = client.get(format!("{}/api/v1/orders/FULL-1", server.base)).bearer_auth(&server.key).send().await;
    let order: serde_json::Value = read.unwrap().json().await.unwrap();
    assert_eq!(order["shipments"][0]["timeline"].as_array().unwrap().len(), acknowledged + 30);
    server.shut_down().await;
}
