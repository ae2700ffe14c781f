//! The outbox part of the store story, behaviour every backend must show: messages are queued
//! in the transaction of their cause and once per dedupe key, a claim holds for its lease, a
//! result counts only under the claim that sent it, and dead letters can be resent.

mod backends;

use backends::{Backend, TestStore};
use chrono::{DateTime, Duration, Utc};
use milepost_domain::order::Channel;
use milepost_domain::{
    AccountName, Address, Customer, Direction, EventSource, LineItem, Milestone, Money, Order, OrderNumber, Shipment,
    TrackingEvent, TrackingNumber,
};
use milepost_store::{
    AccountId, DeliveryOutcome, EventTarget, MappingState, NewEvent, NewShipment, NotificationSettings, Store,
    StoreError,
};
use std::sync::Arc;

const TN: &str = "1Z999AA10123456784";

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn order(number: &str) -> Order {
    Order {
        charged: None,
        order_number: OrderNumber::parse(number).unwrap(),
        channel: Channel::api(),
        placed_at: at("2026-11-01T10:00:00-05:00"),
        promised_by: Some(at("2099-01-01T00:00:00Z")),
        currency: "USD".into(),
        customer: Customer { email: Some("ana@example.com".into()), ..Customer::default() },
        ship_to: Address { postal_code: Some("78701".into()), ..Address::default() },
        items: vec![LineItem {
            sku: "MUG".into(),
            description: None,
            quantity: 1,
            unit_price: Money::parse("10").unwrap(),
        }],
    }
}

fn parcel() -> NewShipment {
    NewShipment {
        shipment: Shipment {
            carrier: Some("ups".into()),
            service: Some("ground".into()),
            tracking_number: TrackingNumber::parse(TN).unwrap(),
            direction: Direction::Outbound,
            origin_location_id: None,
            origin_postal_code: None,
            origin_country: None,
            items: vec![],
            label_cost: None,
            handling_cost: None,
        },
    }
}

fn scan(id: &str, milestone: Milestone, when: &str, received_at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        carrier_estimate: None,
        target: EventTarget::Tracking(TrackingNumber::parse(TN).unwrap()),
        carrier: Some("ups".into()),
        mapping: MappingState::Given,
        event: TrackingEvent {
            source: EventSource::Carrier,
            source_event_id: Some(id.into()),
            milestone: Some(milestone),
            code: None,
            description: None,
            occurred_at: at(when),
            received_at,
            location: None,
        },
        raw: None,
    }
}

async fn fresh(backend: Backend) -> (TestStore, Arc<dyn Store>, AccountId, DateTime<Utc>) {
    let dir = TestStore::open(backend).expect("backend available");
    let store = dir.store.clone();
    let account = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    store.upsert_order(account, order("O-1")).await.unwrap();
    store.add_shipment(account, &OrderNumber::parse("O-1").unwrap(), parcel()).await.unwrap();
    let now = DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").unwrap().with_timezone(&Utc);
    (dir, store, account, now)
}

async fn a_change_queues_its_message_once_however_often_it_is_reported(backend: Backend) {
    let (_dir, store, account, now) = fresh(backend).await;
    let batch = vec![scan("a", Milestone::HandedToCarrier, "2026-11-09T10:00:00Z", now)];
    store.append_events(account, batch.clone()).await.unwrap();
    store.append_events(account, batch).await.unwrap();
    store.append_events(account, vec![scan("b", Milestone::InTransit, "2026-11-09T12:00:00Z", now)]).await.unwrap();
    let list = store.order_notifications(account, &OrderNumber::parse("O-1").unwrap()).await.unwrap();
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0].milestone.as_deref(), Some("shipped"));
    assert_eq!(list[0].dedupe_key, format!("O-1/{TN}/shipped/customer/email"));
    assert_eq!(list[0].next_attempt_at, Some(now), "due when its cause was received");
}

async fn a_claim_holds_for_its_lease_and_only_its_holder_records_the_result(backend: Backend) {
    let (_dir, store, account, now) = fresh(backend).await;
    store
        .append_events(account, vec![scan("a", Milestone::HandedToCarrier, "2026-11-09T10:00:00Z", now)])
        .await
        .unwrap();
    let lease = Duration::minutes(2);
    let first = store.claim_notifications(now, lease, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].customer_email.as_deref(), Some("ana@example.com"));
    assert!(store.claim_notifications(now + Duration::minutes(1), lease, 10).await.unwrap().is_empty());
    let second = store.claim_notifications(now + Duration::minutes(3), lease, 10).await.unwrap();
    assert_eq!((second.len(), second[0].attempts), (1, 2));
    let late = store.finish_notification(first[0].id, &first[0].claim, DeliveryOutcome::Sent, now).await.unwrap();
    assert!(!late, "the first claim ran out");
    let done = store.finish_notification(second[0].id, &second[0].claim, DeliveryOutcome::Sent, now).await.unwrap();
    assert!(done);
    assert!(store.claim_notifications(now + Duration::hours(1), lease, 10).await.unwrap().is_empty());
}

async fn a_retry_waits_its_time_and_a_dead_letter_can_be_resent_once(backend: Backend) {
    let (_dir, store, account, now) = fresh(backend).await;
    store
        .append_events(account, vec![scan("a", Milestone::HandedToCarrier, "2026-11-09T10:00:00Z", now)])
        .await
        .unwrap();
    let lease = Duration::minutes(2);
    let claimed = store.claim_notifications(now, lease, 10).await.unwrap().remove(0);
    let retry = DeliveryOutcome::Retry { at: now + Duration::seconds(30), error: "421 busy".into() };
    assert!(store.finish_notification(claimed.id, &claimed.claim, retry, now).await.unwrap());
    assert!(store.claim_notifications(now + Duration::seconds(29), lease, 10).await.unwrap().is_empty());
    let again = store.claim_notifications(now + Duration::seconds(30), lease, 10).await.unwrap().remove(0);
    let dead = DeliveryOutcome::Dead { error: "550 no such user".into() };
    assert!(store.finish_notification(again.id, &again.claim, dead, now).await.unwrap());
    let letters = store.dead_notifications(account, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].state.as_str(), letters[0].last_error.as_deref()), ("failed", Some("550 no such user")));
    let other = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    assert!(matches!(store.resend_notification(other, again.id, now).await, Err(StoreError::NotFound(_))));
    let resent = store.resend_notification(account, again.id, now).await.unwrap();
    assert_eq!((resent.state.as_str(), resent.attempts), ("pending", 0));
    assert!(matches!(store.resend_notification(account, again.id, now).await, Err(StoreError::Conflict(_))));
}

async fn delivery_settings_are_per_account(backend: Backend) {
    let (_dir, store, account, now) = fresh(backend).await;
    let settings = NotificationSettings {
        webhook_url: Some("https://hooks.acme.test/m".into()),
        webhook_secret: Some("0123456789abcdef".into()),
        alert_email: Some("ops@acme.test".into()),
        chat_webhook_url: Some("https://chat.acme.test/hooks/T1".into()),
    };
    store.set_notification_settings(account, settings.clone(), now).await.unwrap();
    assert_eq!(store.notification_settings(account).await.unwrap(), settings);
    let other = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    assert_eq!(store.notification_settings(other).await.unwrap(), NotificationSettings::default());
    // With a webhook set, a notice also goes to the merchant's systems; the parcel reached the
    // carrier without a warehouse scan, so the team is alerted (missing_scan) first.
    store
        .append_events(account, vec![scan("a", Milestone::HandedToCarrier, "2026-11-09T10:00:00Z", now)])
        .await
        .unwrap();
    let list = store.order_notifications(account, &OrderNumber::parse("O-1").unwrap()).await.unwrap();
    let rows: Vec<_> = list
        .iter()
        .map(|n| (n.audience.as_str(), n.channel.as_str(), n.kind.as_deref().or(n.milestone.as_deref()).unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("internal", "email", "missing_scan"),
            ("internal", "chat", "missing_scan"),
            ("internal", "webhook", "missing_scan"),
            ("customer", "email", "shipped"),
            ("internal", "webhook", "shipped")
        ]
    );
}

on_both_backends!(
    a_change_queues_its_message_once_however_often_it_is_reported,
    a_claim_holds_for_its_lease_and_only_its_holder_records_the_result,
    a_retry_waits_its_time_and_a_dead_letter_can_be_resent_once,
    delivery_settings_are_per_account,
);
