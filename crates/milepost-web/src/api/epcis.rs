//! GS1 EPCIS 2.0 capture: warehouses that speak the standard post their capture documents here.
//! Every event of the document is answered, in order: its EPCs resolve to parcels by their GS1
//! key (an SSCC, SGTIN, GRAI or GIAI, as a URN or a Digital Link, against tracking numbers), its
//! typed business transactions to orders (`po`) or parcels (`desadv`, `bol`); it is recorded as a
//! warehouse event, answered informational when it moves no status, or rejected naming the field.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Caller, Ingest, RawBody, media_type};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use milepost_app::ingest::{EpcisCapture, EpcisResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct EpcisEventOut {
    /// Position in the document's event list: every element gets one answer, in order.
    pub index: usize,
    /// `type` as sent: `ObjectEvent`, `AggregationEvent`, `TransactionEvent`,
    /// `TransformationEvent` or `AssociationEvent`.
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    /// `accepted`, `informational` (recorded, moves no status), `duplicate` or `rejected`.
    pub result: String,
    /// The JSON path at fault, when rejected.
    pub field: Option<String>,
    pub reason: Option<String>,
    pub milestone: Option<String>,
    /// What the event was recorded on: `order_number` or `order_number/tracking_number`.
    pub recorded_on: Vec<String>,
    pub accepted: u32,
    pub duplicate: u32,
    /// EPCs that matched no parcel by their GS1 key.
    pub unresolved: Vec<String>,
    /// For an error declaration: the declared event whose claim no longer counts.
    pub withdraws: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EpcisCaptureOut {
    pub accepted: u32,
    pub duplicate: u32,
    pub rejected: u32,
    pub events: Vec<EpcisEventOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EpcisCaptureQuery {
    /// The consignee's locations, comma-separated (SGLN URNs or GS1 Digital Link `414` URIs): a
    /// `receiving` or `accepting` event there counts as the parcel's delivery (B2B).
    pub consignee_location: Option<String>,
}

/// Capture an EPCIS 2.0 JSON(-LD) document.
#[utoipa::path(post, path = "/api/v1/epcis/events", tag = "warehouse", params(EpcisCaptureQuery),
    request_body(content = Object, description = "EPCIS 2.0 document", content_type = "application/json"),
    responses((status = 200, body = EpcisCaptureOut, description = "one answer per event, in document order"),
              (status = 401, body = Problem), (status = 415, body = Problem),
              (status = 422, body = Problem, description = "the document does not read; names the JSON path")),
    security(("api_key" = [])))]
pub async fn capture(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    headers: HeaderMap,
    query: Result<Query<EpcisCaptureQuery>, QueryRejection>,
    RawBody(body): RawBody,
) -> Result<Json<EpcisCaptureOut>, ApiError> {
    let mime = media_type(&headers);
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let Query(query) = query.map_err(|r| ApiError::BadRequest {
        detail: r.body_text(),
        errors: vec![FieldError::new("consignee_location", r.body_text())],
    })?;
    let capture = EpcisCapture {
        consignee_locations: query
            .consignee_location
            .as_deref()
            .map(|list| list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
    };
    let outcomes = state.app.ingest_epcis(&caller.principal, &body, &capture).await?;
    Ok(Json(EpcisCaptureOut {
        accepted: outcomes.iter().map(|o| o.accepted).sum(),
        duplicate: outcomes.iter().map(|o| o.duplicate).sum(),
        rejected: outcomes.iter().filter(|o| o.result == EpcisResult::Rejected).count() as u32,
        events: outcomes
            .into_iter()
            .map(|o| EpcisEventOut {
                index: o.index,
                event_type: o.event_type,
                event_id: o.event_id,
                result: o.result.as_str().to_string(),
                field: o.field,
                reason: o.reason,
                milestone: o.milestone.map(|m| m.as_str().to_string()),
                recorded_on: o.recorded_on,
                accepted: o.accepted,
                duplicate: o.duplicate,
                unresolved: o.unresolved,
                withdraws: o.withdraws,
            })
            .collect(),
    }))
}
