//! Shippo `track_updated` webhooks: one event per `data.tracking_history[]`; `data.tracking_status`
//! (Shippo's summary of the latest entry) only when there is no history, so the summary never adds
//! a second copy of an event and never overrides a history it contradicts. Shippo's
//! webhooks are not idempotent and carry no event id, so unless an entry has its own
//! `object_id`, the derived id (carrier, number, code, time, place) is what dedupes a resend, as
//! formats.md §9 suggests.
//!
//! Code precedence: `substatus.code` (e.g. `package_accepted`, `notice_left`), then `status`
//! (`PRE_TRANSIT`, `TRANSIT`, `DELIVERED`, `RETURNED`, `FAILURE`, `UNKNOWN`).
//! Carrier: Shippo's carrier token (`usps`, `dhl_express`), lower-cased.
//! Time: `status_date` is UTC in practice; a bare time is read as UTC.
//!
//! The Track object of Shippo's API (`GET /tracks/{carrier}/{number}`, and the answer to
//! `POST /tracks`) is the webhook's `data` on its own, at the root: it is read the same way, so a
//! poller's answer and a push give the same events.
//!
//! A test webhook sent from Shippo's dashboard with null fields (a `data` whose
//! `tracking_number` is null, with no history and no dated status) is answered with no events,
//! so the sender sees a 2xx and nothing is stored. A null number with history is still refused,
//! naming the field.

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
    // The API's Track object is the webhook's `data` at the root.
    let data = match root.get("data")? {
        None if root.get("tracking_number")?.is_some() || root.get("tracking_history")?.is_some() => root,
        _ => root.req("data")?,
    };
    if data.opt_str("tracking_number")?.is_none() && data.arr("tracking_history")?.is_empty() {
        let status_date = match data.get("tracking_status")? {
            Some(status) => status.opt_str("status_date")?,
            None => None,
        };
        if status_date.is_none() {
            return Ok(Vec::new());
        }
    }
    let tracking_number = data.req_str("tracking_number")?.to_string();
    let carrier = data.req_str("carrier")?.to_ascii_lowercase();
    let estimate = match data.get("eta")? {
        Some(n) => Some(parse_estimate(n.as_str()?, None).ok_or_else(|| n.invalid("an ISO-8601 date-time"))?),
        None => None,
    };
    // The history is the record; `tracking_status` is Shippo's summary of its latest entry. It is
    // read only when there is no history: Shippo gives it an `object_id` of its own, so it would
    // be a second copy of that entry, and where it contradicts the history (a summary that says
    // delivered over a history that does not), the history's own entries are what happened.
    let mut entries = data.arr("tracking_history")?;
    if entries.is_empty()
        && let Some(current) = data.get("tracking_status")?
    {
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
