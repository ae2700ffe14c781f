//! USPS Tracking v3 JSON (`GET /tracking/v3/tracking/{trackingNumber}?expand=DETAIL`): one event
//! per `trackingEvents[]`. USPS sends its own local time without an offset beside a GMT stamp and
//! the offset, and its event codes are two-character strings whose leading zeros matter (`01`
//! delivered, `07` arrived at post office), so they are never read as numbers. A body that is a
//! JSON array of such tracking objects (several numbers in one forwarded payload) is read too.
//!
//! Code: `eventCode` (Pub 199 Appendix G-4 codes) is the only per-event code; the package-level
//! `statusCategory` describes the latest state only and is not copied onto older events.
//!
//! Time: the instant is `eventTimestamp` read in `GMTOffset` (any spelling [`parse_offset`] reads,
//! USPS's own schema writes `-7:00`). The `GMTTimestamp` only refines it to the second when the two
//! agree within the minute the local stamp names: around midnight GMT, USPS writes the GMT stamp
//! with the *local* date (`eventTimestamp` `2024-11-25T18:31:00`, offset `-06:00`,
//! `GMTTimestamp` `2024-11-25T00:31:21Z`, a day early), so where they disagree the local stamp with
//! its offset wins. Without a local stamp the GMT stamp is shown in `GMTOffset`. Without
//! `GMTOffset`, the GMT stamp is the instant; a local stamp alone (USPS sends some this way, often
//! at midnight) is read in the zone of the event's state and ZIP ([`crate::zones`], country US
//! unless `eventCountry` says otherwise), and only without a place is the wall time kept as if
//! it were UTC. Events that are empty objects (seen in real captures) are skipped.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, ProofOfDelivery, location, offset_of, parse_estimate, parse_naive,
    parse_offset, parse_timestamp, pod_for, resolve, with_derived_id,
};
use crate::mapping::CodeMap;
use crate::zones;
use chrono::{DateTime, FixedOffset};
use milepost_domain::{EventSource, Location};

const CARRIER: &str = "usps";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    let mut events = Vec::new();
    if root.v.is_array() {
        let items = root.elements()?;
        if items.is_empty() {
            return Err(root.invalid("at least one tracking object"));
        }
        for item in items {
            read_tracking(&item, codes, &mut events)?;
        }
    } else {
        read_tracking(&root, codes, &mut events)?;
    }
    Ok(events)
}

fn read_tracking(root: &Node<'_>, codes: &CodeMap, out: &mut Vec<NormalizedEvent>) -> Result<(), AdapterError> {
    if let Some(error) = root.get("error")? {
        let message = error.opt_str("message")?.unwrap_or("").to_string();
        return Err(AdapterError::SenderError { path: error.path.clone(), message });
    }
    let tracking_number = root.req_str("trackingNumber")?.to_string();
    let mut read = Vec::new();
    for event in root.arr("trackingEvents")? {
        if event.is_empty_object() {
            continue;
        }
        read.push(read_event(&event, &tracking_number, codes)?);
    }
    let newest_offset = read.iter().max_by_key(|e| e.occurred_at).map(|e| *e.occurred_at.offset());
    let estimate = estimated_delivery(root, newest_offset)?;
    out.extend(read.into_iter().map(|mut e| {
        e.carrier_estimated_delivery = estimate;
        e
    }));
    Ok(())
}

fn read_event(event: &Node<'_>, tracking_number: &str, codes: &CodeMap) -> Result<NormalizedEvent, AdapterError> {
    let offset = match event.get("GMTOffset")? {
        Some(o) => Some(parse_offset(o.as_str()?).ok_or_else(|| o.invalid("an offset like -05:00"))?),
        None => None,
    };
    let event_code = event.opt_str("eventCode")?;
    let (mapping, code) = resolve(codes, CARRIER, &[Candidate { field: "eventCode", code: event_code }]);
    let location = location(
        event.opt_str("eventCity")?,
        event.opt_str("eventState")?,
        event.opt_str("eventZIP")?,
        event.opt_str("eventCountry")?,
    );
    let occurred_at = occurred_at(event, offset, location.as_ref())?;
    let pod = ProofOfDelivery { signed_by: event.opt_string("name")?, ..ProofOfDelivery::default() };
    let milestone = mapping.milestone();
    Ok(with_derived_id(
        NormalizedEvent {
            tracking_number: tracking_number.to_string(),
            carrier: CARRIER.into(),
            source: EventSource::Carrier,
            source_event_id: None,
            milestone,
            mapping,
            code,
            description: event.opt_string("eventType")?,
            occurred_at,
            location,
            proof_of_delivery: pod_for(milestone, &pod),
            carrier_estimated_delivery: None,
            raw: event.v.clone(),
        },
        &[event_code],
    ))
}

fn occurred_at(
    event: &Node<'_>,
    offset: Option<FixedOffset>,
    place: Option<&Location>,
) -> Result<DateTime<FixedOffset>, AdapterError> {
    let gmt = match event.get("GMTTimestamp")? {
        Some(g) => Some(
            parse_timestamp(g.as_str()?, FixedOffset::east_opt(0))
                .ok_or_else(|| g.invalid("an ISO-8601 UTC time like 2025-03-14T12:10:22Z"))?,
        ),
        None => None,
    };
    let local = match event.get("eventTimestamp")? {
        Some(l) => {
            let text = l.as_str()?;
            let expected = || l.invalid("an ISO-8601 local time like 2025-03-14T07:10:00");
            // A stamp that carries its own offset says when it happened; a bare one is local time.
            Some(match (offset_of(text), parse_naive(text.trim())) {
                (Some(_), _) => parse_timestamp(text, None).ok_or_else(expected)?,
                (None, Some(wall)) => match offset {
                    Some(o) => parse_timestamp(text, Some(o)).ok_or_else(expected)?,
                    None => match place.and_then(|p| zones::zone_of(p, Some("US"))) {
                        Some(zone) => zones::local_instant(zone, wall),
                        None => parse_timestamp(text, None).ok_or_else(expected)?,
                    },
                },
                (None, None) => return Err(expected()),
            })
        }
        None => None,
    };
    match (gmt, local, offset) {
        // The GMT stamp has the seconds the local one lacks, but only its agreeing minute is trusted.
        (Some(g), Some(l), Some(o)) if (0..60).contains(&(g - l).num_seconds()) => Ok(g.with_timezone(&o)),
        (_, Some(l), Some(_)) => Ok(l),
        (Some(g), None, Some(o)) => Ok(g.with_timezone(&o)),
        (Some(g), _, None) => Ok(g),
        (None, Some(l), None) => Ok(l),
        (None, None, _) => Err(AdapterError::Missing { path: format!("{}.eventTimestamp", event.path) }),
    }
}

fn estimated_delivery(
    root: &Node<'_>,
    offset: Option<FixedOffset>,
) -> Result<Option<DateTime<FixedOffset>>, AdapterError> {
    for key in ["expectedDeliveryTimeStamp", "predictedDeliveryDate", "expectedDeliveryDate"] {
        if let Some(node) = root.get(key)? {
            let parsed =
                parse_estimate(node.as_str()?, offset).ok_or_else(|| node.invalid("an ISO-8601 date or date-time"))?;
            return Ok(Some(parsed));
        }
    }
    Ok(None)
}
