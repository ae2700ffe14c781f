//! GS1 EPCIS 2.0 JSON capture documents, for warehouses that report picking, packing and shipping
//! as standard events instead of a bespoke API. EPCIS speaks of objects (EPCs: items, cases,
//! pallets) rather than orders or tracking numbers, so this module does not guess which shipment
//! an event is about: it returns the EPCs as strings and the caller resolves them against what it
//! knows (an SSCC on a shipment, an SGTIN on an order line). What it does settle is the vocabulary:
//! `bizStep` and `disposition` in any of their three spellings map to milestones through the
//! `GS1 EPCIS/CBV` rows of the mapping table.
//!
//! Read: `ObjectEvent`s (the brief's subject) and `AggregationEvent`s (packing into a case or
//! SSCC is an aggregation), from `epcisBody.eventList` or a query document's
//! `epcisBody.queryResults.resultsBody.eventList`. Other event types are skipped.
//!
//! Mapping precedence:
//! 1. A disposition that says something went wrong (`damaged`, `destroyed`, `stolen`) decides.
//! 2. `receiving` with disposition `returned` is a return received (`returned_to_sender`);
//!    `receiving` of anything else is ordinary warehouse inbound and is informational.
//! 3. An outbound step (`shipping`, `departing`, `loading`, `staging_outbound`) with disposition
//!    `returned` is a return on its way back (`returning_to_sender`).
//! 4. Otherwise `bizStep`, then `disposition`.
//!
//! Time: `eventTime` is the instant; it is shown in `eventTimeZoneOffset`, the local zone of the
//! event, which may differ from the offset `eventTime` was written in.

use crate::adapters::{AdapterError, Node, parse_json, parse_offset, parse_timestamp};
use crate::mapping::{CodeLookup, CodeMap};
use chrono::{DateTime, FixedOffset};
use milepost_domain::Milestone;
use serde_json::Value;

const MAPPING_KEY: &str = "epcis";

/// One warehouse event read from an EPCIS document.
#[derive(Debug, Clone, PartialEq)]
pub struct EpcisEvent {
    /// `eventID` when given (a URI such as `urn:uuid:…` or `ni:///sha-256;…`): the dedupe key.
    pub event_id: Option<String>,
    /// `ObjectEvent` or `AggregationEvent`.
    pub event_type: String,
    /// `ADD`, `OBSERVE` or `DELETE`.
    pub action: String,
    /// The objects the event is about, as sent: `epcList` for object events; `parentID` followed
    /// by `childEPCs` for aggregations. Resolving them is the caller's job.
    pub epcs: Vec<String>,
    /// Class-level quantities (`quantityList[].epcClass`) with their amounts, as sent.
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
    /// `bizTransactionList[]` as (type, id), e.g. `("po", "urn:epcglobal:cbv:bt:…:SO-1042")`.
    pub biz_transactions: Vec<(Option<String>, String)>,
    /// The raw event object, including namespaced extensions such as `wh:carrierTracking`.
    pub raw: Value,
}

/// Reads an EPCIS 2.0 JSON (or JSON-LD) document into its object and aggregation events.
pub fn parse_epcis(body: &[u8], codes: &CodeMap) -> Result<Vec<EpcisEvent>, AdapterError> {
    let root_value = parse_json(body)?;
    let root = Node::root(&root_value);
    let body = root.req("epcisBody")?;
    let list = match body.get("eventList")? {
        Some(list) => list,
        None => body.req("queryResults")?.req("resultsBody")?.req("eventList")?,
    };
    let mut events = Vec::new();
    for event in list.elements()? {
        let type_node = match event.get("type")? {
            Some(t) => t,
            None => event.req("isA")?,
        };
        let event_type = type_node.as_str()?.trim();
        if !matches!(event_type, "ObjectEvent" | "AggregationEvent") {
            continue;
        }
        events.push(read_event(&event, event_type, codes)?);
    }
    Ok(events)
}

fn read_event(event: &Node<'_>, event_type: &str, codes: &CodeMap) -> Result<EpcisEvent, AdapterError> {
    let action = event.req_str("action")?;
    if !matches!(action, "ADD" | "OBSERVE" | "DELETE") {
        return Err(event.req("action")?.invalid("ADD, OBSERVE or DELETE"));
    }
    let zone = match event.get("eventTimeZoneOffset")? {
        Some(z) => Some(parse_offset(z.as_str()?).ok_or_else(|| z.invalid("an offset like -07:00"))?),
        None => None,
    };
    let time = event.req("eventTime")?;
    let instant = parse_timestamp(time.as_str()?, zone)
        .ok_or_else(|| time.invalid("an xsd:dateTime like 2025-03-11T09:41:07.250-07:00"))?;
    let occurred_at = match zone {
        Some(z) => instant.with_timezone(&z),
        None => instant,
    };

    let mut epcs = Vec::new();
    if event_type == "AggregationEvent"
        && let Some(parent) = event.opt_str("parentID")?
    {
        epcs.push(parent.to_string());
    }
    let list_key = if event_type == "AggregationEvent" { "childEPCs" } else { "epcList" };
    for epc in event.arr(list_key)? {
        epcs.push(epc.as_str()?.trim().to_string());
    }
    let mut quantities = Vec::new();
    let quantity_key = if event_type == "AggregationEvent" { "childQuantityList" } else { "quantityList" };
    for q in event.arr(quantity_key)? {
        let class = q.req_str("epcClass")?.to_string();
        let amount = match q.get("quantity")? {
            Some(n) => n.v.as_f64().filter(|f| f.is_finite()).ok_or_else(|| n.invalid("a number"))?,
            None => 0.0,
        };
        quantities.push((class, amount));
    }

    let biz_step = cbv_word(event, "bizStep", &["bizstep-", "urn:epcglobal:cbv:bizstep:"])?;
    let disposition = cbv_word(event, "disposition", &["disp-", "urn:epcglobal:cbv:disp:"])?;
    let (mapping, code) = map_codes(codes, biz_step.as_deref(), disposition.as_deref());

    let mut biz_transactions = Vec::new();
    for t in event.arr("bizTransactionList")? {
        biz_transactions.push((t.opt_string("type")?, t.req_str("bizTransaction")?.to_string()));
    }
    Ok(EpcisEvent {
        event_id: event.opt_string("eventID")?,
        event_type: event_type.to_string(),
        action: action.to_string(),
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
        raw: event.v.clone(),
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
    let Some(raw) = event.opt_str(key)? else {
        return Ok(None);
    };
    let lower = raw.to_ascii_lowercase();
    for marker in markers {
        if let Some(pos) = lower.rfind(marker) {
            return Ok(Some(lower[pos + marker.len()..].to_string()));
        }
    }
    Ok(Some(lower))
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
    (CodeLookup::Unmapped, biz_step.or(disposition).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Milestone::*;

    const DOCUMENT: &str = include_str!("../tests/fixtures/epcis_capture.json");

    #[test]
    fn picking_packing_shipping_and_returns_map_to_milestones_in_every_cbv_spelling() {
        let events = parse_epcis(DOCUMENT.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(events.len(), 8, "the transformation event is skipped");
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
                None
            ]
        );
        assert_eq!(events[1].biz_step.as_deref(), Some("packing"));
        assert_eq!(events[2].disposition.as_deref(), Some("in_transit"));
        assert_eq!(events[6].mapping, CodeLookup::Informational, "ordinary receiving is warehouse inbound");
        assert_eq!(events[7].mapping, CodeLookup::Unmapped);
    }

    #[test]
    fn epcs_come_back_as_strings_with_the_aggregation_parent_first() {
        let events = parse_epcis(DOCUMENT.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(events[0].epcs.len(), 2);
        assert_eq!(events[1].epcs[0], "urn:epc:id:sscc:0861234.1000004217");
        assert_eq!(events[1].epcs.len(), 3);
        assert_eq!(events[5].quantities, vec![("urn:epc:class:lgtin:0861234.012345.L42".to_string(), 12.0)]);
        assert_eq!(events[0].biz_transactions[0].1, "urn:epcglobal:cbv:bt:0861234000014:SO-1042");
        assert_eq!(events[4].read_point.as_deref(), Some("urn:epc:id:sgln:0861234.00001.RETURNS"));
        assert_eq!(events[2].raw["wh:carrierTracking"], "1ZA4R7090398765432");
    }

    #[test]
    fn event_time_is_shown_in_the_events_own_time_zone_offset() {
        let events = parse_epcis(DOCUMENT.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(events[2].occurred_at.to_rfc3339(), "2025-03-11T15:30:12-07:00");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-11T09:41:07.250-07:00");
    }

    #[test]
    fn malformed_documents_name_the_path_at_fault() {
        let codes = CodeMap::seeded();
        let bad_action = br#"{"epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2025-03-11T09:41:07Z","action":"LOOK"}]}}"#;
        assert_eq!(
            parse_epcis(bad_action, &codes).unwrap_err().to_string(),
            "epcisBody.eventList[0].action: expected ADD, OBSERVE or DELETE"
        );
        let no_time = br#"{"epcisBody":{"eventList":[{"type":"ObjectEvent","action":"ADD"}]}}"#;
        assert_eq!(parse_epcis(no_time, &codes).unwrap_err().to_string(), "epcisBody.eventList[0].eventTime: missing");
        assert!(parse_epcis(b"{\"epcisBody\":", &codes).is_err());
        assert!(parse_epcis(b"\xff", &codes).is_err());
        let query = br#"{"type":"EPCISQueryDocument","epcisBody":{"queryResults":{"resultsBody":{"eventList":[]}}}}"#;
        assert!(parse_epcis(query, &codes).unwrap().is_empty());
    }
}
