//! The embedded SQLite backend. One writer thread owns the only write connection and commits
//! concurrent requests together (group commit): it takes every job waiting in its queue, runs
//! each in its own savepoint inside one `BEGIN IMMEDIATE` transaction, commits once (one fsync
//! with `synchronous=FULL` in WAL mode) and only then answers each caller. Reads use a small pool
//! of separate connections, which WAL lets run beside the writer.

mod migrate;

use crate::db;
use crate::engine::{Engine, Settings};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use milepost_domain::SourceOfTruth;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// How many queued writes one transaction may take. Large enough to amortize the fsync, small
/// enough that one slow batch does not hold many callers.
const MAX_JOBS_PER_COMMIT: usize = 512;
/// Reads running at once. SQLite reads are CPU-bound once the pages are cached, so more
/// concurrent readers than about twice the cores only add threads, connections and page caches
/// (memory) without adding throughput; callers beyond it wait their turn in order.
fn read_concurrency() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 2).clamp(4, 16)
}

type Completion = Box<dyn FnOnce(Option<StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

/// Statistics of the group-commit writer, for the metrics endpoint and the benchmark.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriterStats {
    pub commits: u64,
    pub jobs: u64,
}

/// The SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    read_slots: Arc<tokio::sync::Semaphore>,
    stats: Arc<Mutex<WriterStats>>,
    settings: Settings,
}

pub(crate) fn storage_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
                    | ErrorCode::CannotOpen
                    | ErrorCode::SystemIoFailure
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Unexpected(e.to_string()),
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(storage_error)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )
    .map_err(storage_error)?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// A connection for reads: as `open_connection`, with the first `READ_MMAP_BYTES` of the
/// database file memory-mapped, so a page a read needs is found in the mapping instead of copied
/// out of the kernel's page cache by one `pread` per page (a third of an order read's time,
/// BENCHMARKS.md "Lookups"). The mapping shares the kernel's cached pages and holds no copy of
/// its own, but the resident set counts the pages each connection touched through it.
fn open_read_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = open_connection(path)?;
    conn.execute_batch(&format!("PRAGMA mmap_size = {READ_MMAP_BYTES};")).map_err(storage_error)?;
    Ok(conn)
}

/// How much of the database file a read connection maps: 256 MiB holds about 30,000 orders'
/// history (850 bytes per event); reads of pages beyond it fall back to `pread`. A larger
/// mapping read faster still at 100,000 orders but made the resident set count the whole
/// mapped file once per read connection (BENCHMARKS.md).
const READ_MMAP_BYTES: u64 = 256 << 20;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies migrations and starts the
    /// writer thread.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with_quota(path, None)
    }

    /// As `open`, with a storage quota: the database may grow to about `max_bytes` (rounded down
    /// to whole pages, and never below its size today). A write that would pass it fails with
    /// `SQLITE_FULL`, exactly as on a full disk, and is refused as `Unavailable`; nothing is
    /// half-stored, and writes go through again once the quota is raised (the next open) or
    /// rows are freed.
    pub fn open_with_quota(path: impl AsRef<Path>, max_bytes: Option<u64>) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let mut conn = open_connection(&path)?;
        migrate::apply(&mut conn)?;
        if let Some(max_bytes) = max_bytes {
            // Only the writer's connection grows the file; the limit lives on that connection.
            let page_size: i64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0)).map_err(storage_error)?;
            let pages = (max_bytes / page_size.max(1) as u64).max(1);
            let applied: i64 = conn
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| row.get(0))
                .map_err(storage_error)?;
            tracing::info!(max_bytes, pages = applied, "SQLite storage quota");
        }
        let (tx, rx) = mpsc::channel::<Job>(8192);
        let stats = Arc::new(Mutex::new(WriterStats::default()));
        let writer_stats = stats.clone();
        let writer = std::thread::Builder::new()
            .name("milepost-sqlite-writer".into())
            .spawn(move || run_writer(conn, rx, writer_stats))
            .map_err(|e| StoreError::Unexpected(format!("cannot start writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: Arc::new(tokio::sync::Semaphore::new(read_concurrency())),
            stats,
            settings: Settings::default(),
        })
    }

    /// Applies pending migrations and returns the versions now applied.
    pub fn migrate(path: impl AsRef<Path>) -> StoreResult<Vec<i64>> {
        let mut conn = open_connection(path.as_ref())?;
        migrate::apply(&mut conn)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn writer_stats(&self) -> WriterStats {
        *self.stats.lock().expect("stats lock")
    }

    /// Stops taking writes, lets the writer finish what it has queued, and waits for it.
    pub fn close(&self) {
        self.jobs.lock().expect("jobs lock").take();
        if let Some(handle) = self.writer.lock().expect("writer lock").take() {
            let _ = handle.join();
        }
    }
}

#[async_trait]
impl Engine for SqliteStore {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs `work` on the writer thread inside the next group commit and returns its result
    /// once the commit is durable.
    async fn write<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&db::Connection<'_>) -> StoreResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<R>>();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = in_savepoint(conn, |conn| work(&db::Connection::Sqlite(conn)));
            Box::new(move |commit_error: Option<StoreError>| {
                let _ = reply.send(match commit_error {
                    Some(e) => Err(e),
                    None => result,
                });
            })
        });
        let sender = self
            .jobs
            .lock()
            .expect("jobs lock")
            .clone()
            .ok_or_else(|| StoreError::Unavailable("store is shutting down".into()))?;
        sender.send(job).await.map_err(|_| StoreError::Unavailable("store writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("store writer stopped before answering".into()))?
    }

    /// Runs a point read (one order, one key, one row by its index) at once on the caller's own
    /// thread, with a pooled connection in one read transaction. Such a read takes tens of
    /// microseconds once its pages are cached, less than the two thread wake-ups of a trip to the
    /// blocking pool and back (BENCHMARKS.md, "Lookups"); reads that scan go through `read`.
    async fn read_now<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&db::Connection<'_>, &SourceOfTruth) -> StoreResult<R> + Send + 'static,
    {
        on_reader(&self.readers, &self.path, &self.settings.truth, work)
    }

    /// Runs `work` on a pooled read connection on the blocking thread pool.
    async fn read<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&db::Connection<'_>, &SourceOfTruth) -> StoreResult<R> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        let truth = self.settings.truth.clone();
        let slot = self
            .read_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("store is shutting down".into()))?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            on_reader(&readers, &path, &truth, work)
        })
        .await
        .map_err(|e| StoreError::Unexpected(format!("read task failed: {e}")))?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// Runs `work` on a pooled read connection (opened when none is idle) in one read transaction,
/// and gives the connection back unless the read left it inside a transaction.
fn on_reader<R>(
    readers: &Mutex<Vec<Connection>>,
    path: &Path,
    truth: &SourceOfTruth,
    work: impl FnOnce(&db::Connection<'_>, &SourceOfTruth) -> StoreResult<R>,
) -> StoreResult<R> {
    let pooled = readers.lock().expect("readers lock").pop();
    let conn = match pooled {
        Some(conn) => conn,
        None => open_read_connection(path)?,
    };
    let result = in_read_transaction(&conn, |conn| work(&db::Connection::Sqlite(conn), truth));
    if conn.is_autocommit() {
        readers.lock().expect("readers lock").push(conn);
    }
    result
}

/// Runs one statement without parameters through the statement cache (transaction control,
/// run for every read and every job).
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
}

/// Runs a read in one read transaction: every statement sees the same snapshot, and the
/// WAL read lock is taken once for the whole read instead of once per statement.
fn in_read_transaction<R>(conn: &Connection, work: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
    run(conn, "BEGIN").map_err(storage_error)?;
    let result = work(conn);
    let end = run(conn, if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
    match (result, end) {
        (Ok(_), Err(e)) => Err(storage_error(e)),
        (result, _) => result,
    }
}

/// Runs one job in a savepoint so that its failure undoes only its own writes.
fn in_savepoint<R>(conn: &Connection, work: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
    run(conn, "SAVEPOINT job").map_err(storage_error)?;
    let result = work(conn);
    if conn.is_autocommit() {
        // SQLite rolled the whole transaction back by itself (it may on a full disk, an I/O error
        // or without memory), savepoint included: nothing of this job is stored.
        return Err(match result {
            Err(e @ StoreError::Unavailable(_)) => e,
            Err(e) => StoreError::Unavailable(format!("the write transaction was rolled back: {e}")),
            Ok(_) => StoreError::Unavailable("the write transaction was rolled back".into()),
        });
    }
    if result.is_err() {
        run(conn, "ROLLBACK TO job").map_err(storage_error)?;
    }
    run(conn, "RELEASE job").map_err(storage_error)?;
    result
}

fn run_writer(conn: Connection, mut jobs: mpsc::Receiver<Job>, stats: Arc<Mutex<WriterStats>>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let count = batch.len() as u64;
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs drops their reply channels: each caller sees the store as
            // unavailable and nothing was acknowledged.
            tracing::error!(error = %storage_error(e), "cannot begin a write transaction");
            drop(batch);
            continue;
        }
        let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
        // Jobs whose writes went with a transaction SQLite rolled back by itself (a full disk or
        // an I/O error may do that): they are answered as unavailable, and the rest of the batch
        // goes on in a fresh transaction, so nothing is committed under a caller told it failed
        // and no job runs outside a transaction.
        let mut rolled_back: Vec<Completion> = Vec::new();
        let mut jobs_left = batch.into_iter();
        for job in jobs_left.by_ref() {
            if conn.is_autocommit() {
                rolled_back.append(&mut completions);
                if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                    // The jobs not run are dropped with `jobs_left`: their callers see the store
                    // as unavailable.
                    tracing::error!(error = %storage_error(e), "cannot begin a write transaction");
                    break;
                }
            }
            completions.push(job(&conn));
        }
        drop(jobs_left);
        if conn.is_autocommit() {
            rolled_back.append(&mut completions);
        }
        let commit = if completions.is_empty() { Ok(()) } else { conn.execute_batch("COMMIT").map_err(storage_error) };
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        {
            let mut s = stats.lock().expect("stats lock");
            s.commits += 1;
            s.jobs += count;
        }
        for completion in completions {
            completion(commit.as_ref().err().map(|e| StoreError::Unavailable(e.to_string())));
        }
        for completion in rolled_back {
            completion(Some(StoreError::Unavailable("the write transaction was rolled back by the database".into())));
        }
    }
}

#[cfg(test)]
mod writer_tests {
    use super::*;

    type Answers = Arc<Mutex<Vec<(i64, Result<(), String>)>>>;

    /// A job as `SqliteStore::write` builds it: `work` in its savepoint, its answer recorded.
    fn job(n: i64, answers: Answers, work: impl FnOnce(&Connection) -> StoreResult<()> + Send + 'static) -> Job {
        Box::new(move |conn: &Connection| {
            let result = in_savepoint(conn, work);
            Box::new(move |commit_error: Option<StoreError>| {
                let answer = match commit_error {
                    Some(e) => Err(e),
                    None => result,
                };
                answers.lock().unwrap().push((n, answer.map_err(|e| e.to_string())));
            })
        })
    }

    fn insert(n: i64) -> impl FnOnce(&Connection) -> StoreResult<()> + Send + 'static {
        move |conn| conn.execute("INSERT INTO t (x) VALUES (?1)", [n]).map(|_| ()).map_err(storage_error)
    }

    #[test]
    fn a_group_transaction_sqlite_rolls_back_by_itself_fails_its_jobs_and_the_rest_commit_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writer.db");
        let conn = open_connection(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER NOT NULL)").unwrap();
        let answers: Answers = Arc::new(Mutex::new(Vec::new()));
        let (queue, jobs) = mpsc::channel::<Job>(8);
        queue.try_send(job(1, answers.clone(), insert(1))).ok().unwrap();
        // What SQLite does on a full disk or an I/O error mid-statement: the whole transaction
        // is rolled back, and the statement fails.
        queue
            .try_send(job(2, answers.clone(), |conn| {
                insert(2)(conn)?;
                conn.execute_batch("ROLLBACK").map_err(storage_error)?;
                Err(StoreError::Unavailable("database or disk is full".into()))
            }))
            .ok()
            .unwrap();
        queue.try_send(job(3, answers.clone(), insert(3))).ok().unwrap();
        drop(queue);
        // The three jobs wait in the queue, so the writer takes them as one group.
        run_writer(conn, jobs, Arc::new(Mutex::new(WriterStats::default())));

        let answers = answers.lock().unwrap().clone();
        let answer = |n: i64| answers.iter().find(|(m, _)| *m == n).map(|(_, a)| a.clone()).unwrap();
        assert!(answer(1).unwrap_err().contains("unavailable"), "job 1's writes went with the rollback");
        assert!(answer(2).unwrap_err().contains("unavailable"), "{:?}", answer(2));
        assert_eq!(answer(3), Ok(()), "job 3 ran in a fresh transaction and committed");
        let check = Connection::open(&path).unwrap();
        let stored: Vec<i64> = check
            .prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(stored, vec![3], "only the job told it succeeded is stored");
    }
}
