//! Order files over HTTP: the same all-or-nothing import as `milepost import`. The body is the
//! file itself, sent as text (`text/csv`, `text/tab-separated-values`, `text/plain`) or as
//! opaque bytes (`application/octet-stream`, or `application/vnd.ms-excel`, which browsers on
//! Windows give `.csv` files). The header row says the format, not the media type: Seller Central
//! reports arrive as `.txt`/`text/plain` and are often relabelled on the way; the media type
//! only picks the parser for a header that shows neither. Every row is checked before anything is
//! written; a file with a bad row is refused whole, with every bad row's line number and reason.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Caller, Ingest, RawBody, media_type};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use milepost_app::ingest::{ImportFormat, ImportSummary};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedOrderOut {
    pub order_number: String,
    /// `created`, `updated`, or `not_written` when the file was refused.
    pub result: String,
    /// The file lines of the order's rows.
    pub lines: Vec<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRowOut {
    pub line: usize,
    pub reason: String,
}

/// The outcome of an import: counts, each order with its lines, and refused rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummaryOut {
    pub rows: usize,
    /// Whether anything was written (only when no row was refused).
    pub written: bool,
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    pub orders: Vec<ImportedOrderOut>,
    pub rejected_rows: Vec<RejectedRowOut>,
}

impl ImportSummaryOut {
    pub fn from_summary(s: ImportSummary) -> Self {
        ImportSummaryOut {
            rows: s.rows,
            written: s.written,
            created: s.count("created"),
            updated: s.count("updated"),
            rejected: s.rejected.len(),
            orders: s
                .orders
                .into_iter()
                .map(|(order_number, result, lines)| ImportedOrderOut { order_number, result: result.into(), lines })
                .collect(),
            rejected_rows: s.rejected.into_iter().map(|(line, reason)| RejectedRowOut { line, reason }).collect(),
        }
    }
}

/// Import an order file (all rows or none).
#[utoipa::path(post, path = "/api/v1/imports", tag = "orders",
    request_body(content = String, description = "the file", content_type = "text/csv"),
    responses((status = 200, body = ImportSummaryOut, description = "every row was valid and written"),
              (status = 415, body = Problem, description = "not sent as text/csv, text/tab-separated-values, text/plain or application/octet-stream"),
              (status = 422, body = Problem, description = "nothing written; `results` holds the summary with refused rows")),
    security(("api_key" = [])))]
pub async fn post_import(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<ImportSummaryOut>, ApiError> {
    let declared = match media_type(&headers).as_str() {
        "text/csv" => Some(ImportFormat::Csv),
        "text/tab-separated-values" => Some(ImportFormat::Amazon),
        "text/plain" | "application/octet-stream" | "application/vnd.ms-excel" => None,
        _ => {
            return Err(ApiError::UnsupportedMediaTypeFor(
                "send the file as text/csv (Milepost CSV orders), text/tab-separated-values (Amazon order report), \
                 text/plain or application/octet-stream; the header row says which format it is"
                    .into(),
            ));
        }
    };
    let summary = ImportSummaryOut::from_summary(state.app.import_orders(&caller.principal, declared, &body).await?);
    if !summary.written {
        let errors: Vec<FieldError> = summary
            .rejected_rows
            .iter()
            .map(|r| FieldError::new(format!("line {}", r.line), r.reason.clone()))
            .collect();
        let detail = match errors.as_slice() {
            [] => "the file holds no orders; nothing was written".to_string(),
            [one] => format!("{}: {}; nothing was written", one.field, one.message),
            many => format!("{} rows are invalid; nothing was written", many.len()),
        };
        return Err(ApiError::Unprocessable { detail, errors, results: serde_json::to_value(&summary).ok() });
    }
    Ok(Json(summary))
}
