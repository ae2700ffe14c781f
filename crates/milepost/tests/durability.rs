//! Acknowledged means durable: a `milepost serve` process killed with SIGKILL while clients are
//! writing loses no event it acknowledged. Runs the real binary, not the library.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const BIN: &str = env!("CARGO_BIN_EXE_milepost");

fn milepost(db: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("MILEPOST_DATABASE_URL", db).env("MILEPOST_LISTEN", "127.0.0.1:0").env("MILEPOST_LOG", "info");
    cmd
}

/// Starts `milepost serve` and returns the child and its base URL, read from its log.
fn start_server(db: &str) -> (Child, String) {
    let mut child =
        milepost(db).arg("serve").stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("server exited before serving").expect("read log");
        if let Some(at) = line.find("serving at ") {
            break line[at + "serving at ".len()..].trim().to_string();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_no_event_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("durable.db").display());
    let key_output = milepost(&db).args(["keys", "create", "--account", "acme", "--role", "admin"]).output().unwrap();
    assert!(key_output.status.success(), "{}", String::from_utf8_lossy(&key_output.stderr));
    let key = String::from_utf8(key_output.stdout).unwrap().trim().to_string();
    assert!(key.starts_with("mp_") && !key.contains('\n'), "the key is printed alone: {key:?}");

    let (mut server, base) = start_server(&db);
    let client = reqwest::Client::new();
    let order = json!({"order_number": "K-1", "placed_at": "2026-11-01T10:00:00Z", "currency": "USD",
        "items": [{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}]});
    let r = client.post(format!("{base}/api/v1/orders")).bearer_auth(&key).json(&order).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let r = client
        .post(format!("{base}/api/v1/orders/K-1/shipments"))
        .bearer_auth(&key)
        .json(&json!({"carrier": "ups", "tracking_number": "1ZDURABLE01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);

    // Eight clients write batches as fast as they can; each remembers what was acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let batches = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for worker in 0..8 {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let (acknowledged, batches) = (acknowledged.clone(), batches.clone());
        writers.push(tokio::spawn(async move {
            for seq in 0.. {
                let ids: Vec<String> = (0..5).map(|k| format!("w{worker}-{seq}-{k}")).collect();
                let events: Vec<Value> = ids
                    .iter()
                    .enumerate()
                    .map(|(k, id)| {
                        let second = (worker * 100_000 + seq * 5 + k) as i64;
                        let at = chrono::DateTime::from_timestamp(1_793_000_000 + second, 0).unwrap().to_rfc3339();
                        json!({"source": "carrier", "source_event_id": id, "tracking_number": "1ZDURABLE01",
                               "milestone": "in_transit", "occurred_at": at})
                    })
                    .collect();
                let sent = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&key)
                    .json(&json!({"events": events}))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        let body: Value = match response.json().await {
                            Ok(body) => body,
                            Err(_) => return,
                        };
                        let results = body["results"].as_array().cloned().unwrap_or_default();
                        let mut acked = acknowledged.lock().unwrap();
                        for (id, result) in ids.iter().zip(results) {
                            if result["result"] == "accepted" || result["result"] == "duplicate" {
                                acked.push(id.clone());
                            }
                        }
                        batches.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        }));
    }
    while batches.load(Ordering::SeqCst) < 150 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill().expect("SIGKILL the server mid-write");
    server.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 750, "only {} acknowledged", acknowledged.len());

    let (mut server, base) = start_server(&db);
    let order: Value =
        client.get(format!("{base}/api/v1/orders/K-1")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    let stored: std::collections::HashSet<String> = order["shipments"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["source_event_id"].as_str().map(str::to_string))
        .collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged events lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
}
