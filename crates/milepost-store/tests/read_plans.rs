//! Every statement of an order read, of a page of the operations lists, of the delivery
//! worker's claim, of the lane rhythms' search and of a KPI report's period finds its rows by
//! an index and sorts nothing: a table scan or a sort of every row per request is work that
//! grows with the history.

use chrono::Utc;
use milepost_domain::order::Channel;
use milepost_domain::{AccountName, Order, OrderNumber, SourceOfTruth};
use milepost_domain::{Customer, Direction, LineItem, Money, Shipment, ShipmentItem, TrackingNumber};
use milepost_store::db;
use milepost_store::shared::{kpi, outbox, reads, returns, rules};
use milepost_store::sqlite::SqliteStore;
use milepost_store::{ExceptionQuery, NewShipment, OrderQuery, Store};
use rusqlite::Connection;
use rusqlite::trace::{TraceEvent, TraceEventCodes};
use std::sync::Mutex;

static TRACED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn remember(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(_, sql) = event {
        TRACED.lock().unwrap().push(sql.to_string());
    }
}

fn order(number: &OrderNumber) -> Order {
    Order {
        charged: None,
        order_number: number.clone(),
        channel: Channel::api(),
        placed_at: chrono::DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap(),
        promised_by: None,
        currency: "USD".into(),
        customer: Customer { email: Some("ana@example.com".into()), ..Customer::default() },
        ship_to: Default::default(),
        items: vec![LineItem {
            sku: "MUG".into(),
            description: None,
            quantity: 1,
            unit_price: Money::parse("10").unwrap(),
        }],
    }
}

#[tokio::test]
async fn order_reads_lists_claims_lanes_and_kpi_periods_use_indexes_and_sort_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.db");
    let store = SqliteStore::open(&path).unwrap();
    let account = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let number = OrderNumber::parse("A1").unwrap();
    store.upsert_order(account, order(&number)).await.unwrap();
    let parcel = Shipment {
        carrier: Some("ups".into()),
        service: None,
        tracking_number: TrackingNumber::parse("1ZPLAN1").unwrap(),
        direction: Direction::Outbound,
        origin_location_id: None,
        origin_postal_code: None,
        origin_country: None,
        items: vec![ShipmentItem { sku: "MUG".into(), quantity: 1 }],
        label_cost: None,
        handling_cost: None,
    };
    store.add_shipment(account, &number, NewShipment { shipment: parcel }).await.unwrap();

    let conn = Connection::open(&path).unwrap();
    let statements = traced(&conn, |conn| {
        let conn = &db::Connection::Sqlite(conn);
        let truth = SourceOfTruth::default();
        let record = reads::order(conn, &truth, account, &number).unwrap().expect("the order is stored");
        assert_eq!(record.shipments.len(), 1);
        outbox::of_order(conn, account, number.as_str()).unwrap();
        returns::claims_of_order(conn, account, &number).unwrap();
    });
    assert!(statements.len() >= 8, "the order read ran {} statements", statements.len());
    assert_every_plan_indexed(&conn, &statements);

    // The operations lists, page by page, the delivery worker's claim on every poll and the
    // lane rhythms' search for recent deliveries every ten minutes.
    let statements = traced(&conn, |conn| {
        let conn = &db::Connection::Sqlite(conn);
        let page = reads::search_orders(conn, account, &OrderQuery { limit: 50, ..OrderQuery::default() }).unwrap();
        assert_eq!(page.orders.len(), 1);
        let query = ExceptionQuery { limit: 50, ..ExceptionQuery::default() };
        rules::exceptions(conn, account, &query).unwrap();
        outbox::claim(conn, Utc::now(), chrono::Duration::seconds(60), 10).unwrap();
        rules::lane_gaps(conn, &SourceOfTruth::default(), Utc::now(), 90).unwrap();
    });
    assert!(statements.len() >= 3, "the lists ran {} statements", statements.len());
    assert_every_plan_indexed(&conn, &statements);

    // A KPI report finds its period's orders by index; it may sort one order's few rows.
    let statements = traced(&conn, |conn| {
        let conn = &db::Connection::Sqlite(conn);
        let (from, to) = (Utc::now() - chrono::Duration::days(400), Utc::now());
        assert_eq!(kpi::kpi_facts(conn, account, from, to).unwrap().len(), 1);
        returns::return_kpi_facts(conn, account, from, to).unwrap();
    });
    let (period, per_order): (Vec<String>, Vec<String>) =
        statements.into_iter().partition(|sql| !sql.contains("order_id = ?1"));
    assert_every_plan_indexed(&conn, &period);
    for sql in &per_order {
        assert_no_scan(&conn, sql);
    }
}

fn assert_no_scan(conn: &Connection, sql: &str) {
    for step in plan(conn, sql) {
        assert!(!step.starts_with("SCAN ") || step.contains("CONSTANT ROW"), "{step}\n  in: {sql}");
    }
}

/// The steps of `EXPLAIN QUERY PLAN` for `sql`.
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    // Parameters left unbound read as NULL; the plan does not depend on them.
    let mut rows = explain.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get(3).unwrap());
    }
    steps
}

/// The statements `work` ran on `conn`, as written (parameters unbound).
fn traced(conn: &Connection, work: impl FnOnce(&Connection)) -> Vec<String> {
    conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(remember));
    work(conn);
    conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, None);
    std::mem::take(&mut *TRACED.lock().unwrap())
}

fn assert_every_plan_indexed(conn: &Connection, statements: &[String]) {
    for sql in statements.iter().filter(|sql| sql.trim_start().starts_with("SELECT")) {
        for step in plan(conn, sql) {
            let scans = step.starts_with("SCAN ") && !step.contains("CONSTANT ROW");
            // A statement `INDEXED BY` a partial index sorts only the few rows it holds.
            let sorts = step.contains("TEMP B-TREE") && !sql.contains("INDEXED BY");
            assert!(!scans && !sorts, "{step}\n  in: {sql}");
        }
    }
}
