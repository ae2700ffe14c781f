//! The demo seeder: carrier events arrive as each carrier's own JSON through the adapters, and
//! the special cases it promises (missed pack scan, failed attempt, late parcel, store says
//! shipped, unmapped code, cancelled order) are there to see.

use milepost::Application;
use milepost::settings::Settings;
use milepost_domain::{AccountName, Role};
use serde_json::Value;

struct Demo {
    base: String,
    key: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Demo {
    async fn get(&self, path: &str) -> Value {
        let response =
            self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response.json().await.expect("json")
    }

    async fn order(&self, index: usize) -> Value {
        self.get(&format!("/api/v1/orders/MP-{}", 10001 + index)).await
    }
}

async fn seeded_demo(orders: usize) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("demo.db").display()),
        listen: "127.0.0.1:0".into(),
        track_rate_limit: 0,
        ..Settings::default()
    };
    let app = Application::build(&settings).await.unwrap();
    let account = AccountName::parse(milepost::demo::DEMO_ACCOUNT).unwrap();
    let key = app.app().create_api_key(&account, Role::Admin).await.unwrap();
    let caller = app.app().authenticate(Some(&key), Role::Admin).await.unwrap();
    milepost::demo::seed(app.app(), &caller, orders, chrono::Utc::now(), false).await.unwrap();
    let base = app.base_url().to_string();
    tokio::spawn(app.run_until(std::future::pending()));
    Demo { base, key, client: reqwest::Client::new(), _dir: dir }
}

fn timeline(order: &Value) -> Vec<Value> {
    order["shipments"][0]["timeline"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_demo_feeds_carrier_json_through_the_adapters_and_keeps_its_special_cases() {
    let demo = seeded_demo(26).await;

    // Routine orders: carrier events came through the adapters, raw codes as each carrier sends them.
    let mut carriers_seen = std::collections::BTreeSet::new();
    for index in [0, 1, 2, 3] {
        let order = demo.order(index).await;
        let carrier = order["shipments"][0]["carrier"].as_str().unwrap().to_string();
        let carrier_events: Vec<Value> = timeline(&order).into_iter().filter(|e| e["source"] == "carrier").collect();
        assert!(!carrier_events.is_empty(), "order {index} has carrier events");
        assert!(
            carrier_events.iter().all(|e| e["source_event_id"].as_str().unwrap().starts_with("derived:")),
            "adapter-derived ids: {carrier_events:?}"
        );
        carriers_seen.insert(carrier);
    }
    assert_eq!(carriers_seen.len(), 4, "{carriers_seen:?}");

    // Missed pack scan: picked, never packed.
    let missed = timeline(&demo.order(7).await);
    assert!(missed.iter().any(|e| e["milestone"] == "picked"));
    assert!(!missed.iter().any(|e| e["milestone"] == "packed"));

    // Failed attempt, then back in transit.
    let attempt = demo.order(11).await;
    assert!(timeline(&attempt).iter().any(|e| e["milestone"] == "delivery_attempted"));
    assert_eq!(attempt["shipments"][0]["status"], "in_transit");

    // Late: stalled after the first hub scan, past its promise.
    let late = demo.order(13).await;
    assert_eq!(late["shipments"][0]["status"], "in_transit");

    // Store says shipped, the carrier never scanned it: an advisory claim, status not shipped.
    let claimed = demo.order(17).await;
    let claim = timeline(&claimed).into_iter().find(|e| e["source"] == "channel").expect("store claim");
    assert_eq!(claim["milestone"], "handed_to_carrier");
    assert_eq!(claim["advisory"], true);
    assert_eq!(claimed["shipments"][0]["status"], "label_created");

    // Unmapped carrier code, queued for a person.
    let unmapped = demo.get("/api/v1/carrier-codes/unmapped").await;
    let codes = unmapped["codes"].as_array().unwrap();
    assert!(codes.iter().any(|c| c["code"] == "ZX9"), "{codes:?}");
    assert!(timeline(&demo.order(19).await).iter().any(|e| e["milestone"] == "unmapped"));

    // Cancelled.
    assert_eq!(demo.order(23).await["status"], "cancelled");
}
