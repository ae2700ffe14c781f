//! FedEx Track API (`POST /track/v1/trackingnumbers`): one event per
//! `output.completeTrackResults[].trackResults[].scanEvents[]`. A number can have several
//! `trackResults` (FedEx reuses numbers); each is read, and the derived ids keep them apart
//! because they differ in time. A `trackResult` that carries only an `error` (e.g.
//! `TRACKING.TRACKINGNUMBER.NOTFOUND`) yields no events, so one unknown number does not hide the
//! others in the same response.
//!
//! Code precedence: when the scan's `eventType` is an exception-class code (or absent), a non-empty
//! `exceptionCode` the table knows decides first (`08` is a delivery attempt, not a generic
//! exception); otherwise `eventType` (fine: `OD` out for delivery, `HP` ready for pickup, which
//! the coarse code hides as `IT`), then `derivedStatusCode`.
//!
//! Time: scans carry ISO-8601 with the scan's own offset; one that has none is read in the time
//! zone of its `scanLocation` ([`crate::zones`]), else takes the offset of the nearest scan in the
//! same result that has one (FedEx's "no offset" PU scans sit among scans at the same place), or
//! UTC when no scan has one.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, ProofOfDelivery, location, offset_of, parse_estimate, parse_naive,
    parse_timestamp, pod_for, resolve, with_derived_id,
};
use crate::mapping::{CodeLookup, CodeMap};
use crate::zones;
use chrono::{DateTime, FixedOffset};
use milepost_domain::{EventSource, Milestone};

const CARRIER: &str = "fedex";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    if let Some(errors) = root.get("errors")? {
        let first = errors.elements()?;
        if let Some(e) = first.first() {
            let message = e.opt_str("message")?.or(e.opt_str("code")?).unwrap_or("").to_string();
            return Err(AdapterError::SenderError { path: e.path.clone(), message });
        }
    }
    let output = root.req("output")?;
    let mut events = Vec::new();
    for complete in output.req_arr("completeTrackResults")? {
        let outer_number = complete.opt_str("trackingNumber")?;
        for result in complete.arr("trackResults")? {
            read_result(&result, outer_number, codes, &mut events)?;
        }
    }
    Ok(events)
}

fn read_result(
    result: &Node<'_>,
    outer_number: Option<&str>,
    codes: &CodeMap,
    out: &mut Vec<NormalizedEvent>,
) -> Result<(), AdapterError> {
    let scans = result.arr("scanEvents")?;
    if scans.is_empty() && result.get("error")?.is_some() {
        return Ok(());
    }
    let inner_number = match result.get("trackingNumberInfo")? {
        Some(info) => info.opt_str("trackingNumber")?,
        None => None,
    };
    let tracking_number = inner_number
        .or(outer_number)
        .ok_or_else(|| AdapterError::Missing { path: format!("{}.trackingNumberInfo.trackingNumber", result.path) })?;
    let pod = match result.get("deliveryDetails")? {
        Some(d) => ProofOfDelivery {
            signed_by: d.opt_string("signedByName")?.or(d.opt_string("receivedByName")?),
            signature_url: None,
            photo_url: None,
            left_at: d.opt_string("locationDescription")?,
        },
        None => ProofOfDelivery::default(),
    };

    // Offsets of every scan first, so that a scan without one can borrow its neighbour's.
    let mut stamps = Vec::with_capacity(scans.len());
    for scan in &scans {
        let date = scan.req("date")?;
        let text = date.as_str()?;
        stamps.push((date.clone(), text, offset_of(text)));
    }
    let estimate = estimated_delivery(result, stamps.iter().find_map(|s| s.2))?;

    for (i, scan) in scans.iter().enumerate() {
        let (date_node, text, own_offset) = &stamps[i];
        let location = match scan.get("scanLocation")? {
            Some(l) => location(
                l.opt_str("city")?,
                l.opt_str("stateOrProvinceCode")?,
                l.opt_str("postalCode")?,
                l.opt_str("countryCode")?,
            ),
            None => None,
        };
        let zone = match (own_offset, parse_naive(text.trim())) {
            (None, Some(wall)) => location.as_ref().and_then(|l| zones::zone_of(l, None)).map(|z| (z, wall)),
            _ => None,
        };
        let occurred_at = match zone {
            Some((zone, wall)) => zones::local_instant(zone, wall),
            None => parse_timestamp(text, nearest_offset(&stamps, i))
                .ok_or_else(|| date_node.invalid("an ISO-8601 date-time like 2025-03-14T10:31:00-07:00"))?,
        };
        let event_type = scan.opt_str("eventType")?;
        let exception_code = scan.opt_str("exceptionCode")?;
        let derived = scan.opt_str("derivedStatusCode")?;
        let (mapping, code) = map_codes(codes, event_type, exception_code, derived);
        let description = match (scan.opt_str("eventDescription")?, scan.opt_str("exceptionDescription")?) {
            (Some(d), Some(x)) => Some(format!("{d}: {x}")),
            (d, x) => d.or(x).map(str::to_string),
        };
        let milestone = mapping.milestone();
        out.push(with_derived_id(
            NormalizedEvent {
                tracking_number: tracking_number.to_string(),
                carrier: CARRIER.into(),
                source: EventSource::Carrier,
                source_event_id: None,
                milestone,
                mapping,
                code,
                description,
                occurred_at,
                location,
                proof_of_delivery: pod_for(milestone, &pod),
                carrier_estimated_delivery: estimate,
                raw: scan.v.clone(),
            },
            &[event_type, exception_code, derived],
        ));
    }
    Ok(())
}

fn nearest_offset(stamps: &[(Node<'_>, &str, Option<FixedOffset>)], i: usize) -> Option<FixedOffset> {
    (1..stamps.len()).find_map(|d| {
        let before = i.checked_sub(d).and_then(|j| stamps.get(j)).and_then(|s| s.2);
        let after = stamps.get(i + d).and_then(|s| s.2);
        before.or(after)
    })
}

fn map_codes(
    codes: &CodeMap,
    event_type: Option<&str>,
    exception_code: Option<&str>,
    derived: Option<&str>,
) -> (CodeLookup, Option<String>) {
    let type_lookup = event_type.and_then(|t| codes.lookup_field(CARRIER, "eventType", t));
    let exception_class = matches!(type_lookup, None | Some(CodeLookup::Mapped(Milestone::Exception)));
    if exception_class
        && let Some(x) = exception_code
        && let Some(found) = codes.lookup_field(CARRIER, "exceptionCode", x)
    {
        return (found, Some(x.to_string()));
    }
    resolve(
        codes,
        CARRIER,
        &[Candidate { field: "eventType", code: event_type }, Candidate { field: "derivedStatusCode", code: derived }],
    )
}

/// `ESTIMATED_DELIVERY`, else the `COMMITMENT` time, from `dateAndTimes[]`.
fn estimated_delivery(
    result: &Node<'_>,
    offset: Option<FixedOffset>,
) -> Result<Option<DateTime<FixedOffset>>, AdapterError> {
    let mut estimated = None;
    let mut commitment = None;
    for entry in result.arr("dateAndTimes")? {
        let slot = match entry.opt_str("type")? {
            Some("ESTIMATED_DELIVERY") => &mut estimated,
            Some("COMMITMENT") => &mut commitment,
            _ => continue,
        };
        let node = entry.req("dateTime")?;
        let parsed = parse_estimate(node.as_str()?, offset).ok_or_else(|| node.invalid("an ISO-8601 date-time"))?;
        *slot = Some(parsed);
    }
    Ok(estimated.or(commitment))
}
