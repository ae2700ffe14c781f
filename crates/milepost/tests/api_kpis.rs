//! KPI figures through the API: known orders give the figures the formulas of DESIGN §7 say,
//! overall and per carrier.

mod common;

use common::{TestApp, carrier_event, spawn_app};
use serde_json::json;

async fn order(app: &TestApp, number: &str, placed: &str, promised: &str) {
    let mut o = common::order_json(number);
    o["placed_at"] = json!(placed);
    o["promised_by"] = json!(promised);
    assert_eq!(app.put_order(&o).await.status, 201);
}

async fn parcel(app: &TestApp, number: &str, carrier: &str, tracking: &str, label: &str) {
    let r = app
        .add_shipment(
            number,
            &json!({"carrier": carrier, "tracking_number": tracking, "costs": {"label": label, "handling": "1.00"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

fn packed(number: &str, at: &str) -> serde_json::Value {
    json!({"source": "warehouse", "source_event_id": format!("pack-{number}"), "order_number": number, "milestone": "packed", "occurred_at": at})
}

#[tokio::test]
async fn kpis_follow_the_formulas_over_known_orders() {
    let app = spawn_app().await;
    order(&app, "K-1", "2026-11-01T10:00:00Z", "2026-11-06").await;
    parcel(&app, "K-1", "ups", "1ZKPI00001", "8.00").await;
    let r = app
        .post_events(json!([
            packed("K-1", "2026-11-01T12:00:00Z"),
            carrier_event("1ZKPI00001", "a1", "handed_to_carrier", "2026-11-01T20:00:00Z"),
            carrier_event("1ZKPI00001", "a2", "delivered", "2026-11-03T12:00:00Z"),
        ]))
        .await;
    assert_eq!(r.status, 200);

    order(&app, "K-2", "2026-11-02T10:00:00Z", "2026-11-04").await;
    parcel(&app, "K-2", "fedex", "123456789012", "9.00").await;
    app.post_events(json!([
        packed("K-2", "2026-11-02T12:00:00Z"),
        carrier_event("123456789012", "b1", "handed_to_carrier", "2026-11-03T10:00:00Z"),
        carrier_event("123456789012", "b2", "delivery_attempted", "2026-11-05T10:00:00Z"),
    ]))
    .await;
    app.post_events(json!([carrier_event("123456789012", "b3", "delivered", "2026-11-06T10:00:00Z")])).await;

    order(&app, "K-3", "2026-11-03T10:00:00Z", "2026-11-09").await;
    order(&app, "K-OLD", "2026-09-03T10:00:00Z", "2026-09-09").await;

    let r = app.get("/api/v1/kpis?from=2026-11-01&to=2026-11-08&group_by=carrier", &app.support).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let k = &r.body;
    assert_eq!(k["orders"], 3, "K-OLD is outside the period");
    assert_eq!(k["shipped_orders"], 2);
    assert_eq!(k["deliveries"], 2);
    assert_eq!(k["on_time_delivery_rate"], 50.0);
    // Cycle times 10 h (K-1) and 24 h (K-2): the median of two is their mean.
    assert_eq!(k["order_cycle_time_hours"]["median"], 17.0);
    assert_eq!(k["order_cycle_time_hours"]["p90"], 24.0);
    assert_eq!(k["fulfillment_cost_per_order"], "9.50");
    assert_eq!(k["first_attempt_delivery_rate"], 50.0);
    assert_eq!(k["order_accuracy_rate"], 100.0);
    assert_eq!(k["exception_rate"], 33.33);
    // ETA accuracy judges the window in force when Milepost first knew the parcel was in carrier
    // hands. K-1's first news was its delivery (no window to judge). K-2's was a failed attempt
    // on Thursday 5 November, which pinned the window to Friday the 6th; delivered that day at
    // 10:00, two hours before the window's midpoint (12:00).
    assert_eq!(k["eta_accuracy_rate"], 100.0);
    assert_eq!(k["eta_median_abs_error_hours"], 2.0);
    // No message has been sent yet (the notifier has not run): 0 over 3 orders.
    assert_eq!(k["customer_messages_per_order"], 0.0);
    let keys: Vec<_> = k["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap().to_string()).collect();
    assert_eq!(keys, ["fedex", "none", "ups"]);
    assert_eq!(k["groups"][0]["on_time_delivery_rate"], 0.0);
    assert_eq!(k["groups"][2]["on_time_delivery_rate"], 100.0);

    let other = app.get("/api/v1/kpis?from=2026-11-01&to=2026-11-08", &app.other_admin).await;
    assert_eq!(other.body["orders"], 0, "another account's orders are not counted");
    let bad = app.get("/api/v1/kpis?from=last-week&group_by=fortnight", &app.support).await;
    assert_eq!(bad.status, 422);
    let fields: Vec<_> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, vec![json!("from"), json!("group_by")]);
    let backwards = app.get("/api/v1/kpis?from=2026-11-08&to=2026-11-01", &app.support).await;
    assert_eq!(backwards.status, 422);

    // The same figures as CSV: a header, the row for all orders, then one row per carrier.
    let csv = app.get("/api/v1/kpis?from=2026-11-01&to=2026-11-08&group_by=carrier&format=csv", &app.support).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    let text = csv.body.as_str().expect("CSV text");
    let rows: Vec<Vec<&str>> = text.split_terminator("\r\n").map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 5, "{text}");
    assert_eq!(rows[0][..5], ["key", "orders", "shipped_orders", "deliveries", "on_time_delivery_rate"]);
    assert_eq!(rows[1][..11], ["all", "3", "2", "2", "50", "17", "24", "100", "9.50", "50", "33.33"], "{text}");
    assert_eq!(rows[0][13..], ["eta_accuracy_rate", "eta_median_abs_error_hours", "customer_messages_per_order"]);
    assert_eq!(rows[1][13..], ["100", "2", "0"], "{text}");
    let keys: Vec<&str> = rows[2..].iter().map(|r| r[0]).collect();
    assert_eq!(keys, ["fedex", "none", "ups"]);
    assert_eq!(rows[2][..5], ["fedex", "1", "1", "1", "0"], "K-2 arrived after its promise");
    assert_eq!(rows[3][4], "", "an order never shipped has no on-time rate, not zero");
    assert_eq!(rows[4][..5], ["ups", "1", "1", "1", "100"]);
    let bad = app.get("/api/v1/kpis?format=xml", &app.support).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["field"], "format");
}
