//! UPS Tracking API (`GET /api/track/v1/details/{inquiryNumber}`): one event per
//! `trackResponse.shipment[].package[].activity[]`, for every package of a multi-package
//! shipment. UPS is the sender with the most traps, which is why it has its own module:
//! three code layers on every activity, local dates and times beside GMT fields in two spellings,
//! and a "not found" that arrives as a warning rather than an error.
//!
//! Code precedence (first layer the table knows under its own field decides):
//! 1. For manifest activities (`status.type` `M` or `MV`) the 2-letter code is read from the
//!    manifest table, where `DP` means "manifest processed", not a departure scan; so only the
//!    manifest codes `MP`, `RD`, `VP` are looked up and otherwise the type decides.
//! 2. Otherwise `status.code` (the fine 2-character scan code, e.g. `OT` out for delivery, `OR`
//!    origin scan, `2Q` delivered to an Access Point),
//! 3. then `status.statusCode` (the 3-digit Status/Description code, e.g. `022` first attempt),
//! 4. then `status.type` (`D`, `I`, `X`, …), the coarsest.
//!
//! Time: local `date` + `time` with `gmtOffset` when given (the offset UPS meant, in any spelling
//! [`parse_offset`] reads); otherwise the offset is derived from the difference between local and
//! `gmtDate`/`gmtTime`; otherwise the GMT fields are used as UTC. Local time alone (what UPS sends
//! for many domestic Ground scans) is read in the time zone of the activity's address
//! ([`crate::zones`]: country, state and postal code); only when the address says too little to
//! know the zone is the wall time kept as if it were UTC.
//!
//! UPS Track Alert (UPS's webhook product, subscribed per tracking number) pushes one flat event
//! per scan to the same integration: `trackingNumber`, `localActivityDate`/`localActivityTime`,
//! `gmtActivityDate`/`gmtActivityTime`, `activityLocation`, `activityStatus{type,code,
//! description,descriptionCode}`, `scheduledDeliveryDate`, `actualDeliveryDate`, `receivedBy`.
//! It is read with the same code table (`descriptionCode` is the 3-digit Status/Description code
//! the Track API calls `statusCode`) and the same time rules, so a parcel tracked both ways gets
//! one timeline.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, ProofOfDelivery, end_of_day, location, parse_offset, pod_for,
    resolve, with_derived_id,
};
use crate::mapping::{CodeLookup, CodeMap};
use crate::zones;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use milepost_domain::{EventSource, Location};

const CARRIER: &str = "ups";
const MANIFEST_CODES: [&str; 3] = ["MP", "RD", "VP"];

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    if let Some(response) = root.get("response")? {
        let errors = response.arr("errors")?;
        if let Some(first) = errors.first() {
            let code = first.opt_str("code")?.unwrap_or("");
            let message = first.opt_str("message")?.unwrap_or("");
            return Err(AdapterError::SenderError { path: first.path.clone(), message: format!("{code} {message}") });
        }
    }
    if root.get("trackResponse")?.is_none() && root.get("trackingNumber")?.is_some() {
        return read_alert(&root, codes).map(|e| vec![e]);
    }
    let track = root.req("trackResponse")?;
    let mut events = Vec::new();
    for shipment in track.req_arr("shipment")? {
        let inquiry = shipment.opt_str("inquiryNumber")?;
        for package in shipment.arr("package")? {
            read_package(&package, inquiry, codes, &mut events)?;
        }
    }
    Ok(events)
}

fn read_package(
    package: &Node<'_>,
    inquiry: Option<&str>,
    codes: &CodeMap,
    out: &mut Vec<NormalizedEvent>,
) -> Result<(), AdapterError> {
    let tracking_number = package
        .opt_str("trackingNumber")?
        .or(inquiry)
        .ok_or_else(|| AdapterError::Missing { path: format!("{}.trackingNumber", package.path) })?
        .to_string();
    let pod = proof_of_delivery(package)?;
    let activities = package.arr("activity")?;
    let mut read = Vec::with_capacity(activities.len());
    for activity in &activities {
        read.push(read_activity(activity, &tracking_number, codes, &pod)?);
    }
    // The estimate is a local date at the destination; the newest activity's offset is the best
    // evidence of the destination's zone.
    let newest_offset = read.iter().max_by_key(|e| e.occurred_at).map(|e| *e.occurred_at.offset());
    let estimate = estimated_delivery(package, newest_offset)?;
    out.extend(read.into_iter().map(|mut e| {
        e.carrier_estimated_delivery = estimate;
        e
    }));
    Ok(())
}

fn read_activity(
    activity: &Node<'_>,
    tracking_number: &str,
    codes: &CodeMap,
    pod: &ProofOfDelivery,
) -> Result<NormalizedEvent, AdapterError> {
    let status = activity.get("status")?;
    let (type_, code, status_code, description) = match &status {
        Some(s) => (s.opt_str("type")?, s.opt_str("code")?, s.opt_str("statusCode")?, s.opt_string("description")?),
        None => (None, None, None, None),
    };
    let (mapping, raw_code) = map_codes(codes, type_, code, status_code);
    let address = match activity.get("location")? {
        Some(l) => l.get("address")?,
        None => None,
    };
    let location = match address {
        Some(a) => location(
            a.opt_str("city")?,
            a.opt_str("stateProvince")?,
            a.opt_str("postalCode")?,
            a.opt_str("countryCode")?.or(a.opt_str("country")?),
        ),
        None => None,
    };
    let occurred_at = occurred_at(activity, location.as_ref())?;
    let milestone = mapping.milestone();
    Ok(with_derived_id(
        NormalizedEvent {
            tracking_number: tracking_number.to_string(),
            carrier: CARRIER.into(),
            source: EventSource::Carrier,
            source_event_id: None,
            milestone,
            mapping,
            code: raw_code,
            description,
            occurred_at,
            location,
            proof_of_delivery: pod_for(milestone, pod),
            carrier_estimated_delivery: None,
            raw: activity.v.clone(),
        },
        &[type_, code, status_code],
    ))
}

fn map_codes(
    codes: &CodeMap,
    type_: Option<&str>,
    code: Option<&str>,
    status_code: Option<&str>,
) -> (CodeLookup, Option<String>) {
    let manifest = matches!(type_, Some("M" | "MV"));
    if manifest {
        let manifest_code = code.filter(|c| MANIFEST_CODES.contains(c));
        return resolve(
            codes,
            CARRIER,
            &[Candidate { field: "status.code", code: manifest_code }, Candidate { field: "status.type", code: type_ }],
        );
    }
    resolve(
        codes,
        CARRIER,
        &[
            Candidate { field: "status.code", code },
            Candidate { field: "status.statusCode", code: status_code },
            Candidate { field: "status.type", code: type_ },
        ],
    )
}

fn occurred_at(activity: &Node<'_>, place: Option<&Location>) -> Result<DateTime<FixedOffset>, AdapterError> {
    let stamps = Stamps {
        local_date: activity.get("date")?,
        local_time: activity.get("time")?,
        gmt_date: activity.get("gmtDate")?,
        gmt_time: activity.get("gmtTime")?,
        offset: activity.get("gmtOffset")?,
        date_field: "date",
    };
    instant(activity, stamps, place)
}

/// The date and time fields of one scan, under whichever names its format gives them.
struct Stamps<'a> {
    local_date: Option<Node<'a>>,
    local_time: Option<Node<'a>>,
    gmt_date: Option<Node<'a>>,
    gmt_time: Option<Node<'a>>,
    offset: Option<Node<'a>>,
    /// The name of the local date field, for the error when no date is given at all.
    date_field: &'static str,
}

/// The instant of a scan by the rules of the module docs, shared by the Track API's activities
/// and Track Alert's flat events.
fn instant(
    scan: &Node<'_>,
    stamps: Stamps<'_>,
    place: Option<&Location>,
) -> Result<DateTime<FixedOffset>, AdapterError> {
    let local = match (&stamps.local_date, &stamps.local_time) {
        (Some(d), Some(t)) => Some(date(d)?.and_time(time(t)?)),
        (Some(d), None) => Some(date(d)?.and_time(NaiveTime::MIN)),
        _ => None,
    };
    let gmt = match (&stamps.gmt_date, &stamps.gmt_time) {
        (Some(d), Some(t)) => Some(date(d)?.and_time(time(t)?)),
        _ => None,
    };
    let offset = match &stamps.offset {
        Some(o) => Some(parse_offset(o.as_str()?).ok_or_else(|| o.invalid("an offset like -06:00"))?),
        None => None,
    };
    let utc = FixedOffset::east_opt(0).expect("zero is a valid offset");
    let at = |offset: FixedOffset, naive: NaiveDateTime| offset.from_local_datetime(&naive).single();
    let result = match (local, gmt, offset) {
        (Some(l), _, Some(o)) => at(o, l),
        (Some(l), Some(g), None) => {
            // The difference between local and GMT wall time is the offset, to the minute.
            let seconds = (l - g).num_seconds();
            // Found by `cargo fuzz`: dates centuries apart overflowed `minutes * 60`. An offset
            // that does not fit is no offset; GMT alone then says when it happened.
            let minutes = (seconds as f64 / 60.0).round() as i32;
            minutes.checked_mul(60).and_then(FixedOffset::east_opt).and_then(|o| at(o, l)).or_else(|| at(utc, g))
        }
        (None, Some(g), Some(o)) => Some(utc.from_utc_datetime(&g).with_timezone(&o)),
        (None, Some(g), None) => at(utc, g),
        (Some(l), None, None) => match place.and_then(|p| zones::zone_of(p, None)) {
            Some(zone) => Some(zones::local_instant(zone, l)),
            None => at(utc, l),
        },
        (None, None, _) => {
            return Err(AdapterError::Missing { path: scan.child_path(stamps.date_field) });
        }
    };
    result.ok_or_else(|| scan.invalid("a date and time that exist"))
}

fn date(node: &Node<'_>) -> Result<NaiveDate, AdapterError> {
    let s = node.as_str().map_err(|_| node.invalid("YYYYMMDD"))?.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(node.invalid("YYYYMMDD"));
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| node.invalid("YYYYMMDD"))
}

/// `HHMMSS`, `HH:MM:SS`, or the spec example's unpadded `74700`.
fn time(node: &Node<'_>) -> Result<NaiveTime, AdapterError> {
    let s = node.as_str().map_err(|_| node.invalid("HHMMSS or HH:MM:SS"))?.trim();
    let digits: String = s.chars().filter(|c| *c != ':').collect();
    let well_formed = !digits.is_empty()
        && digits.len() <= 6
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (!s.contains(':') || s.len() == 8);
    if !well_formed {
        return Err(node.invalid("HHMMSS or HH:MM:SS"));
    }
    let padded = format!("{digits:0>6}");
    NaiveTime::parse_from_str(&padded, "%H%M%S").map_err(|_| node.invalid("HHMMSS or HH:MM:SS"))
}

fn proof_of_delivery(package: &Node<'_>) -> Result<ProofOfDelivery, AdapterError> {
    let Some(info) = package.get("deliveryInformation")? else {
        return Ok(ProofOfDelivery::default());
    };
    Ok(ProofOfDelivery {
        signed_by: info.opt_string("receivedBy")?,
        signature_url: None,
        photo_url: None,
        left_at: info.opt_string("location")?,
    })
}

/// The rescheduled date (`RDD`) wins over the scheduled one (`SDD`); with a `deliveryTime` end
/// time the estimate is that time, otherwise the end of the day.
fn estimated_delivery(
    package: &Node<'_>,
    offset: Option<FixedOffset>,
) -> Result<Option<DateTime<FixedOffset>>, AdapterError> {
    let mut best: Option<(u8, NaiveDate)> = None;
    for d in package.arr("deliveryDate")? {
        let rank = match d.opt_str("type")? {
            Some("RDD") => 2,
            Some("SDD") => 1,
            _ => continue,
        };
        let day = date(&d.req("date")?)?;
        if best.is_none_or(|(r, _)| rank > r) {
            best = Some((rank, day));
        }
    }
    let Some((_, day)) = best else {
        return Ok(None);
    };
    let end_time = match package.get("deliveryTime")? {
        Some(t) => match t.get("endTime")? {
            Some(e) => Some(time(&e)?),
            None => None,
        },
        None => None,
    };
    Ok(match end_time {
        Some(t) if t != NaiveTime::MIN => {
            let o = offset.or_else(|| FixedOffset::east_opt(0)).expect("zero is a valid offset");
            o.from_local_datetime(&day.and_time(t)).single()
        }
        _ => end_of_day(day, offset),
    })
}

/// One Track Alert push: a flat event of one package.
fn read_alert(alert: &Node<'_>, codes: &CodeMap) -> Result<NormalizedEvent, AdapterError> {
    let tracking_number = alert.req_str("trackingNumber")?.to_string();
    let status = alert.get("activityStatus")?;
    let (type_, code, status_code, description) = match &status {
        Some(s) => {
            (s.opt_str("type")?, s.opt_str("code")?, s.opt_str("descriptionCode")?, s.opt_string("description")?)
        }
        None => (None, None, None, None),
    };
    let (mapping, raw_code) = map_codes(codes, type_, code, status_code);
    let location = match alert.get("activityLocation")? {
        Some(a) => location(
            a.opt_str("city")?,
            a.opt_str("stateProvince")?,
            a.opt_str("postalCode")?,
            a.opt_str("countryCode")?.or(a.opt_str("country")?),
        ),
        None => None,
    };
    let stamps = Stamps {
        local_date: alert.get("localActivityDate")?,
        local_time: alert.get("localActivityTime")?,
        gmt_date: alert.get("gmtActivityDate")?,
        gmt_time: alert.get("gmtActivityTime")?,
        offset: alert.get("gmtOffset")?,
        date_field: "localActivityDate",
    };
    let occurred_at = instant(alert, stamps, location.as_ref())?;
    // A delivered package has no estimate any more; UPS's own sample repeats a years-old
    // scheduled date on the delivery push.
    let estimate = match (alert.get("actualDeliveryDate")?, alert.get("scheduledDeliveryDate")?) {
        (None, Some(d)) => end_of_day(date(&d)?, Some(*occurred_at.offset())),
        _ => None,
    };
    let pod = ProofOfDelivery {
        signed_by: alert.opt_string("receivedBy")?,
        left_at: alert.opt_string("deliveryLocation")?,
        ..ProofOfDelivery::default()
    };
    let milestone = mapping.milestone();
    Ok(with_derived_id(
        NormalizedEvent {
            tracking_number,
            carrier: CARRIER.into(),
            source: EventSource::Carrier,
            source_event_id: None,
            milestone,
            mapping,
            code: raw_code,
            description,
            occurred_at,
            location,
            proof_of_delivery: pod_for(milestone, &pod),
            carrier_estimated_delivery: estimate,
            raw: alert.v.clone(),
        },
        &[type_, code, status_code],
    ))
}
