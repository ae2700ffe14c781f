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
