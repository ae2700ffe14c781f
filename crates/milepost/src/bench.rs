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

/// When event `k` of an order happened: within the three days before the run (the same hour
/// for the whole run), as carriers report scans minutes to hours after the fact. Events dated
/// weeks before the run would leave every parcel stalled and past its promise, so each batch
/// would open exceptions and queue alerts for every parcel it touches instead of measuring the
/// common path.
fn event_time(order: usize, k: usize) -> DateTime<FixedOffset> {
    static BASE: std::sync::OnceLock<DateTime<FixedOffset>> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        let hour = chrono::Utc::now().timestamp() / 3600 * 3600 - 3 * 24 * 3600;
        let offset = chrono::FixedOffset::west_opt(5 * 3600).expect("valid offset");
        DateTime::from_timestamp(hour, 0).expect("valid time").with_timezone(&offset)
    });
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

/// The same event as JSON: an item of the HTTP batch body, and the raw payload Milepost keeps
/// with the event on either path (and the raw table stores), so every path writes the same bytes.
fn event_json(order: usize, k: usize) -> serde_json::Value {
    let at = event_time(order, k);
    serde_json::json!({
        "source": "carrier", "source_event_id": format!("bench-{order}-{k}"), "tracking_number": tracking(order),
        "carrier": "ups", "milestone": MILESTONES[k.min(MILESTONES.len() - 1)].as_str(), "code": "AR",
        "description": "Arrival scan", "occurred_at": at.to_rfc3339(), "location": {"city": "Memphis"}
    })
}

/// The storage engine on its own: the same event rows in a bare SQLite file (WAL,
/// `synchronous=FULL`, the same secondary index), written 1000 per transaction in the order
/// Milepost receives them, and read back one shipment at a time. No Milepost code.
struct RawEngine {
    conn: rusqlite::Connection,
    rows: usize,
    events_per_order: usize,
}

impl RawEngine {
    fn create(path: &Path, events_per_order: usize) -> anyhow::Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE events (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, source TEXT NOT NULL,
                source_event_id TEXT, code TEXT, milestone TEXT, occurred_at TEXT NOT NULL,
                occurred_at_us INTEGER NOT NULL, received_at TEXT NOT NULL, city TEXT, fact_key TEXT NOT NULL, raw TEXT);
             CREATE INDEX events_by_scope_time ON events(scope, occurred_at_us);",
        )?;
        Ok(RawEngine { conn, rows: 0, events_per_order })
    }

    /// Appends the next `rows` rows and answers rows per second.
    fn append(&mut self, rows: usize) -> anyhow::Result<f64> {
        let started = Instant::now();
        let end = self.rows + rows;
        while self.rows < end {
            let tx = self.conn.unchecked_transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO events (scope, source, source_event_id, code, milestone, occurred_at, occurred_at_us,
                        received_at, city, fact_key, raw)
                     VALUES (?1, 'carrier', ?2, 'AR', 'in_transit', ?3, ?4, ?5, 'Memphis', ?6, ?7)",
                )?;
                for i in self.rows..(self.rows + 1000).min(end) {
                    let (order, k) = (i / self.events_per_order, i % self.events_per_order);
                    let at = event_time(order, k);
                    stmt.execute(rusqlite::params![
                        format!("t:{}", tracking(order)),
                        format!("bench-{order}-{k}"),
                        at.to_rfc3339(),
                        at.timestamp_micros(),
                        Utc::now().to_rfc3339(),
                        format!("carrier|in_transit|AR|{}|memphis", at.timestamp_micros()),
                        event_json(order, k).to_string()
                    ])?;
                }
            }
            tx.commit()?;
            self.rows = (self.rows + 1000).min(end);
        }
        Ok(rows as f64 / started.elapsed().as_secs_f64())
    }

    /// Reads one shipment's events by its key, `count` times over the stored orders; lookups/s.
    fn lookups(&self, count: usize) -> anyhow::Result<f64> {
        let orders = (self.rows / self.events_per_order).max(1);
        let mut stmt = self.conn.prepare_cached("SELECT * FROM events WHERE scope = ?1 ORDER BY occurred_at_us")?;
        let started = Instant::now();
        let mut seen = 0usize;
        for n in 0..count {
            let order = (n * 104_729) % orders;
            let mut rows = stmt.query([format!("t:{}", tracking(order))])?;
            while let Some(row) = rows.next()? {
                let raw: Option<String> = row.get(11)?;
                seen += raw.map_or(0, |r| r.len().min(1));
            }
        }
        anyhow::ensure!(seen > 0, "raw lookups found no rows");
        Ok(count as f64 / started.elapsed().as_secs_f64())
    }
}

fn bench_order(i: usize) -> Order {
    let placed = event_time(i, 0) - Duration::hours(12);
    Order {
        charged: None,
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
            raw: Some(event_json(order, k)),
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

/// Latency and throughput of one kind of read under concurrent load.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

/// Which read a lookup run makes.
#[derive(Debug, Clone, Copy)]
enum Lookup {
    /// `GET /api/v1/orders/{order_number}` with an API key.
    Api,
    /// The public tracking page: `GET /track?order_number=…&email=…` (proof of ownership).
    Page,
}

impl Lookup {
    /// Where this kind's sequence of orders starts: the page's reads do not repeat the API's.
    fn offset(self) -> usize {
        match self {
            Lookup::Api => 0,
            Lookup::Page => 50_021,
        }
    }
}

/// The process's peak resident set so far (Linux `VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The process's private resident memory now (Linux `RssAnon`: heap and stacks, without the
/// pages of files it maps, such as the database the read connections map), in bytes.
fn private_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The peak of the process's private resident memory, sampled every 20 ms from its start
/// (Linux keeps a peak only for the whole resident set, which counts mapped file pages too).
static PEAK_PRIVATE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn watch_private_memory() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let sample = || PEAK_PRIVATE.fetch_max(private_rss_bytes().unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
        sample();
        let _ = std::thread::Builder::new().name("bench-memory".into()).spawn(move || {
            loop {
                sample();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
    });
}

/// The peak private resident memory seen so far, in MB.
fn peak_private_mb() -> f64 {
    PEAK_PRIVATE.fetch_max(private_rss_bytes().unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
    PEAK_PRIVATE.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6
}

fn database_bytes(dir: &Path, name: &str) -> u64 {
    [name.to_string(), format!("{name}-wal")]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// A running Milepost (the real application with its HTTP server on a free port) and the
/// clients that drive it.
struct Harness {
    app: Milepost,
    caller: milepost_app::records::Principal,
    base: String,
    key: String,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Harness {
    async fn start(database_url: &str) -> anyhow::Result<Self> {
        let settings = Settings {
            database_url: database_url.to_string(),
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
        let server = tokio::spawn(application.run_until(std::future::pending()));
        Ok(Harness { app, caller, base, key, client: reqwest::Client::new(), server })
    }

    /// Registers the orders of `range`, each with its parcel, from `writers` tasks at once.
    async fn register(&self, range: std::ops::Range<usize>, writers: usize) -> anyhow::Result<()> {
        let mut tasks = Vec::new();
        for w in 0..writers {
            let (app, caller, range) = (self.app.clone(), self.caller.clone(), range.clone());
            tasks.push(tokio::spawn(async move {
                for i in (range.start + w..range.end).step_by(writers) {
                    prepare_orders(&app, &caller, i..i + 1).await?;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        Ok(())
    }

    /// Ingests the events of the orders in `range` through the store use case; events/s.
    async fn ingest_store(&self, range: std::ops::Range<usize>, size: &BenchSize) -> anyhow::Result<f64> {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..size.writers {
            let (app, caller, range) = (self.app.clone(), self.caller.clone(), range.clone());
            let (batch, per_order, writers) = (size.batch, size.events_per_order, size.writers);
            tasks.push(tokio::spawn(async move {
                let mut pending = Vec::new();
                for order in (range.start + w..range.end).step_by(writers) {
                    pending.extend(bench_events(order, per_order));
                    if pending.len() >= batch {
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
        Ok((range.len() * size.events_per_order) as f64 / started.elapsed().as_secs_f64())
    }

    /// Ingests the events of the orders in `range` as JSON batches over HTTP; events/s.
    async fn ingest_http(&self, range: std::ops::Range<usize>, size: &BenchSize) -> anyhow::Result<f64> {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..size.writers {
            let (client, base, key, range) = (self.client.clone(), self.base.clone(), self.key.clone(), range.clone());
            let (batch, per_order, writers) = (size.batch, size.events_per_order, size.writers);
            tasks.push(tokio::spawn(async move {
                let mut pending: Vec<serde_json::Value> = Vec::new();
                let send = |events: Vec<serde_json::Value>| {
                    let request = client
                        .post(format!("{base}/api/v1/events"))
                        .bearer_auth(&key)
                        .json(&serde_json::json!({ "events": events }));
                    async move {
                        let response = request.send().await?;
                        anyhow::ensure!(response.status().is_success(), "HTTP {}", response.status());
                        anyhow::Ok(())
                    }
                };
                for order in (range.start + w..range.end).step_by(writers) {
                    pending.extend((0..per_order).map(|k| event_json(order, k)));
                    if pending.len() >= batch {
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
        Ok((range.len() * size.events_per_order) as f64 / started.elapsed().as_secs_f64())
    }

    /// `count` reads of random orders among the first `orders`, from `clients` clients at once,
    /// after one unmeasured round of `clients` reads at once: it opens the clients' connections
    /// and the store's read connections, which a running server has open already.
    async fn lookups(&self, kind: Lookup, orders: usize, count: usize, clients: usize) -> anyhow::Result<Latency> {
        let mut warm_up = Vec::with_capacity(clients);
        for c in 0..clients {
            let order = c % orders;
            let request = match kind {
                Lookup::Api => self.client.get(format!("{}/api/v1/orders/B-{order}", self.base)).bearer_auth(&self.key),
                Lookup::Page => {
                    self.client.get(format!("{}/track?order_number=B-{order}&email=c{order}%40example.com", self.base))
                }
            };
            warm_up.push(tokio::spawn(
                async move { anyhow::Ok(request.send().await?.error_for_status()?.bytes().await?) },
            ));
        }
        for task in warm_up {
            task.await??;
        }
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, base, key) = (self.client.clone(), self.base.clone(), self.key.clone());
            let per_client = count / clients;
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_client);
                for n in 0..per_client {
                    // The API and the page read different orders (`kind.offset`), so neither phase
                    // finds its pages cached by the other one.
                    let order = (c * 7919 + n * 104_729 + kind.offset()) % orders;
                    let request = match kind {
                        Lookup::Api => client.get(format!("{base}/api/v1/orders/B-{order}")).bearer_auth(&key),
                        Lookup::Page => {
                            client.get(format!("{base}/track?order_number=B-{order}&email=c{order}%40example.com"))
                        }
                    };
                    let t = Instant::now();
                    let response = request.send().await?;
                    anyhow::ensure!(response.status().is_success(), "HTTP {} for order B-{order}", response.status());
                    let body = response.bytes().await?;
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    // The page must show the parcel, not a form asking again.
                    let shown = String::from_utf8_lossy(&body).contains(&tracking(order));
                    anyhow::ensure!(shown, "the answer for order B-{order} does not show its parcel");
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await??);
        }
        let requests_per_s = latencies.len() as f64 / started.elapsed().as_secs_f64();
        latencies.sort_by(|a, b| a.total_cmp(b));
        Ok(Latency {
            requests_per_s,
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            p999_ms: percentile(&latencies, 0.999),
        })
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
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
    pub raw_lookups_per_s: f64,
    pub api_lookup: Latency,
    pub page_lookup: Latency,
    /// API lookups per second as a share of the raw engine's point lookups.
    pub lookup_ratio: f64,
    pub db_bytes_per_event: f64,
    pub raw_bytes_per_event: f64,
    /// Peak RSS of the bench process: the server, its store and the load clients together,
    /// counting the database pages the read connections map (once per connection).
    pub peak_rss_mb: f64,
    /// Peak private memory of the same process (`RssAnon`): what it holds of its own, without
    /// the mapped database pages, which are the kernel's page cache shared and reclaimable.
    pub peak_private_mb: f64,
    pub adapters: Vec<milepost_ingest::samples::Throughput>,
    /// The PostgreSQL figures, when the run was given a PostgreSQL server.
    pub postgres: Option<PostgresFigures>,
}

/// What one run through a Milepost (on either backend) measured.
struct Through {
    store_events_per_s: f64,
    http_events_per_s: f64,
    api_lookup: Latency,
    page_lookup: Latency,
}

/// Starts Milepost on `database_url`, registers the orders, ingests half of the events through
/// the store and half through HTTP, then reads orders through the API and the tracking page.
async fn measure_milepost(database_url: &str, size: &BenchSize) -> anyhow::Result<Through> {
    let half = size.orders / 2;
    let harness = Harness::start(database_url).await?;
    eprintln!("bench: registering {} orders with one parcel each…", size.orders);
    harness.register(0..size.orders, size.writers).await?;
    eprintln!("bench: ingest through the store ({} events, {} writers)…", half * size.events_per_order, size.writers);
    let store_events_per_s = harness.ingest_store(0..half, size).await?;
    eprintln!("bench: ingest through HTTP ({} events)…", (size.orders - half) * size.events_per_order);
    let http_events_per_s = harness.ingest_http(half..size.orders, size).await?;
    eprintln!("bench: {} lookups of each kind from {} clients…", size.lookups, size.lookup_clients);
    let api_lookup = harness.lookups(Lookup::Api, size.orders, size.lookups, size.lookup_clients).await?;
    let page_lookup = harness.lookups(Lookup::Page, size.orders, size.lookups, size.lookup_clients).await?;
    Ok(Through { store_events_per_s, http_events_per_s, api_lookup, page_lookup })
}

/// The same measures against PostgreSQL, each over its own limit measured in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct PostgresFigures {
    /// Bare multi-row INSERTs (1000 rows per statement and transaction) of the same rows.
    pub limit_rows_per_s: f64,
    pub store_events_per_s: f64,
    pub store_ratio: f64,
    pub http_events_per_s: f64,
    pub http_ratio: f64,
    /// One shipment's rows by key through a prepared statement, one client.
    pub raw_lookups_per_s: f64,
    pub api_lookup: Latency,
    pub page_lookup: Latency,
    pub lookup_ratio: f64,
    pub db_bytes_per_event: f64,
    pub raw_bytes_per_event: f64,
}

/// Concurrent writers of the PostgreSQL run.
const POSTGRES_WRITERS: usize = 16;

/// Runs `work` on a thread of its own: the synchronous PostgreSQL client runs a small runtime,
/// which may neither start nor be dropped inside async code.
fn off_runtime<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(work).join().expect("PostgreSQL bench thread"))
}

/// Bytes of every table and index of `schema` (heap, indexes and TOAST).
fn postgres_schema_bytes(base_url: &str, schema: &str) -> anyhow::Result<u64> {
    off_runtime(|| {
        let mut client = postgres::Client::connect(base_url, postgres::NoTls)?;
        let bytes: i64 = client
            .query_one(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
                &[&schema],
            )?
            .get(0);
        anyhow::Ok(bytes.max(0) as u64)
    })
}

/// PostgreSQL on its own, in a throwaway schema: the event rows of the run in a bare table with
/// the same secondary index, written with multi-row INSERTs of 1000 rows per transaction (the
/// server's own durability: `synchronous_commit` as configured), then read back one shipment at
/// a time. No Milepost code. Answers rows/s, lookups/s and bytes per row.
fn raw_postgres(base_url: &str, size: &BenchSize) -> anyhow::Result<(f64, f64, f64)> {
    let schema = milepost_store::postgres::ScratchSchema::create(base_url, "milepost_bench_raw")?;
    let rows = size.orders * size.events_per_order;
    let per_order = size.events_per_order;
    let (limit, lookups) = off_runtime(|| {
        let mut client = postgres::Client::connect(schema.url(), postgres::NoTls)?;
        client.batch_execute(
            "CREATE TABLE events (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, scope TEXT NOT NULL,
                source TEXT NOT NULL, source_event_id TEXT, code TEXT, milestone TEXT, occurred_at TEXT NOT NULL,
                occurred_at_us BIGINT NOT NULL, received_at TEXT NOT NULL, city TEXT, fact_key TEXT NOT NULL, raw TEXT);
             CREATE INDEX events_by_scope_time ON events(scope, occurred_at_us);",
        )?;
        let statement_for = |client: &mut postgres::Client, n: usize| {
            let values: Vec<String> = (0..n)
                .map(|r| {
                    let p = r * 7;
                    format!(
                        "(${}, 'carrier', ${}, 'AR', 'in_transit', ${}, ${}, ${}, 'Memphis', ${}, ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6,
                        p + 7
                    )
                })
                .collect();
            client.prepare(&format!(
                "INSERT INTO events (scope, source, source_event_id, code, milestone, occurred_at, occurred_at_us,
                    received_at, city, fact_key, raw) VALUES {}",
                values.join(", ")
            ))
        };
        let full = statement_for(&mut client, 1000)?;
        let started = Instant::now();
        let mut done = 0;
        while done < rows {
            let end = (done + 1000).min(rows);
            let mut texts: Vec<String> = Vec::with_capacity((end - done) * 6);
            let mut micros: Vec<i64> = Vec::with_capacity(end - done);
            for i in done..end {
                let (order, k) = (i / per_order, i % per_order);
                let at = event_time(order, k);
                texts.push(format!("t:{}", tracking(order)));
                texts.push(format!("bench-{order}-{k}"));
                texts.push(at.to_rfc3339());
                texts.push(Utc::now().to_rfc3339());
                texts.push(format!("carrier|in_transit|AR|{}|memphis", at.timestamp_micros()));
                texts.push(event_json(order, k).to_string());
                micros.push(at.timestamp_micros());
            }
            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::with_capacity((end - done) * 7);
            for (r, t) in texts.chunks(6).enumerate() {
                params.extend([
                    &t[0] as &(dyn postgres::types::ToSql + Sync),
                    &t[1],
                    &t[2],
                    &micros[r],
                    &t[3],
                    &t[4],
                    &t[5],
                ]);
            }
            let partial = if end - done == 1000 { None } else { Some(statement_for(&mut client, end - done)?) };
            let mut tx = client.transaction()?;
            tx.execute(partial.as_ref().unwrap_or(&full), &params)?;
            tx.commit()?;
            done = end;
        }
        let limit = rows as f64 / started.elapsed().as_secs_f64();
        let lookup = client.prepare("SELECT * FROM events WHERE scope = $1 ORDER BY occurred_at_us")?;
        let orders = (rows / per_order).max(1);
        let started = Instant::now();
        let mut seen = 0usize;
        for n in 0..size.lookups {
            let order = (n * 104_729) % orders;
            for row in client.query(&lookup, &[&format!("t:{}", tracking(order))])? {
                let raw: Option<String> = row.get(11);
                seen += raw.map_or(0, |r| r.len().min(1));
            }
        }
        anyhow::ensure!(seen > 0, "raw PostgreSQL lookups found no rows");
        anyhow::Ok((limit, size.lookups as f64 / started.elapsed().as_secs_f64()))
    })?;
    let bytes = postgres_schema_bytes(base_url, schema.name())? as f64 / rows as f64;
    Ok((limit, lookups, bytes))
}

/// The PostgreSQL half of the run: the raw engine and Milepost, each in a throwaway schema on
/// the server of `base_url`, dropped afterwards.
async fn measure_postgres(base_url: &str, size: &BenchSize) -> anyhow::Result<PostgresFigures> {
    eprintln!("bench: PostgreSQL's limit ({} raw rows, multi-row INSERTs)…", size.orders * size.events_per_order);
    let (url, size_copy) = (base_url.to_string(), *size);
    let (limit, raw_lookups, raw_bytes) =
        tokio::task::spawn_blocking(move || raw_postgres(&url, &size_copy)).await.context("raw PostgreSQL")??;
    let schema = milepost_store::postgres::ScratchSchema::create(base_url, "milepost_bench")?;
    // Each PostgreSQL write is one SERIALIZABLE transaction, run again when a concurrent one
    // wins a race; on a young database (small tables, page-level predicate locks) sixteen
    // writers at once make some transactions lose every one of their attempts, so the
    // PostgreSQL run uses fewer concurrent writers (BENCHMARKS.md, "PostgreSQL").
    let size = &BenchSize { writers: POSTGRES_WRITERS.min(size.writers), ..*size };
    eprintln!("bench: Milepost on PostgreSQL (schema {}, {} writers)…", schema.name(), size.writers);
    let through = measure_milepost(schema.url(), size).await?;
    let bytes = postgres_schema_bytes(base_url, schema.name())? as f64 / (size.orders * size.events_per_order) as f64;
    Ok(PostgresFigures {
        limit_rows_per_s: limit,
        store_events_per_s: through.store_events_per_s,
        store_ratio: through.store_events_per_s / limit,
        http_events_per_s: through.http_events_per_s,
        http_ratio: through.http_events_per_s / limit,
        raw_lookups_per_s: raw_lookups,
        lookup_ratio: through.api_lookup.requests_per_s / raw_lookups,
        api_lookup: through.api_lookup,
        page_lookup: through.page_lookup,
        db_bytes_per_event: bytes,
        raw_bytes_per_event: raw_bytes,
    })
}

/// Runs the benchmark in a temporary directory and returns the figures; with `postgres_url`
/// (a `postgres://` URL) the same ingest and lookups run against PostgreSQL too.
pub async fn run(size: BenchSize, postgres_url: Option<&str>) -> anyhow::Result<BenchReport> {
    watch_private_memory();
    let dir = tempfile::tempdir().context("temporary directory")?;
    let events_total = size.orders * size.events_per_order;

    eprintln!("bench: the engine's limit ({} raw rows)…", events_total);
    let mut raw = RawEngine::create(&dir.path().join("raw.db"), size.events_per_order)?;
    let limit = raw.append(events_total)?;
    let raw_lookups = raw.lookups(size.lookups)?;

    let sqlite_url = format!("sqlite://{}", dir.path().join("milepost.db").display());
    let through = measure_milepost(&sqlite_url, &size).await?;
    let postgres = match postgres_url {
        Some(url) => Some(measure_postgres(url, &size).await?),
        None => None,
    };

    let codes = milepost_ingest::CodeMap::seeded();
    let adapters = milepost_ingest::samples::SAMPLES
        .iter()
        .map(|s| milepost_ingest::samples::measure(s, &codes, std::time::Duration::from_millis(300)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BenchReport {
        orders: size.orders,
        events: events_total,
        limit_rows_per_s: limit,
        store_events_per_s: through.store_events_per_s,
        store_ratio: through.store_events_per_s / limit,
        http_events_per_s: through.http_events_per_s,
        http_ratio: through.http_events_per_s / limit,
        raw_lookups_per_s: raw_lookups,
        lookup_ratio: through.api_lookup.requests_per_s / raw_lookups,
        api_lookup: through.api_lookup,
        page_lookup: through.page_lookup,
        postgres,
        db_bytes_per_event: database_bytes(dir.path(), "milepost.db") as f64 / events_total as f64,
        raw_bytes_per_event: database_bytes(dir.path(), "raw.db") as f64 / events_total as f64,
        peak_rss_mb: peak_rss_bytes().unwrap_or(0) as f64 / 1e6,
        peak_private_mb: peak_private_mb(),
        adapters,
    })
}

/// The report as a table for people.
pub fn table(r: &BenchReport) -> String {
    let mut out = format!(
        "Milepost bench: {orders} orders, {events} events (10 per order)\n\
         \n\
         | measure                                   | value                     | vs engine |\n\
         |-------------------------------------------|---------------------------|-----------|\n\
         | raw SQLite limit (1000 rows/tx, FULL)     | {limit:>9.0} rows/s          |   1.00    |\n\
         | ingest through the store                  | {store:>9.0} events/s        |   {sr:.2}    |\n\
         | ingest through HTTP batches               | {http:>9.0} events/s        |   {hr:.2}    |\n\
         | raw point lookups (one shipment's rows)   | {rl:>9.0} lookups/s       |   1.00    |\n\
         | API order lookup, {c} clients              | {al:>9.0} requests/s      |   {lr:.2}    |\n\
         | API lookup p50 / p99 / p99.9              | {a50:.2} / {a99:.2} / {a999:.2} ms |           |\n\
         | tracking page, {c} clients                 | {pl:>9.0} requests/s      |           |\n\
         | tracking page p50 / p99 / p99.9           | {p50:.2} / {p99:.2} / {p999:.2} ms |           |\n\
         | database bytes per event (raw table)      | {bpe:>9.0} B ({rbpe:.0} B)      |   {br:.2}    |\n\
         | peak RSS (server, store and clients)      | {rss:>9.1} MB             |           |\n\
         | of it private (without the mapped db)     | {private:>9.1} MB             |           |\n",
        orders = r.orders,
        events = r.events,
        limit = r.limit_rows_per_s,
        store = r.store_events_per_s,
        sr = r.store_ratio,
        http = r.http_events_per_s,
        hr = r.http_ratio,
        rl = r.raw_lookups_per_s,
        c = 32,
        al = r.api_lookup.requests_per_s,
        lr = r.lookup_ratio,
        a50 = r.api_lookup.p50_ms,
        a99 = r.api_lookup.p99_ms,
        a999 = r.api_lookup.p999_ms,
        pl = r.page_lookup.requests_per_s,
        p50 = r.page_lookup.p50_ms,
        p99 = r.page_lookup.p99_ms,
        p999 = r.page_lookup.p999_ms,
        bpe = r.db_bytes_per_event,
        rbpe = r.raw_bytes_per_event,
        br = r.db_bytes_per_event / r.raw_bytes_per_event.max(1.0),
        rss = r.peak_rss_mb,
        private = r.peak_private_mb,
    );
    if let Some(pg) = &r.postgres {
        out.push_str(&postgres_table(pg));
    }
    out.push_str("\nAdapter parse throughput (one sample payload per format)\n\n");
    out.push_str(
        "| format    | payload B | MB/s    | events/s   |\n|-----------|-----------|---------|------------|\n",
    );
    for a in &r.adapters {
        out.push_str(&format!(
            "| {:<9} | {:>9} | {:>7.1} | {:>10.0} |\n",
            a.format, a.payload_bytes, a.megabytes_per_s, a.events_per_s
        ));
    }
    out
}

fn postgres_table(pg: &PostgresFigures) -> String {
    format!(
        "\nPostgreSQL (the same rows and clients, each figure over PostgreSQL's own limit)\n\n\
         | measure                                   | value                     | vs engine |\n\
         |-------------------------------------------|---------------------------|-----------|\n\
         | raw PostgreSQL limit (1000-row INSERTs)   | {limit:>9.0} rows/s          |   1.00    |\n\
         | ingest through the store                  | {store:>9.0} events/s        |   {sr:.2}    |\n\
         | ingest through HTTP batches               | {http:>9.0} events/s        |   {hr:.2}    |\n\
         | raw point lookups (one shipment's rows)   | {rl:>9.0} lookups/s       |   1.00    |\n\
         | API order lookup, 32 clients              | {al:>9.0} requests/s      |   {lr:.2}    |\n\
         | API lookup p50 / p99 / p99.9              | {a50:.2} / {a99:.2} / {a999:.2} ms |           |\n\
         | tracking page, 32 clients                 | {pl:>9.0} requests/s      |           |\n\
         | tracking page p50 / p99 / p99.9           | {p50:.2} / {p99:.2} / {p999:.2} ms |           |\n\
         | database bytes per event (raw table)      | {bpe:>9.0} B ({rbpe:.0} B)      |   {br:.2}    |\n",
        limit = pg.limit_rows_per_s,
        store = pg.store_events_per_s,
        sr = pg.store_ratio,
        http = pg.http_events_per_s,
        hr = pg.http_ratio,
        rl = pg.raw_lookups_per_s,
        al = pg.api_lookup.requests_per_s,
        lr = pg.lookup_ratio,
        a50 = pg.api_lookup.p50_ms,
        a99 = pg.api_lookup.p99_ms,
        a999 = pg.api_lookup.p999_ms,
        pl = pg.page_lookup.requests_per_s,
        p50 = pg.page_lookup.p50_ms,
        p99 = pg.page_lookup.p99_ms,
        p999 = pg.page_lookup.p999_ms,
        bpe = pg.db_bytes_per_event,
        rbpe = pg.raw_bytes_per_event,
        br = pg.db_bytes_per_event / pg.raw_bytes_per_event.max(1.0),
    )
}

/// One size of the scale curve: the figures measured when the history held `orders` orders.
#[derive(Debug, Serialize)]
pub struct ScalePoint {
    pub orders: usize,
    pub limit_rows_per_s: f64,
    pub store_events_per_s: f64,
    pub http_events_per_s: f64,
    pub store_ratio: f64,
    pub http_ratio: f64,
    /// Microseconds per event through HTTP at this size.
    pub http_us_per_event: f64,
    pub raw_lookups_per_s: f64,
    pub api_lookup: Latency,
    pub page_lookup: Latency,
    pub db_bytes_per_event: f64,
    pub peak_rss_mb: f64,
    /// Peak private memory (see `BenchReport::peak_private_mb`).
    pub peak_private_mb: f64,
}

#[derive(Debug, Serialize)]
pub struct ScaleReport {
    pub points: Vec<ScalePoint>,
    /// Change of HTTP time per event per tenfold growth of the history, in percent.
    pub ingest_slope_pct_per_decade: f64,
    /// Change of API lookup p99 per tenfold growth, in milliseconds.
    pub lookup_p99_slope_ms_per_decade: f64,
}

/// Grows one database through the sizes in `points` (order counts, ascending) and measures, at
/// each size, a probe of fresh orders ingested through the store and through HTTP, lookups of
/// random orders of the whole history, and the raw engine grown to the same number of rows.
pub async fn scale(points: &[usize], size: BenchSize) -> anyhow::Result<ScaleReport> {
    watch_private_memory();
    let dir = tempfile::tempdir().context("temporary directory")?;
    let mut raw = RawEngine::create(&dir.path().join("raw.db"), size.events_per_order)?;
    let harness = Harness::start(&format!("sqlite://{}", dir.path().join("milepost.db").display())).await?;
    let mut filled = 0usize;
    let mut measured = Vec::new();
    for &point in points {
        let probe = (point / 5).clamp(2, 2_000);
        anyhow::ensure!(point >= filled + probe, "scale points must grow: {point} after {filled}");
        let fill_to = point - probe;
        eprintln!("scale: filling the history to {fill_to} orders…");
        harness.register(filled..fill_to, size.writers).await?;
        harness.ingest_store(filled..fill_to, &size).await?;
        raw.append(fill_to * size.events_per_order - raw.rows)?;
        eprintln!("scale: measuring at {point} orders…");
        let limit = raw.append(probe * size.events_per_order)?;
        let raw_lookups = raw.lookups(size.lookups)?;
        harness.register(fill_to..point, size.writers).await?;
        let middle = fill_to + probe / 2;
        let store_rate = harness.ingest_store(fill_to..middle, &size).await?;
        let http_rate = harness.ingest_http(middle..point, &size).await?;
        let api_lookup = harness.lookups(Lookup::Api, point, size.lookups, size.lookup_clients).await?;
        let page_lookup = harness.lookups(Lookup::Page, point, size.lookups, size.lookup_clients).await?;
        filled = point;
        let point = ScalePoint {
            orders: point,
            limit_rows_per_s: limit,
            store_events_per_s: store_rate,
            http_events_per_s: http_rate,
            store_ratio: store_rate / limit,
            http_ratio: http_rate / limit,
            http_us_per_event: 1e6 / http_rate,
            raw_lookups_per_s: raw_lookups,
            api_lookup,
            page_lookup,
            db_bytes_per_event: database_bytes(dir.path(), "milepost.db") as f64
                / (point * size.events_per_order) as f64,
            peak_rss_mb: peak_rss_bytes().unwrap_or(0) as f64 / 1e6,
            peak_private_mb: peak_private_mb(),
        };
        eprintln!("{}", scale_row(&point));
        measured.push(point);
    }
    let (first, last) = (measured.first().context("no scale points")?, measured.last().context("no points")?);
    let decades = (last.orders as f64 / first.orders as f64).log10().max(f64::EPSILON);
    Ok(ScaleReport {
        ingest_slope_pct_per_decade: ((last.http_us_per_event / first.http_us_per_event) - 1.0) * 100.0 / decades,
        lookup_p99_slope_ms_per_decade: (last.api_lookup.p99_ms - first.api_lookup.p99_ms) / decades,
        points: measured,
    })
}

fn scale_row(p: &ScalePoint) -> String {
    format!(
        "| {:>9} | {:>8.0} | {:>8.0} ({:.2}) | {:>8.0} ({:.2}) | {:>6.1} | {:>8.0} | {:>5.2} / {:>6.2} | {:>5.2} / {:>6.2} | {:>6.0} | {:>6.1} ({:.1}) |",
        p.orders,
        p.limit_rows_per_s,
        p.store_events_per_s,
        p.store_ratio,
        p.http_events_per_s,
        p.http_ratio,
        p.http_us_per_event,
        p.api_lookup.requests_per_s,
        p.api_lookup.p50_ms,
        p.api_lookup.p99_ms,
        p.page_lookup.p50_ms,
        p.page_lookup.p99_ms,
        p.db_bytes_per_event,
        p.peak_rss_mb,
        p.peak_private_mb,
    )
}

/// The scale curve as a table for people.
pub fn scale_table(r: &ScaleReport) -> String {
    let mut out = String::from(
        "| orders    | limit/s  | store ev/s (ratio) | HTTP ev/s (ratio) | µs/ev  | lookup/s | API p50 / p99 ms | page p50 / p99 ms | B/ev   | RSS (private) MB |\n\
         |-----------|----------|--------------------|-------------------|--------|----------|------------------|-------------------|--------|------------------|\n",
    );
    for p in &r.points {
        out.push_str(&scale_row(p));
        out.push('\n');
    }
    out.push_str(&format!(
        "\nslope per tenfold growth: HTTP time per event {:+.1} %, API lookup p99 {:+.2} ms\n",
        r.ingest_slope_pct_per_decade, r.lookup_p99_slope_ms_per_decade
    ));
    out
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
    /// One-event ingest batches made while nothing else runs: the baseline.
    pub ingest_idle: IngestLatency,
    /// The same ingest while the full sweep runs: what "does not stall ingestion" means.
    pub ingest_during_sweep: IngestLatency,
}

/// Latency of small ingest batches (one event each) made one after another.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestLatency {
    pub batches: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Ingests one new event at a time into the first `shipments` parcels until `stop` is set (or
/// `limit` batches are made), and reports the latency of each acknowledged batch.
async fn probe_ingest(
    app: Milepost,
    caller: milepost_app::records::Principal,
    shipments: usize,
    tag: &'static str,
    limit: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<IngestLatency> {
    let mut latencies = Vec::new();
    while latencies.len() < limit && !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let n = latencies.len();
        let order = (n * 7919) % shipments;
        let mut event = bench_events(order, 4).pop().expect("one event");
        event.source_event_id = Some(format!("probe-{tag}-{n}"));
        event.occurred_at += Duration::minutes(n as i64 + 1);
        let t = Instant::now();
        app.ingest_events(&caller, vec![event]).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    Ok(IngestLatency {
        batches: latencies.len(),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
    })
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
    let never = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ingest_idle = probe_ingest(app.clone(), caller.clone(), active, "idle", 400, never).await?;
    app.store().mark_all_due().await?;
    eprintln!("sweep bench: sweeping {active} due shipments while ingesting one event at a time…");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = tokio::spawn(probe_ingest(app.clone(), caller.clone(), active, "sweep", usize::MAX, stop.clone()));
    let started = Instant::now();
    let report = app.sweep().await?;
    let sweep_seconds = started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ingest_during_sweep = prober.await??;
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
        ingest_idle,
        ingest_during_sweep,
    })
}
