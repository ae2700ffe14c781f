//! `milepost kpi` output: the KPI figures as a table for people, CSV for spreadsheets or JSON
//! (the same shape as `GET /api/v1/kpis`).

use milepost_domain::kpi::Kpis;
use milepost_web::api::kpis::KpiFiguresOut;
use std::fmt::Write;

const COLUMNS: [&str; 15] = [
    "group",
    "orders",
    "shipped",
    "deliveries",
    "on_time_%",
    "cycle_h_median",
    "cycle_h_p90",
    "accuracy_%",
    "cost_per_order",
    "first_attempt_%",
    "exception_%",
    "return_%",
    "eta_in_window_%",
    "eta_error_h",
    "messages_per_order",
];

fn cells(key: &str, k: &Kpis) -> Vec<String> {
    let pct = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
    vec![
        key.to_string(),
        k.orders.to_string(),
        k.shipped_orders.to_string(),
        k.deliveries.to_string(),
        pct(k.on_time_delivery_rate),
        pct(k.order_cycle_time_hours_median),
        pct(k.order_cycle_time_hours_p90),
        pct(k.order_accuracy_rate),
        k.fulfillment_cost_per_order.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
        pct(k.first_attempt_delivery_rate),
        pct(k.exception_rate),
        pct(k.return_rate),
        pct(k.eta_accuracy_rate),
        pct(k.eta_median_abs_error_hours),
        k.customer_messages_per_order.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into()),
    ]
}

/// Renders the figures in `format` (`table`, `csv` or `json`).
pub fn render(format: &str, overall: &Kpis, groups: &[(String, Kpis)]) -> anyhow::Result<String> {
    let mut rows = vec![cells("all", overall)];
    rows.extend(groups.iter().map(|(key, k)| cells(key, k)));
    let mut out = String::new();
    match format {
        "csv" => {
            out.push_str(&COLUMNS.join(","));
            out.push('\n');
            for row in rows {
                let quoted: Vec<String> = row
                    .iter()
                    .map(|c| if c.contains([',', '"']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() })
                    .collect();
                out.push_str(&quoted.join(","));
                out.push('\n');
            }
        }
        "json" => {
            let groups: Vec<serde_json::Value> = groups
                .iter()
                .map(|(key, k)| {
                    let mut v = serde_json::to_value(KpiFiguresOut::from_kpis(k)).unwrap_or_default();
                    v["key"] = serde_json::Value::String(key.clone());
                    v
                })
                .collect();
            let mut v = serde_json::to_value(KpiFiguresOut::from_kpis(overall))?;
            v["groups"] = serde_json::Value::Array(groups);
            out = serde_json::to_string_pretty(&v)?;
            out.push('\n');
        }
        "table" => {
            let widths: Vec<usize> = (0..COLUMNS.len())
                .map(|i| rows.iter().map(|r| r[i].len()).chain([COLUMNS[i].len()]).max().unwrap_or(0))
                .collect();
            let line = |cells: Vec<&str>| {
                cells.iter().enumerate().map(|(i, c)| format!("{c:>w$}", w = widths[i])).collect::<Vec<_>>().join("  ")
            };
            let _ = writeln!(out, "{}", line(COLUMNS.to_vec()));
            for row in &rows {
                let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
            }
        }
        other => anyhow::bail!("--format: unknown format `{other}`; use table, csv or json"),
    }
    Ok(out)
}
