//! AfterShip tracking webhooks (`tracking_update`, `edd_revise`, …): one event per
//! `msg.checkpoints[]`. AfterShip's coarse `tag` hides important differences (returns sit under
//! `Exception`, "ready to pick up" under `OutForDelivery`), so the finer `subtag` is read first.
//! The webhook's `event_id` names the delivery, not a checkpoint, so checkpoints get derived ids.
//!
//! Code precedence: checkpoint `subtag` (e.g. `Delivered_003`), then checkpoint `tag`.
//! Carrier: the checkpoint's `slug`, else the tracking's `slug`, lower-cased.
//!
//! Time: `checkpoint_time` keeps its offset when it has one; AfterShip's documented sample sends
//! local time without one, which is read as UTC because the payload says nothing better.
//!
//! The Tracking API's answers (`GET /trackings/{slug}/{number}`: `data.tracking`, and the list
//! `GET /trackings`: `data.trackings[]`) hold the same tracking object as the webhook's `msg`,
//! so a poller's answer is read by the same code; a tracking without checkpoints yet (`Pending`,
//! `Expired`) gives no events. An answer whose `meta.code` is `4004` ("tracking does not exist")
//! is no events; any other `meta.code` outside 2xx is the sender's error.
//!
//! The test webhook AfterShip sends from its dashboard carries a `msg` whose `tracking_number` is
//! null or blank and which has no checkpoints: it is answered with no events, so the sender sees
//! a 2xx and nothing is stored. A null number with checkpoints is still refused, naming the field.

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, location, parse_estimate, parse_timestamp, resolve, with_derived_id,
};
use crate::mapping::CodeMap;
use milepost_domain::EventSource;

const MAPPING_KEY: &str = "aftership";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    if root.get("msg")?.is_none() && root.get("data")?.is_some() {
        return parse_api_answer(&root, codes);
    }
    let msg = root.req("msg")?;
    if msg.opt_str("tracking_number")?.is_none() && msg.arr("checkpoints")?.is_empty() {
        return Ok(Vec::new());
    }
    read_tracking(&msg, codes)
}

/// A Tracking API answer: `{"meta":{"code":200},"data":{"tracking":{…}}}` or `data.trackings[]`.
fn parse_api_answer(root: &Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    if let Some(meta) = root.get("meta")?
        && let Some(code) = meta.get("code")?
    {
        let code = code.v.as_u64().ok_or_else(|| code.invalid("an integer"))?;
        if code == 4004 {
            return Ok(Vec::new());
        }
        if !(200..300).contains(&code) {
            let message = meta.opt_str("message")?.unwrap_or("");
            return Err(AdapterError::SenderError { path: "meta".into(), message: format!("{code} {message}") });
        }
    }
    let data = root.req("data")?;
    let trackings = match data.get("tracking")? {
        Some(one) => vec![one],
        None => data.req_arr("trackings")?,
    };
    let mut events = Vec::new();
    for tracking in trackings {
        events.extend(read_tracking(&tracking, codes)?);
    }
    Ok(events)
}

/// One tracking object: the webhook's `msg` or an element of the API's answer.
fn read_tracking(msg: &Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    let tracking_number = msg.req_str("tracking_number")?.to_string();
    let tracking_slug = msg.opt_str("slug")?;
    let estimate = match msg.get("expected_delivery")? {
        Some(n) => Some(parse_estimate(n.as_str()?, None).ok_or_else(|| n.invalid("an ISO-8601 date or date-time"))?),
        None => None,
    };
    let mut events = Vec::new();
    for checkpoint in msg.arr("checkpoints")? {
        let time = checkpoint.req("checkpoint_time")?;
        let occurred_at = parse_timestamp(time.as_str()?, None)
            .ok_or_else(|| time.invalid("an ISO-8601 date-time like 2025-03-14T07:42:10-06:00"))?;
        let carrier = checkpoint
            .opt_str("slug")?
            .or(tracking_slug)
            .ok_or_else(|| AdapterError::Missing { path: format!("{}.slug", checkpoint.path) })?
            .to_ascii_lowercase();
        let subtag = checkpoint.opt_str("subtag")?;
        let tag = checkpoint.opt_str("tag")?;
        let (mapping, code) = resolve(
            codes,
            MAPPING_KEY,
            &[Candidate { field: "subtag", code: subtag }, Candidate { field: "tag", code: tag }],
        );
        let country = checkpoint.opt_str("country_region")?.or(checkpoint.opt_str("country_iso3")?);
        let location =
            location(checkpoint.opt_str("city")?, checkpoint.opt_str("state")?, checkpoint.opt_str("zip")?, country);
        events.push(with_derived_id(
            NormalizedEvent {
                tracking_number: tracking_number.clone(),
                carrier,
                source: EventSource::Carrier,
                source_event_id: None,
                milestone: mapping.milestone(),
                mapping,
                code,
                description: checkpoint.opt_string("message")?,
                occurred_at,
                location,
                proof_of_delivery: None,
                carrier_estimated_delivery: estimate,
                raw: checkpoint.v.clone(),
            },
            &[subtag, tag],
        ));
    }
    Ok(events)
}
