//! The PostgreSQL backend, for installations that outgrow one SQLite file: any number of
//! `milepost serve` processes share one database. Each trait method is one `SERIALIZABLE`
//! transaction on a pooled connection, run again from the start when PostgreSQL reports that a
//! concurrent transaction got there first (serialization failure, deadlock, or the same unique
//! key inserted meanwhile), so the rules see the same one-writer-at-a-time world as on SQLite.
//! Reads run in a read-only snapshot. Background work is claimed with `FOR UPDATE SKIP LOCKED`
//! (the rule sweep) or with leases (the outbox), so it runs once however many workers there are.
//!
//! The transactions themselves are the SQLite backend's, ported to PostgreSQL's dialect on top
//! of `compat`, which gives the synchronous client the same statement shape.

pub mod compat;
mod ingest;
mod kpi;
mod migrate;
mod outbox;
mod reads;
mod returns;
mod rows;
mod rules;
mod scratch;
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
use compat::Connection;
use milepost_domain::exceptions::RuleSettings;
use milepost_domain::notify::NotificationPolicy;
use milepost_domain::{AccountName, Branding, Order, OrderNumber, Role, SourceOfTruth};
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
    truth: Arc<SourceOfTruth>,
    rules: Arc<RuleSettings>,
    policy: Arc<NotificationPolicy>,
}

pub(crate) fn storage_error(e: compat::Error) -> StoreError {
    match &e {
        compat::Error::Postgres(pg) => {
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
                    compat::Error::Postgres(pg) if pg.code().is_some_and(|c| c.code() == "23505") => Ok(()),
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
            truth: Arc::new(SourceOfTruth::default()),
            rules: Arc::new(RuleSettings::default()),
            policy: Arc::new(NotificationPolicy::default()),
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

    /// Runs `work` as one serializable transaction, again from the start (up to
    /// `MAX_ATTEMPTS`) while it loses races to concurrent transactions; returns once committed.
    async fn write<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> StoreResult<R> + Send + 'static,
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
                    .and_then(|()| work(conn))
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
        F: FnOnce(&Connection, &SourceOfTruth) -> StoreResult<R> + Send + 'static,
    {
        let truth = self.truth.clone();
        self.with_connection(move |conn| {
            conn.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").map_err(storage_error)?;
            let result = work(conn, &truth);
            let _ = conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
            result
        })
        .await
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

#[async_trait]
impl Store for PgStore {
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
        self.read(move |conn, _| reads::principal_for_key(conn, &hash)).await
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
        self.read(move |conn, truth| reads::order(conn, truth, account, &order_number)).await
    }

    async fn order_view(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderView>> {
        let order_number = order_number.clone();
        self.read(move |conn, truth| {
            let Some(record) = reads::order(conn, truth, account, &order_number)? else { return Ok(None) };
            let notifications = outbox::of_order(conn, account, order_number.as_str())?;
            let claims = returns::claims_of_order(conn, account, &order_number)?;
            Ok(Some(OrderView { record, notifications, claims }))
        })
        .await
    }

    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StoreResult<OrderPage> {
        self.read(move |conn, _| reads::search_orders(conn, account, &query)).await
    }

    async fn health(&self) -> StoreResult<()> {
        self.read(|conn, _| conn.query_row("SELECT 1", compat::params![], |_| Ok(())).map_err(storage_error)).await
    }

    async fn sweep_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<SweepReport> {
        let (truth, rules, policy) = (self.truth.clone(), self.rules.clone(), self.policy.clone());
        self.write(move |conn| rules::sweep_due(conn, &truth, &rules, &policy, now, limit)).await
    }

    async fn mark_all_due(&self) -> StoreResult<u64> {
        self.write(|conn| {
            rows::exec(conn, "UPDATE shipments SET next_check_us = 0", compat::params![])
                .map(|n| n as u64)
                .map_err(storage_error)
        })
        .await
    }

    async fn learn_lane_rhythm(&self, now: DateTime<Utc>, days: i64) -> StoreResult<u32> {
        // The history is read outside the writers; only the replacement of the rhythms writes.
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
        self.read(move |conn, _| tracking::account_by_name(conn, &name)).await
    }

    async fn sole_account(&self) -> StoreResult<Option<AccountId>> {
        self.read(|conn, _| tracking::sole_account(conn)).await
    }

    async fn branding(&self, account: AccountId) -> StoreResult<Branding> {
        self.read(move |conn, _| tracking::branding(conn, account)).await
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

    async fn order_proof(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderProof>> {
        let order_number = order_number.clone();
        self.read(move |conn, _| tracking::order_proof(conn, account, &order_number)).await
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
