//! Use cases shared by the HTTP server, the CLI and (later) background workers: create keys,
//! authenticate callers, record orders and shipments, ingest events. Each use case takes parsed
//! domain values, applies the rules that need configuration (code mapping tables, carrier
//! detection) and calls the store once. Nothing here knows HTTP or SQL.

pub mod claims;
pub mod cleanup;
pub mod clock;
pub mod ingest;
pub mod key_cache;
pub mod keys;
pub mod message_templates;
pub mod notifications;
pub mod returns;
pub mod staff;
pub mod tracking;

use chrono::{DateTime, FixedOffset};
pub use clock::{Clock, FixedClock, SystemClock};
use milepost_domain::{
    AccountName, EventSource, Location, Milestone, Order, OrderNumber, Role, Shipment, TrackingEvent,
};
use milepost_ingest::{CodeLookup, CodeMap, detect_carrier};
use milepost_store::{
    EventOutcome, EventTarget, ExceptionAction, ExceptionPage, ExceptionQuery, ExceptionRecord, LaneRhythmRecord,
    MappingState, NewEvent, NewShipment, OrderPage, OrderQuery, OrderRecord, OrderView, Principal, ShipmentRecord,
    Store, StoreError, SweepReport, UpsertOutcome,
};
use std::sync::Arc;

/// Errors of the use cases, mapped once to HTTP problems by the web crate.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("missing or unknown API key")]
    Unauthenticated,
    #[error("this key's role may not do that (needs {needed})")]
    Forbidden { needed: &'static str },
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected error: {0}")]
    Unexpected(String),
    /// A webhook whose signature is missing, stale or wrong; nothing was stored.
    #[error("bad webhook signature: {0}")]
    BadSignature(String),
    /// A scanned barcode that names no order, parcel or tracking number of the account.
    #[error("barcode {0} matches no order, shipment or tracking number")]
    UnknownBarcode(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict(msg) => AppError::Conflict(msg),
            StoreError::Invalid { field, message } => AppError::Invalid { field, message },
            StoreError::Unavailable(msg) => AppError::Unavailable(msg),
            StoreError::Unexpected(msg) => AppError::Unexpected(msg),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// One event as a client submitted it, parsed but not yet mapped.
#[derive(Debug, Clone)]
pub struct EventSubmission {
    pub target: EventTarget,
    pub source: EventSource,
    pub source_event_id: Option<String>,
    pub carrier: Option<String>,
    pub milestone: Option<Milestone>,
    pub code: Option<String>,
    pub description: Option<String>,
    pub occurred_at: DateTime<FixedOffset>,
    pub location: Option<Location>,
    pub raw: Option<serde_json::Value>,
}

/// The application: the store, the mapping tables and the clock, wired once.
#[derive(Clone)]
pub struct Milepost {
    store: Arc<dyn Store>,
    codes: Arc<CodeMap>,
    clock: Arc<dyn Clock>,
    links: Arc<tracking::LinkSettings>,
    verified_keys: Arc<key_cache::KeyCache>,
}

impl Milepost {
    /// The application with a per-process link-signing secret and relative links; the binary
    /// replaces both with `with_links`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let links = tracking::LinkSettings::new(tracking::generate_secret().as_bytes(), "");
        Milepost {
            store,
            codes: Arc::new(CodeMap::seeded()),
            clock,
            links: Arc::new(links),
            verified_keys: Arc::new(key_cache::KeyCache::default()),
        }
    }

    /// Uses this signing secret and public base URL for customer links.
    pub fn with_links(mut self, links: tracking::LinkSettings) -> Self {
        self.links = Arc::new(links);
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Creates the account if needed and a new key for it; returns the key, which is shown
    /// once and stored only as a hash.
    pub async fn create_api_key(&self, account: &AccountName, role: Role) -> AppResult<String> {
        let account_id = self.store.ensure_account(account).await?;
        let key = keys::generate();
        self.store.insert_api_key(account_id, role, &keys::hash(&key), keys::prefix(&key)).await?;
        Ok(key)
    }

    /// The caller for work done from the command line on an account's behalf (an operator with
    /// shell access to the server is trusted like an admin key).
    pub async fn operator(&self, account: &AccountName) -> AppResult<Principal> {
        let account_id = self
            .store
            .account_by_name(account)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("account {account}")))?;
        Ok(Principal { account_id, account_name: account.clone(), role: Role::Admin, actor: "cli".into() })
    }

    /// Finds the caller behind a bearer key and checks its role. A key verified in the last
    /// few seconds is not looked up again (`key_cache`).
    pub async fn authenticate(&self, key: Option<&str>, needed: Role) -> AppResult<Principal> {
        let key = key.filter(|k| keys::looks_like_key(k)).ok_or(AppError::Unauthenticated)?;
        let hash = keys::hash(key);
        let now = std::time::Instant::now();
        let principal = match self.verified_keys.get(&hash, now) {
            Some(principal) => principal,
            None => {
                let principal = self.store.principal_for_key(&hash).await?.ok_or(AppError::Unauthenticated)?;
                self.verified_keys.put(&hash, &principal, now);
                principal
            }
        };
        if !principal.role.allows(needed) {
            return Err(AppError::Forbidden { needed: needed.as_str() });
        }
        Ok(principal)
    }

    pub async fn put_order(&self, caller: &Principal, order: Order) -> AppResult<UpsertOutcome> {
        Ok(self.store.upsert_order(caller.account_id, order).await?)
    }

    /// Registers a shipment; without a carrier, the one detected from the tracking number.
    pub async fn add_shipment(
        &self,
        caller: &Principal,
        order_number: &OrderNumber,
        mut shipment: Shipment,
    ) -> AppResult<ShipmentRecord> {
        if shipment.carrier.is_none() {
            shipment.carrier = detect_carrier(shipment.tracking_number.as_str()).map(str::to_string);
        }
        Ok(self.store.add_shipment(caller.account_id, order_number, NewShipment { shipment }).await?)
    }

    /// Maps each submission's raw code (when no milestone was given) and appends the batch.
    pub async fn ingest_events(
        &self,
        caller: &Principal,
        submissions: Vec<EventSubmission>,
    ) -> AppResult<Vec<EventOutcome>> {
        let received_at = self.clock.now();
        // The account's code table is read only when some event needs a code mapped.
        let codes = if submissions.iter().any(|s| s.milestone.is_none()) {
            self.codes_for(caller.account_id).await?
        } else {
            self.codes.clone()
        };
        let events = submissions
            .into_iter()
            .map(|s| {
                let carrier = s.carrier.clone().or_else(|| match &s.target {
                    EventTarget::Tracking(tn) => detect_carrier(tn.as_str()).map(str::to_string),
                    EventTarget::Order { .. } => None,
                });
                let (milestone, mapping) = match (s.milestone, &s.code) {
                    (Some(m), _) => (Some(m), MappingState::Given),
                    (None, Some(code)) => match codes.lookup(carrier.as_deref().unwrap_or(""), code) {
                        CodeLookup::Mapped(m) => (Some(m), MappingState::Mapped),
                        CodeLookup::Informational => (None, MappingState::Informational),
                        CodeLookup::Unmapped => (None, MappingState::Unmapped),
                    },
                    (None, None) => (None, MappingState::Unmapped),
                };
                NewEvent {
                    carrier_estimate: None,
                    target: s.target,
                    carrier,
                    mapping,
                    event: TrackingEvent {
                        source: s.source,
                        source_event_id: s.source_event_id,
                        milestone,
                        code: s.code,
                        description: s.description,
                        occurred_at: s.occurred_at,
                        received_at,
                        location: s.location,
                    },
                    raw: s.raw.map(|r| r.to_string()),
                }
            })
            .collect();
        Ok(self.store.append_events(caller.account_id, events).await?)
    }

    pub async fn order(&self, caller: &Principal, number: &OrderNumber) -> AppResult<OrderRecord> {
        self.store.order(caller.account_id, number).await?.ok_or_else(|| AppError::NotFound(format!("order {number}")))
    }

    /// One of the caller's orders as the order API shows it: the record, its notifications and
    /// its claims, read in one go.
    pub async fn order_view(&self, caller: &Principal, number: &OrderNumber) -> AppResult<OrderView> {
        self.store
            .order_view(caller.account_id, number)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("order {number}")))
    }

    pub async fn search_orders(&self, caller: &Principal, query: OrderQuery) -> AppResult<OrderPage> {
        Ok(self.store.search_orders(caller.account_id, query).await?)
    }

    /// The exception queue of the caller's account.
    pub async fn exceptions(&self, caller: &Principal, query: ExceptionQuery) -> AppResult<ExceptionPage> {
        Ok(self.store.exceptions(caller.account_id, query).await?)
    }

    /// Acknowledges, assigns or resolves an exception, recording who did it.
    pub async fn act_on_exception(
        &self,
        caller: &Principal,
        id: i64,
        action: ExceptionAction,
    ) -> AppResult<ExceptionRecord> {
        Ok(self.store.act_on_exception(caller.account_id, id, action, &caller.actor, self.clock.now()).await?)
    }

    /// The learned rhythm of the caller's lanes.
    pub async fn lane_rhythms(&self, caller: &Principal) -> AppResult<Vec<LaneRhythmRecord>> {
        Ok(self.store.lane_rhythms(caller.account_id).await?)
    }

    /// Runs the time-based exception rules for every shipment that is due now, in batches, and
    /// returns the total. One step of the sweeper; tests call it directly.
    pub async fn sweep(&self) -> AppResult<SweepReport> {
        // Small enough that a write queued behind one batch waits milliseconds, not a whole sweep.
        const BATCH: u32 = 100;
        let now = self.clock.now();
        let mut total = SweepReport::default();
        loop {
            let report = self.store.sweep_due(now, BATCH).await?;
            total.evaluated += report.evaluated;
            total.opened += report.opened;
            total.closed += report.closed;
            if report.evaluated < BATCH {
                return Ok(total);
            }
        }
    }

    /// KPI figures over the orders placed in `[from, to)`, overall and per group.
    pub async fn kpis(
        &self,
        caller: &Principal,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        group_by: Option<milepost_domain::kpi::KpiGrouping>,
    ) -> AppResult<(milepost_domain::kpi::Kpis, Vec<(String, milepost_domain::kpi::Kpis)>)> {
        if to <= from {
            return Err(AppError::Invalid { field: "to".into(), message: "must be after from".into() });
        }
        let facts = self.store.kpi_facts(caller.account_id, from, to).await?;
        let overall = milepost_domain::kpi::compute(&facts);
        let groups = group_by.map(|by| milepost_domain::kpi::compute_grouped(&facts, by)).unwrap_or_default();
        Ok((overall, groups))
    }

    /// The plain facts behind the KPI figures for orders placed in `[from, to)`, for the
    /// dashboard's charts, which need distributions and not only the summary figures.
    pub async fn kpi_facts(
        &self,
        caller: &Principal,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Vec<milepost_domain::kpi::OrderKpiFacts>> {
        if to <= from {
            return Err(AppError::Invalid { field: "to".into(), message: "must be after from".into() });
        }
        Ok(self.store.kpi_facts(caller.account_id, from, to).await?)
    }

    /// Re-learns every lane's rhythm from the last 90 days of deliveries.
    pub async fn learn_lanes(&self) -> AppResult<u32> {
        Ok(self.store.learn_lane_rhythm(self.clock.now(), 90).await?)
    }
}

/// Store records and queries the edges need, re-exported so that they depend on the use cases,
/// not on the storage crate.
pub mod records {
    pub use milepost_ingest::tracking_url;
    pub use milepost_store::{
        AccountId, ClaimRecord, DuplicateScans, EventOutcome, EventTarget, ExceptionAction, ExceptionPage,
        ExceptionQuery, ExceptionRecord, LaneRhythmRecord, OrderPage, OrderQuery, OrderRecord, OrderSummary, OrderView,
        PollTarget, Principal, Renormalized, ReturnOfOrder, ReturnRecord, ReturnStep, ShipmentRecord, StaffUpsert,
        StaleShipment, StoredEntry, SweepReport, UnmappedCode, UpsertOutcome,
    };
}
