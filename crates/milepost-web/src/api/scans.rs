//! Warehouse barcode scans: a handheld or a packing station sends what it scanned and which step
//! it was, and Milepost records a warehouse event on the order or parcel the barcode names (a
//! tracking number, an order number or a shipment id). The error for a barcode that names nothing
//! is written for the scanner's screen.

use super::wire::{Errors, parse_time};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller, Ingest};
use axum::Json;
use axum::extract::State;
use milepost_app::ingest::{Scan, ScanStep};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanIn {
    /// A tracking number, an order number or a shipment id.
    pub barcode: String,
    /// `pick`, `pack`, `ship`, `receive` or `return_receive`.
    pub step: String,
    pub station: Option<String>,
    pub operator: Option<String>,
    /// RFC 3339 with offset.
    pub scanned_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanOut {
    /// `accepted`, or `duplicate` for a scan already recorded.
    pub result: String,
    pub order_number: String,
    pub tracking_number: Option<String>,
    /// The milestone the scan claims; `null` for receiving steps, which move no outbound status.
    pub milestone: Option<String>,
}

/// Record a warehouse barcode scan.
#[utoipa::path(post, path = "/api/v1/scans", tag = "warehouse", request_body = ScanIn,
    responses((status = 200, body = ScanOut), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 422, body = Problem, description = "a bad field, or a barcode that matches nothing")),
    security(("api_key" = [])))]
pub async fn post_scan(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    ApiJson(body): ApiJson<ScanIn>,
) -> Result<Json<ScanOut>, ApiError> {
    let mut e = Errors::default();
    let barcode = body.barcode.trim().to_string();
    if barcode.is_empty() || barcode.len() > 100 || barcode.chars().any(char::is_control) {
        e.push("barcode", "must be 1 to 100 characters");
    }
    let step = match body.step.parse::<ScanStep>() {
        Ok(s) => Some(s),
        Err(msg) => {
            e.push("step", msg);
            None
        }
    };
    let station = e.optional_text("station", &body.station, 100);
    let operator = e.optional_text("operator", &body.operator, 100);
    let scanned_at = parse_time(&mut e, "scanned_at", &body.scanned_at);
    let (Some(step), Some(scanned_at)) = (step, scanned_at) else {
        return Err(ApiError::invalid(e.0));
    };
    if !e.0.is_empty() {
        return Err(ApiError::invalid(e.0));
    }
    let outcome =
        state.app.record_scan(&caller.principal, Scan { barcode, step, station, operator, scanned_at }).await?;
    Ok(Json(ScanOut {
        result: outcome.result.to_string(),
        order_number: outcome.order_number,
        tracking_number: outcome.tracking_number,
        milestone: outcome.milestone.map(|m| m.as_str().to_string()),
    }))
}
