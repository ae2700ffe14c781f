//! Use cases for what the real world sends: integrations and their signed webhooks (carriers,
//! aggregators, Shopify), the account's own carrier-code mappings and the re-normalization they
//! trigger, warehouse barcode scans, EPCIS capture documents and order files. Each takes raw bytes
//! or parsed values, runs the pure adapters of `milepost-ingest` with the account's code table
//! (the seed table with the account's overrides on top), and ends in the same store calls as
//! `POST /api/v1/events` and `POST /api/v1/orders`, so every path keeps the same rules.

use crate::{AppError, AppResult, Milepost};
use chrono::{DateTime, FixedOffset};
use milepost_domain::event::WITHDRAWAL_PREFIX;
use milepost_domain::{
    EventSource, Milestone, Order, OrderNumber, Role, Shipment, ShipmentItem, TrackingEvent, TrackingNumber,
};
use milepost_ingest::adapters::AdapterError;
use milepost_ingest::epcis::{BizTransactionType, EpcisEvent, EpcisEventType, parse_epcis};
use milepost_ingest::gs1::Gs1Key;
use milepost_ingest::order_files::{
    LineResult, OrderFileFormat, detect_format, group_orders, parse_amazon_order_report, parse_order_csv,
};
use milepost_ingest::shopify::{FulfillmentStatus, ShopifyFulfillment, ShopifyTopic, ShopifyWebhook, parse_shopify};
use milepost_ingest::signature::{
    SignatureError, verify_aftership, verify_easypost, verify_milepost, verify_shippo, verify_shopify,
};
use milepost_ingest::{CodeLookup, CodeMap, NormalizedEvent, SenderKind, parse};
use milepost_store::{
    CodeOverride, EventOutcome, EventTarget, MappingState, NewEvent, Principal, Reference, Renormalized, StoreError,
    UnmappedCode, UpsertOutcome,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// What an integration sends: one of the tracking senders, or Shopify's order webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationKind {
    Tracking(SenderKind),
    Shopify,
}

impl IntegrationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Tracking(kind) => kind.as_str(),
            IntegrationKind::Shopify => "shopify",
        }
    }
}

impl fmt::Display for IntegrationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IntegrationKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "shopify" {
            return Ok(IntegrationKind::Shopify);
        }
        SenderKind::ALL.into_iter().find(|k| k.as_str() == s).map(IntegrationKind::Tracking).ok_or_else(|| {
            format!(
                "unknown kind `{s}`; expected one of ups, fedex, usps, dhl, easypost, aftership, shippo, generic, shopify"
            )
        })
    }
}

/// The signature headers a webhook arrived with; which one counts depends on the integration.
#[derive(Debug, Clone, Default)]
pub struct SignatureHeaders {
    /// `Milepost-Signature` (ups, fedex, usps, dhl, generic).
    pub milepost: Option<String>,
    /// `X-Hmac-Signature` (EasyPost).
    pub easypost: Option<String>,
    /// `aftership-hmac-sha256` (AfterShip).
    pub aftership: Option<String>,
    /// `Shippo-Auth-Signature` (Shippo).
    pub shippo: Option<String>,
    /// `X-Shopify-Hmac-Sha256` (Shopify).
    pub shopify: Option<String>,
}

/// How many events of a webhook or file were taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    pub accepted: u32,
    pub duplicate: u32,
    pub rejected: u32,
}

impl IngestCounts {
    fn add(&mut self, outcome: &EventOutcome) {
        match outcome {
            EventOutcome::Accepted => self.accepted += 1,
            EventOutcome::Duplicate => self.duplicate += 1,
            EventOutcome::Rejected { .. } => self.rejected += 1,
        }
    }
}

/// What a Shopify webhook did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelWebhookOutcome {
    pub topic: String,
    /// `upserted`, `cancelled`, `shipment_registered`, `fulfillment_withdrawn` (a cancelled,
    /// error or failure fulfillment), `order_unknown` or `ignored`.
    pub result: &'static str,
    pub order_number: Option<String>,
    pub shipments: Vec<String>,
    pub events: IngestCounts,
}

/// A warehouse scan step (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStep {
    Pick,
    Pack,
    Ship,
    Receive,
    ReturnReceive,
}

impl ScanStep {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStep::Pick => "pick",
            ScanStep::Pack => "pack",
            ScanStep::Ship => "ship",
            ScanStep::Receive => "receive",
            ScanStep::ReturnReceive => "return_receive",
        }
    }

    /// The milestone a step claims. `ship` is the warehouse's claim of hand-off, advisory under
    /// rule 5; receiving steps move no outbound status and are kept as informational events.
    pub fn milestone(self) -> Option<Milestone> {
        match self {
            ScanStep::Pick => Some(Milestone::Picked),
            ScanStep::Pack => Some(Milestone::Packed),
            ScanStep::Ship => Some(Milestone::HandedToCarrier),
            ScanStep::Receive | ScanStep::ReturnReceive => None,
        }
    }
}

impl FromStr for ScanStep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pick" => ScanStep::Pick,
            "pack" => ScanStep::Pack,
            "ship" => ScanStep::Ship,
            "receive" => ScanStep::Receive,
            "return_receive" => ScanStep::ReturnReceive,
            other => {
                return Err(format!(
                    "unknown step `{other}`; expected one of pick, pack, ship, receive, return_receive"
                ));
            }
        })
    }
}

/// One barcode scan, parsed.
#[derive(Debug, Clone)]
pub struct Scan {
    pub barcode: String,
    pub step: ScanStep,
    pub station: Option<String>,
    pub operator: Option<String>,
    pub scanned_at: DateTime<FixedOffset>,
}

/// What a scan was recorded against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOutcome {
    pub order_number: String,
    pub tracking_number: Option<String>,
    pub milestone: Option<Milestone>,
    /// `accepted` or `duplicate`.
    pub result: &'static str,
}

/// How one EPCIS event was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpcisResult {
    /// Recorded, and it claims a milestone (or, for an error declaration, withdraws one).
    Accepted,
    /// Recorded, but it moves no status (warehouse inbound, a CBV step without a milestone).
    Informational,
    /// Every record of it was already stored.
    Duplicate,
    /// Not recorded: `field` and `reason` say why.
    Rejected,
}

impl EpcisResult {
    pub fn as_str(self) -> &'static str {
        match self {
            EpcisResult::Accepted => "accepted",
            EpcisResult::Informational => "informational",
            EpcisResult::Duplicate => "duplicate",
            EpcisResult::Rejected => "rejected",
        }
    }
}

/// What happened to one EPCIS event: one per element of the document's event list, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct EpcisOutcome {
    pub index: usize,
    /// `type` as sent.
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    pub result: EpcisResult,
    /// The JSON path at fault when rejected.
    pub field: Option<String>,
    pub reason: Option<String>,
    pub milestone: Option<Milestone>,
    /// Orders (and parcels) the event was recorded on, as `order_number` or `order_number/tracking`.
    pub recorded_on: Vec<String>,
    pub accepted: u32,
    pub duplicate: u32,
    /// EPCs that matched no parcel by their GS1 key (or are not GS1 keys).
    pub unresolved: Vec<String>,
    /// For an error declaration: the id of the declared event whose claim no longer counts.
    pub withdraws: Option<String>,
}

impl EpcisOutcome {
    fn rejected(
        index: usize,
        event_type: Option<String>,
        event_id: Option<String>,
        field: String,
        reason: String,
    ) -> Self {
        EpcisOutcome {
            index,
            event_type,
            event_id,
            result: EpcisResult::Rejected,
            field: Some(field),
            reason: Some(reason),
            milestone: None,
            recorded_on: Vec::new(),
            accepted: 0,
            duplicate: 0,
            unresolved: Vec::new(),
            withdraws: None,
        }
    }
}

/// Options of one EPCIS capture call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpcisCapture {
    /// The consignee's locations (SGLN URNs or Digital Link `414` URIs): a `receiving` or
    /// `accepting` event there (not of returned goods) is the parcel's delivery, for B2B
    /// accounts whose customers report their own receipt. Empty: receiving is informational.
    pub consignee_locations: Vec<String>,
}

/// Which order file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Milepost's CSV order format.
    Csv,
    /// Amazon order report (tab-separated).
    Amazon,
}

impl ImportFormat {
    /// The format a file's header row shows, if it shows one (see
    /// `milepost_ingest::order_files::detect_format`).
    pub fn detect(body: &[u8]) -> Option<ImportFormat> {
        detect_format(body).map(|f| match f {
            OrderFileFormat::MilepostCsv => ImportFormat::Csv,
            OrderFileFormat::AmazonReport => ImportFormat::Amazon,
        })
    }

    /// The format to read a file as: what its header row shows, whatever the sender declared
    /// (file names and media types are often wrong: Seller Central saves reports as `.txt`,
    /// browsers send them as `text/plain`); the declared format only for a header that shows
    /// neither, so that its parser can say what the header lacks.
    pub fn resolve(declared: Option<ImportFormat>, body: &[u8]) -> AppResult<ImportFormat> {
        ImportFormat::detect(body).or(declared).ok_or_else(|| AppError::Invalid {
            field: "body".into(),
            message: "the header row is neither Milepost CSV (with `order_number`) nor a tab-separated \
                      Amazon order report (with `order-id` or `amazon-order-id`)"
                .into(),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Amazon => "amazon",
        }
    }
}

/// An order file after validation: the orders it holds and the rows it refused.
#[derive(Debug, Clone)]
pub struct ValidatedImport {
    /// The format the file was read as.
    pub format: ImportFormat,
    pub rows: usize,
    pub orders: Vec<Order>,
    /// Line numbers of each order's rows, in the order of `orders`.
    pub lines: Vec<Vec<usize>>,
    pub rejected: Vec<(usize, String)>,
    /// Orders whose every row the report marks cancelled (Amazon "All Orders" reports).
    pub cancelled: Vec<OrderNumber>,
}

/// What an import did (or, when rows were refused, would not do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The format the file was read as.
    pub format: ImportFormat,
    pub rows: usize,
    pub written: bool,
    /// Per order: number, `created`/`updated` (or `not_written`), and its line numbers.
    pub orders: Vec<(String, &'static str, Vec<usize>)>,
    pub rejected: Vec<(usize, String)>,
}

impl ImportSummary {
    pub fn count(&self, result: &str) -> usize {
        self.orders.iter().filter(|o| o.1 == result).count()
    }
}

fn adapter_error(e: AdapterError) -> AppError {
    match e {
        AdapterError::InvalidUtf8 { .. } | AdapterError::InvalidJson { .. } => {
            AppError::Invalid { field: "body".into(), message: e.to_string() }
        }
        AdapterError::Missing { path } => AppError::Invalid { field: path, message: "missing".into() },
        AdapterError::Invalid { path, expected } => {
            AppError::Invalid { field: path, message: format!("expected {expected}") }
        }
        AdapterError::UnknownField { path } => AppError::Invalid { field: path, message: "unknown field".into() },
        AdapterError::SenderError { path, message } => {
            AppError::Invalid { field: path, message: format!("the sender reported an error: {message}") }
        }
    }
}

fn signature_error(header: &str, e: SignatureError) -> AppError {
    AppError::BadSignature(format!("{header}: {e}"))
}

fn mapping_state(lookup: CodeLookup) -> MappingState {
    match lookup {
        CodeLookup::Mapped(_) => MappingState::Mapped,
        CodeLookup::Informational => MappingState::Informational,
        CodeLookup::Unmapped => MappingState::Unmapped,
    }
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// The tracking numbers an EPC may be registered as: the GS1 element strings of its key (an
/// SSCC as `00` + 18 digits and as the 18 digits, an SGTIN as `01` + GTIN + `21` + serial, a GRAI
/// as `8003…`, a GIAI as `8004…`), whether it was sent as a URN or a Digital Link. Anything that
/// is not a GS1 key of an object gives none: a bare trailing serial names nothing.
pub fn epc_keys(epc: &str) -> Vec<String> {
    Gs1Key::parse(epc).map(|k| k.element_strings()).unwrap_or_default()
}

/// What a business transaction's number is compared with, by its type: a purchase order (or its
/// confirmation) names an order; a despatch advice or bill of lading names a parcel by its
/// tracking number. Other types (invoices, production orders, RMAs, …) and untyped entries name
/// nothing Milepost keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReferenceKind {
    Order,
    Parcel,
}

fn reference_kind(kind: Option<&BizTransactionType>) -> Option<ReferenceKind> {
    match kind? {
        BizTransactionType::Po | BizTransactionType::Poc => Some(ReferenceKind::Order),
        BizTransactionType::Desadv | BizTransactionType::Bol => Some(ReferenceKind::Parcel),
        _ => None,
    }
}

/// Whether a resolved reference is the kind of thing `key` was looked up as (the store's lookup
/// also tries other kinds and internal ids, which an EPCIS key must never match).
fn matches_kind(reference: &Reference, kind: ReferenceKind, key: &str) -> bool {
    match kind {
        ReferenceKind::Parcel => {
            TrackingNumber::parse(key).is_ok_and(|tn| reference.tracking_number.as_ref() == Some(&tn))
        }
        ReferenceKind::Order => {
            reference.tracking_number.is_none()
                && OrderNumber::parse(key).is_ok_and(|n| reference.order_number.as_str() == n.as_str())
        }
    }
}

/// The JSON field that names an event's objects, for a rejection that none of them resolved.
fn objects_field(event: &EpcisEvent) -> &'static str {
    match event.event_type {
        EpcisEventType::Object => "epcList",
        EpcisEventType::Transformation => "outputEPCList",
        EpcisEventType::Aggregation | EpcisEventType::Association | EpcisEventType::Transaction => "parentID",
    }
}

impl Milepost {
    /// The account's code table: the seed with the account's own mappings on top.
    /// Most accounts have no overrides, so the shared seed table is returned without a copy.
    pub async fn codes_for(&self, account: milepost_store::AccountId) -> AppResult<Arc<CodeMap>> {
        let overrides = self.store.code_overrides(account).await?;
        if overrides.is_empty() {
            return Ok(self.codes.clone());
        }
        let mut codes = (*self.codes).clone();
        for o in overrides {
            codes.set(&o.carrier, &o.code, o.milestone);
        }
        Ok(Arc::new(codes))
    }

    /// The caller behind an account name, for the CLI (creates the account if needed).
    pub async fn account_principal(&self, account: &milepost_domain::AccountName, role: Role) -> AppResult<Principal> {
        let account_id = self.store.ensure_account(account).await?;
        Ok(Principal { account_id, account_name: account.clone(), role, actor: "cli".into() })
    }

    /// Creates an integration and returns its unguessable id (128 random bits).
    pub async fn create_integration(
        &self,
        caller: &Principal,
        kind: IntegrationKind,
        secret: &str,
    ) -> AppResult<String> {
        let secret = secret.trim();
        if secret.len() < 16 || secret.len() > 256 || secret.chars().any(char::is_control) {
            return Err(AppError::Invalid {
                field: "secret".into(),
                message: "must be 16 to 256 characters without control characters".into(),
            });
        }
        let id = format!("int_{}", hex::encode(rand::random::<[u8; 16]>()));
        self.store.insert_integration(caller.account_id, &id, kind.as_str(), secret).await?;
        Ok(id)
    }

    async fn integration_of_kind(
        &self,
        id: &str,
        wanted: impl Fn(IntegrationKind) -> bool,
    ) -> AppResult<(milepost_store::IntegrationRecord, IntegrationKind, Principal)> {
        let not_found = || AppError::NotFound(format!("integration {id}"));
        if id.len() > 100 {
            return Err(not_found());
        }
        let record = self.store.integration(id).await?.ok_or_else(not_found)?;
        let kind: IntegrationKind = record.kind.parse().map_err(AppError::Unexpected)?;
        if !wanted(kind) {
            return Err(not_found());
        }
        let principal = Principal {
            account_id: record.account_id,
            account_name: record.account_name.clone(),
            role: Role::Ingest,
            actor: format!("integration:{id}"),
        };
        Ok((record, kind, principal))
    }

    /// A carrier or aggregator webhook: verify its signature the sender's way, read it with the
    /// sender's adapter and the account's code table, and append its events.
    pub async fn receive_carrier_webhook(
        &self,
        integration: &str,
        headers: &SignatureHeaders,
        body: &[u8],
    ) -> AppResult<IngestCounts> {
        let (record, kind, principal) =
            self.integration_of_kind(integration, |k| matches!(k, IntegrationKind::Tracking(_))).await?;
        let IntegrationKind::Tracking(sender) = kind else {
            return Err(AppError::NotFound(format!("integration {integration}")));
        };
        let secret = record.secret.as_bytes();
        let now = self.clock.now();
        let empty = String::new();
        let verified = match sender {
            SenderKind::Easypost => verify_easypost(&record.secret, headers.easypost.as_ref().unwrap_or(&empty), body)
                .map_err(|e| signature_error("X-Hmac-Signature", e)),
            SenderKind::Aftership => verify_aftership(secret, headers.aftership.as_ref().unwrap_or(&empty), body)
                .map_err(|e| signature_error("aftership-hmac-sha256", e)),
            SenderKind::Shippo => verify_shippo(secret, headers.shippo.as_ref().unwrap_or(&empty), body, now)
                .map_err(|e| signature_error("Shippo-Auth-Signature", e)),
            _ => verify_milepost(secret, headers.milepost.as_ref().unwrap_or(&empty), body, now)
                .map_err(|e| signature_error("Milepost-Signature", e)),
        };
        verified?;
        self.ingest_sender_payload(&principal, sender, body).await
    }

    /// Reads one sender payload with its adapter and the account's code table and appends its
    /// events: the webhook path after the signature check, also used by the demo seeder.
    pub async fn ingest_sender_payload(
        &self,
        caller: &Principal,
        sender: SenderKind,
        body: &[u8],
    ) -> AppResult<IngestCounts> {
        let codes = self.codes_for(caller.account_id).await?;
        let events = parse(sender, body, &codes).map_err(adapter_error)?;
        let outcomes = self.ingest_normalized(caller, events).await?;
        let mut counts = IngestCounts::default();
        outcomes.iter().for_each(|o| counts.add(o));
        Ok(counts)
    }

    /// Appends events read by an adapter, keeping each event's raw payload object. Events whose
    /// tracking number is not a valid one are rejected on their own.
    pub async fn ingest_normalized(
        &self,
        caller: &Principal,
        events: Vec<NormalizedEvent>,
    ) -> AppResult<Vec<EventOutcome>> {
        let received_at = self.clock.now();
        let mut outcomes: Vec<Option<EventOutcome>> = Vec::with_capacity(events.len());
        let mut batch = Vec::new();
        for e in events {
            let Ok(tn) = TrackingNumber::parse(&e.tracking_number) else {
                outcomes.push(Some(EventOutcome::Rejected {
                    field: "tracking_number".into(),
                    reason: "must be 4 to 40 letters and digits".into(),
                }));
                continue;
            };
            outcomes.push(None);
            batch.push(NewEvent {
                carrier_estimate: e.carrier_estimated_delivery.map(|at| at.date_naive()),
                target: EventTarget::Tracking(tn),
                carrier: Some(e.carrier),
                mapping: mapping_state(e.mapping),
                event: TrackingEvent {
                    source: e.source,
                    source_event_id: e.source_event_id,
                    milestone: e.milestone,
                    code: e.code,
                    description: e.description,
                    occurred_at: e.occurred_at,
                    received_at,
                    location: e.location,
                },
                raw: Some(e.raw.to_string()),
            });
        }
        let stored =
            if batch.is_empty() { Vec::new() } else { self.store.append_events(caller.account_id, batch).await? };
        let mut stored = stored.into_iter();
        outcomes
            .into_iter()
            .map(|o| {
                o.or_else(|| stored.next())
                    .ok_or_else(|| AppError::Unexpected("the store answered fewer outcomes than events".into()))
            })
            .collect()
    }

    /// A Shopify webhook: orders become orders (channel `shopify`), cancellations a channel
    /// `cancelled` event, fulfillments a registered shipment plus, once the fulfillment is
    /// `success`, the channel's advisory `handed_to_carrier` claim; a fulfillment that turns
    /// `cancelled`, `error` or `failure` takes its parcels back with the channel's `cancelled`.
    pub async fn receive_channel_webhook(
        &self,
        integration: &str,
        headers: &SignatureHeaders,
        topic: Option<&str>,
        body: &[u8],
    ) -> AppResult<ChannelWebhookOutcome> {
        let (record, _, principal) = self.integration_of_kind(integration, |k| k == IntegrationKind::Shopify).await?;
        verify_shopify(record.secret.as_bytes(), headers.shopify.as_deref().unwrap_or(""), body)
            .map_err(|e| signature_error("X-Shopify-Hmac-Sha256", e))?;
        let topic_text = topic.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| AppError::Invalid {
            field: "X-Shopify-Topic".into(),
            message: "missing; Shopify names the topic in this header".into(),
        })?;
        let Ok(topic) = topic_text.parse::<ShopifyTopic>() else {
            return Ok(ChannelWebhookOutcome {
                topic: topic_text.to_string(),
                result: "ignored",
                order_number: None,
                shipments: Vec::new(),
                events: IngestCounts::default(),
            });
        };
        let codes = self.codes_for(principal.account_id).await?;
        let webhook = parse_shopify(topic, body, &codes).map_err(adapter_error)?;
        let mut outcome = ChannelWebhookOutcome {
            topic: topic.as_str().to_string(),
            result: "upserted",
            order_number: None,
            shipments: Vec::new(),
            events: IngestCounts::default(),
        };
        match webhook {
            ShopifyWebhook::Order { order, .. } => {
                let number = order.order_number.clone();
                self.put_order(&principal, order.to_order()).await?;
                self.store.link_channel_order(principal.account_id, "shopify", &order.id, &number).await?;
                outcome.order_number = Some(number.to_string());
                let cancelled_at = match (topic, order.cancelled_at) {
                    (_, Some(at)) => Some(at),
                    (ShopifyTopic::OrdersCancelled, None) => {
                        Some(order.updated_at.unwrap_or_else(|| self.clock.now().fixed_offset()))
                    }
                    _ => None,
                };
                if let Some(at) = cancelled_at {
                    let event = self.channel_event(
                        EventTarget::Order { order_number: number.clone(), shipment: None },
                        format!("shopify:order:{}:cancelled", order.id),
                        Milestone::Cancelled,
                        order.cancel_reason.as_ref().map(|r| format!("Cancelled in Shopify ({r})")),
                        at,
                    );
                    for o in self.store.append_events(principal.account_id, vec![event]).await? {
                        outcome.events.add(&o);
                    }
                    outcome.result = "cancelled";
                }
                for fulfillment in &order.fulfillments {
                    self.register_fulfillment(&principal, &number, fulfillment, &mut outcome).await?;
                }
            }
            ShopifyWebhook::Fulfillment { fulfillment, .. } => {
                let order_number = match &fulfillment.order_id {
                    Some(id) => self.store.channel_order(principal.account_id, "shopify", id).await?,
                    None => None,
                };
                let Some(number) = order_number else {
                    outcome.result = "order_unknown";
                    return Ok(outcome);
                };
                outcome.order_number = Some(number.to_string());
                self.register_fulfillment(&principal, &number, &fulfillment, &mut outcome).await?;
                outcome.result = if fulfillment.status.is_some_and(FulfillmentStatus::withdraws) {
                    "fulfillment_withdrawn"
                } else {
                    "shipment_registered"
                };
            }
        }
        Ok(outcome)
    }

    fn channel_event(
        &self,
        target: EventTarget,
        source_event_id: String,
        milestone: Milestone,
        description: Option<String>,
        at: DateTime<FixedOffset>,
    ) -> NewEvent {
        NewEvent {
            carrier_estimate: None,
            target,
            carrier: None,
            mapping: MappingState::Given,
            event: TrackingEvent {
                source: EventSource::Channel,
                source_event_id: Some(source_event_id),
                milestone: Some(milestone),
                code: None,
                description,
                occurred_at: at,
                received_at: self.clock.now(),
                location: None,
            },
            raw: None,
        }
    }

    /// Registers a fulfillment's parcels, or withdraws them when it will not ship. The store's
    /// claim that the carrier has a parcel is made only by a `success` fulfillment: `pending` and
    /// `open` ones register the parcel (its number and lines are known) and claim nothing yet, so
    /// a later `success` of the same fulfillment is what adds the claim.
    async fn register_fulfillment(
        &self,
        caller: &Principal,
        order_number: &OrderNumber,
        fulfillment: &ShopifyFulfillment,
        outcome: &mut ChannelWebhookOutcome,
    ) -> AppResult<()> {
        if fulfillment.status.is_some_and(FulfillmentStatus::withdraws) {
            return self.withdraw_fulfillment(caller, order_number, fulfillment, outcome).await;
        }
        let claims_possession = fulfillment.status.is_some_and(FulfillmentStatus::claims_carrier_possession);
        let at = fulfillment.created_at.unwrap_or_else(|| self.clock.now().fixed_offset());
        for (n, raw_tn) in fulfillment.tracking_numbers.iter().enumerate() {
            let Ok(tn) = TrackingNumber::parse(raw_tn) else {
                outcome.events.rejected += 1;
                continue;
            };
            // The fulfillment's lines travel in its first parcel; further numbers of the same
            // fulfillment are extra parcels registered without items of their own.
            let items: Vec<ShipmentItem> = if n == 0 {
                fulfillment
                    .items
                    .iter()
                    .filter_map(|(sku, quantity)| sku.clone().map(|sku| ShipmentItem { sku, quantity: *quantity }))
                    .collect()
            } else {
                Vec::new()
            };
            let shipment = Shipment {
                carrier: fulfillment.carrier.clone(),
                service: None,
                tracking_number: tn.clone(),
                direction: milepost_domain::Direction::Outbound,
                origin_location_id: None,
                origin_postal_code: None,
                origin_country: None,
                items,
                label_cost: None,
                handling_cost: None,
            };
            match self.add_shipment(caller, order_number, shipment).await {
                Ok(_) => outcome.shipments.push(tn.to_string()),
                Err(AppError::Invalid { .. } | AppError::Conflict(_)) => {
                    outcome.events.rejected += 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let mut events = Vec::new();
            if claims_possession {
                events.push(self.channel_event(
                    EventTarget::Order { order_number: order_number.clone(), shipment: Some(tn.to_string()) },
                    format!("shopify:fulfillment:{}:{}", fulfillment.id, tn),
                    Milestone::HandedToCarrier,
                    Some("Store marked the order fulfilled".into()),
                    at,
                ));
            }
            // Shopify's own view of the parcel (`shipment_status`), kept as the channel's
            // advisory claim; a status the table does not know queues like a carrier code.
            if let Some(status) = &fulfillment.shipment_status
                && fulfillment.milestone != Some(Milestone::HandedToCarrier)
            {
                let code = status.to_ascii_uppercase();
                let mut event = self.channel_event(
                    EventTarget::Order { order_number: order_number.clone(), shipment: Some(tn.to_string()) },
                    format!("shopify:fulfillment:{}:{}:{}", fulfillment.id, tn, code),
                    Milestone::HandedToCarrier,
                    Some(format!("Shopify shipment status: {status}")),
                    // The payload dates the fulfillment, not this status: it is dated when learned.
                    self.clock.now().fixed_offset(),
                );
                event.carrier = Some("shopify".into());
                event.mapping = mapping_state(fulfillment.mapping);
                event.event.milestone = fulfillment.milestone;
                event.event.code = Some(code);
                events.push(event);
            }
            if events.is_empty() {
                continue;
            }
            for o in self.store.append_events(caller.account_id, events).await? {
                outcome.events.add(&o);
            }
        }
        Ok(())
    }

    /// A fulfillment the store cancelled, or that failed, will not ship: each of its parcels
    /// Milepost registered gets the channel's `cancelled` event, which the channel owns, so the
    /// parcel is voided and its claim no longer counts as shipped (events are append-only: the
    /// claim stays in the timeline, the later cancellation supersedes it). It is dated when the
    /// fulfillment last changed, and has one id per parcel whatever the word (`cancelled`,
    /// `error`, `failure`), so a resent or reworded withdrawal is a duplicate. Parcels Milepost
    /// never registered are not registered now: there is nothing to take back.
    async fn withdraw_fulfillment(
        &self,
        caller: &Principal,
        order_number: &OrderNumber,
        fulfillment: &ShopifyFulfillment,
        outcome: &mut ChannelWebhookOutcome,
    ) -> AppResult<()> {
        let at = fulfillment.updated_at.unwrap_or_else(|| self.clock.now().fixed_offset());
        let word = fulfillment.status.map_or("cancelled", FulfillmentStatus::as_str);
        let mut events = Vec::new();
        let mut numbers = Vec::new();
        for raw_tn in &fulfillment.tracking_numbers {
            let Ok(tn) = TrackingNumber::parse(raw_tn) else {
                outcome.events.rejected += 1;
                continue;
            };
            events.push(self.channel_event(
                EventTarget::Order { order_number: order_number.clone(), shipment: Some(tn.to_string()) },
                format!("shopify:fulfillment:{}:{}:withdrawn", fulfillment.id, tn),
                Milestone::Cancelled,
                Some(format!("Store fulfillment {word}: the parcel will not ship")),
                at,
            ));
            numbers.push(tn.to_string());
        }
        if events.is_empty() {
            return Ok(());
        }
        let outcomes = self.store.append_events(caller.account_id, events).await?;
        for (tn, o) in numbers.into_iter().zip(outcomes) {
            match &o {
                // No such parcel on the order: it was never registered, so nothing is withdrawn.
                EventOutcome::Rejected { field, .. } if field == "shipment" => {}
                _ => {
                    outcome.events.add(&o);
                    outcome.shipments.push(tn);
                }
            }
        }
        Ok(())
    }

    /// The account's unmapped codes, most frequent first.
    pub async fn unmapped_codes(&self, caller: &Principal) -> AppResult<Vec<UnmappedCode>> {
        Ok(self.store.unmapped_codes(caller.account_id).await?)
    }

    /// Maps one carrier code for the account (`None`: informational) and re-normalizes the
    /// account's stored events with it.
    pub async fn map_carrier_code(
        &self,
        caller: &Principal,
        carrier: &str,
        code: &str,
        milestone: Option<Milestone>,
    ) -> AppResult<(String, String, Renormalized)> {
        let carrier = milepost_ingest::mapping::carrier_key(carrier);
        let code = code.trim().to_string();
        let ok = |s: &str| !s.is_empty() && s.len() <= 60 && !s.chars().any(char::is_control);
        if !ok(&carrier) {
            return Err(AppError::Invalid { field: "carrier".into(), message: "must be 1 to 60 characters".into() });
        }
        if !ok(&code) {
            return Err(AppError::Invalid { field: "code".into(), message: "must be 1 to 60 characters".into() });
        }
        let done = self
            .store
            .set_code_override(
                caller.account_id,
                CodeOverride { carrier: carrier.clone(), code: code.clone(), milestone },
            )
            .await?;
        Ok((carrier, code, done))
    }

    /// Records one warehouse scan against the order or parcel its barcode names.
    pub async fn record_scan(&self, caller: &Principal, scan: Scan) -> AppResult<ScanOutcome> {
        let barcode = scan.barcode.trim().to_string();
        let found = self.store.resolve_references(caller.account_id, vec![barcode.clone()]).await?;
        let Some(Some(reference)) = found.into_iter().next() else {
            return Err(AppError::UnknownBarcode(barcode));
        };
        let milestone = scan.step.milestone();
        let description = match &scan.station {
            Some(station) => format!("{} scan at station {station}", scan.step.as_str()),
            None => format!("{} scan", scan.step.as_str()),
        };
        let target_key = match &reference.tracking_number {
            Some(tn) => tn.to_string(),
            None => reference.order_number.to_string(),
        };
        let micros = scan.scanned_at.timestamp_micros().to_string();
        let event = NewEvent {
            carrier_estimate: None,
            target: EventTarget::Order {
                order_number: reference.order_number.clone(),
                shipment: reference.tracking_number.as_ref().map(ToString::to_string),
            },
            carrier: None,
            mapping: if milestone.is_some() { MappingState::Given } else { MappingState::Informational },
            event: TrackingEvent {
                source: EventSource::Warehouse,
                source_event_id: Some(format!(
                    "scan:{}",
                    short_hash(&[scan.step.as_str(), &target_key, &micros, scan.station.as_deref().unwrap_or("")])
                )),
                milestone,
                code: Some(scan.step.as_str().to_string()),
                description: Some(description),
                occurred_at: scan.scanned_at,
                received_at: self.clock.now(),
                location: None,
            },
            raw: Some(
                serde_json::json!({
                    "barcode": barcode,
                    "step": scan.step.as_str(),
                    "station": scan.station,
                    "operator": scan.operator,
                    "scanned_at": scan.scanned_at.to_rfc3339(),
                })
                .to_string(),
            ),
        };
        let outcome = self.store.append_events(caller.account_id, vec![event]).await?;
        let result = match outcome.first() {
            Some(EventOutcome::Accepted) => "accepted",
            Some(EventOutcome::Duplicate) => "duplicate",
            Some(EventOutcome::Rejected { field, reason }) => {
                return Err(AppError::Invalid { field: field.clone(), message: reason.clone() });
            }
            None => return Err(AppError::Unexpected("the store answered no outcome for a scan".into())),
        };
        Ok(ScanOutcome {
            order_number: reference.order_number.to_string(),
            tracking_number: reference.tracking_number.map(|t| t.to_string()),
            milestone,
            result,
        })
    }

    /// Reads an EPCIS 2.0 capture document and answers every event of it, in document order.
    /// Each event's EPCs resolve to parcels by their GS1 key (`epc_keys`); when none does, its
    /// business transactions resolve by type (`reference_kind`). The event is recorded on each as a
    /// warehouse event (a consignee's receipt, see `EpcisCapture`, as the delivering party's). An
    /// event with `errorDeclaration` records a withdrawal of the declared event (same `eventID`, or
    /// without one the same content) on the same parcels, so its claim stops counting.
    pub async fn ingest_epcis(
        &self,
        caller: &Principal,
        body: &[u8],
        capture: &EpcisCapture,
    ) -> AppResult<Vec<EpcisOutcome>> {
        let mut consignee = Vec::new();
        for (i, location) in capture.consignee_locations.iter().enumerate() {
            match Gs1Key::parse(location).and_then(|k| k.location_key()) {
                Some(key) => consignee.push(key),
                None => {
                    return Err(AppError::Invalid {
                        field: format!("consignee_location[{i}]"),
                        message: "expected an SGLN (urn:epc:id:sgln:…) or a GS1 Digital Link location (…/414/…)".into(),
                    });
                }
            }
        }
        let codes = self.codes_for(caller.account_id).await?;
        let entries = parse_epcis(body, &codes).map_err(adapter_error)?;
        // Every key of every EPC and typed business transaction, resolved in one read; each with
        // the kind of reference it may match.
        let mut keys: Vec<String> = Vec::new();
        let mut kinds: Vec<ReferenceKind> = Vec::new();
        let mut epc_key_ranges = Vec::new();
        let mut bt_key_ranges = Vec::new();
        for entry in &entries {
            let mut per_epc = Vec::new();
            let mut per_bt = Vec::new();
            if let Ok(e) = &entry.read {
                for epc in &e.epcs {
                    let start = keys.len();
                    for key in epc_keys(epc) {
                        keys.push(key);
                        kinds.push(ReferenceKind::Parcel);
                    }
                    per_epc.push((epc.clone(), start..keys.len()));
                }
                for bt in &e.biz_transactions {
                    let start = keys.len();
                    if let (Some(kind), Some(number)) = (reference_kind(bt.kind.as_ref()), bt.number()) {
                        keys.push(number.to_string());
                        kinds.push(kind);
                    }
                    per_bt.push(start..keys.len());
                }
            }
            epc_key_ranges.push(per_epc);
            bt_key_ranges.push(per_bt);
        }
        let found = if keys.is_empty() {
            Vec::new()
        } else {
            self.store.resolve_references(caller.account_id, keys.clone()).await?
        };
        let first_match = |range: std::ops::Range<usize>| {
            range.into_iter().find_map(|i| found[i].as_ref().filter(|r| matches_kind(r, kinds[i], &keys[i])).cloned())
        };
        let received_at = self.clock.now();
        let mut outcomes = Vec::new();
        let mut batch = Vec::new();
        let mut owners = Vec::new();
        for (position, entry) in entries.into_iter().enumerate() {
            let (index, event_type, event_id) = (entry.index, entry.event_type, entry.event_id);
            let e = match entry.read {
                Ok(e) => e,
                Err(err) => {
                    let (field, message) = match adapter_error(err) {
                        AppError::Invalid { field, message } => (field, message),
                        other => (format!("epcisBody.eventList[{index}]"), other.to_string()),
                    };
                    outcomes.push(EpcisOutcome::rejected(index, event_type, event_id, field, message));
                    continue;
                }
            };
            let mut targets: BTreeMap<String, Reference> = BTreeMap::new();
            let mut unresolved = Vec::new();
            for (epc, range) in &epc_key_ranges[position] {
                match first_match(range.clone()) {
                    Some(r) => {
                        targets.insert(reference_label(&r), r);
                    }
                    None => unresolved.push(epc.clone()),
                }
            }
            if targets.is_empty() {
                for range in &bt_key_ranges[position] {
                    if let Some(r) = first_match(range.clone()) {
                        targets.insert(reference_label(&r), r);
                    }
                }
            }
            if targets.is_empty() {
                let reason = if e.epcs.is_empty() && e.biz_transactions.is_empty() {
                    "the event names no object (EPC) and no business transaction".to_string()
                } else {
                    "no EPC names a parcel by its GS1 key (SSCC, SGTIN, GRAI, GIAI as a tracking number), and no \
                     business transaction names an order (po, poc) or a parcel (desadv, bol) of the account"
                        .to_string()
                };
                let mut rejected = EpcisOutcome::rejected(
                    index,
                    event_type,
                    event_id,
                    format!("epcisBody.eventList[{index}].{}", objects_field(&e)),
                    reason,
                );
                rejected.unresolved = unresolved;
                outcomes.push(rejected);
                continue;
            }

            // A consignee's own receipt is the parcel's delivery, as the delivering party's proof.
            let at_consignee = !consignee.is_empty()
                && matches!(e.biz_step.as_deref(), Some("receiving" | "accepting"))
                && e.disposition.as_deref() != Some("returned")
                && [&e.biz_location, &e.read_point].into_iter().flatten().any(|place| {
                    Gs1Key::parse(place).and_then(|k| k.location_key()).is_some_and(|k| consignee.contains(&k))
                });
            let (source, milestone, mapping) = if at_consignee {
                (EventSource::Driver, Some(Milestone::Delivered), MappingState::Given)
            } else {
                (EventSource::Warehouse, e.milestone, mapping_state(e.mapping))
            };
            let step_text = match (&e.biz_step, &e.read_point) {
                (Some(step), Some(point)) => format!("EPCIS {step} at {point}"),
                (Some(step), None) => format!("EPCIS {step}"),
                _ => format!("EPCIS {}", e.event_type),
            };
            let base_id = e.event_id.clone().unwrap_or_else(|| {
                format!(
                    "derived:{}",
                    short_hash(&[
                        e.event_type.as_str(),
                        e.action.as_deref().unwrap_or(""),
                        &e.epcs.join(","),
                        e.code.as_deref().unwrap_or(""),
                        &e.occurred_at.timestamp_micros().to_string(),
                    ])
                )
            });
            let raw = e.raw.to_string();
            for (label, r) in &targets {
                let target = EventTarget::Order {
                    order_number: r.order_number.clone(),
                    shipment: r.tracking_number.as_ref().map(ToString::to_string),
                };
                let event = match &e.error_declaration {
                    // The declared event's claim is withdrawn where it was recorded; the
                    // withdrawal is shown when it was declared.
                    Some(declared) => TrackingEvent {
                        source,
                        source_event_id: Some(format!("{WITHDRAWAL_PREFIX}{base_id}#{label}")),
                        milestone: None,
                        code: Some("error_declaration".into()),
                        description: Some(format!(
                            "EPCIS error declaration{}: {step_text} of {} no longer counts{}",
                            declared.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
                            e.occurred_at.to_rfc3339(),
                            if declared.corrective_event_ids.is_empty() {
                                String::new()
                            } else {
                                format!("; corrected by {}", declared.corrective_event_ids.join(", "))
                            }
                        )),
                        occurred_at: declared.declared_at,
                        received_at,
                        location: None,
                    },
                    None => TrackingEvent {
                        source,
                        source_event_id: Some(format!("{base_id}#{label}")),
                        milestone,
                        code: e.code.clone(),
                        description: Some(if at_consignee {
                            format!("{step_text}: received by the consignee")
                        } else {
                            step_text.clone()
                        }),
                        occurred_at: e.occurred_at,
                        received_at,
                        location: None,
                    },
                };
                owners.push(outcomes.len());
                batch.push(NewEvent {
                    carrier_estimate: None,
                    target,
                    carrier: Some("epcis".into()),
                    mapping: if e.error_declaration.is_some() { MappingState::Informational } else { mapping },
                    event,
                    raw: Some(raw.clone()),
                });
            }
            let withdraws = e.error_declaration.as_ref().map(|_| base_id.clone());
            outcomes.push(EpcisOutcome {
                index,
                event_type,
                event_id,
                result: EpcisResult::Accepted,
                field: None,
                reason: None,
                milestone: if withdraws.is_some() { None } else { milestone },
                recorded_on: targets.into_keys().collect(),
                accepted: 0,
                duplicate: 0,
                unresolved,
                withdraws,
            });
        }
        let mut store_rejections: BTreeMap<usize, (String, String)> = BTreeMap::new();
        if !batch.is_empty() {
            let stored = self.store.append_events(caller.account_id, batch).await?;
            for (owner, outcome) in owners.into_iter().zip(stored) {
                match outcome {
                    EventOutcome::Accepted => outcomes[owner].accepted += 1,
                    EventOutcome::Duplicate => outcomes[owner].duplicate += 1,
                    EventOutcome::Rejected { field, reason } => {
                        store_rejections.entry(owner).or_insert((field, reason));
                    }
                }
            }
        }
        for (position, o) in outcomes.iter_mut().enumerate() {
            if o.result == EpcisResult::Rejected {
                continue;
            }
            o.result = if o.accepted > 0 {
                if o.milestone.is_some() || o.withdraws.is_some() {
                    EpcisResult::Accepted
                } else {
                    EpcisResult::Informational
                }
            } else if o.duplicate > 0 {
                EpcisResult::Duplicate
            } else {
                let (field, reason) = store_rejections.remove(&position).unwrap_or_default();
                o.field = Some(field);
                o.reason = Some(reason);
                EpcisResult::Rejected
            };
        }
        Ok(outcomes)
    }

    /// Reads and checks a whole order file without writing anything. The format is the one its
    /// header row shows; `declared` (a `--format`, a media type) counts only when it shows none.
    pub fn validate_import(&self, declared: Option<ImportFormat>, body: &[u8]) -> AppResult<ValidatedImport> {
        let format = ImportFormat::resolve(declared, body)?;
        let lines: Vec<LineResult> = match format {
            ImportFormat::Csv => parse_order_csv(body),
            ImportFormat::Amazon => parse_amazon_order_report(body),
        }
        .map_err(|e| AppError::Invalid { field: "body".into(), message: e.to_string() })?;
        let rows = lines.len();
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        let mut line_numbers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut all_cancelled: BTreeMap<String, bool> = BTreeMap::new();
        for l in lines {
            match l.result {
                Ok(line) => {
                    line_numbers.entry(line.order_number.to_string()).or_default().push(l.line);
                    // The order's own status decides, never one line's: a line cancelled on its
                    // own leaves the order standing.
                    *all_cancelled.entry(line.order_number.to_string()).or_insert(true) &= line.order_cancelled;
                    accepted.push(line);
                }
                Err(e) => rejected.push((l.line, e.to_string())),
            }
        }
        let orders = group_orders(accepted);
        let lines = orders.iter().map(|o| line_numbers.remove(o.order_number.as_str()).unwrap_or_default()).collect();
        let cancelled = orders
            .iter()
            .filter(|o| all_cancelled.get(o.order_number.as_str()).copied().unwrap_or(false))
            .map(|o| o.order_number.clone())
            .collect();
        Ok(ValidatedImport { format, rows, orders, lines, rejected, cancelled })
    }

    /// Writes a validated import in one transaction, unless any row was refused: then nothing is
    /// written and the summary lists the refused rows.
    pub async fn write_import(&self, caller: &Principal, import: ValidatedImport) -> AppResult<ImportSummary> {
        let numbers: Vec<String> = import.orders.iter().map(|o| o.order_number.to_string()).collect();
        if !import.rejected.is_empty() || import.orders.is_empty() {
            return Ok(ImportSummary {
                format: import.format,
                rows: import.rows,
                written: false,
                orders: numbers.into_iter().zip(import.lines).map(|(n, l)| (n, "not_written", l)).collect(),
                rejected: import.rejected,
            });
        }
        // A report that lists an order as cancelled is the channel saying so; the file gives no
        // time for it, so it is dated when Milepost learned it. Its id makes re-imports duplicates.
        let learned_at = self.clock.now().fixed_offset();
        let cancellations = import
            .cancelled
            .iter()
            .map(|number| {
                self.channel_event(
                    EventTarget::Order { order_number: number.clone(), shipment: None },
                    format!("import:{number}:cancelled"),
                    Milestone::Cancelled,
                    Some("Cancelled according to the imported order report".into()),
                    learned_at,
                )
            })
            .collect();
        let outcomes =
            self.store.import_orders(caller.account_id, import.orders, cancellations).await.map_err(|e| match e {
                StoreError::Invalid { field, message } => AppError::Invalid { field, message },
                other => other.into(),
            })?;
        Ok(ImportSummary {
            format: import.format,
            rows: import.rows,
            written: true,
            orders: numbers
                .into_iter()
                .zip(outcomes)
                .zip(import.lines)
                .map(|((n, o), l)| (n, if o == UpsertOutcome::Created { "created" } else { "updated" }, l))
                .collect(),
            rejected: Vec::new(),
        })
    }

    /// Validates and writes an order file (all or nothing), in the format its header row shows.
    pub async fn import_orders(
        &self,
        caller: &Principal,
        declared: Option<ImportFormat>,
        body: &[u8],
    ) -> AppResult<ImportSummary> {
        let validated = self.validate_import(declared, body)?;
        self.write_import(caller, validated).await
    }
}

fn reference_label(r: &Reference) -> String {
    match &r.tracking_number {
        Some(tn) => format!("{}/{}", r.order_number, tn),
        None => r.order_number.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sscc_epc_is_known_by_its_eighteen_digits_and_the_ai_00_form() {
        // GS1's own example: urn:epc:id:sscc:0614141.1234567890 is SSCC 106141412345678908.
        let keys = epc_keys("urn:epc:id:sscc:0614141.1234567890");
        assert!(keys.contains(&"106141412345678908".to_string()), "{keys:?}");
        assert!(keys.contains(&"00106141412345678908".to_string()));
    }

    #[test]
    fn an_epc_is_known_by_its_gs1_key_in_either_spelling_and_never_by_a_trailing_serial() {
        // Before, any EPC was also looked up by its last segment: an SGTIN's serial `40017`
        // could match order 40017 or the shipment whose internal id is 40017.
        assert_eq!(epc_keys("urn:epc:id:sgtin:0861234.012345.40017"), vec!["010086123412345921".to_string() + "40017"]);
        assert_eq!(
            epc_keys("https://id.gs1.org/01/00861234123459/21/40017"),
            epc_keys("urn:epc:id:sgtin:0861234.012345.40017")
        );
        assert_eq!(
            epc_keys("https://id.gs1.org/00/106141412345678908"),
            epc_keys("urn:epc:id:sscc:0614141.1234567890")
        );
        assert!(epc_keys("urn:example:order:SO-1042").is_empty());
        assert!(epc_keys("40017").is_empty());
    }

    #[test]
    fn a_business_transaction_resolves_only_against_its_own_kind_of_reference() {
        let order = Reference { order_number: OrderNumber::parse("SO-1042").unwrap(), tracking_number: None };
        let parcel = Reference {
            order_number: OrderNumber::parse("SO-1042").unwrap(),
            tracking_number: Some(TrackingNumber::parse("BOL5521").unwrap()),
        };
        assert_eq!(reference_kind(Some(&BizTransactionType::Po)), Some(ReferenceKind::Order));
        assert_eq!(reference_kind(Some(&BizTransactionType::Bol)), Some(ReferenceKind::Parcel));
        assert_eq!(reference_kind(Some(&BizTransactionType::Desadv)), Some(ReferenceKind::Parcel));
        assert_eq!(reference_kind(Some(&BizTransactionType::Inv)), None);
        assert_eq!(reference_kind(None), None, "an untyped transaction names nothing");
        assert!(matches_kind(&order, ReferenceKind::Order, "SO-1042"));
        assert!(!matches_kind(&order, ReferenceKind::Parcel, "SO-1042"), "a bill of lading is not an order number");
        assert!(matches_kind(&parcel, ReferenceKind::Parcel, "BOL-5521"));
        assert!(!matches_kind(&parcel, ReferenceKind::Order, "BOL-5521"), "a purchase order is not a parcel");
        // The store also matches internal shipment ids; a key must name the parcel itself.
        assert!(!matches_kind(&parcel, ReferenceKind::Parcel, "17"));
    }

    #[test]
    fn integration_kinds_parse_by_name() {
        assert_eq!("shopify".parse::<IntegrationKind>().unwrap(), IntegrationKind::Shopify);
        assert_eq!("ups".parse::<IntegrationKind>().unwrap(), IntegrationKind::Tracking(SenderKind::Ups));
        assert!("UPS ".parse::<IntegrationKind>().is_err());
    }
}
