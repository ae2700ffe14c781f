//! The crash test: a long stream of carrier events from many clients goes into the real
//! `milepost serve`, which is killed with SIGKILL at random moments several times and restarted;
//! each client resends whatever was not acknowledged. At the end every event is stored exactly
//! once, and every order's statuses, timelines and notification log equal those of a clean
//! replay of the same stream into a fresh database. The kill moments come from a seed printed
//! at the start (`MILEPOST_CRASH_SEED` repeats a run).

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_milepost");
const CLIENTS: usize = 8;
const PARCELS_PER_CLIENT: usize = 8;
const BATCH: usize = 4;
const KILLS: usize = 6;

/// The milestones of one parcel's journey, in the order they happen.
const JOURNEY: [&str; 14] = [
    "label_created",
    "handed_to_carrier",
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "out_for_delivery",
    "delivery_attempted",
    "in_transit",
    "out_for_delivery",
    "delivered",
];

fn milepost(db: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("MILEPOST_DATABASE_URL", db).env("MILEPOST_LISTEN", "127.0.0.1:0").env("MILEPOST_LOG", "warn");
    cmd
}

fn start_server(db: &str) -> (Child, String) {
    let mut child = milepost(db)
        .env("MILEPOST_LOG", "info")
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = lines.next().expect("server exited before serving").expect("read log");
        if let Some(at) = line.find("serving at ") {
            break line[at + "serving at ".len()..].trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn create_key(db: &str) -> String {
    let out = milepost(db).args(["keys", "create", "--account", "acme", "--role", "admin"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn order_number(parcel: usize) -> String {
    format!("CR-{parcel:03}")
}

fn tracking_number(parcel: usize) -> String {
    format!("1ZCRASH{parcel:010}")
}

/// Each client's batches, in the order it sends them: its parcels' journeys interleaved.
fn stream() -> Vec<Vec<Value>> {
    (0..CLIENTS)
        .map(|client| {
            let mut events = vec![];
            for (step, milestone) in JOURNEY.iter().enumerate() {
                for p in 0..PARCELS_PER_CLIENT {
                    let parcel = client * PARCELS_PER_CLIENT + p;
                    let at = chrono::DateTime::parse_from_rfc3339("2026-11-02T08:00:00Z").unwrap()
                        + chrono::Duration::minutes((step * 97 + parcel) as i64);
                    events.push(json!({"source": "carrier", "source_event_id": format!("p{parcel}-e{step}"),
                        "tracking_number": tracking_number(parcel), "carrier": "ups", "milestone": milestone,
                        "occurred_at": at.to_rfc3339()}));
                }
            }
            events.chunks(BATCH).map(|c| Value::Array(c.to_vec())).collect()
        })
        .collect()
}

async fn register_orders(client: &reqwest::Client, base: &str, key: &str) {
    for parcel in 0..CLIENTS * PARCELS_PER_CLIENT {
        let order = json!({"order_number": order_number(parcel), "channel": "api", "placed_at": "2026-11-01T10:00:00Z",
            "promised_by": "2026-11-06", "currency": "USD",
            "customer": {"name": "Ana Diaz", "email": format!("buyer{parcel}@example.com"), "postal_code": "78701"},
            "items": [{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}]});
        let r = client.post(format!("{base}/api/v1/orders")).bearer_auth(key).json(&order).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let parcel_json = json!({"carrier": "ups", "tracking_number": tracking_number(parcel)});
        let r = client
            .post(format!("{base}/api/v1/orders/{}/shipments", order_number(parcel)))
            .bearer_auth(key)
            .json(&parcel_json)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
}

/// Sends one batch until it is acknowledged, following the server across restarts; answers
/// how many sends it took.
async fn send_until_acknowledged(client: &reqwest::Client, base: &RwLock<String>, key: &str, batch: &Value) -> usize {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let url = format!("{}/api/v1/events", base.read().unwrap());
        let sent = client.post(url).bearer_auth(key).json(&json!({"events": batch})).send().await;
        if let Ok(response) = sent {
            let status = response.status().as_u16();
            assert!(status == 200 || status == 503, "a batch was refused with {status}");
            if let (200, Ok(body)) = (status, response.json::<Value>().await) {
                let results = body["results"].as_array().expect("results");
                assert_eq!(results.len(), batch.as_array().unwrap().len());
                assert!(results.iter().all(|r| r["result"] == "accepted" || r["result"] == "duplicate"), "{body}");
                return attempts;
            }
        }
        // The server is down or restarting: try again shortly.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a clean replay must reproduce, per order: statuses, timelines and the notification log.
async fn snapshot(client: &reqwest::Client, base: &str, key: &str) -> Vec<Value> {
    let mut orders = vec![];
    for parcel in 0..CLIENTS * PARCELS_PER_CLIENT {
        let order: Value = client
            .get(format!("{base}/api/v1/orders/{}", order_number(parcel)))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let shipment = &order["shipments"][0];
        let timeline: Vec<Value> = shipment["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| json!([e["source_event_id"], e["milestone"], e["occurred_at"]]))
            .collect();
        let notifications: BTreeSet<String> = order["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("{}|{}|{}|{}", n["dedupe_key"], n["audience"], n["channel"], n["milestone"]))
            .collect();
        orders.push(
            json!({"order": order_number(parcel), "status": order["status"], "shipment_status": shipment["status"],
            "timeline": timeline, "notifications": notifications}),
        );
    }
    orders
}

fn seed() -> u64 {
    std::env::var("MILEPOST_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    })
}

/// xorshift64: enough randomness for kill moments, with no dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_and_restarted_at_random_the_server_ends_where_a_clean_replay_ends() {
    let mut random = seed();
    eprintln!("crash test seed: {random} (MILEPOST_CRASH_SEED repeats it)");
    let batches_per_client = stream();
    let total: usize = batches_per_client.iter().map(Vec::len).sum();
    let events: usize = batches_per_client.iter().flatten().map(|b| b.as_array().unwrap().len()).sum();

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    let key = create_key(&db);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let (mut server, first_base) = start_server(&db);
    register_orders(&client, &first_base, &key).await;
    let base = Arc::new(RwLock::new(first_base));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let resent = Arc::new(AtomicUsize::new(0));

    let mut senders = vec![];
    for batches in batches_per_client.clone() {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let (acknowledged, resent) = (acknowledged.clone(), resent.clone());
        senders.push(tokio::spawn(async move {
            for batch in &batches {
                let attempts = send_until_acknowledged(&client, &base, &key, batch).await;
                resent.fetch_add(attempts - 1, Ordering::SeqCst);
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    // Kill at random points spread over the stream, each a little into a batch's life.
    let mut kill_points: Vec<usize> = (0..KILLS).map(|_| 1 + (next(&mut random) as usize) % (total * 9 / 10)).collect();
    kill_points.sort();
    let mut kills = 0;
    for point in kill_points {
        while acknowledged.load(Ordering::SeqCst) < point {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(next(&mut random) % 15)).await;
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        kills += 1;
        let (restarted, url) = start_server(&db);
        server = restarted;
        *base.write().unwrap() = url;
    }
    for sender in senders {
        sender.await.unwrap();
    }
    assert_eq!(acknowledged.load(Ordering::SeqCst), total);
    let crashed_base = base.read().unwrap().clone();
    let crashed = snapshot(&client, &crashed_base, &key).await;
    server.kill().unwrap();
    server.wait().unwrap();

    // Every event exactly once.
    let stored: usize = crashed.iter().map(|o| o["timeline"].as_array().unwrap().len()).sum();
    let distinct: BTreeSet<String> =
        crashed.iter().flat_map(|o| o["timeline"].as_array().unwrap().iter().map(|e| e[0].to_string())).collect();
    assert_eq!((stored, distinct.len()), (events, events), "every acknowledged event stored exactly once");

    // A clean replay of the same stream into a fresh database.
    let clean_dir = tempfile::tempdir().unwrap();
    let clean_db = format!("sqlite://{}", clean_dir.path().join("clean.db").display());
    let clean_key = create_key(&clean_db);
    let (mut clean_server, clean_base) = start_server(&clean_db);
    register_orders(&client, &clean_base, &clean_key).await;
    let clean_lock = RwLock::new(clean_base.clone());
    for batch in batches_per_client.iter().flatten() {
        send_until_acknowledged(&client, &clean_lock, &clean_key, batch).await;
    }
    let clean = snapshot(&client, &clean_base, &clean_key).await;
    clean_server.kill().unwrap();
    clean_server.wait().unwrap();

    for (after_crashes, replayed) in crashed.iter().zip(&clean) {
        assert_eq!(after_crashes, replayed, "after {kills} kills the order differs from a clean replay");
    }
    eprintln!(
        "crash test: events acknowledged: {events} (in {total} batches from {CLIENTS} clients), found exactly once: \
         {stored}, kills survived: {kills}, resends: {}, notifications as in a clean replay: {}",
        resent.load(Ordering::SeqCst),
        crashed.iter().map(|o| o["notifications"].as_array().unwrap().len()).sum::<usize>()
    );
}
