//! The store story of returns (RMA): eligibility rules per account, compare-and-set state changes
//! with their history, the returns queue, and return parcels whose carrier and warehouse scans
//! move their return on their own. Every backend must pass it.

mod backends;

use backends::{Backend, TestStore};
use chrono::{DateTime, Utc};
use milepost_domain::order::Channel;
use milepost_domain::{
    AccountName, Address, Customer, Direction, EventSource, LineItem, Milestone, Money, Order, OrderNumber, ReturnItem,
    ReturnPolicy, ReturnReason, ReturnState, Shipment, ShipmentItem, TrackingEvent, TrackingNumber,
};
use milepost_store::{
    AccountId, EventTarget, MappingState, NewEvent, NewReturn, NewShipment, ReturnMove, Store, StoreError,
};
use std::sync::Arc;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn store(backend: Backend) -> (TestStore, Arc<dyn Store>) {
    let place = TestStore::open(backend).expect("backend available");
    let store = place.store.clone();
    (place, store)
}

fn parcel(tracking: &str, direction: Direction, items: Vec<ShipmentItem>) -> NewShipment {
    NewShipment {
        shipment: Shipment {
            carrier: Some("ups".into()),
            service: None,
            tracking_number: TrackingNumber::parse(tracking).unwrap(),
            direction,
            origin_location_id: None,
            origin_postal_code: None,
            origin_country: None,
            items,
            label_cost: None,
            handling_cost: None,
        },
    }
}

fn event(
    tracking: &str,
    id: &str,
    source: EventSource,
    milestone: Option<Milestone>,
    code: Option<&str>,
    at: &str,
) -> NewEvent {
    NewEvent {
        target: EventTarget::Tracking(TrackingNumber::parse(tracking).unwrap()),
        carrier: Some("ups".into()),
        mapping: if milestone.is_some() { MappingState::Given } else { MappingState::Informational },
        event: TrackingEvent {
            source,
            source_event_id: Some(id.into()),
            milestone,
            code: code.map(Into::into),
            description: None,
            occurred_at: DateTime::parse_from_rfc3339(at).unwrap(),
            received_at: utc(at),
            location: None,
        },
        raw: None,
    }
}

/// An order of two mugs in one parcel.
async fn order_with_parcel(store: &Arc<dyn Store>, account: AccountId, number: &OrderNumber, tracking: &str) {
    let order = Order {
        order_number: number.clone(),
        channel: Channel::api(),
        placed_at: DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap(),
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
    store.upsert_order(account, order).await.unwrap();
    store.add_shipment(account, number, parcel(tracking, Direction::Outbound, vec![])).await.unwrap();
}

/// An order of two mugs, delivered on 2026-11-03.
async fn delivered_order(store: &Arc<dyn Store>, account: AccountId, number: &OrderNumber) {
    order_with_parcel(store, account, number, "1ZOUT0001").await;
    let delivered =
        event("1ZOUT0001", "d1", EventSource::Carrier, Some(Milestone::Delivered), None, "2026-11-03T15:00:00Z");
    store.append_events(account, vec![delivered]).await.unwrap();
}

fn one_mug(at: &str) -> NewReturn {
    NewReturn {
        items: vec![ReturnItem { sku: "MUG".into(), quantity: 1, reason: ReturnReason::Defective }],
        note: None,
        source: "staff".into(),
        requested_at: utc(at),
    }
}

fn step(id: i64, from: ReturnState, to: ReturnState, at: &str) -> ReturnMove {
    ReturnMove { return_id: id, from, to, actor: "key:test".into(), note: Some(format!("to {to}")), at: utc(at) }
}

async fn the_return_policy_is_the_default_until_set_and_belongs_to_its_account(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let globex = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    assert_eq!(store.return_policy(acme).await.unwrap(), ReturnPolicy::default());
    let policy = ReturnPolicy {
        window_days: 7,
        non_returnable_skus: ["GIFT".to_string(), "SOAP".to_string()].into(),
        reasons: vec![ReturnReason::Damaged, ReturnReason::WrongItem],
    };
    store.put_return_policy(acme, policy.clone(), utc("2026-11-05T00:00:00Z")).await.unwrap();
    assert_eq!(store.return_policy(acme).await.unwrap(), policy);
    assert_eq!(store.return_policy(globex).await.unwrap(), ReturnPolicy::default());
    let shorter = ReturnPolicy { window_days: 3, ..policy };
    store.put_return_policy(acme, shorter.clone(), utc("2026-11-06T00:00:00Z")).await.unwrap();
    assert_eq!(store.return_policy(acme).await.unwrap(), shorter);
}

async fn a_move_is_stored_only_from_the_state_it_was_checked_against(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let globex = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    let number = OrderNumber::parse("R-1").unwrap();
    delivered_order(&store, acme, &number).await;
    let created = store.create_return(acme, &number, one_mug("2026-11-04T09:00:00Z")).await.unwrap();
    assert_eq!(created.created_at, utc("2026-11-04T09:00:00Z"));
    assert!(created.history.is_empty());

    let moved = store
        .move_return(acme, step(created.id, ReturnState::Requested, ReturnState::Approved, "2026-11-04T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(moved.order_number, number);
    assert_eq!(moved.record.state, ReturnState::Approved);
    assert_eq!(moved.record.history[0].from, Some(ReturnState::Requested));
    assert_eq!(moved.record.history[0].at, utc("2026-11-04T10:00:00Z"));

    let stale = store
        .move_return(acme, step(created.id, ReturnState::Requested, ReturnState::Rejected, "2026-11-04T11:00:00Z"))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let foreign = store
        .move_return(globex, step(created.id, ReturnState::Approved, ReturnState::Rejected, "2026-11-04T11:00:00Z"))
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");
    assert_eq!(store.return_by_id(globex, created.id).await.unwrap(), None);

    let queue = store.returns_queue(acme, Some(ReturnState::Approved), 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert!(store.returns_queue(acme, Some(ReturnState::Requested), 10).await.unwrap().is_empty());
    assert!(store.returns_queue(globex, None, 10).await.unwrap().is_empty());
}

async fn a_return_parcel_moves_its_approved_return_to_transit_and_the_warehouse_scan_receives_it(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let number = OrderNumber::parse("R-2").unwrap();
    delivered_order(&store, acme, &number).await;
    let ret = store.create_return(acme, &number, one_mug("2026-11-04T09:00:00Z")).await.unwrap();
    let items = vec![ShipmentItem { sku: "MUG".into(), quantity: 1 }];
    store.add_shipment(acme, &number, parcel("1ZBACK0001", Direction::Return, items)).await.unwrap();

    // Still `requested`: a scan of the parcel does not approve the return.
    let picked_up =
        event("1ZBACK0001", "b1", EventSource::Carrier, Some(Milestone::InTransit), None, "2026-11-05T09:00:00Z");
    store.append_events(acme, vec![picked_up]).await.unwrap();
    assert_eq!(store.return_by_id(acme, ret.id).await.unwrap().unwrap().record.state, ReturnState::Requested);

    store
        .move_return(acme, step(ret.id, ReturnState::Requested, ReturnState::Approved, "2026-11-05T10:00:00Z"))
        .await
        .unwrap();
    let moving =
        event("1ZBACK0001", "b2", EventSource::Carrier, Some(Milestone::InTransit), None, "2026-11-05T18:00:00Z");
    store.append_events(acme, vec![moving]).await.unwrap();
    let read = store.return_by_id(acme, ret.id).await.unwrap().unwrap().record;
    assert_eq!(read.state, ReturnState::InReturnTransit);
    assert_eq!(read.return_tracking_number.as_deref(), Some("1ZBACK0001"));
    assert_eq!(read.history.last().unwrap().actor, "system");

    let receive =
        event("1ZBACK0001", "w1", EventSource::Warehouse, None, Some("return_receive"), "2026-11-07T08:00:00Z");
    store.append_events(acme, vec![receive]).await.unwrap();
    let read = store.return_by_id(acme, ret.id).await.unwrap().unwrap().record;
    assert_eq!(read.state, ReturnState::Received);
    assert_eq!(read.history.last().unwrap().at, utc("2026-11-07T08:00:00Z"));
    let steps: Vec<ReturnState> = read.history.iter().map(|s| s.to).collect();
    assert_eq!(steps, [ReturnState::Approved, ReturnState::InReturnTransit, ReturnState::Received]);
}

async fn a_claim_opens_once_from_a_damage_exception_and_moves_compare_and_set(backend: Backend) {
    use milepost_domain::claims::ClaimState;
    use milepost_store::{ExceptionQuery, NewClaim};
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let globex = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    let number = OrderNumber::parse("C-1").unwrap();
    order_with_parcel(&store, acme, &number, "1ZDMG0001").await;
    let damaged =
        event("1ZDMG0001", "x1", EventSource::Carrier, Some(Milestone::Exception), None, "2026-11-05T09:00:00Z");
    store.append_events(acme, vec![damaged]).await.unwrap();
    let page = store.exceptions(acme, ExceptionQuery { limit: 50, ..ExceptionQuery::default() }).await.unwrap();
    let exception = page.exceptions.iter().find(|e| e.kind == "carrier_exception").expect("carrier_exception");
    let claim = |exception_id| NewClaim {
        exception_id,
        carrier: None,
        amount: Money::parse("19.99").unwrap(),
        evidence: Some("photos".into()),
        actor: "key:test".into(),
        at: utc("2026-11-06T09:00:00Z"),
    };

    let opened = store.open_claim(acme, claim(exception.id)).await.unwrap();
    assert_eq!((opened.state, opened.carrier.as_deref()), (ClaimState::Open, Some("ups")));
    assert_eq!(opened.order_number, number);
    assert!(matches!(store.open_claim(acme, claim(exception.id)).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.open_claim(globex, claim(exception.id)).await, Err(StoreError::NotFound(_))));

    let at = utc("2026-11-07T09:00:00Z");
    let moved = store.move_claim(acme, opened.id, ClaimState::Open, ClaimState::Submitted, at).await.unwrap();
    assert_eq!((moved.state, moved.updated_at), (ClaimState::Submitted, at));
    let stale = store.move_claim(acme, opened.id, ClaimState::Open, ClaimState::Closed, at).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.claims_of_order(acme, &number).await.unwrap().len(), 1);
    assert!(store.claims_of_order(globex, &number).await.unwrap().is_empty());
}

on_both_backends!(
    the_return_policy_is_the_default_until_set_and_belongs_to_its_account,
    a_move_is_stored_only_from_the_state_it_was_checked_against,
    a_return_parcel_moves_its_approved_return_to_transit_and_the_warehouse_scan_receives_it,
    a_claim_opens_once_from_a_damage_exception_and_moves_compare_and_set,
);
