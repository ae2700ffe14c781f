//! Records the store reads and writes. These are domain values plus the identities and
//! bookkeeping that only storage knows (row ids, received times, duplicate counts).

use chrono::{DateTime, FixedOffset, Utc};
use milepost_domain::rollup::ItemProgress;
use milepost_domain::{
    AccountName, Milestone, Order, OrderNumber, OrderStatus, ReturnItem, ReturnState, Role, Shipment, ShipmentItem,
    TrackingEvent, TrackingNumber,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountId(pub i64);

/// Who is calling: the account a key belongs to and the key's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: AccountId,
    pub account_name: AccountName,
    pub role: Role,
    /// Who the caller is in audit records (`key:mp_abc123` for an API key).
    pub actor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
}

/// A shipment to register: what the caller sent, with items still to be checked against the
/// order (empty means "everything not yet in a shipment").
#[derive(Debug, Clone)]
pub struct NewShipment {
    pub shipment: Shipment,
}

/// What an incoming event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTarget {
    /// A parcel by tracking number; kept even before the shipment is registered.
    Tracking(TrackingNumber),
    /// An order, optionally one of its shipments (by tracking number or shipment id).
    Order { order_number: OrderNumber, shipment: Option<String> },
}

/// How the event's milestone was obtained, kept for the unmapped-code queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingState {
    /// The sender named the milestone itself.
    Given,
    /// Mapped from the raw code by a table.
    Mapped,
    /// A known code that carries no status.
    Informational,
    /// No mapping yet (rule 6).
    Unmapped,
}

impl MappingState {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingState::Given => "given",
            MappingState::Mapped => "mapped",
            MappingState::Informational => "informational",
            MappingState::Unmapped => "unmapped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The carrier's own estimated delivery day, when the event carried one: one input of
    /// Milepost's ETA (`shared::eta`), never the answer.
    pub carrier_estimate: Option<chrono::NaiveDate>,
    pub target: EventTarget,
    pub carrier: Option<String>,
    pub mapping: MappingState,
    pub event: TrackingEvent,
    /// The sender's payload as JSON text, serialized by the caller so that the store's single
    /// writer only copies it.
    pub raw: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    Accepted,
    Duplicate,
    Rejected { field: String, reason: String },
}

/// One entry of a stored timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub event: TrackingEvent,
    pub advisory: bool,
    pub unmapped: bool,
    pub duplicate_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eta {
    pub earliest: DateTime<FixedOffset>,
    pub latest: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRecord {
    pub id: i64,
    pub shipment: Shipment,
    pub status: Option<Milestone>,
    pub delayed: bool,
    pub eta: Option<Eta>,
    /// The carrier's own estimated delivery day from its newest event that gave one.
    pub carrier_eta: Option<chrono::NaiveDate>,
    pub first_carrier_possession_at: Option<DateTime<Utc>>,
    pub timeline: Vec<StoredEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub order_number: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub detail: Option<String>,
    pub opened_at: String,
    pub due_at: Option<String>,
    pub closed_at: Option<String>,
    pub owner: Option<String>,
    pub note: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub assigned_by: Option<String>,
    pub resolved_by: Option<String>,
}

/// Filters of the exception queue.
#[derive(Debug, Clone, Default)]
pub struct ExceptionQuery {
    pub state: Option<milepost_domain::exceptions::ExceptionState>,
    pub kind: Option<milepost_domain::exceptions::ExceptionKind>,
    pub order_number: Option<OrderNumber>,
    pub owner: Option<String>,
    pub carrier: Option<String>,
    /// Only exceptions opened before this time (age filter).
    pub opened_before: Option<DateTime<Utc>>,
    pub cursor: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionPage {
    pub exceptions: Vec<ExceptionRecord>,
    pub next_cursor: Option<i64>,
}

/// A staff action on one exception, with who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionAction {
    Acknowledge,
    Assign { owner: String },
    Resolve { note: String },
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub evaluated: u32,
    pub opened: u32,
    pub closed: u32,
}

/// The learned rhythm of one lane and stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneRhythmRecord {
    pub lane: String,
    pub stage: String,
    pub median_seconds: i64,
    pub p90_seconds: i64,
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: Order,
    pub status: OrderStatus,
    pub items: Vec<ItemProgress>,
    pub shipments: Vec<ShipmentRecord>,
    /// Events about the order itself (placed, confirmed, cancelled, claims without a parcel).
    pub timeline: Vec<StoredEntry>,
    pub exceptions: Vec<ExceptionRecord>,
    /// Return requests, oldest first.
    pub returns: Vec<ReturnRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the order API answers: one order with everything attached, its customer messages and
/// its claims, read together from one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderView {
    pub record: OrderRecord,
    /// The order's notifications, oldest first.
    pub notifications: Vec<crate::NotificationRecord>,
    /// The order's claims, oldest first.
    pub claims: Vec<ClaimRecord>,
}

/// Filters for the order search.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Only orders with an open exception of this kind (`any` for any kind).
    pub exception: Option<String>,
    /// Free text: order number, tracking number, customer e-mail, postal code (customer's or
    /// ship-to, spaces and case ignored) or name.
    pub text: Option<String>,
    /// Opaque cursor from a previous page.
    pub cursor: Option<i64>,
    pub limit: u32,
}

/// A short row of the order search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub order_number: OrderNumber,
    pub channel: String,
    pub status: OrderStatus,
    pub placed_at: DateTime<FixedOffset>,
    pub promised_by: Option<DateTime<FixedOffset>>,
    pub customer_name: Option<String>,
    pub shipments: u32,
    pub open_exceptions: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    pub next_cursor: Option<i64>,
}

/// Re-exported so callers need not depend on the domain crate for these names.
pub type Items = Vec<ShipmentItem>;

/// A webhook sender set up by an account's admin: its kind (which adapter reads its bodies and
/// how it signs) and the shared secret its signatures are made with.
#[derive(Clone, PartialEq, Eq)]
pub struct IntegrationRecord {
    pub id: String,
    pub account_id: AccountId,
    pub account_name: AccountName,
    pub kind: String,
    /// A shared secret (both sides compute the HMAC), so it is stored as given, never hashed.
    pub secret: String,
}

impl std::fmt::Debug for IntegrationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("kind", &self.kind)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// One raw code nobody has mapped yet, with how often and when it was seen (rule 6 queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedCode {
    pub carrier: String,
    pub code: String,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub example_description: Option<String>,
}

/// An account's own mapping of one carrier's raw code; `milestone: None` means informational.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeOverride {
    pub carrier: String,
    pub code: String,
    pub milestone: Option<Milestone>,
}

/// What re-normalizing stored events after a mapping change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Renormalized {
    pub events: u64,
    pub shipments: u64,
    pub orders: u64,
}

/// What a barcode or an EPC resolved to: an order and, when it named a parcel, that parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub order_number: OrderNumber,
    pub tracking_number: Option<TrackingNumber>,
}

/// A return request to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    pub items: Vec<ReturnItem>,
    pub note: Option<String>,
    /// Who started it: `customer` (the tracking page) or `staff` (the API).
    pub source: String,
    /// When it was asked for, by the caller's clock.
    pub requested_at: DateTime<Utc>,
}

/// A stored return request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRecord {
    pub id: i64,
    pub state: ReturnState,
    pub items: Vec<ReturnItem>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Every state change after the request, oldest first.
    pub history: Vec<ReturnStep>,
    /// The return parcel it travels in, once one is linked.
    pub return_tracking_number: Option<String>,
    /// What the warehouse found and decided per item, once inspected.
    pub inspection: Vec<milepost_domain::InspectedItem>,
}

/// One state change of a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnStep {
    pub from: Option<ReturnState>,
    pub to: ReturnState,
    /// `customer`, `system` or the staff caller (`api:<role>`, a staff e-mail).
    pub actor: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A state change to store, valid only while the return is still in `from` (compare and set:
/// the caller checked the move against the state machine with the state it read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnMove {
    pub return_id: i64,
    pub from: ReturnState,
    pub to: ReturnState,
    pub actor: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    /// The replacement parcel a move to `replacement_released` sends (outbound, on the same
    /// order, carrying the return's items), registered in the same transaction.
    pub replacement: Option<Shipment>,
}

/// A return with the order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnOfOrder {
    pub order_number: OrderNumber,
    pub record: ReturnRecord,
}

/// What the tracking page's lookup compares: the order's contact details as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderProof {
    pub email: Option<String>,
    pub ship_to_postal_code: Option<String>,
    pub customer_postal_code: Option<String>,
}

/// A parcel a carrier poller should ask about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollTarget {
    pub shipment_id: i64,
    pub account_id: AccountId,
    pub account_name: AccountName,
    pub tracking_number: String,
    pub status: Option<Milestone>,
    pub registered_at: DateTime<Utc>,
    pub last_carrier_event_at: Option<DateTime<Utc>>,
}

/// A staff user of the operations dashboard as stored, with the password hash to check a login
/// against (never shown, never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct StaffUserRecord {
    pub id: i64,
    pub account_id: AccountId,
    pub account_name: AccountName,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}

impl std::fmt::Debug for StaffUserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffUserRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// Whether `upsert_staff_user` made a new user or replaced an existing one's password and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffUpsert {
    Created,
    Updated,
}

/// A parcel still on its way that has had no event for a while (the cleanup page's stale list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleShipment {
    pub order_number: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub status: String,
    /// When its newest event happened; `None` when it never had one.
    pub last_event_at: Option<DateTime<Utc>>,
}

/// Facts received more than once, by the source and the station (or city) that sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateScans {
    pub source: String,
    pub station: String,
    /// Stored events that were resent at least once.
    pub events: u64,
    /// Extra copies received in all.
    pub duplicates: u64,
}

/// A claim to open from an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    pub exception_id: i64,
    /// The carrier claimed against; the parcel's carrier when `None`.
    pub carrier: Option<String>,
    pub amount: milepost_domain::Money,
    pub evidence: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A stored claim against a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRecord {
    pub id: i64,
    pub order_number: OrderNumber,
    pub exception_id: i64,
    pub exception_kind: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub amount: milepost_domain::Money,
    pub currency: String,
    pub evidence: Option<String>,
    pub state: milepost_domain::claims::ClaimState,
    pub opened_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A staff decision on an outbound parcel that came back to the sender (see
/// `milepost_domain::return_to_sender`): reship in a new parcel, refund, or cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelDecision {
    pub order_number: OrderNumber,
    /// The parcel that came back.
    pub tracking_number: String,
    pub decision: milepost_domain::return_to_sender::SenderDecision,
    pub note: Option<String>,
    /// Who decided (`staff:<email>`, `key:<prefix>`).
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The new parcel of a reship (its items are those of the parcel that came back).
    pub reship: Option<Shipment>,
}
