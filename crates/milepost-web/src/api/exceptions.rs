//! The exception queue: list with filters, and the staff actions acknowledge, assign and
//! resolve (each recorded with who did it). Also the learned lane rhythm the `stalled` rule uses.

use super::wire::ExceptionOut;
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller, Support};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::Duration;
use milepost_app::records::{ExceptionAction, ExceptionQuery};
use milepost_domain::OrderNumber;
use milepost_domain::exceptions::{ExceptionKind, ExceptionState};
use milepost_domain::text::{parse_free_text, parse_identifier};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExceptionParams {
    /// `open`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    /// One of the kinds of DESIGN §4, e.g. `stalled`.
    pub kind: Option<String>,
    pub order_number: Option<String>,
    pub owner: Option<String>,
    pub carrier: Option<String>,
    /// Only exceptions open at least this many hours (at most ten years).
    #[param(maximum = 87_600)]
    pub min_age_hours: Option<u32>,
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionListOut {
    pub exceptions: Vec<ExceptionOut>,
    pub next_cursor: Option<String>,
}

fn query_error(r: QueryRejection) -> ApiError {
    ApiError::BadRequest { detail: r.body_text(), errors: vec![FieldError::new("query", r.body_text())] }
}

/// The exception queue, newest first.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(ExceptionParams),
    responses((status = 200, body = ExceptionListOut), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    caller: Caller<Support>,
    params: Result<Query<ExceptionParams>, QueryRejection>,
) -> Result<Json<ExceptionListOut>, ApiError> {
    let Query(p) = params.map_err(query_error)?;
    let mut errors = Vec::new();
    let mut check = |field: &str, ok: bool, message: &str| {
        if !ok {
            errors.push(FieldError::new(field, message));
        }
    };
    let state_filter = p.state.as_deref().filter(|s| !s.is_empty()).map(ExceptionState::parse);
    check("state", !matches!(state_filter, Some(None)), "must be open, acknowledged or resolved");
    let kind = p.kind.as_deref().filter(|s| !s.is_empty()).map(ExceptionKind::parse);
    check("kind", !matches!(kind, Some(None)), "is not an exception kind of DESIGN §4");
    let order_number = p.order_number.as_deref().map(OrderNumber::parse);
    check("order_number", !matches!(order_number, Some(Err(_))), "is not an order number");
    let cursor = p.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| c.parse::<i64>().ok().filter(|v| *v > 0));
    check("cursor", !matches!(cursor, Some(None)), "is not a cursor this API returned");
    let limit = p.limit.unwrap_or(50);
    check("limit", (1..=200).contains(&limit), "must be between 1 and 200");
    check("min_age_hours", p.min_age_hours.is_none_or(|h| h <= 87_600), "must be at most 87600 (ten years)");
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let now = state.app.clock().now();
    let query = ExceptionQuery {
        state: state_filter.flatten(),
        kind: kind.flatten(),
        order_number: order_number.and_then(Result::ok),
        owner: p.owner.filter(|o| !o.is_empty()),
        carrier: p.carrier.filter(|c| !c.is_empty()),
        opened_before: p.min_age_hours.map(|h| now - Duration::hours(i64::from(h))),
        cursor: cursor.flatten(),
        limit,
    };
    let page = state.app.exceptions(&caller.principal, query).await?;
    Ok(Json(ExceptionListOut {
        exceptions: page.exceptions.iter().map(ExceptionOut::from_record).collect(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}

fn exception_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::NotFound(format!("exception {raw} not found")))
}

/// Acknowledge an open exception.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/acknowledge", tag = "exceptions", params(("id" = String, Path)),
    responses((status = 200, body = ExceptionOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("api_key" = [])))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
) -> Result<Json<ExceptionOut>, ApiError> {
    let record =
        state.app.act_on_exception(&caller.principal, exception_id(&id)?, ExceptionAction::Acknowledge).await?;
    Ok(Json(ExceptionOut::from_record(&record)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// A person or team, e.g. `carrier-desk`.
    pub owner: String,
}

/// Assign an exception to a person or team.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/assign", tag = "exceptions", params(("id" = String, Path)),
    request_body = AssignIn,
    responses((status = 200, body = ExceptionOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("api_key" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignIn>,
) -> Result<Json<ExceptionOut>, ApiError> {
    let id = exception_id(&id)?;
    let owner = parse_identifier(&body.owner, 100)
        .map_err(|e| ApiError::invalid(vec![FieldError::new("owner", e.to_string())]))?;
    let record = state.app.act_on_exception(&caller.principal, id, ExceptionAction::Assign { owner }).await?;
    Ok(Json(ExceptionOut::from_record(&record)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIn {
    /// What was done, for the record.
    pub note: String,
}

/// Resolve an exception with a note.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/resolve", tag = "exceptions", params(("id" = String, Path)),
    request_body = ResolveIn,
    responses((status = 200, body = ExceptionOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("api_key" = [])))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResolveIn>,
) -> Result<Json<ExceptionOut>, ApiError> {
    let id = exception_id(&id)?;
    let note = parse_free_text(&body.note, 2000)
        .ok()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid(vec![FieldError::new("note", "say what was done (1 to 2000 characters)")]))?;
    let record = state.app.act_on_exception(&caller.principal, id, ExceptionAction::Resolve { note }).await?;
    Ok(Json(ExceptionOut::from_record(&record)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LaneRhythmOut {
    /// carrier|service|origin region|destination region
    pub lane: String,
    /// The status the gap follows.
    pub stage: String,
    pub median_hours: f64,
    pub p90_hours: f64,
    pub samples: u32,
}

/// The learned rhythm of each lane (gaps between carrier scans), which `stalled` uses.
#[utoipa::path(get, path = "/api/v1/lanes", tag = "exceptions",
    responses((status = 200, body = Vec<LaneRhythmOut>)), security(("api_key" = [])))]
pub async fn lanes(
    State(state): State<AppState>,
    caller: Caller<Support>,
) -> Result<Json<Vec<LaneRhythmOut>>, ApiError> {
    let lanes = state.app.lane_rhythms(&caller.principal).await?;
    Ok(Json(
        lanes
            .into_iter()
            .map(|l| LaneRhythmOut {
                lane: l.lane,
                stage: l.stage,
                median_hours: l.median_seconds as f64 / 3600.0,
                p90_hours: l.p90_seconds as f64 / 3600.0,
                samples: l.samples,
            })
            .collect(),
    ))
}
