//! The event batch endpoint: up to 1000 events per request, each checked on its own and answered
//! `accepted`, `duplicate` or `rejected` with a reason. A batch in which nothing could be taken
//! is answered 422 with the same per-item results, so a client never mistakes it for success.

use super::wire::{Errors, EventBatchIn, EventBatchOut, EventIn, EventResult, parse_carrier, parse_time};
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ApiJson, Caller, Ingest, field_error};
use axum::Json;
use axum::extract::State;
use chrono::Duration;
use milepost_app::EventSubmission;
use milepost_app::records::{EventOutcome, EventTarget};
use milepost_domain::text::parse_identifier;
use milepost_domain::{EventSource, Milestone, OrderNumber, TrackingNumber};

pub const MAX_EVENTS_PER_BATCH: usize = 1000;

/// How far in the future an event may claim to have happened (clock skew allowance).
const FUTURE_TOLERANCE_HOURS: i64 = 24;

fn parse_event(
    index: usize,
    raw: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<EventSubmission, Vec<FieldError>> {
    let at = |field: &str| format!("events[{index}].{field}");
    // Read from the borrowed value: the raw JSON is kept with the event as received.
    let wire: EventIn = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let path = e.path().to_string();
        let base = field_error(&path, &e.into_inner().to_string());
        let field = if base.field == "body" { format!("events[{index}]") } else { at(&base.field) };
        vec![FieldError::new(field, base.message)]
    })?;
    let mut e = Errors::default();
    let source = match wire.source.parse::<EventSource>() {
        Ok(s) => Some(s),
        Err(msg) => {
            e.push(&at("source"), msg);
            None
        }
    };
    let source_event_id =
        wire.source_event_id.as_deref().and_then(|id| e.check(&at("source_event_id"), parse_identifier(id, 200)));
    let carrier = wire.carrier.as_deref().and_then(|c| e.check(&at("carrier"), parse_carrier(c)));
    let milestone = match wire.milestone.as_deref() {
        Some(m) => match m.parse::<Milestone>() {
            Ok(m) => Some(m),
            Err(err) => {
                e.push(&at("milestone"), format!("{err}; expected one of the milestones of DESIGN §3"));
                None
            }
        },
        None => None,
    };
    let code = wire.code.as_deref().and_then(|c| e.check(&at("code"), parse_identifier(c, 60)));
    if wire.milestone.is_none() && wire.code.is_none() {
        e.push(&at("milestone"), "give a milestone, or a code that maps to one");
    }
    let description = e.optional_text(&at("description"), &wire.description, 500);
    let occurred_at = parse_time(&mut e, &at("occurred_at"), &wire.occurred_at);
    if occurred_at.is_some_and(|t| t.with_timezone(&chrono::Utc) > now + Duration::hours(FUTURE_TOLERANCE_HOURS)) {
        e.push(&at("occurred_at"), "lies more than a day in the future");
    }
    let location = wire.location.and_then(|l| l.into_domain(&mut e, &at("location")));
    let target = match (&wire.tracking_number, &wire.order_number) {
        (_, Some(order_number)) => {
            e.check(&at("order_number"), OrderNumber::parse(order_number)).map(|order_number| EventTarget::Order {
                order_number,
                shipment: wire.shipment.clone().or_else(|| wire.tracking_number.clone()).map(|s| s.trim().to_string()),
            })
        }
        (Some(tn), None) => e.check(&at("tracking_number"), TrackingNumber::parse(tn)).map(EventTarget::Tracking),
        (None, None) => {
            e.push(&at("tracking_number"), "give a tracking_number, or an order_number (and optional shipment)");
            None
        }
    };
    match (source, occurred_at, target) {
        (Some(source), Some(occurred_at), Some(target)) if e.0.is_empty() => Ok(EventSubmission {
            target,
            source,
            source_event_id,
            carrier,
            milestone,
            code,
            description,
            occurred_at,
            location,
            raw: Some(raw),
        }),
        _ => Err(e.0),
    }
}

/// Append a batch of events (by tracking number, or order number and optional shipment).
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventBatchIn,
    responses((status = 200, body = EventBatchOut, description = "per-item results"),
              (status = 422, body = Problem, description = "no event could be taken; per-item results included"),
              (status = 400, body = Problem), (status = 413, body = Problem)),
    security(("api_key" = [])))]
pub async fn post_events(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    ApiJson(body): ApiJson<EventBatchIn>,
) -> Result<Json<EventBatchOut>, ApiError> {
    let caller = caller.principal;
    let count = body.events.len();
    if count == 0 || count > MAX_EVENTS_PER_BATCH {
        return Err(ApiError::invalid(vec![FieldError::new(
            "events",
            format!("must hold 1 to {MAX_EVENTS_PER_BATCH} events (got {count})"),
        )]));
    }
    let now = state.app.clock().now();
    let mut results: Vec<Option<EventResult>> = (0..count).map(|_| None).collect();
    let mut field_errors = Vec::new();
    let mut submissions = Vec::new();
    let mut submitted_at = Vec::new();
    for (index, raw) in body.events.into_iter().enumerate() {
        match parse_event(index, raw, now) {
            Ok(s) => {
                submitted_at.push((index, s.source));
                submissions.push(s);
            }
            Err(errors) => {
                results[index] = Some(EventResult {
                    index,
                    result: "rejected",
                    reason: Some(
                        errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
                    ),
                    field: errors.first().map(|e| e.field.clone()),
                });
                field_errors.extend(errors);
                state.metrics.event_ingested("unparsed", "rejected");
            }
        }
    }
    let sources: Vec<EventSource> = submitted_at.iter().map(|(_, s)| *s).collect();
    let outcomes =
        if submissions.is_empty() { Vec::new() } else { state.app.ingest_events(&caller, submissions).await? };
    for (((index, _), outcome), source) in submitted_at.iter().zip(outcomes).zip(sources) {
        let (result, reason, field) = match outcome {
            EventOutcome::Accepted => ("accepted", None, None),
            EventOutcome::Duplicate => ("duplicate", None, None),
            EventOutcome::Rejected { field, reason } => {
                let field = format!("events[{index}].{field}");
                field_errors.push(FieldError::new(field.clone(), reason.clone()));
                ("rejected", Some(format!("{field}: {reason}")), Some(field))
            }
        };
        state.metrics.event_ingested(source.as_str(), result);
        results[*index] = Some(EventResult { index: *index, result, reason, field });
    }
    let results: Vec<EventResult> = results.into_iter().flatten().collect();
    let rejected = results.iter().filter(|r| r.result == "rejected").count();
    if rejected == results.len() {
        let detail = match field_errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("none of the {} events could be taken", results.len()),
        };
        return Err(ApiError::Unprocessable {
            detail,
            errors: field_errors,
            results: serde_json::to_value(&results).ok(),
        });
    }
    Ok(Json(EventBatchOut { results }))
}
