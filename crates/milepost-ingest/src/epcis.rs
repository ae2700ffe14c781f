//! GS1 EPCIS 2.0 JSON capture documents, for warehouses that report picking, packing and shipping
//! as standard events instead of a bespoke API. EPCIS speaks of objects (EPCs: items, cases,
//! pallets) rather than orders or tracking numbers, so this module does not guess which shipment
//! an event is about: it returns the EPCs as sent (with `gs1::Gs1Key` to read their keys) and the
//! business transactions with their types, and the caller resolves them against what it knows.
//! What it does settle is the vocabulary: `bizStep` and `disposition` in any of their three
//! spellings map to milestones through the `GS1 EPCIS/CBV` rows of the mapping table.
//!
//! Read: all five event types of EPCIS 2.0 (`ObjectEvent`, `AggregationEvent`,
//! `TransactionEvent`, `TransformationEvent`, `AssociationEvent`), from `epcisBody.eventList` or a
//! query document's `epcisBody.queryResults.resultsBody.eventList`. Every element of the list
//! gives one entry in document order: the event, or why it does not read (naming its path), so a
//! caller can answer each event on its own. Only a document without an event list is refused
//! whole.
//!
//! Mapping precedence:
//! 1. A disposition that says something went wrong (`damaged`, `destroyed`, `stolen`) decides.
//! 2. `receiving` with disposition `returned` is a return received (`returned_to_sender`);
//!    `receiving` of anything else is ordinary warehouse inbound and is informational.
//! 3. An outbound step (`shipping`, `departing`, `loading`, `staging_outbound`) with disposition
//!    `returned` is a return on its way back (`returning_to_sender`).
//! 4. Otherwise `bizStep`, then `disposition`.
//! 5. A CBV 2.0 word the table does not map is informational; only a word outside the CBV (a
//!    company's own vocabulary) is unmapped and queued for a person.
//!
//! An event that carries `errorDeclaration` is the sender saying an earlier event (the one with
//! the same `eventID`, or without one the same content) did not happen as stated; it is read with
//! its `declarationTime`, `reason` and `correctiveEventIDs` and the caller withdraws the claim.
//!
//! Time: `eventTime` is the instant; it is shown in `eventTimeZoneOffset`, the local zone of the
//! event, which may differ from the offset `eventTime` was written in.

use crate::adapters::{AdapterError, Node, parse_json, parse_offset, parse_timestamp};
use crate::mapping::{CodeLookup, CodeMap};
use chrono::{DateTime, FixedOffset};
use milepost_domain::Milestone;
use serde_json::Value;
use std::fmt;

const MAPPING_KEY: &str = "epcis";

/// The five event types of EPCIS 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpcisEventType {
    Object,
    Aggregation,
    Transaction,
    Transformation,
    Association,
}

impl EpcisEventType {
    pub const ALL: [EpcisEventType; 5] = [
        EpcisEventType::Object,
        EpcisEventType::Aggregation,
        EpcisEventType::Transaction,
        EpcisEventType::Transformation,
        EpcisEventType::Association,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EpcisEventType::Object => "ObjectEvent",
            EpcisEventType::Aggregation => "AggregationEvent",
            EpcisEventType::Transaction => "TransactionEvent",
            EpcisEventType::Transformation => "TransformationEvent",
            EpcisEventType::Association => "AssociationEvent",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        EpcisEventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for EpcisEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CBV 2.0 business transaction types (`bizTransactionList[].type`), whichever spelling was
/// sent: `po`, `urn:epcglobal:cbv:btt:po`, `https://ref.gs1.org/cbv/BTT-po`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BizTransactionType {
    /// Purchase order.
    Po,
    /// Purchase order confirmation.
    Poc,
    /// Despatch advice (ASN).
    Desadv,
    /// Bill of lading.
    Bol,
    /// Invoice.
    Inv,
    /// Receiving advice.
    Recadv,
    /// Production order.
    Prodorder,
    /// Return merchandise authorization.
    Rma,
    Pedigree,
    /// Certificate, test procedure, upstream EPCIS event and any other CBV type (bare word).
    Other(String),
}

impl BizTransactionType {
    pub fn parse(raw: &str) -> Self {
        let word = cbv_bare(raw, &["btt-", "urn:epcglobal:cbv:btt:"]);
        match word.as_str() {
            "po" => BizTransactionType::Po,
            "poc" => BizTransactionType::Poc,
            "desadv" => BizTransactionType::Desadv,
            "bol" => BizTransactionType::Bol,
            "inv" => BizTransactionType::Inv,
            "recadv" => BizTransactionType::Recadv,
            "prodorder" => BizTransactionType::Prodorder,
            "rma" => BizTransactionType::Rma,
            "pedigree" => BizTransactionType::Pedigree,
            _ => BizTransactionType::Other(word),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            BizTransactionType::Po => "po",
            BizTransactionType::Poc => "poc",
            BizTransactionType::Desadv => "desadv",
            BizTransactionType::Bol => "bol",
            BizTransactionType::Inv => "inv",
            BizTransactionType::Recadv => "recadv",
            BizTransactionType::Prodorder => "prodorder",
            BizTransactionType::Rma => "rma",
            BizTransactionType::Pedigree => "pedigree",
            BizTransactionType::Other(word) => word,
        }
    }
}

/// One `bizTransactionList` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizTransaction {
    /// `None` when the sender gave no type.
    pub kind: Option<BizTransactionType>,
    /// The identifier as sent, e.g. `urn:epcglobal:cbv:bt:0861234000014:SO-1042`.
    pub id: String,
}

impl BizTransaction {
    /// The transaction's own number inside its identifier: after the party's GLN of a CBV
    /// `urn:epcglobal:cbv:bt:{gln}:{number}`, the last path segment of an http(s) URI, otherwise
    /// the identifier itself.
    pub fn number(&self) -> Option<&str> {
        let id = self.id.trim();
        let number = if let Some(rest) = id.strip_prefix("urn:epcglobal:cbv:bt:") {
            rest.split_once(':').map(|(_, n)| n)?
        } else if id.starts_with("http://") || id.starts_with("https://") {
            let path = id.split_once("://")?.1.split(['?', '#']).next()?;
            path.split_once('/')?.1.rsplit('/').find(|s| !s.is_empty())?
        } else {
            id
        };
        let number = number.trim();
        (!number.is_empty()).then_some(number)
    }
}

/// `errorDeclaration`: this event repeats one declared in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDeclaration {
    pub declared_at: DateTime<FixedOffset>,
    /// The CBV error reason as a bare word (`did_not_occur`, `incorrect_data`) when given.
    pub reason: Option<String>,
    /// The events that correct it, as sent.
    pub corrective_event_ids: Vec<String>,
}

/// One warehouse event read from an EPCIS document.
#[derive(Debug, Clone, PartialEq)]
pub struct EpcisEvent {
    /// `eventID` when given (a URI such as `urn:uuid:…` or `ni:///sha-256;…`): the dedupe key.
    pub event_id: Option<String>,
    pub event_type: EpcisEventType,
    /// `ADD`, `OBSERVE` or `DELETE`; `None` for transformations, which have no action.
    pub action: Option<String>,
    /// The objects the event is about, as sent: `parentID` first (aggregation, transaction,
    /// association), then `epcList` / `childEPCs`; for a transformation its inputs then outputs.
    /// Resolving them is the caller's job.
    pub epcs: Vec<String>,
    /// Class-level quantities (`quantityList[].epcClass` and the child, input and output lists)
    /// with their amounts, as sent.
    pub quantities: Vec<(String, f64)>,
    /// The CBV business step as a bare word (`shipping`), whichever spelling was sent.
    pub biz_step: Option<String>,
    /// The CBV disposition as a bare word (`in_transit`).
    pub disposition: Option<String>,
    pub milestone: Option<Milestone>,
    pub mapping: CodeLookup,
    /// The bare word that decided the mapping (`bizStep` or `disposition` value).
    pub code: Option<String>,
    /// `eventTime`, shown in `eventTimeZoneOffset`.
    pub occurred_at: DateTime<FixedOffset>,
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    pub biz_transactions: Vec<BizTransaction>,
    pub error_declaration: Option<ErrorDeclaration>,
    /// The raw event object, including namespaced extensions such as `wh:carrierTracking`.
    pub raw: Value,
}

/// One element of the event list: where it is, what it said it was, and the event or why it does
/// not read.
#[derive(Debug, Clone, PartialEq)]
pub struct EpcisEntry {
    /// Position in the document's event list.
    pub index: usize,
    /// `type` as sent (or the early-draft `isA`), when it is a string.
    pub event_type: Option<String>,
    /// `eventID` as sent, when it is a string.
    pub event_id: Option<String>,
    pub read: Result<EpcisEvent, AdapterError>,
}

/// Reads an EPCIS 2.0 JSON (or JSON-LD) document into one entry per element of its event list.
pub fn parse_epcis(body: &[u8], codes: &CodeMap) -> Result<Vec<EpcisEntry>, AdapterError> {
    let root_value = parse_json(body)?;
    let root = Node::root(&root_value);
    let body = root.req("epcisBody")?;
    let list = match body.get("eventList")? {
        Some(list) => list,
        None => body.req("queryResults")?.req("resultsBody")?.req("eventList")?,
    };
    Ok(list
        .elements()?
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            let text = |key: &str| event.v.get(key).and_then(Value::as_str).map(|s| s.trim().to_string());
            EpcisEntry {
                index,
                event_type: text("type").or_else(|| text("isA")),
                event_id: text("eventID").filter(|s| !s.is_empty()),
                read: read_event(&event, codes),
            }
        })
        .collect())
}

fn read_event(event: &Node<'_>, codes: &CodeMap) -> Result<EpcisEvent, AdapterError> {
    event.object()?;
    let type_node = match event.get("type")? {
        Some(t) => t,
        None => event.req("isA").map_err(|_| AdapterError::Missing { path: format!("{}.type", event.path) })?,
    };
    let event_type = EpcisEventType::parse(type_node.as_str()?.trim()).ok_or_else(|| {
        type_node.invalid("ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent")
    })?;
    let action = match event_type {
        EpcisEventType::Transformation => None,
        _ => {
            let action = event.req_str("action")?;
            if !matches!(action, "ADD" | "OBSERVE" | "DELETE") {
                return Err(event.req("action")?.invalid("ADD, OBSERVE or DELETE"));
            }
            Some(action.to_string())
        }
    };
    let occurred_at = event_time(event, "eventTime", "eventTimeZoneOffset")?;

    let mut epcs = Vec::new();
    let mut quantities = Vec::new();
    let (parent, lists, quantity_lists): (bool, &[&str], &[&str]) = match event_type {
        EpcisEventType::Object => (false, &["epcList"], &["quantityList"]),
        EpcisEventType::Aggregation | EpcisEventType::Association => (true, &["childEPCs"], &["childQuantityList"]),
        EpcisEventType::Transaction => (true, &["epcList"], &["quantityList"]),
        EpcisEventType::Transformation => {
            (false, &["inputEPCList", "outputEPCList"], &["inputQuantityList", "outputQuantityList"])
        }
    };
    if parent {
        match event.opt_str("parentID")? {
            Some(p) => epcs.push(p.to_string()),
            // An association always names its parent; an aggregation that adds or removes
            // children must say from what.
            None if event_type == EpcisEventType::Association
                || action.as_deref() != Some("OBSERVE") && event_type == EpcisEventType::Aggregation =>
            {
                return Err(AdapterError::Missing { path: format!("{}.parentID", event.path) });
            }
            None => {}
        }
    }
    for key in lists {
        for epc in event.arr(key)? {
            let s = epc.as_str()?.trim();
            if s.is_empty() {
                return Err(epc.invalid("a non-empty EPC"));
            }
            epcs.push(s.to_string());
        }
    }
    for key in quantity_lists {
        for q in event.arr(key)? {
            let class = q.req_str("epcClass")?.to_string();
            let amount = match q.get("quantity")? {
                Some(n) => n.v.as_f64().filter(|f| f.is_finite()).ok_or_else(|| n.invalid("a number"))?,
                None => 0.0,
            };
            quantities.push((class, amount));
        }
    }
    if event_type == EpcisEventType::Transformation && epcs.is_empty() && quantities.is_empty() {
        return Err(AdapterError::Missing { path: format!("{}.outputEPCList", event.path) });
    }

    let biz_step = cbv_word(event, "bizStep", &["bizstep-", "urn:epcglobal:cbv:bizstep:"])?;
    let disposition = cbv_word(event, "disposition", &["disp-", "urn:epcglobal:cbv:disp:"])?;
    let (mapping, code) = map_codes(codes, biz_step.as_deref(), disposition.as_deref());

    let mut biz_transactions = Vec::new();
    for t in event.arr("bizTransactionList")? {
        t.object()?;
        biz_transactions.push(BizTransaction {
            kind: t.opt_str("type")?.map(BizTransactionType::parse),
            id: t.req_str("bizTransaction")?.to_string(),
        });
    }
    let error_declaration = match event.get("errorDeclaration")? {
        None => None,
        Some(d) => {
            d.object()?;
            let mut corrective_event_ids = Vec::new();
            for id in d.arr("correctiveEventIDs")? {
                corrective_event_ids.push(id.as_str()?.trim().to_string());
            }
            Some(ErrorDeclaration {
                declared_at: event_time(&d, "declarationTime", "").map(|t| t.with_timezone(occurred_at.offset()))?,
                reason: cbv_word(&d, "reason", &["er-", "urn:epcglobal:cbv:er:"])?,
                corrective_event_ids,
            })
        }
    };
    Ok(EpcisEvent {
        event_id: event.opt_string("eventID")?,
        event_type,
        action,
        epcs,
        quantities,
        biz_step,
        disposition,
        milestone: mapping.milestone(),
        mapping,
        code,
        occurred_at,
        read_point: place(event, "readPoint")?,
        biz_location: place(event, "bizLocation")?,
        biz_transactions,
        error_declaration,
        raw: event.v.clone(),
    })
}

/// An `xsd:dateTime` field, shown in the offset field next to it when there is one.
fn event_time(node: &Node<'_>, key: &str, zone_key: &str) -> Result<DateTime<FixedOffset>, AdapterError> {
    let zone = match (!zone_key.is_empty()).then(|| node.get(zone_key)).transpose()?.flatten() {
        Some(z) => Some(parse_offset(z.as_str()?).ok_or_else(|| z.invalid("an offset like -07:00"))?),
        None => None,
    };
    let time = node.req(key)?;
    let instant = parse_timestamp(time.as_str()?, zone)
        .ok_or_else(|| time.invalid("an xsd:dateTime like 2025-03-11T09:41:07.250-07:00"))?;
    Ok(match zone {
        Some(z) => instant.with_timezone(&z),
        None => instant,
    })
}

/// `readPoint` is `{"id": …}` in final 2.0 and a bare string in early drafts.
fn place(event: &Node<'_>, key: &str) -> Result<Option<String>, AdapterError> {
    match event.get(key)? {
        None => Ok(None),
        Some(n) if n.v.is_string() => Ok(Some(n.as_str()?.trim().to_string())),
        Some(n) => n.opt_string("id"),
    }
}

/// A CBV value in any of its spellings, as the bare word: `shipping`,
/// `https://ref.gs1.org/cbv/BizStep-shipping`, `urn:epcglobal:cbv:bizstep:shipping` (and the
/// compact `cbv:BizStep-shipping`).
fn cbv_word(event: &Node<'_>, key: &str, markers: &[&str]) -> Result<Option<String>, AdapterError> {
    Ok(event.opt_str(key)?.map(|raw| cbv_bare(raw, markers)))
}

fn cbv_bare(raw: &str, markers: &[&str]) -> String {
    let lower = raw.trim().to_ascii_lowercase();
    for marker in markers {
        if let Some(pos) = lower.rfind(marker) {
            return lower[pos + marker.len()..].to_string();
        }
    }
    lower
}

/// The CBV 2.0 business steps and dispositions: a word of these that the table does not map is
/// known and carries no status (informational), unlike a company's own word.
const CBV_BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];
const CBV_DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

/// Whether `word` is a CBV 2.0 business step.
pub fn is_cbv_biz_step(word: &str) -> bool {
    CBV_BIZ_STEPS.contains(&word)
}

fn map_codes(codes: &CodeMap, biz_step: Option<&str>, disposition: Option<&str>) -> (CodeLookup, Option<String>) {
    let by_disposition = disposition.and_then(|d| codes.lookup_field(MAPPING_KEY, "disposition", d));
    if let (Some(CodeLookup::Mapped(Milestone::Exception)), Some(d)) = (by_disposition, disposition) {
        return (CodeLookup::Mapped(Milestone::Exception), Some(d.to_string()));
    }
    let returned = disposition == Some("returned");
    match biz_step {
        Some("receiving") if returned => {
            return (CodeLookup::Mapped(Milestone::ReturnedToSender), Some("receiving".into()));
        }
        Some("receiving") => return (CodeLookup::Informational, Some("receiving".into())),
        Some("shipping" | "departing" | "loading" | "staging_outbound") if returned => {
            return (CodeLookup::Mapped(Milestone::ReturningToSender), Some("returned".into()));
        }
        _ => {}
    }
    if let Some(step) = biz_step
        && let Some(found) = codes.lookup_field(MAPPING_KEY, "bizStep", step)
    {
        return (found, Some(step.to_string()));
    }
    if let (Some(found), Some(d)) = (by_disposition, disposition) {
        return (found, Some(d.to_string()));
    }
    let known = biz_step.is_none_or(is_cbv_biz_step) && disposition.is_none_or(|d| CBV_DISPOSITIONS.contains(&d));
    let code = biz_step.or(disposition).map(str::to_string);
    if known && code.is_some() { (CodeLookup::Informational, code) } else { (CodeLookup::Unmapped, code) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Milestone::*;

    const DOCUMENT: &str = include_str!("../tests/fixtures/epcis_capture.json");
    const ALL_TYPES: &str = include_str!("../tests/fixtures/epcis_all_event_types.json");

    fn read(doc: &str) -> Vec<EpcisEntry> {
        parse_epcis(doc.as_bytes(), &CodeMap::seeded()).unwrap()
    }

    fn events(doc: &str) -> Vec<EpcisEvent> {
        read(doc).into_iter().filter_map(|e| e.read.ok()).collect()
    }

    #[test]
    fn picking_packing_shipping_and_returns_map_to_milestones_in_every_cbv_spelling() {
        let entries = read(DOCUMENT);
        assert_eq!(entries.len(), 10, "one entry per element of the event list");
        // The transformation event names no input or output: it is answered, not skipped.
        assert_eq!(entries[3].event_type.as_deref(), Some("TransformationEvent"));
        assert_eq!(entries[3].read.as_ref().unwrap_err().to_string(), "epcisBody.eventList[3].outputEPCList: missing");
        let events = events(DOCUMENT);
        let got: Vec<_> = events.iter().map(|e| e.milestone).collect();
        assert_eq!(
            got,
            vec![
                Some(Picked),
                Some(Packed),
                Some(HandedToCarrier),
                Some(ReturningToSender),
                Some(ReturnedToSender),
                Some(Exception),
                None,
                None,
                None
            ]
        );
        assert_eq!(events[1].biz_step.as_deref(), Some("packing"));
        assert_eq!(events[2].disposition.as_deref(), Some("in_transit"));
        assert_eq!(events[6].mapping, CodeLookup::Informational, "ordinary receiving is warehouse inbound");
        // cycle_counting is a CBV 2.0 step: known, no status (it used to read as unmapped).
        assert_eq!(events[7].mapping, CodeLookup::Informational);
        assert_eq!(events[8].mapping, CodeLookup::Unmapped, "a company's own step is queued for a person");
    }

    #[test]
    fn epcs_come_back_as_strings_with_the_aggregation_parent_first() {
        let events = events(DOCUMENT);
        assert_eq!(events[0].epcs.len(), 2);
        assert_eq!(events[1].epcs[0], "urn:epc:id:sscc:0861234.1000004217");
        assert_eq!(events[1].epcs.len(), 3);
        assert_eq!(events[5].quantities, vec![("urn:epc:class:lgtin:0861234.012345.L42".to_string(), 12.0)]);
        assert_eq!(events[0].biz_transactions[0].id, "urn:epcglobal:cbv:bt:0861234000014:SO-1042");
        assert_eq!(events[0].biz_transactions[0].kind, Some(BizTransactionType::Po));
        assert_eq!(events[4].read_point.as_deref(), Some("urn:epc:id:sgln:0861234.00001.RETURNS"));
        assert_eq!(events[2].raw["wh:carrierTracking"], "1ZA4R7090398765432");
    }

    #[test]
    fn event_time_is_shown_in_the_events_own_time_zone_offset() {
        let events = events(DOCUMENT);
        assert_eq!(events[2].occurred_at.to_rfc3339(), "2025-03-11T15:30:12-07:00");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-11T09:41:07.250-07:00");
    }

    #[test]
    fn all_five_event_types_are_read_with_their_objects() {
        let entries = read(ALL_TYPES);
        let types: Vec<_> = entries.iter().map(|e| e.read.as_ref().map(|e| e.event_type).ok()).collect();
        use EpcisEventType::*;
        assert_eq!(
            types,
            vec![
                Some(Object),
                Some(Aggregation),
                Some(Transaction),
                Some(Transformation),
                Some(Association),
                Some(Aggregation),
                None
            ]
        );
        let events: Vec<_> = entries.iter().filter_map(|e| e.read.as_ref().ok()).collect();
        // A transaction event: its parent, then its objects; no action on a transformation.
        assert_eq!(events[2].epcs[0], "https://id.gs1.org/00/108612340000042177");
        assert_eq!(events[2].biz_transactions[0].kind, Some(BizTransactionType::Desadv));
        assert_eq!(events[2].biz_transactions[1].kind, Some(BizTransactionType::Bol));
        assert_eq!(events[3].action, None);
        assert_eq!(events[3].epcs.len(), 2, "inputs then outputs");
        assert_eq!(events[3].quantities.len(), 1);
        assert_eq!(events[4].epcs[0], "urn:epc:id:grai:0861234.12345.900");
        assert_eq!(events[4].milestone, None);
        assert_eq!(events[4].mapping, CodeLookup::Informational);
    }

    #[test]
    fn business_transaction_types_read_in_every_spelling() {
        for raw in ["po", "urn:epcglobal:cbv:btt:po", "https://ref.gs1.org/cbv/BTT-po", "cbv:BTT-po"] {
            assert_eq!(BizTransactionType::parse(raw), BizTransactionType::Po, "{raw}");
        }
        assert_eq!(BizTransactionType::parse("https://ref.gs1.org/cbv/BTT-desadv"), BizTransactionType::Desadv);
        assert_eq!(BizTransactionType::parse("urn:epcglobal:cbv:btt:bol"), BizTransactionType::Bol);
        assert_eq!(BizTransactionType::parse("RMA"), BizTransactionType::Rma);
        assert_eq!(BizTransactionType::parse("testprd").as_str(), "testprd");
        let bt = |id: &str| BizTransaction { kind: None, id: id.into() }.number().map(str::to_string);
        assert_eq!(bt("urn:epcglobal:cbv:bt:0861234000014:SO-1042").as_deref(), Some("SO-1042"));
        assert_eq!(bt("https://erp.example.com/po/SO-1042/").as_deref(), Some("SO-1042"));
        assert_eq!(bt("SO-1042").as_deref(), Some("SO-1042"));
        assert_eq!(bt("urn:epcglobal:cbv:bt:0861234000014"), None);
    }

    #[test]
    fn an_error_declaration_is_read_with_its_time_reason_and_corrective_events() {
        let events = events(ALL_TYPES);
        let declared = events[5].error_declaration.as_ref().unwrap();
        assert_eq!(declared.declared_at.to_rfc3339(), "2025-03-12T09:00:00-07:00");
        assert_eq!(declared.reason.as_deref(), Some("did_not_occur"));
        assert_eq!(declared.corrective_event_ids, vec!["urn:uuid:6a2b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"]);
        assert_eq!(events[5].event_id, events[1].event_id, "it repeats the event it declares in error");
        assert!(events[1].error_declaration.is_none());
    }

    #[test]
    fn an_event_that_does_not_read_is_answered_on_its_own_naming_its_path() {
        let entries = read(ALL_TYPES);
        assert_eq!(entries[6].event_type.as_deref(), Some("QuantityEvent"));
        assert_eq!(
            entries[6].read.as_ref().unwrap_err().to_string(),
            "epcisBody.eventList[6].type: expected ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent"
        );
    }

    #[test]
    fn malformed_documents_name_the_path_at_fault() {
        let codes = CodeMap::seeded();
        let first_error = |doc: &[u8]| parse_epcis(doc, &codes).unwrap()[0].read.clone().unwrap_err().to_string();
        let bad_action = br#"{"epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2025-03-11T09:41:07Z","action":"LOOK"}]}}"#;
        assert_eq!(first_error(bad_action), "epcisBody.eventList[0].action: expected ADD, OBSERVE or DELETE");
        let no_time = br#"{"epcisBody":{"eventList":[{"type":"ObjectEvent","action":"ADD"}]}}"#;
        assert_eq!(first_error(no_time), "epcisBody.eventList[0].eventTime: missing");
        let no_type = br#"{"epcisBody":{"eventList":[{"action":"ADD"}]}}"#;
        assert_eq!(first_error(no_type), "epcisBody.eventList[0].type: missing");
        let not_an_object = br#"{"epcisBody":{"eventList":[7]}}"#;
        assert_eq!(first_error(not_an_object), "epcisBody.eventList[0]: expected an object");
        let no_parent = br#"{"epcisBody":{"eventList":[{"type":"AssociationEvent","action":"ADD","eventTime":"2025-03-11T09:41:07Z","childEPCs":["urn:epc:id:giai:0861234.A1"]}]}}"#;
        assert_eq!(first_error(no_parent), "epcisBody.eventList[0].parentID: missing");
        let bad_declaration = br#"{"epcisBody":{"eventList":[{"type":"ObjectEvent","action":"OBSERVE","eventTime":"2025-03-11T09:41:07Z","errorDeclaration":{}}]}}"#;
        assert_eq!(first_error(bad_declaration), "epcisBody.eventList[0].errorDeclaration.declarationTime: missing");
        assert!(parse_epcis(b"{\"epcisBody\":", &codes).is_err());
        assert!(parse_epcis(b"\xff", &codes).is_err());
        assert!(parse_epcis(br#"{"epcisBody":{"eventList":{}}}"#, &codes).is_err());
        let query = br#"{"type":"EPCISQueryDocument","epcisBody":{"queryResults":{"resultsBody":{"eventList":[]}}}}"#;
        assert!(parse_epcis(query, &codes).unwrap().is_empty());
    }
}
