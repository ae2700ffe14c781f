//! EasyPost `tracker.created` / `tracker.updated` webhooks: one event per
//! `result.tracking_details[]`. The webhook's own `id` (`evt_…`) names the delivery of the whole
//! tracker, not one scan, so it is not used as an event id; each detail gets a derived id and a
//! re-delivered webhook dedupes through them. A bare `Tracker` object (as EasyPost's API returns
//! it) is read the same way.
//!
//! Code: the detail's `status` (EasyPost's normalized vocabulary, e.g. `out_for_delivery`) is the
//! code looked up under the `easypost` rows. Where that status is coarse (`in_transit`,
//! `failure`, `unknown`, `error`), its `status_detail` decides first: `received_at_origin_facility`
//! is the carrier's first possession, `arrived_at_pickup_location` a parcel waiting for pickup,
//! `return` a return to sender, `refused` or `weather_delay` the kind of failure. A definite
//! status (`delivered`, `out_for_delivery`, …) is never overridden by its detail: EasyPost sends
//! `delivered` with the detail `arrived_at_destination`. `carrier_code` is the underlying
//! carrier's raw code and stays in `raw`. The tracker's `signed_by` is the proof of delivery of delivered details.
//!
//! Time: `datetime` keeps the offset EasyPost gives; EasyPost documents that it falls back to UTC
//! when it lacks location data, and a bare time is read as UTC for the same reason.
//!
//! The test event EasyPost sends from its dashboard has a `result` whose `tracking_code` is null
//! and which holds no tracking details: it is answered with no events, so the sender sees a 2xx
//! and nothing is stored. A null code with details is still refused, naming the field.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, ProofOfDelivery, location, parse_estimate, parse_timestamp,
    pod_for, resolve, with_derived_id,
};
use crate::mapping::CodeMap;
use milepost_domain::EventSource;

const MAPPING_KEY: &str = "easypost";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    let tracker = match root.opt_str("object")? {
        Some("Event") => {
            if let Some(name) = root.get("description")? {
                let name_str = name.as_str()?;
                if !name_str.starts_with("tracker.") {
                    return Err(name.invalid("tracker.created or tracker.updated"));
                }
            }
            root.req("result")?
        }
        Some("Tracker") => root,
        Some(_) => return Err(root.req("object")?.invalid("\"Event\" or \"Tracker\"")),
        None => {
            return Err(AdapterError::Missing { path: "object".into() });
        }
    };
    if tracker.opt_str("tracking_code")?.is_none() && tracker.arr("tracking_details")?.is_empty() {
        return Ok(Vec::new());
    }
    let tracking_number = tracker.req_str("tracking_code")?.to_string();
    let carrier = tracker.opt_str("carrier")?.unwrap_or("unknown").to_ascii_lowercase();
    let pod = ProofOfDelivery { signed_by: tracker.opt_string("signed_by")?, ..ProofOfDelivery::default() };
    let estimate = match tracker.get("est_delivery_date")? {
        Some(n) => Some(parse_estimate(n.as_str()?, None).ok_or_else(|| n.invalid("an ISO-8601 date-time"))?),
        None => None,
    };
    let mut events = Vec::new();
    for detail in tracker.arr("tracking_details")? {
        let dt = detail.req("datetime")?;
        let occurred_at = parse_timestamp(dt.as_str()?, None)
            .ok_or_else(|| dt.invalid("an ISO-8601 date-time like 2025-03-14T07:10:00Z"))?;
        let status = detail.opt_str("status")?;
        let status_detail = detail.opt_str("status_detail")?.filter(|_| is_coarse(status));
        let (mapping, code) = resolve(
            codes,
            MAPPING_KEY,
            &[Candidate { field: "status_detail", code: status_detail }, Candidate { field: "status", code: status }],
        );
        let location = match detail.get("tracking_location")? {
            Some(l) => location(l.opt_str("city")?, l.opt_str("state")?, l.opt_str("zip")?, l.opt_str("country")?),
            None => None,
        };
        let milestone = mapping.milestone();
        events.push(with_derived_id(
            NormalizedEvent {
                tracking_number: tracking_number.clone(),
                carrier: carrier.clone(),
                source: EventSource::Carrier,
                source_event_id: None,
                milestone,
                mapping,
                code,
                description: detail.opt_string("message")?.or(detail.opt_string("description")?),
                occurred_at,
                location,
                proof_of_delivery: pod_for(milestone, &pod),
                carrier_estimated_delivery: estimate,
                raw: detail.v.clone(),
            },
            // The id material stays the status alone, so details stored before the detail was read
            // keep their ids when resent.
            &[status],
        ));
    }
    Ok(events)
}

/// A status that its `status_detail` may refine.
fn is_coarse(status: Option<&str>) -> bool {
    matches!(status, None | Some("in_transit" | "failure" | "unknown" | "error"))
}
