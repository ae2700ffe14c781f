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

use super::{
    AdapterError, Candidate, Node, NormalizedEvent, location, parse_estimate, parse_timestamp, resolve, with_derived_id,
};
use crate::mapping::CodeMap;
use milepost_domain::EventSource;

const MAPPING_KEY: &str = "aftership";

pub(crate) fn parse(root: Node<'_>, codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    let msg = root.req("msg")?;
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
