//! The embedded SQLite backend. One writer thread owns the only write connection and commits
//! concurrent requests together (group commit): it takes every job waiting in its queue, runs
//! each in its own savepoint inside one `BEGIN IMMEDIATE` transaction, commits once (one fsync
//! with `synchronous=FULL` in WAL mode) and only then answers each caller. Reads use a small pool
//! of separate connections, which WAL lets run beside the writer.

mod ingest;
mod kpi;
mod migrate;
mod outbox;
mod reads;
mod returns;
mod rows;
mod rules;
mod tracking;
mod writes;

use crate::shared::{cleanup, decisions, eta, export, policy, polling, staff};

use crate::{
    AccountId, ClaimedNotification, CodeOverride, DeliveryOutcome, EventOutcome, ExceptionAction, ExceptionPage,
    ExceptionQuery, ExceptionRecord, IntegrationRecord, LaneRhythmRecord, NewEvent, NewReturn, NewShipment,
    NotificationRecord, NotificationSettings, OrderPage, OrderProof, OrderQuery, OrderRecord, OrderView, PollTarget,
    Principal, Reference, Renormalized, ReturnMove, ReturnOfOrder, ReturnRecord, ShipmentRecord, StaffUpsert,
    StaffUserRecord, Store, StoreError, StoreResult, SweepReport, UnmappedCode, UpsertOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use milepost_domain::exceptions::RuleSettings;
use milepost_domain::notify::NotificationPolicy;
use milepost_domain::{AccountName, Branding, Order, OrderNumber, Role, SourceOfTruth};
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
    truth: Arc<SourceOfTruth>,
    rules: Arc<RuleSettings>,
    policy: Arc<NotificationPolicy>,
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
            truth: Arc::new(SourceOfTruth::default()),
            rules: Arc::new(RuleSettings::default()),
            policy: Arc::new(NotificationPolicy::default()),
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

    /// Runs `work` on the writer thread inside the next group commit and returns its result
    /// once the commit is durable.
    async fn write<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<R>>();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = in_savepoint(conn, work);
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
    fn read_now<R>(&self, work: impl FnOnce(&Connection, &SourceOfTruth) -> StoreResult<R>) -> StoreResult<R> {
        let pooled = self.readers.lock().expect("readers lock").pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_read_connection(&self.path)?,
        };
        let result = in_read_transaction(&conn, |conn| work(conn, &self.truth));
        if conn.is_autocommit() {
            self.readers.lock().expect("readers lock").push(conn);
        }
        result
    }

    /// Runs `work` on a pooled read connection on the blocking thread pool.
    async fn read<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection, &SourceOfTruth) -> StoreResult<R> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        let truth = self.truth.clone();
        let slot = self
            .read_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("store is shutting down".into()))?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let pooled = readers.lock().expect("readers lock").pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_read_connection(&path)?,
            };
            let result = in_read_transaction(&conn, |conn| work(conn, &truth));
            if conn.is_autocommit() {
                readers.lock().expect("readers lock").push(conn);
            }
            result
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

/// Runs a read in one read transaction: every statement sees the same snapshot, and the
/// WAL read lock is taken once for the whole read instead of once per statement.
fn in_read_transaction<R>(conn: &Connection, work: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
    rows::exec(conn, "BEGIN", []).map_err(storage_error)?;
    let result = work(conn);
    let end = rows::exec(conn, if result.is_ok() { "COMMIT" } else { "ROLLBACK" }, []);
    match (result, end) {
        (Ok(_), Err(e)) => Err(storage_error(e)),
        (result, _) => result,
    }
}

/// Runs one job in a savepoint so that its failure undoes only its own writes.
fn in_savepoint<R>(conn: &Connection, work: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
    rows::exec(conn, "SAVEPOINT job", []).map_err(storage_error)?;
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
        rows::exec(conn, "ROLLBACK TO job", []).map_err(storage_error)?;
    }
    rows::exec(conn, "RELEASE job", []).map_err(storage_error)?;
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

#[async_trait]
impl Store for SqliteStore {
    async fn ensure_account(&self, name: &AccountName) -> StoreResult<AccountId> {
        let name = name.clone();
        self.write(move |conn| writes::ensure_account(conn, &name)).await
    }

    async fn insert_api_key(
        &self,
        account: AccountId,
        role: Role,
        key_hash: &str,
        key_prefix: &str,
    ) -> StoreResult<()> {
        let (hash, prefix) = (key_hash.to_string(), key_prefix.to_string());
        self.write(move |conn| writes::insert_api_key(conn, account, role, &hash, &prefix)).await
    }

    async fn principal_for_key(&self, key_hash: &str) -> StoreResult<Option<Principal>> {
        let hash = key_hash.to_string();
        self.read_now(move |conn, _| reads::principal_for_key(conn, &hash))
    }

    async fn upsert_order(&self, account: AccountId, order: Order) -> StoreResult<UpsertOutcome> {
        let truth = self.truth.clone();
        self.write(move |conn| writes::upsert_order(conn, &truth, account, &order)).await
    }

    async fn add_shipment(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
        shipment: NewShipment,
    ) -> StoreResult<ShipmentRecord> {
        let (truth, policy) = (self.truth.clone(), self.policy.clone());
        let order_number = order_number.clone();
        self.write(move |conn| writes::add_shipment(conn, &truth, &policy, account, &order_number, &shipment.shipment))
            .await
    }

    async fn append_events(&self, account: AccountId, events: Vec<NewEvent>) -> StoreResult<Vec<EventOutcome>> {
        let (truth, rules, policy) = (self.truth.clone(), self.rules.clone(), self.policy.clone());
        self.write(move |conn| writes::append_events(conn, &truth, &rules, &policy, account, &events)).await
    }

    async fn order(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderRecord>> {
        let order_number = order_number.clone();
        self.read_now(move |conn, truth| reads::order(conn, truth, account, &order_number))
    }

    async fn order_view(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderView>> {
        let order_number = order_number.clone();
        self.read_now(move |conn, truth| {
            let Some(record) = reads::order(conn, truth, account, &order_number)? else { return Ok(None) };
            let notifications = outbox::of_order(conn, account, order_number.as_str())?;
            let claims = returns::claims_of_order(conn, account, &order_number)?;
            Ok(Some(OrderView { record, notifications, claims }))
        })
    }

    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StoreResult<OrderPage> {
        self.read(move |conn, _| reads::search_orders(conn, account, &query)).await
    }

    async fn health(&self) -> StoreResult<()> {
        self.read(|conn, _| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(storage_error)).await
    }

    async fn sweep_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<SweepReport> {
        let (truth, rules, policy) = (self.truth.clone(), self.rules.clone(), self.policy.clone());
        self.write(move |conn| rules::sweep_due(conn, &truth, &rules, &policy, now, limit)).await
    }

    async fn mark_all_due(&self) -> StoreResult<u64> {
        self.write(|conn| {
            rows::exec(conn, "UPDATE shipments SET next_check_us = 0", []).map(|n| n as u64).map_err(storage_error)
        })
        .await
    }

    async fn learn_lane_rhythm(&self, now: DateTime<Utc>, days: i64) -> StoreResult<u32> {
        // The history is read outside the writer; only the replacement of the rhythms writes.
        let gaps = self.read(move |conn, truth| rules::lane_gaps(conn, truth, now, days)).await?;
        self.write(move |conn| rules::save_lane_rhythms(conn, &gaps, now)).await
    }

    async fn lane_rhythms(&self, account: AccountId) -> StoreResult<Vec<LaneRhythmRecord>> {
        self.read(move |conn, _| rules::lane_rhythms(conn, account)).await
    }

    async fn exceptions(&self, account: AccountId, query: ExceptionQuery) -> StoreResult<ExceptionPage> {
        self.read(move |conn, _| rules::exceptions(conn, account, &query)).await
    }

    async fn act_on_exception(
        &self,
        account: AccountId,
        id: i64,
        action: ExceptionAction,
        actor: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ExceptionRecord> {
        let actor = actor.to_string();
        self.write(move |conn| rules::act_on_exception(conn, account, id, &action, &actor, now)).await
    }

    async fn kpi_facts(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<milepost_domain::kpi::OrderKpiFacts>> {
        self.read(move |conn, _| kpi::kpi_facts(conn, account, from, to)).await
    }

    async fn insert_integration(&self, account: AccountId, id: &str, kind: &str, secret: &str) -> StoreResult<()> {
        let (id, kind, secret) = (id.to_string(), kind.to_string(), secret.to_string());
        self.write(move |conn| ingest::insert_integration(conn, account, &id, &kind, &secret)).await
    }

    async fn integration(&self, id: &str) -> StoreResult<Option<IntegrationRecord>> {
        let id = id.to_string();
        self.read(move |conn, _| ingest::integration(conn, &id)).await
    }

    async fn unmapped_codes(&self, account: AccountId) -> StoreResult<Vec<UnmappedCode>> {
        self.read(move |conn, _| ingest::unmapped_codes(conn, account)).await
    }

    async fn code_overrides(&self, account: AccountId) -> StoreResult<Vec<CodeOverride>> {
        self.read(move |conn, _| ingest::code_overrides(conn, account)).await
    }

    async fn set_code_override(&self, account: AccountId, mapping: CodeOverride) -> StoreResult<Renormalized> {
        let truth = self.truth.clone();
        self.write(move |conn| ingest::set_code_override(conn, &truth, account, &mapping)).await
    }

    async fn resolve_references(&self, account: AccountId, keys: Vec<String>) -> StoreResult<Vec<Option<Reference>>> {
        self.read(move |conn, _| ingest::resolve_references(conn, account, &keys)).await
    }

    async fn import_orders(
        &self,
        account: AccountId,
        orders: Vec<Order>,
        events: Vec<NewEvent>,
    ) -> StoreResult<Vec<UpsertOutcome>> {
        let (truth, rules, policy) = (self.truth.clone(), self.rules.clone(), self.policy.clone());
        self.write(move |conn| ingest::import_orders(conn, &truth, &rules, &policy, account, &orders, &events)).await
    }

    async fn link_channel_order(
        &self,
        account: AccountId,
        channel: &str,
        external_id: &str,
        order_number: &OrderNumber,
    ) -> StoreResult<()> {
        let (channel, external_id, order_number) = (channel.to_string(), external_id.to_string(), order_number.clone());
        self.write(move |conn| ingest::link_channel_order(conn, account, &channel, &external_id, &order_number)).await
    }

    async fn channel_order(
        &self,
        account: AccountId,
        channel: &str,
        external_id: &str,
    ) -> StoreResult<Option<OrderNumber>> {
        let (channel, external_id) = (channel.to_string(), external_id.to_string());
        self.read(move |conn, _| ingest::channel_order(conn, account, &channel, &external_id)).await
    }

    async fn account_by_name(&self, name: &AccountName) -> StoreResult<Option<AccountId>> {
        let name = name.clone();
        self.read_now(move |conn, _| tracking::account_by_name(conn, &name))
    }

    async fn sole_account(&self) -> StoreResult<Option<AccountId>> {
        self.read_now(|conn, _| tracking::sole_account(conn))
    }

    async fn branding(&self, account: AccountId) -> StoreResult<Branding> {
        self.read_now(move |conn, _| tracking::branding(conn, account))
    }

    async fn put_branding(&self, account: AccountId, branding: Branding) -> StoreResult<()> {
        self.write(move |conn| tracking::put_branding(conn, account, &branding)).await
    }

    async fn server_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        let (name, candidate) = (name.to_string(), candidate.to_string());
        self.write(move |conn| tracking::server_secret(conn, &name, &candidate)).await
    }

    async fn create_return(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
        request: NewReturn,
    ) -> StoreResult<ReturnRecord> {
        let truth = self.truth.clone();
        let order_number = order_number.clone();
        self.write(move |conn| tracking::create_return(conn, &truth, account, &order_number, &request)).await
    }

    async fn return_policy(&self, account: AccountId) -> StoreResult<milepost_domain::ReturnPolicy> {
        self.read(move |conn, _| returns::return_policy(conn, account)).await
    }

    async fn put_return_policy(
        &self,
        account: AccountId,
        policy: milepost_domain::ReturnPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn| returns::put_return_policy(conn, account, &policy, now)).await
    }

    async fn return_by_id(&self, account: AccountId, id: i64) -> StoreResult<Option<ReturnOfOrder>> {
        self.read(move |conn, _| returns::return_by_id(conn, account, id)).await
    }

    async fn decide_returned_parcel(
        &self,
        account: AccountId,
        decision: crate::ParcelDecision,
    ) -> StoreResult<Option<ShipmentRecord>> {
        let (truth, rules, policy) = (self.truth.clone(), self.rules.clone(), self.policy.clone());
        self.write(move |conn| decisions::decide_returned_parcel(conn, &truth, &rules, &policy, account, &decision))
            .await
    }

    async fn move_return(&self, account: AccountId, step: ReturnMove) -> StoreResult<ReturnOfOrder> {
        let (truth, policy) = (self.truth.clone(), self.policy.clone());
        self.write(move |conn| returns::move_return(conn, &truth, &policy, account, &step)).await
    }

    async fn record_inspection(
        &self,
        account: AccountId,
        step: ReturnMove,
        items: Vec<milepost_domain::InspectedItem>,
    ) -> StoreResult<ReturnOfOrder> {
        let (truth, policy) = (self.truth.clone(), self.policy.clone());
        self.write(move |conn| returns::record_inspection(conn, &truth, &policy, account, &step, &items)).await
    }

    async fn return_kpi_facts(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<milepost_domain::returns::OrderReturnFacts>> {
        self.read(move |conn, _| returns::return_kpi_facts(conn, account, from, to)).await
    }

    async fn open_claim(&self, account: AccountId, claim: crate::NewClaim) -> StoreResult<crate::ClaimRecord> {
        self.write(move |conn| returns::open_claim(conn, account, &claim)).await
    }

    async fn claim_by_id(&self, account: AccountId, id: i64) -> StoreResult<Option<crate::ClaimRecord>> {
        self.read(move |conn, _| returns::claim_by_id(conn, account, id)).await
    }

    async fn move_claim(
        &self,
        account: AccountId,
        id: i64,
        from: milepost_domain::claims::ClaimState,
        to: milepost_domain::claims::ClaimState,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::ClaimRecord> {
        self.write(move |conn| returns::move_claim(conn, account, id, from, to, at)).await
    }

    async fn claims_of_order(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
    ) -> StoreResult<Vec<crate::ClaimRecord>> {
        let order_number = order_number.clone();
        self.read(move |conn, _| returns::claims_of_order(conn, account, &order_number)).await
    }

    async fn returns_queue(
        &self,
        account: AccountId,
        state: Option<milepost_domain::ReturnState>,
        limit: u32,
    ) -> StoreResult<Vec<ReturnOfOrder>> {
        self.read(move |conn, _| returns::returns_queue(conn, account, state, limit)).await
    }

    async fn order_proof(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderProof>> {
        let order_number = order_number.clone();
        self.read_now(move |conn, _| tracking::order_proof(conn, account, &order_number))
    }

    async fn due_polls(&self, carrier: &str, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<PollTarget>> {
        let carrier = carrier.to_string();
        self.read(move |conn, _| polling::due_polls(conn, &carrier, now, limit)).await
    }

    async fn poll_target(&self, shipment_id: i64) -> StoreResult<Option<PollTarget>> {
        self.read(move |conn, _| polling::poll_target(conn, shipment_id)).await
    }

    async fn set_next_poll(&self, shipment_id: i64, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.write(move |conn| polling::set_next_poll(conn, shipment_id, at)).await
    }

    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedNotification>> {
        self.write(move |conn| outbox::claim(conn, now, lease, limit)).await
    }

    async fn finish_notification(
        &self,
        id: i64,
        claim: &str,
        outcome: DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let claim = claim.to_string();
        self.write(move |conn| outbox::finish(conn, id, &claim, &outcome, now)).await
    }

    async fn order_notifications(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let order_number = order_number.as_str().to_string();
        self.read(move |conn, _| outbox::of_order(conn, account, &order_number)).await
    }

    async fn dead_notifications(&self, account: AccountId, limit: u32) -> StoreResult<Vec<NotificationRecord>> {
        self.read(move |conn, _| outbox::dead(conn, account, limit)).await
    }

    async fn resend_notification(
        &self,
        account: AccountId,
        id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<NotificationRecord> {
        self.write(move |conn| outbox::resend(conn, account, id, now)).await
    }

    async fn notification_settings(&self, account: AccountId) -> StoreResult<NotificationSettings> {
        self.read(move |conn, _| outbox::settings(conn, account)).await
    }

    async fn set_notification_settings(
        &self,
        account: AccountId,
        settings: NotificationSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn| outbox::set_settings(conn, account, &settings, now)).await
    }

    async fn notification_policy(&self, account: AccountId) -> StoreResult<Option<String>> {
        self.read(move |conn, _| policy::document(conn, account)).await
    }

    async fn set_notification_policy(
        &self,
        account: AccountId,
        document: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn| policy::set_document(conn, account, document.as_deref(), now)).await
    }
    async fn upsert_staff_user(
        &self,
        account: AccountId,
        email: &str,
        role: Role,
        password_hash: &str,
    ) -> StoreResult<StaffUpsert> {
        let (email, hash) = (email.to_string(), password_hash.to_string());
        self.write(move |conn| staff::upsert_staff_user(conn, account, &email, role, &hash)).await
    }

    async fn staff_user_by_email(&self, email: &str) -> StoreResult<Option<StaffUserRecord>> {
        let email = email.to_string();
        self.read(move |conn, _| staff::staff_user_by_email(conn, &email)).await
    }

    async fn create_staff_session(
        &self,
        id_hash: &str,
        staff_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let id_hash = id_hash.to_string();
        self.write(move |conn| staff::create_staff_session(conn, &id_hash, staff_id, now, expires_at)).await
    }

    async fn staff_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<StaffUserRecord>> {
        let id_hash = id_hash.to_string();
        self.read(move |conn, _| staff::staff_session(conn, &id_hash, now)).await
    }

    async fn delete_staff_session(&self, id_hash: &str) -> StoreResult<()> {
        let id_hash = id_hash.to_string();
        self.write(move |conn| staff::delete_staff_session(conn, &id_hash)).await
    }
    async fn stale_shipments(
        &self,
        account: AccountId,
        stale_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::StaleShipment>> {
        self.read(move |conn, _| cleanup::stale_shipments(conn, account, stale_before, limit)).await
    }

    async fn duplicate_scans(&self, account: AccountId) -> StoreResult<Vec<crate::DuplicateScans>> {
        self.read(move |conn, _| cleanup::duplicate_scans(conn, account)).await
    }

    async fn export_account(&self, account: AccountId) -> StoreResult<crate::export::AccountExport> {
        self.read(move |conn, _| export::export_account(conn, account)).await
    }

    async fn import_account(
        &self,
        name: &AccountName,
        history: crate::export::AccountExport,
    ) -> StoreResult<AccountId> {
        let name = name.clone();
        self.write(move |conn| {
            let account = writes::ensure_account(conn, &name)?;
            export::import_account(conn, account, &name, &history)
        })
        .await
    }
}

impl crate::shared::BackendSteps for Connection {
    fn load_projection(
        &self,
        truth: &SourceOfTruth,
        shipment_id: i64,
    ) -> StoreResult<milepost_domain::timeline::TimelineProjection> {
        rules::load_projection(self, truth, shipment_id)
    }

    fn shipment_by_id(&self, truth: &SourceOfTruth, shipment_id: i64) -> StoreResult<crate::ShipmentRecord> {
        reads::shipment_by_id(self, truth, shipment_id)
    }

    fn append_events(
        &self,
        truth: &SourceOfTruth,
        settings: &RuleSettings,
        policy: &NotificationPolicy,
        account: AccountId,
        events: &[crate::NewEvent],
    ) -> StoreResult<Vec<crate::EventOutcome>> {
        writes::append_events(self, truth, settings, policy, account, events)
    }

    fn add_shipment(
        &self,
        truth: &SourceOfTruth,
        policy: &NotificationPolicy,
        account: AccountId,
        order_number: &OrderNumber,
        shipment: &milepost_domain::Shipment,
    ) -> StoreResult<crate::ShipmentRecord> {
        writes::add_shipment(self, truth, policy, account, order_number, shipment)
    }

    fn queue_customer_notice(
        &self,
        policy: &NotificationPolicy,
        order_id: i64,
        shipments: &[&str],
        notice: milepost_domain::notify::Notice,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let context = outbox::order_context(self, policy, order_id, None)?;
        outbox::queue_notice(self, &context, order_id, shipments, notice, now, None)
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

#[cfg(test)]
mod read_plans {
    //! Every statement of an order read, of a page of the operations lists, of the delivery
    //! worker's claim, of the lane rhythms' search and of a KPI report's period finds its rows by
    //! an index and sorts nothing: a table scan or a sort of every row per request is work that
    //! grows with the history.

    use super::*;
    use milepost_domain::order::Channel;
    use milepost_domain::{Customer, Direction, LineItem, Money, Shipment, ShipmentItem, TrackingNumber};
    use rusqlite::trace::{TraceEvent, TraceEventCodes};

    static TRACED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn remember(event: TraceEvent<'_>) {
        if let TraceEvent::Stmt(_, sql) = event {
            TRACED.lock().unwrap().push(sql.to_string());
        }
    }

    fn order(number: &OrderNumber) -> Order {
        Order {
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

        let conn = open_read_connection(&path).unwrap();
        let statements = traced(&conn, |conn| {
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
}
