//! The store story of the customer pages: account selection, branding, the generated link
//! secret, and return requests that never exceed what shipped. Every backend must pass it.

mod backends;

use backends::{Backend, TestStore};
use chrono::{DateTime, Utc};
use milepost_domain::order::Channel;
use milepost_domain::{
    AccountName, Address, Branding, Customer, Direction, EventSource, HexColor, LineItem, Milestone, Money, Order,
    OrderNumber, ReturnItem, ReturnReason, ReturnState, Shipment, TrackingEvent, TrackingNumber,
};
use milepost_store::{EventTarget, MappingState, NewEvent, NewReturn, NewShipment, Store, StoreError};
use std::sync::Arc;

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn store(backend: Backend) -> (TestStore, Arc<dyn Store>) {
    let place = TestStore::open(backend).expect("backend available");
    let store = place.store.clone();
    (place, store)
}

fn account(name: &str) -> AccountName {
    AccountName::parse(name).unwrap()
}

async fn the_sole_account_is_found_only_while_there_is_exactly_one(backend: Backend) {
    let (_dir, store) = store(backend);
    assert_eq!(store.sole_account().await.unwrap(), None);
    let acme = store.ensure_account(&account("acme")).await.unwrap();
    assert_eq!(store.sole_account().await.unwrap(), Some(acme));
    assert_eq!(store.account_by_name(&account("acme")).await.unwrap(), Some(acme));
    store.ensure_account(&account("globex")).await.unwrap();
    assert_eq!(store.sole_account().await.unwrap(), None);
    assert_eq!(store.account_by_name(&account("initech")).await.unwrap(), None);
}

async fn branding_round_trips_per_account(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&account("acme")).await.unwrap();
    let globex = store.ensure_account(&account("globex")).await.unwrap();
    assert_eq!(store.branding(acme).await.unwrap(), Branding::default());
    let branding = Branding {
        name: Some("Acme".into()),
        primary_color: Some(HexColor::parse("#102a43").unwrap()),
        support_email: Some("help@acme.example".into()),
        ..Branding::default()
    };
    store.put_branding(acme, branding.clone()).await.unwrap();
    assert_eq!(store.branding(acme).await.unwrap(), branding);
    assert_eq!(store.branding(globex).await.unwrap(), Branding::default());
}

async fn a_server_secret_is_generated_once_and_kept(backend: Backend) {
    let (dir, store) = store(backend);
    let first = store.server_secret("link", "candidate-1").await.unwrap();
    assert_eq!(first, "candidate-1");
    assert_eq!(store.server_secret("link", "candidate-2").await.unwrap(), "candidate-1");
    drop(store);
    let reopened = dir.reopen();
    assert_eq!(reopened.server_secret("link", "candidate-3").await.unwrap(), "candidate-1");
}

async fn a_return_may_ask_for_no_more_than_shipped_less_earlier_requests(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&account("acme")).await.unwrap();
    let number = OrderNumber::parse("R-1").unwrap();
    let order = Order {
        charged: None,
        order_number: number.clone(),
        channel: Channel::api(),
        placed_at: at("2026-11-01T10:00:00-05:00"),
        promised_by: None,
        currency: "USD".into(),
        customer: Customer::default(),
        ship_to: Address::default(),
        items: vec![LineItem {
            sku: "MUG".into(),
            description: None,
            quantity: 2,
            unit_price: Money::parse("10").unwrap(),
        }],
    };
    store.upsert_order(acme, order).await.unwrap();
    let request = |quantity| NewReturn {
        items: vec![ReturnItem { sku: "MUG".into(), quantity, reason: ReturnReason::Damaged }],
        note: None,
        source: "customer".into(),
        requested_at: chrono::Utc::now(),
    };
    let refused = store.create_return(acme, &number, request(1)).await.unwrap_err();
    assert!(matches!(refused, StoreError::Invalid { .. }), "nothing has shipped yet: {refused:?}");

    let tn = TrackingNumber::parse("1ZRET0001").unwrap();
    let shipment = Shipment {
        carrier: Some("ups".into()),
        service: None,
        tracking_number: tn.clone(),
        direction: Direction::Outbound,
        origin_location_id: None,
        origin_postal_code: None,
        origin_country: None,
        items: vec![],
        label_cost: None,
        handling_cost: None,
    };
    store.add_shipment(acme, &number, NewShipment { shipment }).await.unwrap();
    let delivered = NewEvent {
        carrier_estimate: None,
        target: EventTarget::Tracking(tn),
        carrier: Some("ups".into()),
        mapping: MappingState::Given,
        event: TrackingEvent {
            source: EventSource::Carrier,
            source_event_id: Some("d1".into()),
            milestone: Some(Milestone::Delivered),
            code: None,
            description: None,
            occurred_at: at("2026-11-03T15:00:00Z"),
            received_at: Utc::now(),
            location: None,
        },
        raw: None,
    };
    store.append_events(acme, vec![delivered]).await.unwrap();

    let first = store.create_return(acme, &number, request(1)).await.unwrap();
    assert_eq!(first.state, ReturnState::Requested);
    assert!(store.create_return(acme, &number, request(2)).await.is_err(), "only one mug is left");
    store.create_return(acme, &number, request(1)).await.unwrap();
    let read = store.order(acme, &number).await.unwrap().unwrap();
    assert_eq!(read.returns.len(), 2);
    assert_eq!(read.returns[0].items[0].reason, ReturnReason::Damaged);
    let other = store.ensure_account(&account("globex")).await.unwrap();
    assert!(matches!(store.create_return(other, &number, request(1)).await, Err(StoreError::NotFound(_))));
}

on_both_backends!(
    the_sole_account_is_found_only_while_there_is_exactly_one,
    branding_round_trips_per_account,
    a_server_secret_is_generated_once_and_kept,
    a_return_may_ask_for_no_more_than_shipped_less_earlier_requests,
);
