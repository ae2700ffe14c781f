//! EPCIS 2.0 capture: every event is answered in document order; events are resolved to parcels
//! by SSCC (against tracking numbers, in the 18-digit or AI 00 form) and to orders by their purchase
//! order, recorded as warehouse events, and EPCs that match nothing are reported per event.

mod common;

use common::{order_json, spawn_app};
use serde_json::json;

const DOCUMENT: &str = include_str!("../../milepost-ingest/tests/fixtures/epcis_capture.json");
/// `urn:epc:id:sscc:0861234.1000004217` as carriers print it: AI (00) and the 18-digit SSCC.
const SSCC_LABEL: &str = "00108612340000042177";

#[tokio::test]
async fn an_epcis_document_moves_the_parcel_its_sscc_names_and_reports_unresolved_epcs() {
    let app = spawn_app().await;
    assert_eq!(app.put_order(&order_json("SO-1042")).await.status, 201);
    assert_eq!(
        app.add_shipment("SO-1042", &json!({"carrier": "dhl", "tracking_number": SSCC_LABEL})).await.status,
        201
    );

    let reply = app
        .post_bytes("/api/v1/epcis/events", Some(&app.ingest), "application/ld+json", &[], DOCUMENT.as_bytes().to_vec())
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = reply.body["events"].as_array().unwrap();
    // Picking: its SGTINs name no parcel, its purchase order names the order.
    assert_eq!(events[0]["milestone"], "picked");
    assert_eq!(events[0]["recorded_on"], json!(["SO-1042"]));
    assert_eq!(
        events[0]["unresolved"],
        json!(["urn:epc:id:sgtin:0861234.012345.40017", "urn:epc:id:sgtin:0861234.012345.40018"])
    );
    // Packing into the SSCC and shipping it: recorded on the parcel.
    assert_eq!(events[1]["milestone"], "packed");
    assert_eq!(events[1]["recorded_on"], json!([format!("SO-1042/{SSCC_LABEL}")]));
    assert_eq!(events[2]["recorded_on"], json!([format!("SO-1042/{SSCC_LABEL}")]));
    assert_eq!(events[2]["unresolved"], json!([]));

    let order = app.order("SO-1042").await.body;
    let parcel = &order["shipments"][0];
    assert_eq!(parcel["status"], "packed", "the warehouse's shipping step is an advisory claim");
    let timeline = parcel["timeline"].as_array().unwrap();
    assert!(timeline.iter().all(|e| e["source"] == "warehouse"));
    assert!(timeline.iter().any(|e| e["milestone"] == "handed_to_carrier" && e["advisory"] == true));

    let again = app
        .post_bytes("/api/v1/epcis/events", Some(&app.ingest), "application/json", &[], DOCUMENT.as_bytes().to_vec())
        .await;
    assert_eq!(again.body["accepted"], 0);
}

#[tokio::test]
async fn an_epcis_document_that_does_not_read_is_refused_naming_the_path() {
    let app = spawn_app().await;
    let reply = app
        .post_bytes(
            "/api/v1/epcis/events",
            Some(&app.ingest),
            "application/json",
            &[],
            br#"{"type":"EPCISDocument"}"#.to_vec(),
        )
        .await;

    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["errors"][0]["field"], "epcisBody");
}

#[tokio::test]
async fn epcis_capture_needs_an_ingest_key_and_json() {
    let app = spawn_app().await;
    let anonymous =
        app.post_bytes("/api/v1/epcis/events", None, "application/json", &[], DOCUMENT.as_bytes().to_vec()).await;
    assert_eq!(anonymous.status, 401);
    let as_text = app
        .post_bytes("/api/v1/epcis/events", Some(&app.ingest), "text/plain", &[], DOCUMENT.as_bytes().to_vec())
        .await;
    assert_eq!(as_text.status, 415);
}

const ALL_TYPES: &str = include_str!("../../milepost-ingest/tests/fixtures/epcis_all_event_types.json");

#[tokio::test]
async fn every_event_of_an_epcis_document_is_answered_in_order_and_a_rejection_names_its_field() {
    let app = spawn_app().await;
    for (order, tracking) in [("SO-2001", SSCC_LABEL), ("SO-2002", "800300861234123459900")] {
        assert_eq!(app.put_order(&order_json(order)).await.status, 201);
        assert_eq!(app.add_shipment(order, &json!({"carrier": "dhl", "tracking_number": tracking})).await.status, 201);
    }

    let reply = app
        .post_bytes(
            "/api/v1/epcis/events",
            Some(&app.ingest),
            "application/ld+json",
            &[],
            ALL_TYPES.as_bytes().to_vec(),
        )
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = reply.body["events"].as_array().unwrap();
    let results: Vec<_> =
        events.iter().map(|e| (e["index"].as_u64().unwrap(), e["result"].as_str().unwrap())).collect();
    assert_eq!(
        results,
        vec![
            (0, "accepted"),
            (1, "accepted"),
            (2, "accepted"),
            (3, "informational"),
            (4, "informational"),
            (5, "accepted"),
            (6, "rejected")
        ]
    );
    assert_eq!(events[4]["event_type"], "AssociationEvent");
    assert_eq!(events[5]["withdraws"], "urn:uuid:1b2c3d4e-5f60-4a71-9c82-0d1e2f3a4b51");
    assert_eq!(events[6]["field"], "epcisBody.eventList[6].type");
    assert_eq!(reply.body["rejected"], 1);

    // The declared packing stays in the timeline, no longer counting.
    let order = app.order("SO-2001").await.body;
    let parcel = &order["shipments"][0];
    assert_eq!(parcel["status"], "picked");
    let timeline = parcel["timeline"].as_array().unwrap();
    assert!(timeline.iter().any(|e| e["milestone"] == "packed" && e["advisory"] == true), "{timeline:?}");
}

#[tokio::test]
async fn a_consignee_location_that_is_no_gs1_location_is_refused_naming_it() {
    let app = spawn_app().await;
    let reply = app
        .post_bytes(
            "/api/v1/epcis/events?consignee_location=urn:epc:id:sgln:0861234.00002.0,dock-4",
            Some(&app.ingest),
            "application/json",
            &[],
            ALL_TYPES.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "consignee_location[1]");
}
