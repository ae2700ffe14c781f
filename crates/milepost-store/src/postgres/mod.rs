//! The PostgreSQL backend, for installations that outgrow one SQLite file: any number of
//! `milepost serve` processes share one database. Each trait method is one `SERIALIZABLE`
//! transaction on a pooled connection, run again from the start when PostgreSQL reports that a
//! concurrent transaction got there first (serialization failure, deadlock, or the same unique
//! key inserted meanwhile), so the rules see the same one-writer-at-a-time world as on SQLite.
//! Reads run in a read-only snapshot. Background work is claimed with `FOR UPDATE SKIP LOCKED`
//! (the rule sweep) or with leases (the outbox), so it runs once however many workers there are.
//!
//! The transactions themselves are shared with SQLite (`crate::shared`, run by `crate::engine`);
//! what is here is only how PostgreSQL runs one: the pool, the serializable retry and the
//! writers' lock.

pub mod client;
mod migrate;
mod scratch;

use crate::db;
use crate::engine::{Engine, Settings};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use client::Connection;
use milepost_domain::SourceOfTruth;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

pub use scratch::ScratchSchema;

/// Connections one store opens at most; the rest of the database's connection budget is left
/// to the other processes sharing it.
const MAX_CONNECTIONS: usize = 16;
/// How often a transaction that lost a race to another one runs again before giving up.
const MAX_ATTEMPTS: u32 = 30;
/// Attempts a transaction makes on its own before it queues behind the other contended ones.
const CONTENDED_AFTER: u32 = 3;
/// The advisory lock key contended writers queue on (any fixed number; "MILEPOST" in ASCII).
const CONTENDED_WRITERS_LOCK: i64 = 0x4d49_4c45_504f_5354;

/// The PostgreSQL store. Cheap to share behind an `Arc`.
pub struct PgStore {
    config: postgres::Config,
    schema: Option<String>,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
    settings: Settings,
}

pub(crate) fn storage_error(e: client::Error) -> StoreError {
    match &e {
        client::Error::Postgres(pg) => {
            let unavailable = pg.is_closed()
                || pg.as_db_error().is_none()
                || pg.code().is_some_and(|c| {
                    let code = c.code();
                    // Connection and resource trouble, shutdowns, and races still lost after
                    // every attempt: the request may succeed later.
                    code.starts_with("08")
                        || code.starts_with("53")
                        || code.starts_with("57P")
                        || code == "40001"
                        || code == "40P01"
                });
            if unavailable { StoreError::Unavailable(e.to_string()) } else { StoreError::Unexpected(e.to_string()) }
        }
        _ => StoreError::Unexpected(e.to_string()),
    }
}

/// The schema named by `search_path` in the URL's `options` (`-c search_path=NAME`), which the
/// store creates when it is missing, so a fresh schema per test or per tenant needs no setup.
fn schema_of(config: &postgres::Config) -> Option<String> {
    let options = config.get_options()?;
    let start = options.find("search_path=")? + "search_path=".len();
    let name: String = options[start..].chars().take_while(|c| !c.is_whitespace() && *c != ',').collect();
    (!name.is_empty()).then_some(name)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn connect(config: &postgres::Config) -> StoreResult<Connection> {
    let client = config
        .connect(postgres::NoTls)
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
    Ok(Connection::new(client))
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, optionally with
    /// `?options=-c%20search_path%3DNAME` to live in schema NAME), applies migrations and
    /// returns the store. Blocks: call it outside async code or on a blocking thread.
    pub fn open(url: &str) -> StoreResult<Self> {
        // The synchronous client runs a small runtime of its own, which may not start inside
        // another one: from async code, connect on a thread of its own.
        if tokio::runtime::Handle::try_current().is_ok() {
            return std::thread::scope(|s| {
                s.spawn(|| Self::open_blocking(url))
                    .join()
                    .map_err(|_| StoreError::Unexpected("opening the store panicked".into()))?
            });
        }
        Self::open_blocking(url)
    }

    fn open_blocking(url: &str) -> StoreResult<Self> {
        let config: postgres::Config =
            url.parse().map_err(|e| StoreError::Unexpected(format!("bad PostgreSQL URL: {e}")))?;
        let schema = schema_of(&config);
        let conn = connect(&config)?;
        if let Some(schema) = &schema {
            conn.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)))
                .or_else(|e| match &e {
                    // Another process created it at the same moment.
                    client::Error::Postgres(pg) if pg.code().is_some_and(|c| c.code() == "23505") => Ok(()),
                    _ => Err(e),
                })
                .map_err(storage_error)?;
        }
        migrate::apply(&conn)?;
        Ok(PgStore {
            config,
            schema,
            idle: Arc::new(Mutex::new(vec![conn])),
            permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            settings: Settings::default(),
        })
    }

    /// Applies pending migrations and returns the versions now applied.
    pub fn migrate(url: &str) -> StoreResult<Vec<i64>> {
        let store = Self::open(url)?;
        let conn = store.idle.lock().expect("pool lock").pop();
        let conn = conn.ok_or_else(|| StoreError::Unexpected("no connection after opening".into()))?;
        let versions = migrate::apply(&conn);
        store.idle.lock().expect("pool lock").push(conn);
        versions
    }

    /// The schema this store lives in, when the URL named one.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Runs `work` on a pooled connection on the blocking thread pool.
    async fn with_connection<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("store is shutting down".into()))?;
        let idle = self.idle.clone();
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = idle.lock().expect("pool lock").pop();
            let conn = match pooled {
                Some(conn) if !conn.is_closed() => conn,
                _ => connect(&config)?,
            };
            let result = work(&conn);
            if !conn.is_closed() {
                idle.lock().expect("pool lock").push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Unexpected(format!("database task failed: {e}")))?
    }
}

#[async_trait]
impl Engine for PgStore {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs `work` as one serializable transaction, again from the start (up to
    /// `MAX_ATTEMPTS`) while it loses races to concurrent transactions; returns once committed.
    async fn write<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&db::Connection<'_>) -> StoreResult<R> + Send + 'static,
    {
        self.with_connection(move |conn| {
            let mut attempt = 0;
            loop {
                attempt += 1;
                conn.reset_failure();
                // A transaction that keeps losing races runs alone instead. Every write holds the
                // writers' advisory lock in shared mode for its transaction; one that lost
                // `CONTENDED_AFTER` times takes it exclusively before it begins, so it waits for
                // the writes in flight (of every process) to end, its snapshot is taken after they
                // committed, and no new write starts until it has committed: nothing is left for
                // it to race. A waiting exclusive request queues the new shared ones behind it.
                let queued = attempt > CONTENDED_AFTER;
                if queued {
                    conn.execute_batch(&format!("SELECT pg_advisory_lock({CONTENDED_WRITERS_LOCK})"))
                        .map_err(storage_error)?;
                }
                let begin = if queued {
                    "BEGIN ISOLATION LEVEL SERIALIZABLE".to_string()
                } else {
                    format!(
                        "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_advisory_xact_lock_shared({CONTENDED_WRITERS_LOCK})"
                    )
                };
                let outcome = conn
                    .execute_batch(&begin)
                    .map_err(storage_error)
                    .and_then(|()| work(&db::Connection::Postgres(conn)))
                    .and_then(|value| conn.execute_batch("COMMIT").map(|_| value).map_err(storage_error))
                    .inspect_err(|_| {
                        let _ = conn.execute_batch("ROLLBACK");
                    });
                if queued {
                    let _ = conn.execute_batch(&format!("SELECT pg_advisory_unlock({CONTENDED_WRITERS_LOCK})"));
                }
                match outcome {
                    Err(_) if conn.failed_retryably() && attempt < MAX_ATTEMPTS => {
                        // Back off a little, more each time, so the racers spread out.
                        let jitter = u64::from(uuid::Uuid::now_v7().as_bytes()[15] % 8);
                        std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt.min(10)) * 2 + jitter));
                    }
                    other => return other,
                }
            }
        })
        .await
    }

    /// Runs `work` in one read-only snapshot.
    async fn read<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&db::Connection<'_>, &SourceOfTruth) -> StoreResult<R> + Send + 'static,
    {
        let truth = self.settings.truth.clone();
        self.with_connection(move |conn| {
            conn.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").map_err(storage_error)?;
            let result = work(&db::Connection::Postgres(conn), &truth);
            let _ = conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
            result
        })
        .await
    }

    async fn read_now<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&db::Connection<'_>, &SourceOfTruth) -> StoreResult<R> + Send + 'static,
    {
        self.read(work).await
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // A client owns a small runtime, which may not be dropped inside async code.
        let idle = std::mem::take(&mut *self.idle.lock().expect("pool lock"));
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}
