//! KPI figures over a period (DESIGN §6.1 and §7), overall and cut by period, carrier, service,
//! channel or warehouse. Rates are percentages; a figure with nothing to divide by is null.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Caller, Support};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use milepost_domain::kpi::{KpiGrouping, Kpis};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KpiParams {
    /// Start (RFC 3339 or YYYY-MM-DD, inclusive); default 30 days before `to`.
    pub from: Option<String>,
    /// End (RFC 3339 or YYYY-MM-DD, exclusive); default now.
    pub to: Option<String>,
    /// `day`, `week`, `month`, `carrier`, `service`, `channel` or `warehouse`.
    pub group_by: Option<String>,
    /// `json` (the default) or `csv`: one row for all orders (key `all`), then one per group.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CycleTimeOut {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// The figures for one set of orders (orders are counted by when they were placed).
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiFiguresOut {
    pub orders: u32,
    pub shipped_orders: u32,
    pub deliveries: u32,
    pub on_time_delivery_rate: Option<f64>,
    /// Placed to first carrier possession.
    pub order_cycle_time_hours: CycleTimeOut,
    pub order_accuracy_rate: Option<f64>,
    /// Label and handling costs per shipped order, decimal string.
    pub fulfillment_cost_per_order: Option<String>,
    pub first_attempt_delivery_rate: Option<f64>,
    pub exception_rate: Option<f64>,
    pub exception_resolve_hours_median: Option<f64>,
    pub return_rate: Option<f64>,
    /// Delivered parcels delivered inside Milepost's window published at first carrier
    /// possession, in percent (`docs/eta.md`).
    pub eta_accuracy_rate: Option<f64>,
    /// Median absolute error in hours of that window's midpoint against the delivery.
    pub eta_median_abs_error_hours: Option<f64>,
    /// Customer messages sent per order.
    pub customer_messages_per_order: Option<f64>,
}

impl KpiFiguresOut {
    pub fn from_kpis(k: &Kpis) -> Self {
        let round = |v: Option<f64>| v.map(|x| (x * 100.0).round() / 100.0);
        KpiFiguresOut {
            orders: k.orders,
            shipped_orders: k.shipped_orders,
            deliveries: k.deliveries,
            on_time_delivery_rate: round(k.on_time_delivery_rate),
            order_cycle_time_hours: CycleTimeOut {
                median: round(k.order_cycle_time_hours_median),
                p90: round(k.order_cycle_time_hours_p90),
            },
            order_accuracy_rate: round(k.order_accuracy_rate),
            fulfillment_cost_per_order: k.fulfillment_cost_per_order.map(|m| m.to_string()),
            first_attempt_delivery_rate: round(k.first_attempt_delivery_rate),
            exception_rate: round(k.exception_rate),
            exception_resolve_hours_median: round(k.exception_resolve_hours_median),
            return_rate: round(k.return_rate),
            eta_accuracy_rate: round(k.eta_accuracy_rate),
            eta_median_abs_error_hours: round(k.eta_median_abs_error_hours),
            customer_messages_per_order: round(k.customer_messages_per_order),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiGroupOut {
    pub key: String,
    #[serde(flatten)]
    pub figures: KpiFiguresOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpisOut {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub figures: KpiFiguresOut,
    pub group_by: Option<String>,
    pub groups: Vec<KpiGroupOut>,
}

/// Reads a period bound: an RFC 3339 time, or a date (its midnight UTC).
pub fn parse_bound(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim()).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
    })
}

/// The columns of the CSV export, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "key",
    "orders",
    "shipped_orders",
    "deliveries",
    "on_time_delivery_rate",
    "order_cycle_time_hours_median",
    "order_cycle_time_hours_p90",
    "order_accuracy_rate",
    "fulfillment_cost_per_order",
    "first_attempt_delivery_rate",
    "exception_rate",
    "exception_resolve_hours_median",
    "return_rate",
    "eta_accuracy_rate",
    "eta_median_abs_error_hours",
    "customer_messages_per_order",
];

/// A CSV field: quoted when it holds a comma, quote or line break.
fn csv_field(raw: &str) -> String {
    if raw.contains([',', '"', '\n', '\r']) { format!("\"{}\"", raw.replace('"', "\"\"")) } else { raw.to_string() }
}

fn csv_row(key: &str, f: &KpiFiguresOut) -> String {
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    [
        csv_field(key),
        f.orders.to_string(),
        f.shipped_orders.to_string(),
        f.deliveries.to_string(),
        num(f.on_time_delivery_rate),
        num(f.order_cycle_time_hours.median),
        num(f.order_cycle_time_hours.p90),
        num(f.order_accuracy_rate),
        f.fulfillment_cost_per_order.clone().unwrap_or_default(),
        num(f.first_attempt_delivery_rate),
        num(f.exception_rate),
        num(f.exception_resolve_hours_median),
        num(f.return_rate),
        num(f.eta_accuracy_rate),
        num(f.eta_median_abs_error_hours),
        num(f.customer_messages_per_order),
    ]
    .join(",")
}

/// The figures as CSV (RFC 4180 line ends): a header, the row `all`, then one row per group;
/// figures with nothing to divide by are empty.
pub fn kpis_csv(out: &KpisOut) -> String {
    let mut csv = CSV_COLUMNS.join(",") + "\r\n";
    csv.push_str(&csv_row("all", &out.figures));
    csv.push_str("\r\n");
    for group in &out.groups {
        csv.push_str(&csv_row(&group.key, &group.figures));
        csv.push_str("\r\n");
    }
    csv
}

/// KPI figures over orders placed in a period, as JSON or (`format=csv`) as CSV.
#[utoipa::path(get, path = "/api/v1/kpis", tag = "kpis", params(KpiParams),
    responses((status = 200, description = "the figures: JSON, or CSV with `format=csv`",
                content((KpisOut = "application/json"), (String = "text/csv"))),
              (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn kpis(
    State(state): State<AppState>,
    caller: Caller<Support>,
    params: Result<Query<KpiParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|r| ApiError::BadRequest {
        detail: r.body_text(),
        errors: vec![FieldError::new("query", r.body_text())],
    })?;
    let mut errors = Vec::new();
    let mut bound = |field: &str, raw: &Option<String>| match raw.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => parse_bound(v).or_else(|| {
            errors.push(FieldError::new(field, "must be an RFC 3339 time or a date YYYY-MM-DD"));
            None
        }),
    };
    let to = bound("to", &p.to);
    let from = bound("from", &p.from);
    let group_by = match p.group_by.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(g) => KpiGrouping::parse(g).or_else(|| {
            errors
                .push(FieldError::new("group_by", "must be day, week, month, carrier, service, channel or warehouse"));
            None
        }),
    };
    let csv = match p.format.as_deref().filter(|v| !v.is_empty()) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errors.push(FieldError::new("format", "must be json or csv"));
            false
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let to = to.unwrap_or_else(|| state.app.clock().now());
    let from = from.unwrap_or(to - Duration::days(30));
    let (overall, groups) = state.app.kpis(&caller.principal, from, to, group_by).await?;
    let out = KpisOut {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        figures: KpiFiguresOut::from_kpis(&overall),
        group_by: p.group_by.filter(|_| group_by.is_some()),
        groups: groups
            .iter()
            .map(|(key, k)| KpiGroupOut { key: key.clone(), figures: KpiFiguresOut::from_kpis(k) })
            .collect(),
    };
    if csv {
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], kpis_csv(&out)).into_response());
    }
    Ok(Json(out).into_response())
}
