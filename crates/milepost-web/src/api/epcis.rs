//! GS1 EPCIS 2.0 capture: warehouses that speak the standard post their capture documents here.
//! Each event's EPCs are resolved to parcels and orders (an SSCC by its digits against tracking
//! numbers, any EPC or business transaction by its last segment against order numbers), recorded
//! as warehouse events, and EPCs that matched nothing are reported per event.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, Ingest, RawBody, media_type};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct EpcisEventOut {
    /// Position in the document's event list (object and aggregation events only).
    pub index: usize,
    pub event_id: Option<String>,
    pub milestone: Option<String>,
    /// What the event was recorded on: `order_number` or `order_number/tracking_number`.
    pub recorded_on: Vec<String>,
    pub accepted: u32,
    pub duplicate: u32,
    /// EPCs that matched no parcel or order.
    pub unresolved: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EpcisCaptureOut {
    pub accepted: u32,
    pub duplicate: u32,
    pub events: Vec<EpcisEventOut>,
}

/// Capture an EPCIS 2.0 JSON(-LD) document.
#[utoipa::path(post, path = "/api/v1/epcis/events", tag = "warehouse",
    request_body(content = Object, description = "EPCIS 2.0 document", content_type = "application/json"),
    responses((status = 200, body = EpcisCaptureOut), (status = 401, body = Problem), (status = 415, body = Problem),
              (status = 422, body = Problem, description = "the document does not read; names the JSON path")),
    security(("api_key" = [])))]
pub async fn capture(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<EpcisCaptureOut>, ApiError> {
    let mime = media_type(&headers);
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let outcomes = state.app.ingest_epcis(&caller.principal, &body).await?;
    Ok(Json(EpcisCaptureOut {
        accepted: outcomes.iter().map(|o| o.accepted).sum(),
        duplicate: outcomes.iter().map(|o| o.duplicate).sum(),
        events: outcomes
            .into_iter()
            .map(|o| EpcisEventOut {
                index: o.index,
                event_id: o.event_id,
                milestone: o.milestone.map(|m| m.as_str().to_string()),
                recorded_on: o.recorded_on,
                accepted: o.accepted,
                duplicate: o.duplicate,
                unresolved: o.unresolved,
            })
            .collect(),
    }))
}
