//! Many processes, one database: three real `milepost serve` processes (one `--role api`, two
//! `--role all`) share a fresh PostgreSQL schema. Clients send the same and different events
//! through all of them at once while one of the full processes is killed with SIGKILL; a client
//! whose request dies with it sends the batch again to a live process, as real clients do.
//! Afterwards every acknowledged event is stored once, every exception opened once, and every
//! webhook notification was delivered exactly once (by its `Idempotency-Key`) to a local
//! receiver. PostgreSQL only: without `MILEPOST_TEST_DATABASE_URL` the test says it did not run.

mod common;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_milepost");
const ORDERS: usize = 12;
const SECRET: &str = "whsec-multi-process-0123456789";

fn milepost(db: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("MILEPOST_DATABASE_URL", db).env("MILEPOST_LISTEN", "127.0.0.1:0").env("MILEPOST_LOG", "info");
    cmd
}

/// Starts `milepost serve --role ROLE` and returns the child and its base URL, read from its log.
fn start_server(db: &str, role: &str) -> (Child, String) {
    let mut child = milepost(db)
        .args(["serve", "--role", role])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("server exited before serving").expect("read log");
        if let Some(at) = line.find("serving at ") {
            break line[at + "serving at ".len()..].trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// A local merchant endpoint that counts deliveries per `Idempotency-Key`.
async fn start_receiver() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                *record.lock().unwrap().entry(key).or_default() += 1;
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

fn tracking(i: usize) -> String {
    format!("1ZMULTI{i:06}")
}

/// Each parcel's story: possession, transit, a failed attempt (an exception and its alerts),
/// then delivery, all in the past of the servers' real clock.
fn events_of(i: usize) -> Vec<Value> {
    let tn = tracking(i);
    [("handed_to_carrier", "2026-11-02T10:00:00Z"), ("in_transit", "2026-11-03T10:00:00Z")]
        .iter()
        .chain([("delivery_attempted", "2026-11-04T10:00:00Z"), ("delivered", "2026-11-05T10:00:00Z")].iter())
        .map(|(milestone, at)| {
            json!({"source": "carrier", "source_event_id": format!("{tn}-{milestone}"), "tracking_number": tn,
                   "carrier": "ups", "milestone": milestone, "occurred_at": at})
        })
        .collect()
}

/// Posts to the first live server in `order`, moving on when a server does not answer (it was
/// killed); returns the acknowledged reply.
async fn post_anywhere(client: &reqwest::Client, bases: &[String], key: &str, path: &str, body: &Value) -> Value {
    for base in bases {
        if let Ok(reply) = client.post(format!("{base}{path}")).bearer_auth(key).json(body).send().await {
            let status = reply.status().as_u16();
            let body: Value = reply.json().await.unwrap_or(Value::Null);
            assert!(status < 300, "{path}: {status} {body}");
            return body;
        }
    }
    panic!("no server answered {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_sharing_one_database_store_alert_and_notify_once_though_one_is_killed() {
    let Some(url) = common::test_postgres_url() else {
        assert!(
            std::env::var("MILEPOST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "MILEPOST_REQUIRE_POSTGRES=1 but MILEPOST_TEST_DATABASE_URL is not set"
        );
        // Written past the test harness's output capture, so a passing run still says it.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "{}\n",
                "multi-process test NOT RUN: it needs PostgreSQL (set MILEPOST_TEST_DATABASE_URL=postgres://…)"
            )
            .as_bytes(),
        );
        return;
    };
    let schema = milepost_store::postgres::ScratchSchema::create(&url, "mp_multi").expect("PostgreSQL reachable");
    let db = schema.url().to_string();
    let key_output = milepost(&db).args(["keys", "create", "--account", "acme", "--role", "admin"]).output().unwrap();
    assert!(key_output.status.success(), "{}", String::from_utf8_lossy(&key_output.stderr));
    let key = String::from_utf8(key_output.stdout).unwrap().trim().to_string();

    let (mut api, api_base) = start_server(&db, "api");
    let (mut doomed, doomed_base) = start_server(&db, "all");
    let (mut survivor, survivor_base) = start_server(&db, "all");
    let client = reqwest::Client::new();
    let (hook_url, deliveries) = start_receiver().await;
    let settings = json!({"webhook_url": hook_url, "webhook_secret": SECRET});
    let reply = client
        .put(format!("{api_base}/api/v1/notification-settings"))
        .bearer_auth(&key)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);

    let all = [api_base.clone(), doomed_base.clone(), survivor_base.clone()];
    for i in 0..ORDERS {
        let bases = [all[i % 3].clone(), survivor_base.clone()];
        let order = json!({"order_number": format!("M-{i}"), "placed_at": "2026-11-01T10:00:00Z",
            "promised_by": "2026-12-20", "currency": "USD",
            "customer": {"name": "Ana Diaz", "email": "ana@example.com"},
            "items": [{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}]});
        post_anywhere(&client, &bases, &key, "/api/v1/orders", &order).await;
        let shipment = json!({"carrier": "ups", "tracking_number": tracking(i)});
        post_anywhere(&client, &bases, &key, &format!("/api/v1/orders/M-{i}/shipments"), &shipment).await;
    }

    // Every event goes out twice, through two different processes at once; the doomed process
    // is killed while the writers are busy.
    let mut writers = Vec::new();
    for i in 0..ORDERS {
        for copy in 0..2 {
            let client = client.clone();
            let key = key.clone();
            let bases = [all[(i + copy) % 3].clone(), survivor_base.clone(), api_base.clone()];
            writers.push(tokio::spawn(async move {
                for event in events_of(i) {
                    let reply =
                        post_anywhere(&client, &bases, &key, "/api/v1/events", &json!({"events": [event]})).await;
                    let result = reply["results"][0]["result"].as_str().unwrap_or("").to_string();
                    assert!(result == "accepted" || result == "duplicate", "{reply}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    doomed.kill().expect("SIGKILL");
    doomed.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }

    // Every acknowledged event is stored once; every parcel has one delivery_failed exception.
    for i in 0..ORDERS {
        let read: Value = client
            .get(format!("{api_base}/api/v1/orders/M-{i}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let timeline = read["shipments"][0]["timeline"].as_array().expect("timeline");
        let mut ids: Vec<&str> = timeline.iter().filter_map(|e| e["source_event_id"].as_str()).collect();
        ids.sort();
        let mut expected: Vec<String> =
            events_of(i).iter().map(|e| e["source_event_id"].as_str().unwrap().to_string()).collect();
        expected.sort();
        assert_eq!(ids, expected, "M-{i}: every event once");
        assert_eq!(read["shipments"][0]["status"], "delivered", "M-{i}");
        let exceptions: Value = client
            .get(format!("{api_base}/api/v1/exceptions?order_number=M-{i}&kind=delivery_failed"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(exceptions["exceptions"].as_array().map(Vec::len), Some(1), "M-{i}: {exceptions}");
    }

    // The surviving worker delivers what is left (including anything the killed one had
    // claimed, once its lease runs out); every webhook message reaches the merchant once.
    let deadline = Instant::now() + Duration::from_secs(200);
    let webhook_keys = loop {
        let mut keys = Vec::new();
        let mut pending = 0;
        for i in 0..ORDERS {
            let read: Value = client
                .get(format!("{api_base}/api/v1/orders/M-{i}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for n in read["notifications"].as_array().expect("notifications") {
                if n["channel"] == "webhook" {
                    match n["state"].as_str() {
                        Some("sent") => keys.push(n["dedupe_key"].as_str().unwrap().to_string()),
                        _ => pending += 1,
                    }
                }
            }
        }
        if pending == 0 {
            break keys;
        }
        assert!(Instant::now() < deadline, "{pending} webhook notifications never went out");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(webhook_keys.len() >= ORDERS * 2, "each parcel's alert and notices: {webhook_keys:?}");
    let seen = deliveries.lock().unwrap().clone();
    for dedupe_key in &webhook_keys {
        assert_eq!(seen.get(dedupe_key), Some(&1), "{dedupe_key} delivered exactly once: {seen:#?}");
    }
    assert_eq!(seen.len(), webhook_keys.len(), "nothing delivered that is not recorded as sent: {seen:#?}");

    for child in [&mut api, &mut survivor] {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(schema);
}
