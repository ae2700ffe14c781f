//! The operational endpoints: health, Prometheus metrics and the generated OpenAPI document.

mod common;

use common::{carrier_event, order_json, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn metrics_count_requests_and_ingested_events_by_source_and_result() {
    let app = spawn_app().await;
    app.put_order(&order_json("M-1")).await;
    app.add_shipment("M-1", &json!({"tracking_number": "1ZMETRIC01"})).await;
    let e = carrier_event("1ZMETRIC01", "m1", "in_transit", "2026-11-02T10:00:00Z");
    app.post_events(json!([e.clone()])).await;
    app.post_events(json!([e])).await;
    let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("milepost_events_ingested_total{source=\"carrier\",result=\"accepted\"} 1"), "{text}");
    assert!(text.contains("milepost_events_ingested_total{source=\"carrier\",result=\"duplicate\"} 1"), "{text}");
    assert!(
        text.contains("milepost_http_requests_total{method=\"POST\",route=\"/api/v1/events\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("milepost_http_request_duration_seconds_bucket{route=\"/api/v1/orders\",le=\"+Inf\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_v1_endpoint() {
    let app = spawn_app().await;
    let doc = app.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["info"]["title"], "Milepost API");
    let paths = doc.body["paths"].as_object().unwrap();
    for path in
        ["/api/v1/orders", "/api/v1/orders/{order_number}", "/api/v1/orders/{order_number}/shipments", "/api/v1/events"]
    {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let order_in = &doc.body["components"]["schemas"]["OrderIn"]["properties"];
    for field in ["order_number", "channel", "placed_at", "promised_by", "currency", "customer", "ship_to", "items"] {
        assert!(!order_in[field].is_null(), "OrderIn.{field} missing");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_ingest_endpoints() {
    let app = spawn_app().await;
    let spec: serde_json::Value =
        app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    for path in [
        "/api/v1/integrations",
        "/webhooks/carriers/{integration}",
        "/webhooks/channels/{integration}",
        "/api/v1/carrier-codes/unmapped",
        "/api/v1/carrier-codes/{carrier}/{code}",
        "/api/v1/scans",
        "/api/v1/epcis/events",
        "/api/v1/imports",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
}
