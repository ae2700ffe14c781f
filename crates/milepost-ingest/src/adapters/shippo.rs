//! Shippo `track_updated` webhooks: one event per `data.tracking_history[]`, plus
//! `data.tracking_status` (the latest) when the history does not already hold it. Shippo's
//! webhooks are not idempotent and carry no event id, so unless an entry has its own
//! `object_id`, the derived id (carrier, number, code, time, place) is what dedupes a resend, as
//! formats.md §9 suggests.
//!
//! Code precedence: `substatus.code` (e.g. `package_accepted`, `notice_left`), then `status`
//! (`PRE_TRANSIT`, `TRANSIT`, `DELIVERED`, `RETURNED`, `FAILURE`, `UNKNOWN`).
//! Carrier: Shippo's carrier token (`usps`, `dhl_express`), lower-cased.
//! Time: `status_date` is UTC in practice; a bare time is read as UTC.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, location, parse_estimate, parse_timestamp, resolve, with_derived_id,
};
use crate::mapping::CodeMap;
use milepost_domain::EventSource;

const MAPPING_KEY: &str = "shippo";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    if let Some(event) = root.get("event")? {
        let name = event.as_str()?;
        if name != "track_updated" {
            return Err(event.invalid("\"track_updated\""));
        }
    }
    let data = root.req("data")?;
    let tracking_number = data.req_str("tracking_number")?.to_string();
    let carrier = data.req_str("carrier")?.to_ascii_lowercase();
    let estimate = match data.get("eta")? {
        Some(n) => Some(parse_estimate(n.as_str()?, None).ok_or_else(|| n.invalid("an ISO-8601 date-time"))?),
        None => None,
    };
    let mut entries = data.arr("tracking_history")?;
    if let Some(current) = data.get("tracking_status")? {
        entries.push(current);
    }
    let mut events: Vec<NormalizedEvent> = Vec::new();
    for entry in entries {
        let date = entry.req("status_date")?;
        let occurred_at = parse_timestamp(date.as_str()?, None)
            .ok_or_else(|| date.invalid("an ISO-8601 date-time like 2025-03-12T03:14:00Z"))?;
        let substatus = match entry.get("substatus")? {
            Some(s) => s.opt_str("code")?,
            None => None,
        };
        let status = entry.opt_str("status")?;
        let (mapping, code) = resolve(
            codes,
            MAPPING_KEY,
            &[
                Candidate { field: "substatus", code: substatus },
                Candidate { field: "tracking_status.status", code: status },
            ],
        );
        let location = match entry.get("location")? {
            Some(l) => location(l.opt_str("city")?, l.opt_str("state")?, l.opt_str("zip")?, l.opt_str("country")?),
            None => None,
        };
        let event = with_derived_id(
            NormalizedEvent {
                tracking_number: tracking_number.clone(),
                carrier: carrier.clone(),
                source: EventSource::Carrier,
                source_event_id: entry.opt_string("object_id")?,
                milestone: mapping.milestone(),
                mapping,
                code,
                description: entry.opt_string("status_details")?,
                occurred_at,
                location,
                proof_of_delivery: None,
                carrier_estimated_delivery: estimate,
                raw: entry.v.clone(),
            },
            &[substatus, status],
        );
        if !events.iter().any(|e| e.source_event_id == event.source_event_id) {
            events.push(event);
        }
    }
    Ok(events)
}
