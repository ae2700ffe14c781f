//! Storage for Milepost: the `Store` trait every backend implements, the records it reads and
//! writes, and its errors. Each method is one transaction: a state change writes its events and
//! the statuses they move together, and an acknowledged write is durable before the method
//! returns. The SQLite backend (the embedded default) lives in `sqlite`, the PostgreSQL backend
//! (several processes on one database) in `postgres`; both pass the same test story.

pub mod db;
pub mod engine;
pub mod export;
pub mod migrations;
pub mod model;
pub mod outbox;
pub mod policy_cache;
pub mod postgres;
pub mod shared;
pub mod sql;
pub mod sqlite;

use async_trait::async_trait;
pub use model::*;
pub use outbox::*;

/// What can go wrong in a store call. Callers map these once onto HTTP problems.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// The request conflicts with what is stored (e.g. a tracking number on another order).
    #[error("{0}")]
    Conflict(String),
    /// The request breaks a domain rule that needs stored state to check (e.g. split items).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The database is temporarily unable to take the write (busy, disk full, shutting down).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected storage error: {0}")]
    Unexpected(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The storage contract. Implementations must be safe to share between tasks.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates the account if it does not exist and returns its id either way.
    async fn ensure_account(&self, name: &milepost_domain::AccountName) -> StoreResult<AccountId>;

    /// Stores a new API key's hash for an account.
    async fn insert_api_key(
        &self,
        account: AccountId,
        role: milepost_domain::Role,
        key_hash: &str,
        key_prefix: &str,
    ) -> StoreResult<()>;

    /// Finds the caller a key hash belongs to, unless revoked.
    async fn principal_for_key(&self, key_hash: &str) -> StoreResult<Option<Principal>>;

    /// Creates or updates an order (idempotent on its number).
    async fn upsert_order(&self, account: AccountId, order: milepost_domain::Order) -> StoreResult<UpsertOutcome>;

    /// Registers a shipment on an order; events already received for its tracking number
    /// attach to it.
    async fn add_shipment(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
        shipment: NewShipment,
    ) -> StoreResult<ShipmentRecord>;

    /// Appends a batch of events; one outcome per event, in order.
    async fn append_events(&self, account: AccountId, events: Vec<NewEvent>) -> StoreResult<Vec<EventOutcome>>;

    /// Reads one order with everything attached.
    async fn order(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
    ) -> StoreResult<Option<OrderRecord>>;

    /// Reads one order with everything attached, its notifications and its claims in one read
    /// (one connection and one snapshot, not three round trips).
    async fn order_view(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
    ) -> StoreResult<Option<OrderView>>;

    /// Searches orders, newest first, with keyset paging.
    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StoreResult<OrderPage>;

    /// Quick liveness check of the database.
    async fn health(&self) -> StoreResult<()>;

    /// Evaluates the exception rules for up to `limit` shipments whose next check is due at
    /// `now`, opening and closing exceptions; call again while it reports a full batch.
    async fn sweep_due(&self, now: chrono::DateTime<chrono::Utc>, limit: u32) -> StoreResult<SweepReport>;

    /// Marks every shipment due for a rule check now (after a rule change, or for a benchmark).
    async fn mark_all_due(&self) -> StoreResult<u64>;

    /// Re-learns every lane's rhythm from delivered shipments of the last `days` days.
    async fn learn_lane_rhythm(&self, now: chrono::DateTime<chrono::Utc>, days: i64) -> StoreResult<u32>;

    /// The learned lane rhythms of an account.
    async fn lane_rhythms(&self, account: AccountId) -> StoreResult<Vec<LaneRhythmRecord>>;

    /// The exception queue, newest first.
    async fn exceptions(&self, account: AccountId, query: ExceptionQuery) -> StoreResult<ExceptionPage>;

    /// Acknowledges, assigns or resolves one exception; returns it as it is afterwards.
    async fn act_on_exception(
        &self,
        account: AccountId,
        id: i64,
        action: ExceptionAction,
        actor: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<ExceptionRecord>;

    /// Facts for the KPI figures about the orders placed in `[from, to)`.
    async fn kpi_facts(
        &self,
        account: AccountId,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Vec<milepost_domain::kpi::OrderKpiFacts>>;

    /// Stores a new integration (its id is chosen by the caller and must be unguessable).
    async fn insert_integration(&self, account: AccountId, id: &str, kind: &str, secret: &str) -> StoreResult<()>;

    /// Finds an integration by its id, with the account it belongs to.
    async fn integration(&self, id: &str) -> StoreResult<Option<IntegrationRecord>>;

    /// The account's raw codes still unmapped, by carrier and code, most frequent first.
    async fn unmapped_codes(&self, account: AccountId) -> StoreResult<Vec<UnmappedCode>>;

    /// The account's own code mappings.
    async fn code_overrides(&self, account: AccountId) -> StoreResult<Vec<CodeOverride>>;

    /// Saves an account's mapping of one code and, in the same transaction, re-normalizes every
    /// stored event of the account with that carrier and code (except those whose sender named
    /// the milestone itself) and recomputes the statuses of the shipments and orders they touch.
    async fn set_code_override(&self, account: AccountId, mapping: CodeOverride) -> StoreResult<Renormalized>;

    /// Resolves each key, in order, to an order and maybe a parcel: a tracking number first, then
    /// an order number, then a shipment id.
    async fn resolve_references(&self, account: AccountId, keys: Vec<String>) -> StoreResult<Vec<Option<Reference>>>;

    /// Creates or updates many orders in one transaction, then appends `events` about them (such
    /// as a report's cancellations) in the same transaction: all of it or none.
    async fn import_orders(
        &self,
        account: AccountId,
        orders: Vec<milepost_domain::Order>,
        events: Vec<NewEvent>,
    ) -> StoreResult<Vec<UpsertOutcome>>;

    /// Remembers a store platform's own id for an order (idempotent).
    async fn link_channel_order(
        &self,
        account: AccountId,
        channel: &str,
        external_id: &str,
        order_number: &milepost_domain::OrderNumber,
    ) -> StoreResult<()>;

    /// The order a store platform's own id was linked to.
    async fn channel_order(
        &self,
        account: AccountId,
        channel: &str,
        external_id: &str,
    ) -> StoreResult<Option<milepost_domain::OrderNumber>>;

    /// The account of that name, if it exists.
    async fn account_by_name(&self, name: &milepost_domain::AccountName) -> StoreResult<Option<AccountId>>;

    /// The only account, when exactly one exists (single-merchant installs).
    async fn sole_account(&self) -> StoreResult<Option<AccountId>>;

    /// The account's branding; all fields empty when never set.
    async fn branding(&self, account: AccountId) -> StoreResult<milepost_domain::Branding>;

    /// Replaces the account's branding.
    async fn put_branding(&self, account: AccountId, branding: milepost_domain::Branding) -> StoreResult<()>;

    /// The server secret of that name; stores `candidate` first when there is none yet, so
    /// every process on the database agrees on one value.
    async fn server_secret(&self, name: &str, candidate: &str) -> StoreResult<String>;

    /// Stores a return request in state `requested` after checking, in the same transaction,
    /// that it asks for no more than was shipped less earlier requests.
    async fn create_return(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
        request: NewReturn,
    ) -> StoreResult<ReturnRecord>;

    /// The account's return eligibility rules; the defaults when never set.
    async fn return_policy(&self, account: AccountId) -> StoreResult<milepost_domain::ReturnPolicy>;

    /// Replaces the account's return eligibility rules.
    async fn put_return_policy(
        &self,
        account: AccountId,
        policy: milepost_domain::ReturnPolicy,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()>;

    /// One return of the account, with its order number.
    async fn return_by_id(&self, account: AccountId, id: i64) -> StoreResult<Option<ReturnOfOrder>>;

    /// Moves a return from `from` to `to` and records the step; a conflict when the return is no
    /// longer in `from` (someone moved it meanwhile).
    async fn move_return(&self, account: AccountId, step: ReturnMove) -> StoreResult<ReturnOfOrder>;

    /// Records the inspection and disposition of a return's items and moves it with `step`
    /// (from `inspection_pending` to `disposition_decided`), all or nothing.
    async fn record_inspection(
        &self,
        account: AccountId,
        step: ReturnMove,
        items: Vec<milepost_domain::InspectedItem>,
    ) -> StoreResult<ReturnOfOrder>;

    /// Facts for the return figures about the orders placed in `[from, to)`.
    async fn return_kpi_facts(
        &self,
        account: AccountId,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Vec<milepost_domain::returns::OrderReturnFacts>>;

    /// Opens a claim from one of the account's exceptions, if its kind is about a lost or damaged
    /// parcel and no claim is open for it yet.
    async fn open_claim(&self, account: AccountId, claim: NewClaim) -> StoreResult<ClaimRecord>;

    /// One claim of the account.
    async fn claim_by_id(&self, account: AccountId, id: i64) -> StoreResult<Option<ClaimRecord>>;

    /// Moves a claim from `from` to `to` (compare and set, like `move_return`).
    async fn move_claim(
        &self,
        account: AccountId,
        id: i64,
        from: milepost_domain::claims::ClaimState,
        to: milepost_domain::claims::ClaimState,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<ClaimRecord>;

    /// The claims of one order of the account, oldest first.
    async fn claims_of_order(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
    ) -> StoreResult<Vec<ClaimRecord>>;

    /// Records staff's decision on an outbound parcel that came back to the sender, checked in
    /// the same transaction (outbound, back, not decided: a conflict otherwise), as a staff event
    /// on the parcel's timeline, with its effect: a reship registers the new parcel with the same
    /// items, a refund queues the customer message and the merchant's signed webhook, a cancel
    /// cancels the order's lines that were not delivered. Answers the reshipped parcel.
    async fn decide_returned_parcel(
        &self,
        account: AccountId,
        decision: ParcelDecision,
    ) -> StoreResult<Option<ShipmentRecord>>;

    /// The account's returns in a state (all open ones when `None`), oldest first.
    async fn returns_queue(
        &self,
        account: AccountId,
        state: Option<milepost_domain::ReturnState>,
        limit: u32,
    ) -> StoreResult<Vec<ReturnOfOrder>>;

    /// What a customer may prove an order with (e-mail, postal codes), read with one indexed
    /// query, so a lookup does the same work for an unknown order as for a wrong proof.
    async fn order_proof(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
    ) -> StoreResult<Option<OrderProof>>;

    /// Parcels of one carrier due for a poll at `now` (never polled, or due), not terminal.
    async fn due_polls(
        &self,
        carrier: &str,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<PollTarget>>;

    /// One parcel as the poller sees it (after new events, to schedule the next poll).
    async fn poll_target(&self, shipment_id: i64) -> StoreResult<Option<PollTarget>>;

    /// When to poll a parcel next; `None` when it needs no more polling.
    async fn set_next_poll(&self, shipment_id: i64, at: Option<chrono::DateTime<chrono::Utc>>) -> StoreResult<()>;

    /// Claims up to `limit` notifications due at `now` for `lease`, oldest first. Each claimed
    /// row counts one more attempt; a row whose lease ran out is due again.
    async fn claim_notifications(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedNotification>>;

    /// Records how a claimed attempt ended (sent, retry at a time, dead-lettered, suppressed).
    /// Returns false, recording nothing, when the claim no longer holds.
    async fn finish_notification(
        &self,
        id: i64,
        claim: &str,
        outcome: DeliveryOutcome,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<bool>;

    /// An order's notifications, oldest first.
    async fn order_notifications(
        &self,
        account: AccountId,
        order_number: &milepost_domain::OrderNumber,
    ) -> StoreResult<Vec<NotificationRecord>>;

    /// Notifications given up on after their last attempt, newest first.
    async fn dead_notifications(&self, account: AccountId, limit: u32) -> StoreResult<Vec<NotificationRecord>>;

    /// Queues a failed or suppressed notification again, with fresh attempts, due at `now`.
    async fn resend_notification(
        &self,
        account: AccountId,
        id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<NotificationRecord>;

    /// The account's delivery settings (merchant webhook, staff alert address).
    async fn notification_settings(&self, account: AccountId) -> StoreResult<NotificationSettings>;

    /// Replaces the account's delivery settings.
    async fn set_notification_settings(
        &self,
        account: AccountId,
        settings: NotificationSettings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()>;

    /// The account's own notification policy document (TOML), if it wrote one.
    async fn notification_policy(&self, account: AccountId) -> StoreResult<Option<String>>;

    /// Replaces the account's notification policy document (already checked with
    /// `milepost_domain::notify_policy::parse_policy`); `None` returns to the built-in policy.
    /// Changes the decisions of every later write; queued messages stay as they are.
    async fn set_notification_policy(
        &self,
        account: AccountId,
        document: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()>;

    /// Creates a staff user of an account, or replaces the password and role of the account's
    /// user with that e-mail (ending their sessions); an e-mail of another account's user is a
    /// conflict.
    async fn upsert_staff_user(
        &self,
        account: AccountId,
        email: &str,
        role: milepost_domain::Role,
        password_hash: &str,
    ) -> StoreResult<StaffUpsert>;

    /// The staff user with that e-mail, with their password hash.
    async fn staff_user_by_email(&self, email: &str) -> StoreResult<Option<StaffUserRecord>>;

    /// Stores a new dashboard session (by the hash of its id) until `expires_at`.
    async fn create_staff_session(
        &self,
        id_hash: &str,
        staff_id: i64,
        now: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()>;

    /// The staff user behind a session id hash, unless the session expired or was ended.
    async fn staff_session(
        &self,
        id_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<StaffUserRecord>>;

    /// Ends a session (logout); ending an unknown session is not an error.
    async fn delete_staff_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Parcels not in a final state with no event since `stale_before`, oldest first.
    async fn stale_shipments(
        &self,
        account: AccountId,
        stale_before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<StaleShipment>>;

    /// Facts received more than once, by source and station, most resent first.
    async fn duplicate_scans(&self, account: AccountId) -> StoreResult<Vec<DuplicateScans>>;

    /// Every stored row of an account's history, table by table, to move it to another store.
    async fn export_account(&self, account: AccountId) -> StoreResult<export::AccountExport>;

    /// Stores an exported history as the account `name` (created if needed, and refused when it
    /// already has orders) in one transaction; ids are assigned afresh and references follow.
    async fn import_account(
        &self,
        name: &milepost_domain::AccountName,
        history: export::AccountExport,
    ) -> StoreResult<AccountId>;
}
