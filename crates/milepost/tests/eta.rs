//! Milepost's own ETA on the API (issue 8): the shipment's `eta` in `GET /api/v1/orders/{n}` is
//! the window Milepost publishes, computed in the transaction of each batch of events, moved only
//! by material evidence, and pinned by the milestones that name the day.

mod common;

use common::{carrier_event, order_json, spawn_app};
use serde_json::json;

#[tokio::test]
async fn the_published_window_follows_the_milestones_that_move_it_materially() {
    let app = spawn_app().await;
    assert_eq!(app.put_order(&order_json("ETA-1")).await.status, 201);
    let shipment = json!({
        "carrier": "ups", "service": "ground", "tracking_number": "1Z999AA10123456784",
        "origin": {"location_id": "RNO1", "postal_code": "89502", "country": "US"}
    });
    assert_eq!(app.add_shipment("ETA-1", &shipment).await.status, 201);
    // Before any event nothing is published: the store has no time to go by.
    assert!(app.order("ETA-1").await.body["shipments"][0]["eta"].is_null());

    // Handed over on Monday 9 November 2026; the clock says Tuesday the 10th. Without any
    // history on the lane and no carrier estimate, the default window is 1 to 5 business days,
    // not before today and skipping Veterans Day (Wednesday the 11th).
    let reply = app
        .post_events(json!([carrier_event(
            "1Z999AA10123456784",
            "e1",
            "handed_to_carrier",
            "2026-11-09T16:00:00-05:00"
        )]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let eta = app.order("ETA-1").await.body["shipments"][0]["eta"].clone();
    assert_eq!(eta, json!({"earliest": "2026-11-10T00:00:00-05:00", "latest": "2026-11-17T23:59:59-05:00"}));

    // The customer's tracking page shows the window by weekday.
    let page = app
        .client
        .get(format!("{}/track?account=acme&order_number=ETA-1&email=ana%40example.com", app.base))
        .send()
        .await
        .expect("request");
    let html = page.text().await.expect("page");
    assert!(html.contains("Expected delivery</dt><dd>Tue 10 Nov – Tue 17 Nov</dd>"), "{html}");

    // An in-transit scan that leaves the prediction where it was changes nothing.
    app.post_events(json!([carrier_event("1Z999AA10123456784", "e2", "in_transit", "2026-11-10T03:00:00-05:00")]))
        .await;
    assert_eq!(app.order("ETA-1").await.body["shipments"][0]["eta"], eta);

    // Out for delivery on Tuesday: the window is that day.
    app.post_events(json!([carrier_event(
        "1Z999AA10123456784",
        "e3",
        "out_for_delivery",
        "2026-11-10T06:30:00-05:00"
    )]))
    .await;
    let order = app.order("ETA-1").await.body;
    assert_eq!(
        order["shipments"][0]["eta"],
        json!({"earliest": "2026-11-10T00:00:00-05:00", "latest": "2026-11-10T23:59:59-05:00"})
    );
    // The window ends after the promise (6 November): the shipment is delayed, as before.
    assert_eq!(order["shipments"][0]["delayed"], json!(true));
}

#[tokio::test]
async fn deliveries_teach_their_lane_and_the_next_parcel_gets_the_learned_window() {
    let app = spawn_app().await;
    let parcel = |n: u32| {
        json!({
            "carrier": "ups", "service": "ground", "tracking_number": format!("1ZLANE{n:04}"),
            "origin": {"location_id": "RNO1", "postal_code": "89502", "country": "US"}
        })
    };
    // Eight parcels handed over on Monday 2 November and delivered on Wednesday the 4th: two
    // business days each, on the lane ups/ground, US-8 → US-7, Monday.
    for n in 0..8 {
        let number = format!("LANE-{n}");
        assert_eq!(app.put_order(&order_json(&number)).await.status, 201);
        assert_eq!(app.add_shipment(&number, &parcel(n)).await.status, 201);
        let tracking = format!("1ZLANE{n:04}");
        let reply = app
            .post_events(json!([
                carrier_event(&tracking, &format!("h{n}"), "handed_to_carrier", "2026-11-02T16:00:00-05:00"),
                carrier_event(&tracking, &format!("d{n}"), "delivered", "2026-11-04T14:00:00-05:00"),
            ]))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // A ninth, handed over on Monday 9 November: two business days skip Veterans Day.
    assert_eq!(app.put_order(&order_json("LANE-9")).await.status, 201);
    assert_eq!(app.add_shipment("LANE-9", &parcel(9)).await.status, 201);
    app.post_events(json!([carrier_event("1ZLANE0009", "h9", "handed_to_carrier", "2026-11-09T16:00:00-05:00")])).await;
    assert_eq!(
        app.order("LANE-9").await.body["shipments"][0]["eta"],
        json!({"earliest": "2026-11-12T00:00:00-05:00", "latest": "2026-11-12T23:59:59-05:00"})
    );
}
