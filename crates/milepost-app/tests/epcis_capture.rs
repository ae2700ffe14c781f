//! EPCIS capture as GS1 writes it, through the use case and a real store: every event of a
//! document gets its own answer, identifiers resolve by their GS1 key, business transactions by
//! their type, an error declaration withdraws the declared claim, and a consignee's receipt is
//! the delivery only when the capture call says where the consignee is.

use chrono::{TimeZone, Utc};
use milepost_app::ingest::{EpcisCapture, EpcisOutcome, EpcisResult, ImportFormat};
use milepost_app::{AppError, FixedClock, Milepost};
use milepost_domain::{AccountName, Direction, Milestone, OrderNumber, Role, Shipment, TrackingNumber};
use milepost_store::Principal;
use milepost_store::sqlite::SqliteStore;
use std::sync::Arc;

const ALL_TYPES: &str = include_str!("../../milepost-ingest/tests/fixtures/epcis_all_event_types.json");
/// `urn:epc:id:sscc:0861234.1000004217` as a label prints it: AI (00) and the 18 digits.
const SSCC_LABEL: &str = "00108612340000042177";
/// `urn:epc:id:grai:0861234.12345.900` as a returnable pallet's label: AI (8003).
const GRAI_LABEL: &str = "800300861234123459900";

struct World {
    app: Milepost,
    caller: Principal,
    _dir: tempfile::TempDir,
}

async fn world(orders: &[&str]) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("epcis.db")).unwrap());
    let app = Milepost::new(store, Arc::new(FixedClock::at(Utc.with_ymd_and_hms(2025, 3, 13, 8, 0, 0).unwrap())));
    let caller = app.account_principal(&AccountName::parse("acme").unwrap(), Role::Admin).await.unwrap();
    let mut csv = String::from(
        "order_number,channel,placed_at,promised_by,currency,customer_name,customer_email,customer_phone,ship_line1,\
         ship_line2,ship_city,ship_region,ship_postal_code,ship_country,sku,description,quantity,unit_price\n",
    );
    for number in orders {
        csv.push_str(&format!(
            "{number},b2b,2025-03-10T09:14:22-05:00,,USD,Dana Ruiz,dana@example.net,,415 Juniper St,,Boise,ID,83702,US,\
             MUG,Mug,2,29.00\n"
        ));
    }
    let summary = app.import_orders(&caller, Some(ImportFormat::Csv), csv.as_bytes()).await.unwrap();
    assert!(summary.written, "{summary:?}");
    World { app, caller, _dir: dir }
}

impl World {
    async fn parcel(&self, order: &str, tracking: &str) {
        let shipment = Shipment {
            carrier: Some("dhl".into()),
            service: None,
            tracking_number: TrackingNumber::parse(tracking).unwrap(),
            direction: Direction::Outbound,
            origin_location_id: None,
            origin_postal_code: None,
            origin_country: None,
            items: Vec::new(),
            label_cost: None,
            handling_cost: None,
        };
        self.app.add_shipment(&self.caller, &OrderNumber::parse(order).unwrap(), shipment).await.unwrap();
    }

    async fn capture(&self, doc: &str, capture: &EpcisCapture) -> Vec<EpcisOutcome> {
        self.app.ingest_epcis(&self.caller, doc.as_bytes(), capture).await.unwrap()
    }

    async fn parcel_status(&self, order: &str) -> (Option<Milestone>, Vec<(Option<String>, bool)>) {
        let record = self.app.order(&self.caller, &OrderNumber::parse(order).unwrap()).await.unwrap();
        let parcel = &record.shipments[0];
        (parcel.status, parcel.timeline.iter().map(|e| (e.event.code.clone(), e.advisory)).collect())
    }
}

fn object_event(extra: &str) -> String {
    format!(
        r#"{{"epcisBody":{{"eventList":[{{"type":"ObjectEvent","eventTime":"2025-03-11T09:00:00-07:00",
        "eventTimeZoneOffset":"-07:00","action":"OBSERVE",{extra}}}]}}}}"#
    )
}

#[tokio::test]
async fn every_event_of_all_five_types_is_answered_in_document_order() {
    let w = world(&["SO-2001", "SO-2002"]).await;
    w.parcel("SO-2001", SSCC_LABEL).await;
    w.parcel("SO-2002", GRAI_LABEL).await;

    let outcomes = w.capture(ALL_TYPES, &EpcisCapture::default()).await;

    let results: Vec<_> = outcomes.iter().map(|o| (o.index, o.result)).collect();
    use EpcisResult::*;
    assert_eq!(
        results,
        vec![
            (0, Accepted),
            (1, Accepted),
            (2, Accepted),
            (3, Informational),
            (4, Informational),
            (5, Accepted),
            (6, Rejected)
        ]
    );
    let types: Vec<_> = outcomes.iter().map(|o| o.event_type.as_deref().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ObjectEvent",
            "AggregationEvent",
            "TransactionEvent",
            "TransformationEvent",
            "AssociationEvent",
            "AggregationEvent",
            "QuantityEvent"
        ]
    );
    // The picked SGTIN names no parcel; its purchase order names the order (not the invoice).
    assert_eq!(outcomes[0].milestone, Some(Milestone::Picked));
    assert_eq!(outcomes[0].recorded_on, vec!["SO-2001"]);
    assert_eq!(outcomes[0].unresolved, vec!["https://id.gs1.org/01/00861234123459/21/40017"]);
    // The SSCC as a URN and as a Digital Link names the same parcel.
    assert_eq!(outcomes[1].recorded_on, vec![format!("SO-2001/{SSCC_LABEL}")]);
    assert_eq!(outcomes[2].recorded_on, vec![format!("SO-2001/{SSCC_LABEL}")]);
    // A transformation (by its purchase order) and an association (by its GRAI) are recorded,
    // and move no status.
    assert_eq!(outcomes[3].recorded_on, vec!["SO-2001"]);
    assert_eq!(outcomes[4].recorded_on, vec![format!("SO-2002/{GRAI_LABEL}")]);
    assert_eq!(outcomes[5].withdraws.as_deref(), Some("urn:uuid:1b2c3d4e-5f60-4a71-9c82-0d1e2f3a4b51"));
    assert_eq!(outcomes[6].field.as_deref(), Some("epcisBody.eventList[6].type"));
    assert!(outcomes[6].reason.as_deref().unwrap().contains("TransformationEvent"), "{:?}", outcomes[6].reason);

    // The packing was declared in error: the parcel is back to picked, and its timeline shows
    // the packing (no longer counting) and the declaration.
    let (status, timeline) = w.parcel_status("SO-2001").await;
    assert_eq!(status, Some(Milestone::Picked));
    assert!(timeline.contains(&(Some("packing".into()), true)), "{timeline:?}");
    assert!(timeline.contains(&(Some("error_declaration".into()), false)), "{timeline:?}");

    // A resent document changes nothing.
    let again = w.capture(ALL_TYPES, &EpcisCapture::default()).await;
    assert!(again.iter().all(|o| matches!(o.result, Duplicate | Rejected)), "{again:?}");
    assert_eq!(w.parcel_status("SO-2001").await.0, Some(Milestone::Picked));
}

#[tokio::test]
async fn an_error_declaration_without_an_event_id_finds_the_event_by_its_content() {
    let w = world(&["SO-2101"]).await;
    w.parcel("SO-2101", SSCC_LABEL).await;
    let packing = r#""epcList":["urn:epc:id:sscc:0861234.1000004217"],"bizStep":"packing""#;
    assert_eq!(w.capture(&object_event(packing), &EpcisCapture::default()).await[0].result, EpcisResult::Accepted);
    assert_eq!(w.parcel_status("SO-2101").await.0, Some(Milestone::Packed));

    let declared = format!(
        r#"{packing},"errorDeclaration":{{"declarationTime":"2025-03-12T10:00:00Z","reason":"https://ref.gs1.org/cbv/ER-incorrect_data"}}"#
    );
    let outcome = &w.capture(&object_event(&declared), &EpcisCapture::default()).await[0];
    assert_eq!(outcome.result, EpcisResult::Accepted);
    assert!(outcome.withdraws.as_deref().unwrap().starts_with("derived:"), "{outcome:?}");
    let (status, timeline) = w.parcel_status("SO-2101").await;
    assert_eq!(status, None, "the only claim was withdrawn");
    assert_eq!(timeline.len(), 2, "{timeline:?}");
}

#[tokio::test]
async fn business_transactions_resolve_only_against_their_own_kind_of_reference() {
    let w = world(&["SO-3001", "ASN-77"]).await;
    w.parcel("SO-3001", "1ZA4R7090398765432").await;
    let with = |bt: &str| object_event(&format!(r#""bizStep":"packing","bizTransactionList":[{bt}]"#));

    let bol = with(
        r#"{"type":"urn:epcglobal:cbv:btt:bol","bizTransaction":"urn:epcglobal:cbv:bt:0861234000014:1ZA4R7090398765432"}"#,
    );
    let o = &w.capture(&bol, &EpcisCapture::default()).await[0];
    assert_eq!(o.recorded_on, vec!["SO-3001/1ZA4R7090398765432"], "a bill of lading names the parcel");

    for (bt, why) in [
        (
            r#"{"type":"po","bizTransaction":"urn:epcglobal:cbv:bt:0861234000014:1ZA4R7090398765432"}"#,
            "a PO is no tracking number",
        ),
        (
            r#"{"type":"https://ref.gs1.org/cbv/BTT-desadv","bizTransaction":"urn:epcglobal:cbv:bt:0861234000014:ASN-77"}"#,
            "a despatch advice is no order number",
        ),
        (
            r#"{"type":"inv","bizTransaction":"urn:epcglobal:cbv:bt:0861234000014:SO-3001"}"#,
            "an invoice names nothing kept",
        ),
        (r#"{"bizTransaction":"urn:epcglobal:cbv:bt:0861234000014:SO-3001"}"#, "an untyped transaction names nothing"),
    ] {
        let o = &w.capture(&with(bt), &EpcisCapture::default()).await[0];
        assert_eq!(o.result, EpcisResult::Rejected, "{why}: {o:?}");
        assert_eq!(o.field.as_deref(), Some("epcisBody.eventList[0].epcList"));
        assert!(o.recorded_on.is_empty(), "{why}");
    }
}

#[tokio::test]
async fn an_sgtin_never_resolves_by_its_serial_against_order_numbers_or_internal_ids() {
    let w = world(&["40017", "SO-3101"]).await;
    // The first parcel registered has internal id 1.
    w.parcel("SO-3101", "1ZA4R7090398765432").await;
    for epc in [
        "urn:epc:id:sgtin:0861234.012345.40017",
        "urn:epc:id:sgtin:0861234.012345.1",
        "https://id.gs1.org/01/00861234123459/21/1",
    ] {
        let o = &w
            .capture(&object_event(&format!(r#""epcList":["{epc}"],"bizStep":"packing""#)), &EpcisCapture::default())
            .await[0];
        assert_eq!(o.result, EpcisResult::Rejected, "{epc}: {o:?}");
        assert_eq!(o.unresolved, vec![epc.to_string()]);
    }
    assert_eq!(w.parcel_status("SO-3101").await.1.len(), 0);
}

#[tokio::test]
async fn receiving_at_the_consignees_location_is_the_delivery_only_when_the_capture_says_so() {
    let w = world(&["SO-4001", "SO-4002"]).await;
    w.parcel("SO-4001", SSCC_LABEL).await;
    w.parcel("SO-4002", "00106141412345678908").await;
    let receiving = |sscc: &str| {
        object_event(&format!(
            r#""epcList":["{sscc}"],"bizStep":"https://ref.gs1.org/cbv/BizStep-receiving",
            "disposition":"https://ref.gs1.org/cbv/Disp-in_progress","bizLocation":{{"id":"urn:epc:id:sgln:0861234.00002.0"}}"#
        ))
    };
    let plain = &w.capture(&receiving("https://id.gs1.org/00/106141412345678908"), &EpcisCapture::default()).await[0];
    assert_eq!(plain.result, EpcisResult::Informational, "receiving is warehouse inbound by default");
    assert_eq!(w.parcel_status("SO-4002").await.0, None);

    let b2b = EpcisCapture { consignee_locations: vec!["https://id.gs1.org/414/0861234000026".into()] };
    let delivered = &w.capture(&receiving("urn:epc:id:sscc:0861234.1000004217"), &b2b).await[0];
    assert_eq!(delivered.result, EpcisResult::Accepted);
    assert_eq!(delivered.milestone, Some(Milestone::Delivered));
    assert_eq!(w.parcel_status("SO-4001").await.0, Some(Milestone::Delivered));

    let elsewhere = EpcisCapture { consignee_locations: vec!["urn:epc:id:sgln:0861234.00009.0".into()] };
    let other = &w.capture(&receiving("https://id.gs1.org/00/106141412345678908"), &elsewhere).await[0];
    assert_eq!(other.milestone, None, "receiving somewhere else is still inbound");

    let bad = EpcisCapture { consignee_locations: vec!["dock 4".into()] };
    let err = w.app.ingest_epcis(&w.caller, receiving(SSCC_LABEL).as_bytes(), &bad).await.unwrap_err();
    assert!(matches!(&err, AppError::Invalid { field, .. } if field == "consignee_location[0]"), "{err:?}");
}
