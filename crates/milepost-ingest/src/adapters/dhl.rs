//! DHL Shipment Tracking – Unified API (`GET /track/shipments?trackingNumber=…`): one event per
//! `shipments[].events[]` (or the shipment's `status` alone when a summary response has no
//! events). One API covers many DHL services that speak different code dialects, and some send
//! local times without an offset, so the service decides both how codes are read and which zone a
//! bare time is in.
//!
//! Code precedence, by `service`:
//! * `express`: the checkpoint code in `status` (`PU`, `WC` with courier, `OK` delivered), then
//!   the coarse `statusCode`.
//! * `parcel-de`, `post-de`, or any event whose `statusDetailed` has the `ICE_RIC_TTPRO` shape:
//!   the ICE event (the prefix of `statusDetailed`) decides unless it only says "in transit", in
//!   which case a more specific TTpro code in `status` wins (`LDTMV_…_PO`: loaded on a vehicle,
//!   and TTpro `PO` says it is the delivery vehicle); then the coarse `statusCode`.
//!   An event with neither code (Parcel DE often sends only German text) is read from its
//!   German wording (`german_parcel_text`) before the coarse `statusCode`.
//! * any other service: the coarse `statusCode` (`pre-transit`, `transit`, `delivered`,
//!   `failure`, `unknown`) only, because its `status` is free text.
//!
//! Time: a timestamp with an offset keeps it. A bare one is German local time for `parcel-de` and
//! `post-de` (CET/CEST by the EU rule); otherwise it takes the offset of another timestamp of the
//! same shipment that has one (events, the status, or the estimate), and UTC as the last resort.
//!
//! MyDHL Express (`GET /mydhlapi/shipments/{shipmentTrackingNumber}/tracking`), the API DHL
//! Express gives its account customers, answers in a shape of its own, read here too: a shipment
//! is named by `shipmentTrackingNumber` rather than `id`, and each of its `events[]` has a local
//! `date` and `time` with the `GMTOffset` they are in, a checkpoint `typeCode` (`PU`, `WC`, `OK`,
//! the Express checkpoint vocabulary, looked up under its own MyDHL rows), a `description`, and
//! the DHL service area it happened in (`serviceArea[0]`, `{"code":"LEJ","description":
//! "Leipzig-DE"}`: the city, then the country). Only the shipment's events are read: the same
//! scans repeated per piece (`pieces[].events[]`) would be the same facts again. An event without
//! `GMTOffset` takes the offset of another event of the shipment, then UTC. The estimate is
//! `estimatedDeliveryDate`, the end of that day in the newest event's offset.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, ProofOfDelivery, end_of_day, location, offset_of, parse_estimate,
    parse_naive, parse_offset, parse_timestamp, pod_for, resolve, with_derived_id,
};
use crate::mapping::{CodeLookup, CodeMap};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use milepost_domain::{EventSource, Milestone};

const CARRIER: &str = "dhl";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    if root.get("shipments")?.is_none()
        && let Some(status) = root.get("status")?
        && let Some(code) = problem_status(&status)
    {
        // An RFC 7807 problem body: `{"title":"No result found","status":404,…}`; MyDHL Express
        // writes the status as a string (`"status":"404"`).
        let title = root.opt_str("title")?.unwrap_or("");
        let detail = root.opt_str("detail")?.unwrap_or("");
        if code == 404 {
            return Ok(Vec::new());
        }
        return Err(AdapterError::SenderError { path: "(root)".into(), message: format!("{title} {detail}") });
    }
    let mut events = Vec::new();
    for shipment in root.req_arr("shipments")? {
        if shipment.get("id")?.is_none() && shipment.get("shipmentTrackingNumber")?.is_some() {
            read_express_shipment(&shipment, codes, &mut events)?;
        } else {
            read_shipment(&shipment, codes, &mut events)?;
        }
    }
    Ok(events)
}

fn read_shipment(shipment: &Node<'_>, codes: &CodeMap, out: &mut Vec<NormalizedEvent>) -> Result<(), AdapterError> {
    let tracking_number =
        shipment.opt_id("id")?.ok_or_else(|| AdapterError::Missing { path: format!("{}.id", shipment.path) })?;
    let service = shipment.opt_str("service")?.map(str::to_ascii_lowercase);
    let german = matches!(service.as_deref(), Some("parcel-de" | "post-de"));

    let mut entries = shipment.arr("events")?;
    if entries.is_empty()
        && let Some(status) = shipment.get("status")?
    {
        entries.push(status);
    }
    let borrowed = shipment_offset(shipment, &entries)?;
    let zone = |naive: NaiveDateTime| {
        if german { Some(german_offset(naive)) } else { borrowed }
    };

    let estimate = estimated_delivery(shipment, &zone)?;
    let pod = proof_of_delivery(shipment)?;
    for event in entries {
        let ts_node = event.req("timestamp")?;
        let text = ts_node.as_str()?;
        let fallback = parse_naive(text.trim()).and_then(zone);
        let occurred_at = parse_timestamp(text, fallback)
            .ok_or_else(|| ts_node.invalid("an ISO-8601 date-time like 2025-03-14T08:12:00+01:00"))?;
        let status = event.opt_str("status")?;
        let detailed = event.opt_str("statusDetailed")?;
        let coarse = event.opt_str("statusCode")?;
        let description = event.opt_str("description")?;
        let (mapping, code) = map_codes(codes, service.as_deref(), status, detailed, coarse, description);
        let address = match event.get("location")? {
            Some(l) => l.get("address")?,
            None => None,
        };
        let location = match address {
            Some(a) => location(
                a.opt_str("addressLocality")?,
                a.opt_str("addressRegion")?,
                a.opt_str("postalCode")?,
                a.opt_str("countryCode")?,
            ),
            None => None,
        };
        let milestone = mapping.milestone();
        out.push(with_derived_id(
            NormalizedEvent {
                tracking_number: tracking_number.clone(),
                carrier: CARRIER.into(),
                source: EventSource::Carrier,
                source_event_id: None,
                milestone,
                mapping,
                code,
                description: event.opt_string("description")?,
                occurred_at,
                location,
                proof_of_delivery: pod_for(milestone, &pod),
                carrier_estimated_delivery: estimate,
                raw: event.v.clone(),
            },
            &[status, detailed, coarse],
        ));
    }
    Ok(())
}

fn map_codes(
    codes: &CodeMap,
    service: Option<&str>,
    status: Option<&str>,
    detailed: Option<&str>,
    coarse: Option<&str>,
    description: Option<&str>,
) -> (CodeLookup, Option<String>) {
    let coarse_candidate = Candidate { field: "statusCode", code: coarse };
    let ice = detailed.filter(|d| is_ice_ric_ttpro(d)).and_then(|d| d.split('_').next());
    let parcel = matches!(service, Some("parcel-de" | "post-de")) || ice.is_some();
    match service {
        Some("express") => {
            resolve(codes, CARRIER, &[Candidate { field: "express checkpoint", code: status }, coarse_candidate])
        }
        _ if parcel => {
            let ice_found = ice.and_then(|c| codes.lookup_field(CARRIER, "ICE event", c).map(|l| (l, c)));
            let ttpro_found = status.and_then(|c| codes.lookup_field(CARRIER, "TTpro", c).map(|l| (l, c)));
            let chosen = specific(ice_found).or(specific(ttpro_found)).or(ice_found).or(ttpro_found);
            match chosen {
                // The ICE decision keeps the whole `statusDetailed` as its code, so a person
                // sees the reason (RIC) too.
                Some((l, c)) if Some(c) == ice => (l, detailed.map(str::to_string)),
                Some((l, c)) => (l, Some(c.to_string())),
                None => {
                    // Parcel DE without an event code says it in German: its own wording decides
                    // before the coarse code, which calls a missed delivery a "failure" and a
                    // parcel on the delivery van "transit".
                    let text = description.or(status);
                    if let Some(milestone) = text.and_then(german_parcel_text) {
                        return (CodeLookup::Mapped(milestone), text.map(str::to_string));
                    }
                    let (l, c) = resolve(codes, CARRIER, &[coarse_candidate]);
                    (l, c.or(detailed.map(str::to_string)).or(status.map(str::to_string)))
                }
            }
        }
        _ => resolve(codes, CARRIER, &[coarse_candidate]),
    }
}

/// The milestone a DHL Paket (Parcel DE) event states in its German wording, for events that
/// carry no event code: the standard sentences of DHL's tracking pages (`Die Sendung wurde
/// erfolgreich zugestellt.`, `… in das Zustellfahrzeug geladen.`, …), matched on their telling
/// words, case-insensitively. A sentence none of them matches is left to the coarse code.
fn german_parcel_text(text: &str) -> Option<Milestone> {
    let t = text.to_lowercase();
    let has = |w: &str| t.contains(w);
    Some(if has("nicht zugestellt") || has("nicht angetroffen") || has("zustellversuch") {
        Milestone::DeliveryAttempted
    } else if has("zurückgesendet") || has("zurücksendung") || has("rücksendung an den absender") {
        Milestone::ReturningToSender
    } else if has("erfolgreich zugestellt") || has("wurde zugestellt") || has("an den empfänger übergeben") {
        Milestone::Delivered
    } else if has("zur abholung bereit") || has("abholbereit") {
        Milestone::AvailableForPickup
    } else if has("zustellfahrzeug geladen") || has("in zustellung") {
        Milestone::OutForDelivery
    } else if has("eingeliefert") || has("vom absender übernommen") || has("beim absender abgeholt") {
        Milestone::HandedToCarrier
    } else if has("elektronisch an dhl übermittelt") || has("elektronisch angekündigt") {
        Milestone::LabelCreated
    } else if has("paketzentrum bearbeitet") || has("zum ziel transportiert") || has("weitergeleitet") {
        Milestone::InTransit
    } else {
        return None;
    })
}

/// A lookup that says more than "in transit".
fn specific(found: Option<(CodeLookup, &str)>) -> Option<(CodeLookup, &str)> {
    found.filter(|(l, _)| matches!(l, CodeLookup::Mapped(m) if *m != Milestone::InTransit))
}

/// `SRTED_NRQRD_NB`: a five-letter ICE event, a five-letter RIC and a two-letter TTpro code.
fn is_ice_ric_ttpro(s: &str) -> bool {
    let parts: Vec<&str> = s.split('_').collect();
    parts.len() == 3
        && parts[0].len() == 5
        && parts[1].len() == 5
        && parts[2].len() == 2
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Central European Time for a German local wall-clock time: +02:00 from the last Sunday of March
/// 02:00 to the last Sunday of October 03:00, +01:00 otherwise.
fn german_offset(local: NaiveDateTime) -> FixedOffset {
    let last_sunday = |year: i32, month: u32| {
        let first_of_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        first_of_next.map(|d| {
            let mut day = d - Duration::days(1);
            while day.weekday() != Weekday::Sun {
                day -= Duration::days(1);
            }
            day
        })
    };
    let year = local.year();
    let summer = match (last_sunday(year, 3), last_sunday(year, 10)) {
        (Some(start), Some(end)) => {
            let start = start.and_hms_opt(2, 0, 0);
            let end = end.and_hms_opt(3, 0, 0);
            start.is_some_and(|s| local >= s) && end.is_some_and(|e| local < e)
        }
        _ => false,
    };
    let hours = if summer { 2 } else { 1 };
    FixedOffset::east_opt(hours * 3600).expect("CET and CEST are valid offsets")
}

fn shipment_offset(shipment: &Node<'_>, events: &[Node<'_>]) -> Result<Option<FixedOffset>, AdapterError> {
    for event in events {
        if let Some(o) = event.opt_str("timestamp")?.and_then(offset_of) {
            return Ok(Some(o));
        }
    }
    if let Some(o) = shipment.opt_str("estimatedTimeOfDelivery")?.and_then(offset_of) {
        return Ok(Some(o));
    }
    if let Some(frame) = shipment.get("estimatedDeliveryTimeFrame")? {
        for key in ["estimatedFrom", "estimatedThrough"] {
            if let Some(o) = frame.opt_str(key)?.and_then(offset_of) {
                return Ok(Some(o));
            }
        }
    }
    Ok(None)
}

fn estimated_delivery(
    shipment: &Node<'_>,
    zone: &dyn Fn(NaiveDateTime) -> Option<FixedOffset>,
) -> Result<Option<DateTime<FixedOffset>>, AdapterError> {
    let node = match shipment.get("estimatedTimeOfDelivery")? {
        Some(n) => Some(n),
        None => match shipment.get("estimatedDeliveryTimeFrame")? {
            Some(frame) => frame.get("estimatedThrough")?,
            None => None,
        },
    };
    let Some(node) = node else { return Ok(None) };
    let text = node.as_str()?;
    let offset = parse_naive(text.trim()).and_then(zone);
    parse_estimate(text, offset).map(Some).ok_or_else(|| node.invalid("an ISO-8601 date-time"))
}

fn proof_of_delivery(shipment: &Node<'_>) -> Result<ProofOfDelivery, AdapterError> {
    let Some(details) = shipment.get("details")? else {
        return Ok(ProofOfDelivery::default());
    };
    let Some(pod) = details.get("proofOfDelivery")? else {
        return Ok(ProofOfDelivery::default());
    };
    let signed_by = match pod.get("signed")? {
        None => None,
        Some(s) if s.v.is_string() => s.v.as_str().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string),
        Some(s) if s.v.is_object() => s.opt_string("name")?.or(s.opt_string("familyName")?),
        Some(s) => return Err(s.invalid("a name or a person object")),
    };
    Ok(ProofOfDelivery {
        signed_by,
        signature_url: pod.opt_string("signatureUrl")?.or(pod.opt_string("documentUrl")?),
        photo_url: None,
        left_at: None,
    })
}

/// The HTTP status of a problem body, written as a number (Unified) or a string (MyDHL Express).
fn problem_status(status: &Node<'_>) -> Option<u64> {
    match status.v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) if s.len() == 3 => s.parse().ok(),
        _ => None,
    }
}

/// One shipment of a MyDHL Express tracking response (see the module docs).
fn read_express_shipment(
    shipment: &Node<'_>,
    codes: &CodeMap,
    out: &mut Vec<NormalizedEvent>,
) -> Result<(), AdapterError> {
    let tracking_number = shipment.req_str("shipmentTrackingNumber")?.to_string();
    let entries = shipment.arr("events")?;
    let mut borrowed = None;
    for event in &entries {
        if let Some(o) = event.get("GMTOffset")? {
            borrowed = Some(express_offset(&o)?);
            break;
        }
    }
    let mut read = Vec::with_capacity(entries.len());
    for event in &entries {
        let day = event.req("date")?;
        let day = NaiveDate::parse_from_str(day.as_str()?.trim(), "%Y-%m-%d")
            .map_err(|_| day.invalid("a date like 2025-03-14"))?;
        let time = match event.get("time")? {
            Some(t) => NaiveTime::parse_from_str(t.as_str()?.trim(), "%H:%M:%S")
                .map_err(|_| t.invalid("a time like 13:06:00"))?,
            None => NaiveTime::MIN,
        };
        let offset = match event.get("GMTOffset")? {
            Some(o) => express_offset(&o)?,
            None => borrowed.unwrap_or(FixedOffset::east_opt(0).expect("zero is a valid offset")),
        };
        let occurred_at = offset
            .from_local_datetime(&day.and_time(time))
            .single()
            .ok_or_else(|| event.invalid("a date and time that exist"))?;
        let type_code = event.opt_str("typeCode")?;
        let (mapping, code) = resolve(
            codes,
            CARRIER,
            &[
                Candidate { field: "MyDHL Express", code: type_code },
                Candidate { field: "express checkpoint", code: type_code },
            ],
        );
        let location = match event.arr("serviceArea")?.first() {
            Some(area) => service_area_location(area)?,
            None => None,
        };
        let milestone = mapping.milestone();
        let pod = ProofOfDelivery { signed_by: event.opt_string("signedBy")?, ..ProofOfDelivery::default() };
        read.push(with_derived_id(
            NormalizedEvent {
                tracking_number: tracking_number.clone(),
                carrier: CARRIER.into(),
                source: EventSource::Carrier,
                source_event_id: None,
                milestone,
                mapping,
                code,
                description: event.opt_string("description")?,
                occurred_at,
                location,
                proof_of_delivery: pod_for(milestone, &pod),
                carrier_estimated_delivery: None,
                raw: event.v.clone(),
            },
            &[type_code],
        ));
    }
    let newest_offset = read.iter().max_by_key(|e| e.occurred_at).map(|e| *e.occurred_at.offset());
    let estimate = match shipment.get("estimatedDeliveryDate")? {
        Some(d) => {
            let day = NaiveDate::parse_from_str(d.as_str()?.trim(), "%Y-%m-%d")
                .map_err(|_| d.invalid("a date like 2025-03-14"))?;
            end_of_day(day, newest_offset)
        }
        None => None,
    };
    out.extend(read.into_iter().map(|mut e| {
        e.carrier_estimated_delivery = estimate;
        e
    }));
    Ok(())
}

fn express_offset(node: &Node<'_>) -> Result<FixedOffset, AdapterError> {
    parse_offset(node.as_str()?).ok_or_else(|| node.invalid("an offset like +01:00"))
}

/// A DHL Express service area, `{"code":"LEJ","description":"Leipzig-DE"}`: the city, then the
/// ISO country after the last hyphen; a description without that suffix is all city.
fn service_area_location(area: &Node<'_>) -> Result<Option<milepost_domain::Location>, AdapterError> {
    let Some(description) = area.opt_str("description")? else {
        return Ok(None);
    };
    let (city, country) = match description.rsplit_once('-') {
        Some((city, cc)) if cc.trim().len() == 2 && cc.trim().bytes().all(|b| b.is_ascii_uppercase()) => {
            (city.trim(), Some(cc.trim()))
        }
        _ => (description, None),
    };
    Ok(location(Some(city), None, None, country))
}
