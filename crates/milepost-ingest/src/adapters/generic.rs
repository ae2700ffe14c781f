//! Milepost's own `generic` JSON for senders that have no format of their own worth an adapter:
//! local fleets, 3PL portals, driver apps. It mirrors the event shape of `POST /api/v1/events`
//! (DESIGN.md §6.1), so a sender can say the milestone directly instead of inventing codes, and
//! it is strict: unknown fields are rejected (a typo must not silently drop a proof of delivery),
//! and times must carry an offset because nobody can guess a driver's time zone later.
//!
//! ```json
//! {"events": [{
//!   "tracking_number": "LF-20250314-0042", "carrier": "lakeside-couriers", "source": "driver",
//!   "source_event_id": "stop-8812-delivered", "code": "POD", "milestone": "delivered",
//!   "description": "Left with reception", "occurred_at": "2025-03-14T11:02:00-07:00",
//!   "location": {"city": "Spokane", "region": "WA", "postal_code": "99201", "country": "US"},
//!   "signed_by": "J. Ortiz", "photo_url": "https://…", "left_at": "reception"
//! }]}
//! ```
//!
//! Required: `tracking_number`, `carrier`, `occurred_at` (RFC 3339 with offset; an offset spelt
//! `-0700` or `-07` is read too), and `milestone` or `code`. When `milestone` is given it
//! decides; otherwise `code` is looked up in the mapping table under the given carrier (so a 3PL
//! forwarding UPS codes with `"carrier": "ups"` is normalized like UPS). `source` defaults to
//! `carrier`.

use super::{
    AdapterError, Node, NormalizedEvent, ProofOfDelivery, location, parse_estimate, parse_instant, with_derived_id,
};
use crate::mapping::{CodeLookup, CodeMap};
use milepost_domain::{EventSource, Milestone};

const EVENT_FIELDS: [&str; 16] = [
    "tracking_number",
    "carrier",
    "source",
    "source_event_id",
    "code",
    "milestone",
    "description",
    "occurred_at",
    "location",
    "signed_by",
    "signature_url",
    "photo_url",
    "left_at",
    "estimated_delivery",
    "order_number",
    "shipment",
];
const LOCATION_FIELDS: [&str; 4] = ["city", "region", "postal_code", "country"];

fn reject_unknown(node: &Node<'_>, allowed: &[&str]) -> Result<(), AdapterError> {
    for key in node.object()?.keys() {
        if !allowed.contains(&key.as_str()) {
            let path = if node.path.is_empty() { key.clone() } else { format!("{}.{key}", node.path) };
            return Err(AdapterError::UnknownField { path });
        }
    }
    Ok(())
}

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    reject_unknown(&root, &["events"])?;
    let mut events = Vec::new();
    for event in root.req_arr("events")? {
        events.push(read_event(&event, codes)?);
    }
    Ok(events)
}

fn read_event(event: &Node<'_>, codes: &CodeMap) -> Result<NormalizedEvent, AdapterError> {
    reject_unknown(event, &EVENT_FIELDS)?;
    let tracking_number = event.req_str("tracking_number")?.to_string();
    let carrier = event.req_str("carrier")?.to_ascii_lowercase();
    let source = match event.get("source")? {
        Some(n) => n
            .as_str()?
            .trim()
            .parse::<EventSource>()
            .map_err(|_| n.invalid("one of channel, warehouse, carrier, driver, customer, staff, system"))?,
        None => EventSource::Carrier,
    };
    let at = event.req("occurred_at")?;
    let occurred_at = parse_instant(at.as_str()?)
        .ok_or_else(|| at.invalid("an RFC 3339 time with offset like 2025-03-14T11:02:00-07:00"))?;
    let code = event.opt_string("code")?;
    let code_for_id = code.clone();
    let given = match event.get("milestone")? {
        Some(n) => Some(n.as_str()?.trim().parse::<Milestone>().map_err(|_| n.invalid("a Milepost milestone"))?),
        None => None,
    };
    let mapping = match (given, code.as_deref()) {
        (Some(m), _) => CodeLookup::Mapped(m),
        (None, Some(c)) => codes.lookup_in(&carrier, None, c),
        (None, None) => {
            return Err(AdapterError::Missing { path: format!("{}.milestone", event.path) });
        }
    };
    let location = match event.get("location")? {
        Some(l) => {
            reject_unknown(&l, &LOCATION_FIELDS)?;
            location(l.opt_str("city")?, l.opt_str("region")?, l.opt_str("postal_code")?, l.opt_str("country")?)
        }
        None => None,
    };
    let pod = ProofOfDelivery {
        signed_by: event.opt_string("signed_by")?,
        signature_url: event.opt_string("signature_url")?,
        photo_url: event.opt_string("photo_url")?,
        left_at: event.opt_string("left_at")?,
    };
    let pod_empty = pod == ProofOfDelivery::default();
    let estimate = match event.get("estimated_delivery")? {
        Some(n) => Some(
            parse_estimate(n.as_str()?, Some(*occurred_at.offset()))
                .ok_or_else(|| n.invalid("an RFC 3339 time or a date"))?,
        ),
        None => None,
    };
    Ok(with_derived_id(
        NormalizedEvent {
            tracking_number,
            carrier,
            source,
            source_event_id: event.opt_string("source_event_id")?,
            milestone: mapping.milestone(),
            mapping,
            code,
            description: event.opt_string("description")?,
            occurred_at,
            location,
            // A generic sender states its proof explicitly, so it is kept on whatever event carries it.
            proof_of_delivery: (!pod_empty).then_some(pod),
            carrier_estimated_delivery: estimate,
            raw: event.v.clone(),
        },
        &[code_for_id.as_deref(), given.map(Milestone::as_str)],
    ))
}
