//! The store story of returns (RMA): eligibility rules per account, compare-and-set state changes
//! with their history, the returns queue, and return parcels whose carrier and warehouse scans
//! move their return on their own. Every backend must pass it.

mod backends;

use backends::{Backend, TestStore};
use chrono::{DateTime, Utc};
use milepost_domain::OrderStatus;
use milepost_domain::order::Channel;
use milepost_domain::return_to_sender::SenderDecision;
use milepost_domain::{
    AccountName, Address, Customer, Direction, EventSource, LineItem, Milestone, Money, Order, OrderNumber, ReturnItem,
    ReturnPolicy, ReturnReason, ReturnState, Shipment, ShipmentItem, TrackingEvent, TrackingNumber,
};
use milepost_domain::{Disposition, InspectedItem, InspectionResult};
use milepost_store::{
    AccountId, EventTarget, ExceptionQuery, MappingState, NewEvent, NewReturn, NewShipment, ParcelDecision, ReturnMove,
    Store, StoreError,
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
        carrier_estimate: None,
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
        charged: None,
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
    ReturnMove {
        return_id: id,
        from,
        to,
        actor: "key:test".into(),
        note: Some(format!("to {to}")),
        at: utc(at),
        replacement: None,
    }
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
    let waiting = store.return_by_id(acme, ret.id).await.unwrap().unwrap().record;
    assert_eq!(waiting.state, ReturnState::Requested);
    // Not lost: the parcel waits on the return, and staff are told it moves.
    assert_eq!(waiting.return_tracking_number.as_deref(), Some("1ZBACK0001"));
    assert_eq!(kinds_open(&store, acme, &number).await, ["return_in_motion"]);

    let approved = store
        .move_return(acme, step(ret.id, ReturnState::Requested, ReturnState::Approved, "2026-11-05T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(approved.record.state, ReturnState::InReturnTransit, "approval picks up the parcel already moving");
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

fn decision(number: &OrderNumber, tracking: &str, decided: SenderDecision, at: &str) -> ParcelDecision {
    ParcelDecision {
        order_number: number.clone(),
        tracking_number: tracking.into(),
        decision: decided,
        note: Some("checked with the customer".into()),
        actor: "staff:ops@acme.example".into(),
        at: utc(at),
        reship: None,
    }
}

/// The open return-to-sender exceptions of an order.
async fn kinds_open(store: &Arc<dyn Store>, account: AccountId, number: &OrderNumber) -> Vec<String> {
    let query = ExceptionQuery {
        state: None,
        kind: None,
        order_number: Some(number.clone()),
        owner: None,
        carrier: None,
        opened_before: None,
        cursor: None,
        limit: 50,
    };
    let page = store.exceptions(account, query).await.unwrap();
    // Only the return-to-sender kinds: the parcel was never scanned packed, which is another story.
    let about_the_return = |kind: &str| kind == "returned_to_sender" || kind == "return_in_motion";
    page.exceptions.into_iter().filter(|e| e.state != "resolved" && about_the_return(&e.kind)).map(|e| e.kind).collect()
}

async fn a_parcel_back_with_the_sender_takes_one_decision_and_a_reship_carries_its_items_again(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let globex = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    let number = OrderNumber::parse("RTS-1").unwrap();
    order_with_parcel(&store, acme, &number, "1ZRTS0001").await;
    let turned = vec![
        event("1ZRTS0001", "c1", EventSource::Carrier, Some(Milestone::InTransit), None, "2026-11-02T09:00:00Z"),
        event(
            "1ZRTS0001",
            "c2",
            EventSource::Carrier,
            Some(Milestone::ReturningToSender),
            None,
            "2026-11-04T09:00:00Z",
        ),
    ];
    store.append_events(acme, turned).await.unwrap();
    let early = store
        .decide_returned_parcel(acme, decision(&number, "1ZRTS0001", SenderDecision::Refund, "2026-11-04T10:00:00Z"));
    assert!(matches!(early.await, Err(StoreError::Conflict(m)) if m.contains("not back")));
    assert_eq!(store.order(acme, &number).await.unwrap().unwrap().status, OrderStatus::ReturningToSender);

    let scanned = event("1ZRTS0001", "w1", EventSource::Warehouse, None, Some("receive"), "2026-11-06T08:00:00Z");
    store.append_events(acme, vec![scanned]).await.unwrap();
    assert_eq!(kinds_open(&store, acme, &number).await, ["returned_to_sender"]);

    let foreign = store
        .decide_returned_parcel(globex, decision(&number, "1ZRTS0001", SenderDecision::Cancel, "2026-11-06T09:00:00Z"));
    assert!(matches!(foreign.await, Err(StoreError::NotFound(_))), "another account's parcel is not found");
    let no_parcel = store
        .decide_returned_parcel(acme, decision(&number, "1ZRTS0001", SenderDecision::Reship, "2026-11-06T09:00:00Z"));
    assert!(matches!(no_parcel.await, Err(StoreError::Invalid { field, .. }) if field == "shipment"));

    let mut reship = decision(&number, "1ZRTS0001", SenderDecision::Reship, "2026-11-06T10:00:00Z");
    reship.reship = Some(parcel("1ZRTS0002", Direction::Outbound, vec![]).shipment);
    let new = store.decide_returned_parcel(acme, reship.clone()).await.unwrap().expect("the reshipped parcel");
    assert_eq!(new.shipment.tracking_number.as_str(), "1ZRTS0002");
    assert_eq!(new.shipment.items, vec![ShipmentItem { sku: "MUG".into(), quantity: 2 }]);
    assert!(kinds_open(&store, acme, &number).await.is_empty(), "the decision closes the task");
    let again = store
        .decide_returned_parcel(acme, decision(&number, "1ZRTS0001", SenderDecision::Cancel, "2026-11-06T11:00:00Z"));
    assert!(matches!(again.await, Err(StoreError::Conflict(m)) if m.contains("already decided: `reship`")));

    let order = store.order(acme, &number).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::InFulfillment);
    let back = order.shipments.iter().find(|s| s.shipment.tracking_number.as_str() == "1ZRTS0001").unwrap();
    let last = &back.timeline.last().unwrap().event;
    assert_eq!((last.source, last.code.as_deref()), (EventSource::Staff, Some("rts_decision_reship")));
}

async fn a_cancel_decision_cancels_the_lines_not_delivered(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let number = OrderNumber::parse("RTS-2").unwrap();
    order_with_parcel(&store, acme, &number, "1ZRTS0003").await;
    let back = vec![
        event("1ZRTS0003", "c1", EventSource::Carrier, Some(Milestone::InTransit), None, "2026-11-02T09:00:00Z"),
        event("1ZRTS0003", "c2", EventSource::Carrier, Some(Milestone::ReturnedToSender), None, "2026-11-05T09:00:00Z"),
    ];
    store.append_events(acme, back).await.unwrap();
    assert_eq!(store.order(acme, &number).await.unwrap().unwrap().status, OrderStatus::ReturnedToSender);
    let none = store
        .decide_returned_parcel(acme, decision(&number, "1ZRTS0003", SenderDecision::Cancel, "2026-11-06T10:00:00Z"))
        .await
        .unwrap();
    assert!(none.is_none());
    let order = store.order(acme, &number).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(order.timeline.iter().any(|e| e.event.milestone == Some(Milestone::Cancelled)));
}

async fn a_released_replacement_registers_its_parcel_with_the_returned_items(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let number = OrderNumber::parse("R-REP").unwrap();
    delivered_order(&store, acme, &number).await;
    let ret = store.create_return(acme, &number, one_mug("2026-11-04T09:00:00Z")).await.unwrap();
    use ReturnState::*;
    for (from, to) in
        [(Requested, Approved), (Approved, InReturnTransit), (InReturnTransit, Received), (Received, InspectionPending)]
    {
        store.move_return(acme, step(ret.id, from, to, "2026-11-05T10:00:00Z")).await.unwrap();
    }
    let inspected = vec![InspectedItem {
        sku: "MUG".into(),
        quantity: 1,
        result: InspectionResult::Damaged,
        disposition: Disposition::Scrap,
    }];
    let decided = step(ret.id, InspectionPending, DispositionDecided, "2026-11-06T10:00:00Z");
    store.record_inspection(acme, decided, inspected).await.unwrap();

    let mut release = step(ret.id, DispositionDecided, ReplacementReleased, "2026-11-06T11:00:00Z");
    release.replacement = Some(parcel("1ZOUT0001", Direction::Outbound, vec![]).shipment);
    let taken = store.move_return(acme, release.clone()).await;
    assert!(matches!(taken, Err(StoreError::Invalid { field, .. }) if field == "shipment.tracking_number"));
    assert_eq!(
        store.return_by_id(acme, ret.id).await.unwrap().unwrap().record.state,
        DispositionDecided,
        "all or nothing"
    );

    release.replacement = Some(parcel("1ZREPL0001", Direction::Outbound, vec![]).shipment);
    let moved = store.move_return(acme, release).await.unwrap();
    assert_eq!(moved.record.state, ReplacementReleased);
    let order = store.order(acme, &number).await.unwrap().unwrap();
    let replacement = order.shipments.iter().find(|s| s.shipment.tracking_number.as_str() == "1ZREPL0001").unwrap();
    assert_eq!(replacement.shipment.direction, Direction::Outbound);
    assert_eq!(replacement.shipment.items, vec![ShipmentItem { sku: "MUG".into(), quantity: 1 }]);
    assert_eq!(order.status, OrderStatus::Delivered, "the order itself was delivered in full");
}

/// An order of two mugs for a customer with an e-mail address, delivered on 2026-11-03.
async fn delivered_order_with_email(store: &Arc<dyn Store>, acme: AccountId, number: &OrderNumber) {
    let order = Order {
        charged: None,
        order_number: number.clone(),
        channel: Channel::api(),
        placed_at: DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap(),
        promised_by: None,
        currency: "USD".into(),
        customer: Customer { email: Some("ana@example.com".into()), ..Customer::default() },
        ship_to: Address::default(),
        items: vec![LineItem {
            sku: "MUG".into(),
            description: None,
            quantity: 2,
            unit_price: Money::parse("10").unwrap(),
        }],
    };
    store.upsert_order(acme, order).await.unwrap();
    store.add_shipment(acme, number, parcel("1ZOUT0009", Direction::Outbound, vec![])).await.unwrap();
    let delivered =
        event("1ZOUT0009", "d9", EventSource::Carrier, Some(Milestone::Delivered), None, "2026-11-03T15:00:00Z");
    store.append_events(acme, vec![delivered]).await.unwrap();
}

async fn a_rejection_tells_the_customer_why_through_the_claimed_message(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let number = OrderNumber::parse("R-NO").unwrap();
    delivered_order_with_email(&store, acme, &number).await;
    let ret = store.create_return(acme, &number, one_mug("2026-11-04T09:00:00Z")).await.unwrap();
    let mut reject = step(ret.id, ReturnState::Requested, ReturnState::Rejected, "2026-11-04T10:00:00Z");
    reject.note = Some("the mug was used".into());
    store.move_return(acme, reject).await.unwrap();

    let claimed =
        store.claim_notifications(utc("2026-11-04T10:00:01Z"), chrono::Duration::minutes(5), 50).await.unwrap();
    let rejected: Vec<_> = claimed
        .iter()
        .filter(|m| m.subject == milepost_store::Subject::Notice(milepost_domain::notify::Notice::ReturnRejected))
        .collect();
    assert_eq!(rejected.len(), 1, "one message to the customer's e-mail: {claimed:#?}");
    assert_eq!(rejected[0].detail.as_deref(), Some("the mug was used"));
    assert!(claimed.iter().filter(|m| m.subject != rejected[0].subject).all(|m| m.detail.is_none()));
}

/// Two returns of one order, neither with a parcel yet: each answer is its own message (the
/// messages of a return without a parcel are told apart by the return, not only by the order).
async fn each_return_of_an_order_gets_its_own_answer_before_any_parcel(backend: Backend) {
    let (_dir, store) = store(backend);
    let acme = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    let number = OrderNumber::parse("R-TWO").unwrap();
    delivered_order_with_email(&store, acme, &number).await;
    let first = store.create_return(acme, &number, one_mug("2026-11-04T09:00:00Z")).await.unwrap();
    let mut reject = step(first.id, ReturnState::Requested, ReturnState::Rejected, "2026-11-04T10:00:00Z");
    reject.note = Some("the mug was used".into());
    store.move_return(acme, reject).await.unwrap();
    let second = store.create_return(acme, &number, one_mug("2026-11-05T09:00:00Z")).await.unwrap();
    let mut reject = step(second.id, ReturnState::Requested, ReturnState::Rejected, "2026-11-05T10:00:00Z");
    reject.note = Some("no receipt".into());
    store.move_return(acme, reject).await.unwrap();
    let third = store.create_return(acme, &number, one_mug("2026-11-06T09:00:00Z")).await.unwrap();
    store
        .move_return(acme, step(third.id, ReturnState::Requested, ReturnState::Approved, "2026-11-06T10:00:00Z"))
        .await
        .unwrap();
    let fourth = store.create_return(acme, &number, one_mug("2026-11-06T11:00:00Z")).await.unwrap();
    store
        .move_return(acme, step(fourth.id, ReturnState::Requested, ReturnState::Approved, "2026-11-06T12:00:00Z"))
        .await
        .unwrap();

    let claimed =
        store.claim_notifications(utc("2026-11-06T12:00:01Z"), chrono::Duration::minutes(5), 50).await.unwrap();
    let customer = |notice: milepost_domain::notify::Notice| -> Vec<Option<String>> {
        let mut details: Vec<_> = claimed
            .iter()
            .filter(|m| m.subject == milepost_store::Subject::Notice(notice))
            .map(|m| m.detail.clone())
            .collect();
        details.sort();
        details
    };
    use milepost_domain::notify::Notice;
    assert_eq!(
        customer(Notice::ReturnRejected),
        vec![Some("no receipt".to_string()), Some("the mug was used".to_string())],
        "each rejection is its own message with its own reason: {claimed:#?}"
    );
    assert_eq!(customer(Notice::ReturnApproved).len(), 2, "each approval is its own message: {claimed:#?}");
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
    a_parcel_back_with_the_sender_takes_one_decision_and_a_reship_carries_its_items_again,
    a_cancel_decision_cancels_the_lines_not_delivered,
    a_released_replacement_registers_its_parcel_with_the_returned_items,
    a_rejection_tells_the_customer_why_through_the_claimed_message,
    each_return_of_an_order_gets_its_own_answer_before_any_parcel,
);
