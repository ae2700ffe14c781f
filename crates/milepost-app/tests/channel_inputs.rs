//! Shopify webhooks and Amazon order reports read as their senders write them, through the use
//! cases on a real SQLite store: a fulfillment claims carrier possession only once it is
//! `success` and takes it back when it is cancelled; an edited order owes its current quantities
//! and names its buyer; an "All Orders" report's cancelled and pending lines are read; and an order
//! file's format is read from its header row, whatever its sender declared. The payloads are our
//! own, modeled on the fields Shopify and Seller Central document.

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use hmac::{KeyInit, Mac};
use milepost_app::ingest::{ImportFormat, IntegrationKind, SignatureHeaders};
use milepost_app::records::Principal;
use milepost_app::{AppError, FixedClock, Milepost};
use milepost_domain::{AccountName, Milestone, OrderNumber, OrderStatus, Role};
use milepost_store::sqlite::SqliteStore;
use serde_json::{Value, json};
use std::sync::Arc;

const SECRET: &str = "shpss_a-shared-secret-of-some-length";

struct Shop {
    app: Milepost,
    caller: Principal,
    integration: String,
    _dir: tempfile::TempDir,
}

async fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("shop.db")).unwrap());
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 12, 0, 0).unwrap();
    let app = Milepost::new(store, Arc::new(FixedClock::at(now)));
    let admin = app.account_principal(&AccountName::parse("acme").unwrap(), Role::Admin).await.unwrap();
    let integration = app.create_integration(&admin, IntegrationKind::Shopify, SECRET).await.unwrap();
    Shop { app, caller: admin, integration, _dir: dir }
}

impl Shop {
    async fn send(&self, topic: &str, body: &Value) -> milepost_app::ingest::ChannelWebhookOutcome {
        let bytes = serde_json::to_vec(body).unwrap();
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&bytes);
        let headers = SignatureHeaders {
            shopify: Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())),
            ..SignatureHeaders::default()
        };
        self.app.receive_channel_webhook(&self.integration, &headers, Some(topic), &bytes).await.unwrap()
    }

    async fn order(&self, number: &str) -> milepost_app::records::OrderRecord {
        self.app.order(&self.caller, &OrderNumber::parse(number).unwrap()).await.unwrap()
    }
}

/// A gift: bought by Mara Lind, shipped to Jonas Berg; 10% off, shipping 4.90.
fn gift_order() -> Value {
    json!({"id": 7301122334455u64, "name": "#2077", "order_number": 2077, "email": "mara.lind@example.org",
        "created_at": "2026-11-02T10:00:00+01:00", "currency": "EUR",
        "subtotal_price": "68.40", "total_discounts": "7.60", "total_tax": "0.00", "total_price": "73.30",
        "current_total_price": "73.30",
        "customer": {"id": 900001u64, "email": "mara.lind@example.org", "first_name": "Mara", "last_name": "Lind"},
        "billing_address": {"name": "Mara Lind", "address1": "Kastanienallee 12", "city": "Berlin", "zip": "10435", "country_code": "DE"},
        "shipping_address": {"name": "Jonas Berg", "address1": "Hafenstraße 3", "city": "Hamburg", "zip": "20459", "country_code": "DE"},
        "line_items": [
            {"id": 31, "sku": "MUG-STN-12OZ", "title": "Stoneware Mug", "quantity": 2, "current_quantity": 2, "price": "29.00"},
            {"id": 32, "sku": "TOWEL-LIN", "title": "Linen Tea Towel", "quantity": 1, "current_quantity": 1, "price": "19.00"}],
        "fulfillments": []})
}

fn fulfillment(status: &str, updated_at: &str) -> Value {
    json!({"id": 5550001u64, "order_id": 7301122334455u64, "status": status,
        "created_at": "2026-11-02T15:00:00+01:00", "updated_at": updated_at,
        "tracking_company": null, "tracking_number": "00340434161094042557",
        "tracking_url": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434161094042557",
        "line_items": [{"id": 31, "sku": "MUG-STN-12OZ", "quantity": 2}]})
}

fn channel_claims(timeline: &[milepost_app::records::StoredEntry], milestone: Milestone) -> usize {
    timeline
        .iter()
        .filter(|e| e.event.milestone == Some(milestone) && e.event.source == milepost_domain::EventSource::Channel)
        .count()
}

#[tokio::test]
async fn a_pending_fulfillment_registers_the_parcel_and_only_success_claims_the_carrier_has_it() {
    let shop = shop().await;
    shop.send("orders/create", &gift_order()).await;

    let pending = shop.send("fulfillments/create", &fulfillment("pending", "2026-11-02T15:00:00+01:00")).await;
    assert_eq!(pending.result, "shipment_registered");
    assert_eq!(pending.shipments, vec!["00340434161094042557".to_string()]);
    let parcel = &shop.order("2077").await.shipments[0];
    assert_eq!(parcel.shipment.carrier.as_deref(), Some("dhl"), "from the tracking URL's host");
    assert_eq!(channel_claims(&parcel.timeline, Milestone::HandedToCarrier), 0, "pending claims nothing");

    let open = shop.send("fulfillments/update", &fulfillment("open", "2026-11-02T16:00:00+01:00")).await;
    assert_eq!(open.events.accepted, 0);
    assert_eq!(channel_claims(&shop.order("2077").await.shipments[0].timeline, Milestone::HandedToCarrier), 0);

    let success = shop.send("fulfillments/update", &fulfillment("success", "2026-11-02T17:00:00+01:00")).await;
    assert_eq!(success.events.accepted, 1);
    let parcel = &shop.order("2077").await.shipments[0];
    assert_eq!(channel_claims(&parcel.timeline, Milestone::HandedToCarrier), 1);
    assert!(parcel.timeline.iter().any(|e| e.event.milestone == Some(Milestone::HandedToCarrier) && e.advisory));
}

#[tokio::test]
async fn a_fulfillment_cancelled_after_success_voids_its_parcel_and_a_resend_changes_nothing() {
    let shop = shop().await;
    shop.send("orders/create", &gift_order()).await;
    shop.send("fulfillments/create", &fulfillment("success", "2026-11-02T15:00:00+01:00")).await;
    assert_eq!(shop.order("2077").await.status, OrderStatus::InFulfillment);

    let cancelled = shop.send("fulfillments/update", &fulfillment("cancelled", "2026-11-02T18:30:00+01:00")).await;

    assert_eq!(cancelled.result, "fulfillment_withdrawn");
    assert_eq!(cancelled.events.accepted, 1);
    let order = shop.order("2077").await;
    let parcel = &order.shipments[0];
    assert_eq!(parcel.status, Some(Milestone::Cancelled), "the channel's cancellation supersedes its claim");
    let withdrawal = parcel.timeline.iter().find(|e| e.event.milestone == Some(Milestone::Cancelled)).unwrap();
    assert_eq!(withdrawal.event.occurred_at.to_rfc3339(), "2026-11-02T18:30:00+01:00");
    assert!(!withdrawal.advisory, "the channel owns a parcel's cancellation");
    assert_ne!(order.status, OrderStatus::Shipped);
    assert_ne!(order.status, OrderStatus::InFulfillment, "no parcel is on its way any more");
    assert!(order.items.iter().all(|i| i.shipped == 0));

    let resent = shop.send("fulfillments/update", &fulfillment("failure", "2026-11-02T19:00:00+01:00")).await;
    assert_eq!((resent.events.accepted, resent.events.duplicate), (0, 1), "one withdrawal per parcel");
}

#[tokio::test]
async fn a_fulfillment_that_failed_before_milepost_saw_it_registers_nothing() {
    let shop = shop().await;
    shop.send("orders/create", &gift_order()).await;

    let failed = shop.send("fulfillments/create", &fulfillment("error", "2026-11-02T15:05:00+01:00")).await;

    assert_eq!(failed.result, "fulfillment_withdrawn");
    assert!(failed.shipments.is_empty());
    assert_eq!((failed.events.accepted, failed.events.rejected), (0, 0));
    assert!(shop.order("2077").await.shipments.is_empty());
}

#[tokio::test]
async fn an_edited_order_names_its_buyer_and_owes_only_its_current_quantities() {
    let shop = shop().await;
    shop.send("orders/create", &gift_order()).await;
    let order = shop.order("2077").await.order;
    assert_eq!(order.customer.name.as_deref(), Some("Mara Lind"), "the buyer, not the recipient");
    assert_eq!(order.customer.postal_code.as_deref(), Some("10435"));
    assert_eq!(order.ship_to.city.as_deref(), Some("Hamburg"));

    let mut edited = gift_order();
    edited["line_items"][0]["current_quantity"] = json!(1);
    edited["line_items"][1]["current_quantity"] = json!(0);
    edited["current_total_price"] = json!("31.00");
    shop.send("orders/updated", &edited).await;

    let order = shop.order("2077").await;
    assert_eq!(order.order.items.len(), 1, "the tea towel was refunded whole: nothing of it ships");
    assert_eq!(order.order.items[0].sku, "MUG-STN-12OZ");
    assert_eq!(order.order.items[0].quantity, 1);
    assert_eq!(order.items.iter().map(|i| i.ordered).sum::<u32>(), 1);
}

const ALL_ORDERS: &str = "amazon-order-id\tpurchase-date\torder-status\tsku\titem-status\tquantity\tcurrency\titem-price\n\
205-1111111-2222222\t2026-11-01T10:00:00+00:00\tShipped\tMUG-STN-12OZ\tShipped\t2\tEUR\t58.00\n\
205-1111111-2222222\t2026-11-01T10:00:00+00:00\tShipped\tTOWEL-LIN\tCancelled\t0\t\t\n\
205-3333333-4444444\t2026-11-01T11:00:00+00:00\tCancelled\tMUG-STN-12OZ\tCancelled\t0\t\t\n\
205-5555555-6666666\t2026-11-01T12:00:00+00:00\tPending\tCOASTER-4\tUnshipped\t1\t\t\n";

#[tokio::test]
async fn an_all_orders_report_is_imported_with_its_cancelled_and_pending_lines() {
    let shop = shop().await;

    let summary =
        shop.app.import_orders(&shop.caller, Some(ImportFormat::Amazon), ALL_ORDERS.as_bytes()).await.unwrap();

    assert!(summary.written, "{summary:?}");
    assert!(summary.rejected.is_empty());
    let shipped = shop.order("205-1111111-2222222").await;
    assert_ne!(shipped.status, OrderStatus::Cancelled, "one cancelled line does not cancel the order");
    assert_eq!(shipped.order.items.len(), 1, "the cancelled line is not a line to ship");
    assert_eq!(shop.order("205-3333333-4444444").await.status, OrderStatus::Cancelled);
    let pending = shop.order("205-5555555-6666666").await;
    assert_eq!(pending.order.items[0].quantity, 1);
    assert_eq!(pending.status, OrderStatus::Placed);
}

#[tokio::test]
async fn an_order_files_format_is_read_from_its_header_row_not_from_what_was_declared() {
    let shop = shop().await;

    let as_csv = shop.app.validate_import(Some(ImportFormat::Csv), ALL_ORDERS.as_bytes()).unwrap();
    assert_eq!(as_csv.format, ImportFormat::Amazon);
    assert!(as_csv.rejected.is_empty());
    assert_eq!(as_csv.orders.len(), 3);

    let csv = "order_number,placed_at,currency,sku,quantity,unit_price\nSO-1,2026-11-01T10:00:00Z,USD,MUG,1,9.50\n";
    let undeclared = shop.app.validate_import(None, csv.as_bytes()).unwrap();
    assert_eq!(undeclared.format, ImportFormat::Csv);
    assert_eq!(undeclared.orders.len(), 1);

    // A header that shows neither format is read as declared, so its parser names what is missing.
    let declared = shop.app.validate_import(Some(ImportFormat::Amazon), b"purchase-date\tsku\tquantity\n");
    match declared {
        Err(AppError::Invalid { field, message }) => {
            assert_eq!(field, "body");
            assert!(message.contains("order-id"), "{message}");
        }
        other => panic!("expected the missing column to be named, got {other:?}"),
    }
    match shop.app.validate_import(None, b"id;total\n1;2\n") {
        Err(AppError::Invalid { field, message }) => {
            assert_eq!(field, "body");
            assert!(message.contains("order_number") && message.contains("amazon-order-id"), "{message}");
        }
        other => panic!("expected a refusal naming the header, got {other:?}"),
    }
}
