//! The migration path: an account's whole history built on SQLite through the API moves to
//! PostgreSQL with `milepost import --from sqlite://…` (the real binary), and afterwards every
//! table holds as many of the account's rows, and every order reads back the same: status,
//! timelines with their duplicate counts, exceptions and notifications. PostgreSQL only.

mod common;

use common::{carrier_event, order_json, spawn_app_with};
use milepost_domain::{AccountName, OrderNumber};
use milepost_store::Store;
use milepost_store::postgres::{PgStore, ScratchSchema};
use milepost_store::sqlite::SqliteStore;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_milepost");

/// What an order reads as, without the ids each store assigns itself.
async fn reading(store: &dyn Store, number: &str) -> String {
    let account = store.account_by_name(&AccountName::parse("acme").unwrap()).await.unwrap().unwrap();
    let order = store.order(account, &OrderNumber::parse(number).unwrap()).await.unwrap().expect("order");
    let shipments: Vec<String> = order
        .shipments
        .iter()
        .map(|s| format!("{} {:?} {:?} {:?}", s.shipment.tracking_number, s.status, s.delayed, s.timeline))
        .collect();
    let exceptions: Vec<String> =
        order.exceptions.iter().map(|e| format!("{} {} {:?}", e.kind, e.state, e.opened_at)).collect();
    let notifications: Vec<String> = store
        .order_notifications(account, &OrderNumber::parse(number).unwrap())
        .await
        .unwrap()
        .iter()
        .map(|n| format!("{} {} {:?} {}", n.audience, n.channel, n.milestone, n.state))
        .collect();
    format!(
        "{:?}\n{:?}\n{:?}\n{shipments:#?}\n{exceptions:?}\n{notifications:?}",
        order.order, order.status, order.timeline
    )
}

async fn row_counts(store: &dyn Store) -> Vec<(String, usize)> {
    let account = store.account_by_name(&AccountName::parse("acme").unwrap()).await.unwrap().unwrap();
    let history = store.export_account(account).await.unwrap();
    history.tables.iter().map(|t| (t.name.clone(), t.rows.len())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_history_moves_from_sqlite_to_postgres_unchanged() {
    let Some(url) = common::test_postgres_url() else {
        assert!(std::env::var("MILEPOST_REQUIRE_POSTGRES").as_deref() != Ok("1"), "PostgreSQL is required");
        // Written past the test harness's output capture, so a passing run still says it.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "{}\n",
                "account move test NOT RUN: it needs PostgreSQL (set MILEPOST_TEST_DATABASE_URL=postgres://…)"
            )
            .as_bytes(),
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_path = dir.path().join("history.db");
    let sqlite_url = format!("sqlite://{}", sqlite_path.display());
    let source_url = sqlite_url.clone();
    let app = spawn_app_with(move |s| s.database_url = source_url).await;
    let settings = json!({"webhook_url": "http://127.0.0.1:9/hooks", "webhook_secret": "whsec-move-0123456789"});
    let reply = app
        .send(reqwest::Method::PUT, "/api/v1/notification-settings", Some(&app.admin), Some(settings.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    for (i, number) in ["MV-1", "MV-2", "MV-3"].iter().enumerate() {
        assert_eq!(app.put_order(&order_json(number)).await.status, 201);
        let tracking = format!("1ZMOVE{i:04}");
        let shipment = json!({"carrier": "ups", "tracking_number": tracking});
        assert_eq!(app.add_shipment(number, &shipment).await.status, 201);
        let events = json!([
            carrier_event(&tracking, &format!("{tracking}-1"), "handed_to_carrier", "2026-11-02T10:00:00Z"),
            carrier_event(&tracking, &format!("{tracking}-2"), "in_transit", "2026-11-03T10:00:00-05:00"),
            carrier_event(&tracking, &format!("{tracking}-3"), "delivery_attempted", "2026-11-04T10:00:00Z"),
        ]);
        assert_eq!(app.post_events(events.clone()).await.status, 200);
        assert_eq!(app.post_events(events).await.status, 200, "resent: counted as duplicates");
    }

    let schema = ScratchSchema::create(&url, "mp_move").expect("PostgreSQL reachable");
    let moved = std::process::Command::new(BIN)
        .args(["import", "--from", &sqlite_url, "--account", "acme"])
        .env("MILEPOST_DATABASE_URL", schema.url())
        .env("MILEPOST_LOG", "warn")
        .output()
        .unwrap();
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    assert!(String::from_utf8_lossy(&moved.stdout).contains("moved account acme"));

    let source = SqliteStore::open(&sqlite_path).unwrap();
    let target = PgStore::open(schema.url()).unwrap();
    let counts = row_counts(&source).await;
    assert!(counts.iter().any(|(t, n)| t == "events" && *n >= 12), "{counts:?}");
    assert!(counts.iter().any(|(t, n)| t == "exceptions" && *n >= 3), "{counts:?}");
    assert_eq!(row_counts(&target).await, counts, "every table holds as many rows");
    for number in ["MV-1", "MV-2", "MV-3"] {
        assert_eq!(reading(&target, number).await, reading(&source, number).await, "{number} reads the same");
    }

    // Moving it again is refused rather than doubling the history.
    let again = std::process::Command::new(BIN)
        .args(["import", "--from", &sqlite_url, "--account", "acme"])
        .env("MILEPOST_DATABASE_URL", schema.url())
        .env("MILEPOST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!again.status.success());
    drop(target);
}
