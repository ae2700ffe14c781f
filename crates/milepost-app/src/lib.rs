//! Use cases shared by the HTTP server, the CLI and (later) background workers: create keys,
//! authenticate callers, record orders and shipments, ingest events. Each use case takes parsed
//! domain values, applies the rules that need configuration (code mapping tables, carrier
//! detection) and calls the store once. Nothing here knows HTTP or SQL.

pub mod clock;
pub mod keys;
pub mod tracking;

use chrono::{DateTime, FixedOffset};
pub use clock::{Clock, FixedClock, SystemClock};
use milepost_domain::{
    AccountName, EventSource, Location, Milestone, Order, OrderNumber, Role, Shipment, TrackingEvent,
};
use milepost_ingest::{CodeLookup, CodeMap, detect_carrier};
use milepost_store::{
    EventOutcome, EventTarget, MappingState, NewEvent, NewShipment, OrderPage, OrderQuery, OrderRecord, Principal,
    ShipmentRecord, Store, StoreError, UpsertOutcome,
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
}

impl Milepost {
    /// The application with a per-process link-signing secret and relative links; the binary
    /// replaces both with `with_links`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let links = tracking::LinkSettings::new(tracking::generate_secret().as_bytes(), "");
        Milepost { store, codes: Arc::new(CodeMap::seeded()), clock, links: Arc::new(links) }
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

    /// Finds the caller behind a bearer key and checks its role.
    pub async fn authenticate(&self, key: Option<&str>, needed: Role) -> AppResult<Principal> {
        let key = key.filter(|k| keys::looks_like_key(k)).ok_or(AppError::Unauthenticated)?;
        let principal = self.store.principal_for_key(&keys::hash(key)).await?.ok_or(AppError::Unauthenticated)?;
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
        let events = submissions
            .into_iter()
            .map(|s| {
                let carrier = s.carrier.clone().or_else(|| match &s.target {
                    EventTarget::Tracking(tn) => detect_carrier(tn.as_str()).map(str::to_string),
                    EventTarget::Order { .. } => None,
                });
                let (milestone, mapping) = match (s.milestone, &s.code) {
                    (Some(m), _) => (Some(m), MappingState::Given),
                    (None, Some(code)) => match self.codes.lookup(carrier.as_deref().unwrap_or(""), code) {
                        CodeLookup::Mapped(m) => (Some(m), MappingState::Mapped),
                        CodeLookup::Informational => (None, MappingState::Informational),
                        CodeLookup::Unmapped => (None, MappingState::Unmapped),
                    },
                    (None, None) => (None, MappingState::Unmapped),
                };
                NewEvent {
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
                    raw: s.raw,
                }
            })
            .collect();
        Ok(self.store.append_events(caller.account_id, events).await?)
    }

    pub async fn order(&self, caller: &Principal, number: &OrderNumber) -> AppResult<OrderRecord> {
        self.store.order(caller.account_id, number).await?.ok_or_else(|| AppError::NotFound(format!("order {number}")))
    }

    pub async fn search_orders(&self, caller: &Principal, query: OrderQuery) -> AppResult<OrderPage> {
        Ok(self.store.search_orders(caller.account_id, query).await?)
    }
}

/// Store records and queries the edges need, re-exported so that they depend on the use cases,
/// not on the storage crate.
pub mod records {
    pub use milepost_ingest::tracking_url;
    pub use milepost_store::{
        AccountId, EventOutcome, EventTarget, ExceptionRecord, OrderPage, OrderQuery, OrderRecord, OrderSummary,
        Principal, ReturnRecord, ShipmentRecord, StoredEntry, UpsertOutcome,
    };
}
