//! `milepost bench`: measures Milepost against the storage engine's own limit, in one run on one
//! machine with one event shape. First the limit: the same rows written straight into a bare
//! SQLite file (WAL, `synchronous=FULL`, 1000 rows per transaction, the same secondary index),
//! with no Milepost code. Then ingest through the store (many concurrent writers, group commit)
//! and through the HTTP batch API, each reported as a ratio to the limit; then order lookups
//! under concurrent load. Prints a table and writes the figures as JSON.

use crate::Application;
use crate::settings::Settings;
use anyhow::Context;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use milepost_app::records::EventTarget;
use milepost_app::{EventSubmission, Milepost};
use milepost_domain::order::Channel;
use milepost_domain::{
    AccountName, Address, Customer, Direction, EventSource, LineItem, Location, Milestone, Money, Order, OrderNumber,
    Role, Shipment, TrackingNumber,
};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct BenchSize {
    pub orders: usize,
    pub events_per_order: usize,
    pub batch: usize,
    pub writers: usize,
    pub lookups: usize,
    pub lookup_clients: usize,
}

impl BenchSize {
    pub fn quick() -> Self {
        BenchSize { orders: 2_000, events_per_order: 10, batch: 100, writers: 16, lookups: 4_000, lookup_clients: 32 }
    }
    pub fn full() -> Self {
        BenchSize { orders: 20_000, events_per_order: 10, batch: 100, writers: 32, lookups: 40_000, lookup_clients: 32 }
    }
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub orders: usize,
    pub events: usize,
    pub limit_rows_per_s: f64,
    pub store_events_per_s: f64,
    pub store_ratio: f64,
    pub http_events_per_s: f64,
    pub http_ratio: f64,
    pub lookup_per_s: f64,
    pub lookup_p50_ms: f64,
    pub lookup_p99_ms: f64,
    pub lookup_p999_ms: f64,
    pub db_bytes_per_event: f64,
}

fn event_time(order: usize, k: usize) -> DateTime<FixedOffset> {
    let base = DateTime::parse_from_rfc3339("2026-10-01T00:00:00-05:00").expect("valid time");
    base + Duration::minutes((order % 1000) as i64) + Duration::hours(6 * k as i64)
}

const MILESTONES: [Milestone; 5] = [
    Milestone::LabelCreated,
    Milestone::HandedToCarrier,
    Milestone::InTransit,
    Milestone::InTransit,
    Milestone::InTransit,
];

fn tracking(order: usize) -> String {
    format!("1ZBENCH{order:010}")
}

/// The engine's own limit: the same rows, straight into SQLite, 1000 per transaction.
fn raw_limit(dir: &Path, rows: usize) -> anyhow::Result<f64> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE events (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, source TEXT NOT NULL,
            source_event_id TEXT, code TEXT, milestone TEXT, occurred_at TEXT NOT NULL, occurred_at_us INTEGER NOT NULL,
            received_at TEXT NOT NULL, city TEXT, fact_key TEXT NOT NULL, raw TEXT);
         CREATE INDEX events_by_scope_time ON events(scope, occurred_at_us);",
    )?;
    let raw = "{\"note\":\"".to_string() + &"x".repeat(280) + "\"}";
    let started = Instant::now();
    let mut written = 0;
    while written < rows {
        let tx = conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO events (scope, source, source_event_id, code, milestone, occurred_at, occurred_at_us,
                    received_at, city, fact_key, raw) VALUES (?1, 'carrier', ?2, 'AR', 'in_transit', ?3, ?4, ?5, 'Memphis', ?6, ?7)",
            )?;
            for i in written..(written + 1000).min(rows) {
                let order = (i * 7919) % rows.max(1);
                let at = event_time(order, i % 10);
                stmt.execute(rusqlite::params![
                    format!("t:{}", tracking(order)),
                    format!("raw-{i}"),
                    at.to_rfc3339(),
                    at.timestamp_micros(),
                    Utc::now().to_rfc3339(),
                    format!("carrier|in_transit|AR|{}|memphis", at.timestamp_micros()),
                    raw
                ])?;
            }
        }
        tx.commit()?;
        written = (written + 1000).min(rows);
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

fn bench_order(i: usize) -> Order {
    let placed = event_time(i, 0) - Duration::hours(12);
    Order {
        order_number: OrderNumber::parse(&format!("B-{i}")).expect("valid"),
        channel: Channel::api(),
        placed_at: placed,
        promised_by: Some(placed + Duration::days(5)),
        currency: "USD".into(),
        customer: Customer {
            name: Some("Bench Customer".into()),
            email: Some(format!("c{i}@example.com")),
            ..Customer::default()
        },
        ship_to: Address {
            city: Some("Austin".into()),
            postal_code: Some("78701".into()),
            country: Some("US".into()),
            ..Address::default()
        },
        items: vec![LineItem {
            sku: "SKU-1".into(),
            description: None,
            quantity: 1,
            unit_price: Money::parse("10").expect("valid"),
        }],
    }
}

fn bench_events(order: usize, count: usize) -> Vec<EventSubmission> {
    (0..count)
        .map(|k| EventSubmission {
            target: EventTarget::Tracking(TrackingNumber::parse(&tracking(order)).expect("valid")),
            source: EventSource::Carrier,
            source_event_id: Some(format!("bench-{order}-{k}")),
            carrier: Some("ups".into()),
            milestone: Some(MILESTONES[k.min(MILESTONES.len() - 1)]),
            code: Some("AR".into()),
            description: Some("Arrival scan".into()),
            occurred_at: event_time(order, k),
            location: Some(Location { city: Some("Memphis".into()), ..Location::default() }),
            raw: None,
        })
        .collect()
}

async fn prepare_orders(
    app: &Milepost,
    caller: &milepost_app::records::Principal,
    range: std::ops::Range<usize>,
) -> anyhow::Result<()> {
    for i in range {
        app.put_order(caller, bench_order(i)).await?;
        let shipment = Shipment {
            carrier: Some("ups".into()),
            service: Some("ground".into()),
            tracking_number: TrackingNumber::parse(&tracking(i)).expect("valid"),
            direction: Direction::Outbound,
            origin_location_id: None,
            origin_postal_code: Some("89502".into()),
            origin_country: Some("US".into()),
            items: Vec::new(),
            label_cost: None,
            handling_cost: None,
        };
        app.add_shipment(caller, &OrderNumber::parse(&format!("B-{i}")).expect("valid"), shipment).await?;
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// Runs the benchmark in a temporary directory and returns the figures.
pub async fn run(size: BenchSize) -> anyhow::Result<BenchReport> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let half = size.orders / 2;
    let events_total = size.orders * size.events_per_order;

    eprintln!("bench: the engine's limit ({} raw rows)…", events_total / 2);
    let limit = raw_limit(dir.path(), events_total / 2)?;

    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("milepost.db").display()),
        listen: "127.0.0.1:0".into(),
        // The benchmark is one client address making many lookups on purpose.
        track_rate_limit: 0,
        // Measured on its own: delivering the orders' messages is the notifier's work, not ingest's.
        deliver_in_background: false,
        ..Settings::default()
    };
    let application = Application::build(&settings).await?;
    let base = application.base_url().to_string();
    let app = application.app().clone();
    let key = app.create_api_key(&AccountName::parse("bench").expect("valid"), Role::Admin).await?;
    let caller = app.authenticate(Some(&key), Role::Admin).await?;
    eprintln!("bench: registering {} orders with one parcel each…", size.orders);
    prepare_orders(&app, &caller, 0..size.orders).await?;
    let server = tokio::spawn(application.run_until(std::future::pending()));

    // Store: the first half of the orders' events, through the use case, many writers at once.
    eprintln!("bench: ingest through the store ({} events, {} writers)…", half * size.events_per_order, size.writers);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..size.writers {
        let (app, caller) = (app.clone(), caller.clone());
        tasks.push(tokio::spawn(async move {
            let mut pending = Vec::new();
            for order in (w..half).step_by(size.writers) {
                pending.extend(bench_events(order, size.events_per_order));
                if pending.len() >= size.batch {
                    app.ingest_events(&caller, std::mem::take(&mut pending)).await?;
                }
            }
            if !pending.is_empty() {
                app.ingest_events(&caller, pending).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let store_rate = (half * size.events_per_order) as f64 / started.elapsed().as_secs_f64();

    // HTTP: the second half, as JSON batches from concurrent clients.
    eprintln!(
        "bench: ingest through HTTP ({} events, {} clients)…",
        (size.orders - half) * size.events_per_order,
        size.writers
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..size.writers {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut pending: Vec<serde_json::Value> = Vec::new();
            let send = |events: Vec<serde_json::Value>| {
                let request = client.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&serde_json::json!({"events": events}));
                async move {
                    let response = request.send().await?;
                    anyhow::ensure!(response.status().is_success(), "HTTP {}", response.status());
                    anyhow::Ok(())
                }
            };
            for order in (half + w..size.orders).step_by(size.writers) {
                for k in 0..size.events_per_order {
                    let at = event_time(order, k);
                    pending.push(serde_json::json!({
                        "source": "carrier", "source_event_id": format!("bench-{order}-{k}"), "tracking_number": tracking(order),
                        "carrier": "ups", "milestone": MILESTONES[k.min(MILESTONES.len() - 1)].as_str(), "code": "AR",
                        "description": "Arrival scan", "occurred_at": at.to_rfc3339(), "location": {"city": "Memphis"}
                    }));
                }
                if pending.len() >= size.batch {
                    send(std::mem::take(&mut pending)).await?;
                }
            }
            if !pending.is_empty() {
                send(pending).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let http_rate = ((size.orders - half) * size.events_per_order) as f64 / started.elapsed().as_secs_f64();

    // Lookups: GET one order with its timeline, many clients at once.
    eprintln!("bench: {} order lookups from {} clients…", size.lookups, size.lookup_clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..size.lookup_clients {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let per_client = size.lookups / size.lookup_clients;
        let orders = size.orders;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for n in 0..per_client {
                let order = (c * 7919 + n * 104_729) % orders;
                let t = Instant::now();
                let response = client.get(format!("{base}/api/v1/orders/B-{order}")).bearer_auth(&key).send().await?;
                anyhow::ensure!(response.status().is_success(), "HTTP {}", response.status());
                let _ = response.bytes().await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let lookup_rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.total_cmp(b));
    server.abort();

    let db_bytes: u64 = ["milepost.db", "milepost.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    Ok(BenchReport {
        orders: size.orders,
        events: events_total,
        limit_rows_per_s: limit,
        store_events_per_s: store_rate,
        store_ratio: store_rate / limit,
        http_events_per_s: http_rate,
        http_ratio: http_rate / limit,
        lookup_per_s: lookup_rate,
        lookup_p50_ms: percentile(&latencies, 0.50),
        lookup_p99_ms: percentile(&latencies, 0.99),
        lookup_p999_ms: percentile(&latencies, 0.999),
        db_bytes_per_event: db_bytes as f64 / events_total as f64,
    })
}

/// The report as a table for people.
pub fn table(r: &BenchReport) -> String {
    format!(
        "Milepost bench: {orders} orders, {events} events (10 per order)\n\
         \n\
         | measure                               | value          | vs limit |\n\
         |---------------------------------------|----------------|----------|\n\
         | raw SQLite limit (1000 rows/tx, FULL) | {limit:>9.0} rows/s |   1.00   |\n\
         | ingest through the store              | {store:>9.0} ev/s   |   {sr:.2}   |\n\
         | ingest through HTTP batches           | {http:>9.0} ev/s   |   {hr:.2}   |\n\
         | order lookup (GET, 32 clients)        | {lk:>9.0} req/s  |          |\n\
         | lookup latency p50 / p99 / p99.9      | {p50:.2} / {p99:.2} / {p999:.2} ms |  |\n\
         | database bytes per event              | {bpe:>9.0} B      |          |\n",
        orders = r.orders,
        events = r.events,
        limit = r.limit_rows_per_s,
        store = r.store_events_per_s,
        sr = r.store_ratio,
        http = r.http_events_per_s,
        hr = r.http_ratio,
        lk = r.lookup_per_s,
        p50 = r.lookup_p50_ms,
        p99 = r.lookup_p99_ms,
        p999 = r.lookup_p999_ms,
        bpe = r.db_bytes_per_event,
    )
}

/// What the exception sweep benchmark measured.
#[derive(Debug, Serialize)]
pub struct SweepReportOut {
    pub active_shipments: usize,
    pub setup_seconds: f64,
    pub sweep_seconds: f64,
    pub shipments_per_second: f64,
    pub exceptions_opened: u32,
    /// A sweep with nothing due: the cost of the check itself (reading the due index).
    pub idle_sweep_ms: f64,
}

/// The exception sweeper over `active` in-transit shipments, all due at once (the worst case:
/// a restart after downtime, or a promise date that passes for everyone together).
pub async fn sweep(active: usize, writers: usize) -> anyhow::Result<SweepReportOut> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("sweep.db").display()),
        listen: "127.0.0.1:0".into(),
        ..Settings::default()
    };
    let store = crate::open_store(&settings)?;
    let app = Milepost::new(store, Arc::new(milepost_app::SystemClock));
    let key = app.create_api_key(&AccountName::parse("sweep").expect("valid"), Role::Admin).await?;
    let caller = app.authenticate(Some(&key), Role::Admin).await?;
    eprintln!("sweep bench: {active} shipments with a pickup and a transit scan ({writers} writers)…");
    let started = Instant::now();
    let progress = indicatif::ProgressBar::new(active as u64);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (app, caller, progress) = (app.clone(), caller.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            for i in (w..active).step_by(writers) {
                prepare_orders(&app, &caller, i..i + 1).await?;
                app.ingest_events(&caller, bench_events(i, 3)).await?;
                progress.inc(1);
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    progress.finish_and_clear();
    let setup_seconds = started.elapsed().as_secs_f64();

    // Everything the ingest left due is evaluated; then mark all due again and time a full sweep.
    app.sweep().await?;
    app.store().mark_all_due().await?;
    eprintln!("sweep bench: sweeping {active} due shipments…");
    let started = Instant::now();
    let report = app.sweep().await?;
    let sweep_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    app.sweep().await?;
    let idle_sweep_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(SweepReportOut {
        active_shipments: active,
        setup_seconds,
        sweep_seconds,
        shipments_per_second: f64::from(report.evaluated) / sweep_seconds,
        exceptions_opened: report.opened,
        idle_sweep_ms,
    })
}
