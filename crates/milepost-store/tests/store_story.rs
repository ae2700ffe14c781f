//! The store test story: behaviour every backend must show, run on SQLite and on PostgreSQL
//! (see `backends`).

mod backends;

use chrono::{DateTime, Utc};
use milepost_domain::order::Channel;
use milepost_domain::{
    AccountName, Address, Customer, Direction, EventSource, LineItem, Milestone, Money, Order, OrderNumber,
    OrderStatus, Shipment, ShipmentItem, TrackingEvent, TrackingNumber,
};
use milepost_store::sqlite::SqliteStore;
use milepost_store::{AccountId, EventOutcome, EventTarget, MappingState, NewEvent, NewShipment, OrderQuery, Store};
use std::sync::Arc;

use backends::{Backend, TestStore};

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn order(number: &str, skus: &[(&str, u32)]) -> Order {
    Order {
        charged: None,
        order_number: OrderNumber::parse(number).unwrap(),
        channel: Channel::api(),
        placed_at: at("2026-11-01T10:00:00-05:00"),
        promised_by: Some(at("2026-11-06T23:59:59-05:00")),
        currency: "USD".into(),
        customer: Customer {
            name: Some("Ana Diaz".into()),
            email: Some("ana@example.com".into()),
            ..Customer::default()
        },
        ship_to: Address { city: Some("Austin".into()), postal_code: Some("78701".into()), ..Address::default() },
        items: skus
            .iter()
            .map(|(sku, q)| LineItem {
                sku: sku.to_string(),
                description: None,
                quantity: *q,
                unit_price: Money::parse("10").unwrap(),
            })
            .collect(),
    }
}

fn parcel(tn: &str, items: &[(&str, u32)]) -> NewShipment {
    NewShipment {
        shipment: Shipment {
            carrier: Some("ups".into()),
            service: Some("ground".into()),
            tracking_number: TrackingNumber::parse(tn).unwrap(),
            direction: Direction::Outbound,
            origin_location_id: None,
            origin_postal_code: None,
            origin_country: None,
            items: items.iter().map(|(s, q)| ShipmentItem { sku: s.to_string(), quantity: *q }).collect(),
            label_cost: None,
            handling_cost: None,
        },
    }
}

fn carrier_event(tn: &str, id: &str, milestone: Milestone, when: &str) -> NewEvent {
    NewEvent {
        carrier_estimate: None,
        target: EventTarget::Tracking(TrackingNumber::parse(tn).unwrap()),
        carrier: Some("ups".into()),
        mapping: MappingState::Given,
        event: TrackingEvent {
            source: EventSource::Carrier,
            source_event_id: Some(id.into()),
            milestone: Some(milestone),
            code: None,
            description: None,
            occurred_at: at(when),
            received_at: Utc::now(),
            location: None,
        },
        raw: None,
    }
}

async fn fresh(backend: Backend) -> (TestStore, Arc<dyn Store>, AccountId) {
    let place = TestStore::open(backend).expect("backend available");
    let store = place.store.clone();
    let account = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    (place, store, account)
}

/// The SQLite store itself, for what only its group-commit writer shows.
async fn fresh_sqlite() -> (tempfile::TempDir, Arc<SqliteStore>, AccountId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("m.db")).unwrap());
    let account = store.ensure_account(&AccountName::parse("acme").unwrap()).await.unwrap();
    (dir, store, account)
}

fn number(n: &str) -> OrderNumber {
    OrderNumber::parse(n).unwrap()
}

async fn an_order_is_created_once_and_updated_in_place(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    let first = store.upsert_order(account, order("A1", &[("MUG", 1)])).await.unwrap();
    let second = store.upsert_order(account, order("A1", &[("MUG", 2)])).await.unwrap();
    assert_eq!(first, milepost_store::UpsertOutcome::Created);
    assert_eq!(second, milepost_store::UpsertOutcome::Updated);
    let read = store.order(account, &number("A1")).await.unwrap().unwrap();
    assert_eq!(read.order.items[0].quantity, 2);
    assert_eq!(read.status, OrderStatus::Placed);
    assert_eq!(read.timeline.len(), 1, "one placed event, not two");
    assert_eq!(read.timeline[0].event.milestone, Some(Milestone::Placed));
}

async fn an_order_keeps_what_was_charged_and_is_worth_it(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    let mut charged = order("C1", &[("MUG", 2)]);
    charged.charged = Some(milepost_domain::Money::parse("31.45").unwrap());
    store.upsert_order(account, charged.clone()).await.unwrap();
    let read = store.order(account, &number("C1")).await.unwrap().unwrap();
    assert_eq!(read.order.charged, charged.charged, "kept as the channel said");
    assert_eq!(read.order.value(), milepost_domain::Money::parse("31.45").unwrap());
    // An update that no longer says what was charged goes back to the lines' value.
    store.upsert_order(account, order("C1", &[("MUG", 2)])).await.unwrap();
    let read = store.order(account, &number("C1")).await.unwrap().unwrap();
    assert_eq!(read.order.charged, None);
    assert_eq!(read.order.value(), order("C1", &[("MUG", 2)]).value());
}

async fn events_in_any_order_and_twice_give_the_same_status_as_in_order(backend: Backend) {
    let script = [
        ("e1", Milestone::LabelCreated, "2026-11-01T12:00:00Z"),
        ("e2", Milestone::HandedToCarrier, "2026-11-01T18:00:00Z"),
        ("e3", Milestone::InTransit, "2026-11-02T06:00:00Z"),
        ("e4", Milestone::OutForDelivery, "2026-11-03T07:00:00Z"),
        ("e5", Milestone::Delivered, "2026-11-03T15:00:00Z"),
    ];
    let mut outcomes = Vec::new();
    for arrival in [vec![0, 1, 2, 3, 4], vec![4, 3, 2, 1, 0], vec![2, 4, 0, 4, 1, 3, 2]] {
        let (_dir, store, account) = fresh(backend).await;
        store.upsert_order(account, order("A1", &[("MUG", 1)])).await.unwrap();
        store.add_shipment(account, &number("A1"), parcel("1ZTEST1", &[])).await.unwrap();
        for i in arrival {
            let (id, m, when) = script[i];
            store.append_events(account, vec![carrier_event("1ZTEST1", id, m, when)]).await.unwrap();
        }
        let read = store.order(account, &number("A1")).await.unwrap().unwrap();
        let timeline: Vec<_> = read.shipments[0].timeline.iter().map(|e| e.event.milestone).collect();
        outcomes.push((read.status, read.shipments[0].status, timeline));
    }
    assert_eq!(outcomes[0].0, OrderStatus::Delivered);
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0], outcomes[2]);
}

async fn a_resent_event_is_reported_duplicate_and_counted(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    store.upsert_order(account, order("A1", &[("MUG", 1)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZTEST1", &[])).await.unwrap();
    let e = carrier_event("1ZTEST1", "e1", Milestone::InTransit, "2026-11-02T06:00:00Z");
    let first = store.append_events(account, vec![e.clone()]).await.unwrap();
    let again = store.append_events(account, vec![e.clone(), e]).await.unwrap();
    assert_eq!(first, vec![EventOutcome::Accepted]);
    assert_eq!(again, vec![EventOutcome::Duplicate, EventOutcome::Duplicate]);
    let read = store.order(account, &number("A1")).await.unwrap().unwrap();
    assert_eq!(read.shipments[0].timeline.len(), 1);
    assert_eq!(read.shipments[0].timeline[0].duplicate_count, 2);
}

async fn events_before_the_shipment_is_registered_attach_when_it_is(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    store.upsert_order(account, order("A1", &[("MUG", 1)])).await.unwrap();
    let early = store
        .append_events(
            account,
            vec![carrier_event("1ZTEST9", "e1", Milestone::HandedToCarrier, "2026-11-01T18:00:00Z")],
        )
        .await
        .unwrap();
    assert_eq!(early, vec![EventOutcome::Accepted]);
    let shipment = store.add_shipment(account, &number("A1"), parcel("1ZTEST9", &[])).await.unwrap();
    assert_eq!(shipment.status, Some(Milestone::HandedToCarrier));
    let read = store.order(account, &number("A1")).await.unwrap().unwrap();
    assert_eq!(read.status, OrderStatus::Shipped);
}

async fn split_shipments_roll_the_order_up_per_item(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    store.upsert_order(account, order("A1", &[("MUG", 2), ("TEE", 1)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZTESTA", &[("MUG", 2)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZTESTB", &[])).await.unwrap();
    store
        .append_events(account, vec![carrier_event("1ZTESTA", "a", Milestone::Delivered, "2026-11-03T15:00:00Z")])
        .await
        .unwrap();
    let read = store.order(account, &number("A1")).await.unwrap().unwrap();
    assert_eq!(read.status, OrderStatus::PartiallyDelivered);
    assert_eq!(read.shipments[1].shipment.items, vec![ShipmentItem { sku: "TEE".into(), quantity: 1 }]);
    let err = store.add_shipment(account, &number("A1"), parcel("1ZTESTC", &[("MUG", 1)])).await.unwrap_err();
    assert!(matches!(err, milepost_store::StoreError::Invalid { .. }), "{err:?}");
}

async fn one_account_never_sees_another_accounts_orders(backend: Backend) {
    let (_dir, store, acme) = fresh(backend).await;
    let other = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    store.upsert_order(acme, order("A1", &[("MUG", 1)])).await.unwrap();
    assert!(store.order(other, &number("A1")).await.unwrap().is_none());
    let page = store.search_orders(other, OrderQuery { limit: 50, ..OrderQuery::default() }).await.unwrap();
    assert!(page.orders.is_empty());
    let rejected = store
        .append_events(
            other,
            vec![NewEvent {
                carrier_estimate: None,
                target: EventTarget::Order { order_number: number("A1"), shipment: None },
                ..carrier_event("1ZTEST1", "x", Milestone::Confirmed, "2026-11-01T10:00:00Z")
            }],
        )
        .await
        .unwrap();
    assert!(matches!(rejected[0], EventOutcome::Rejected { .. }));
}

async fn search_pages_newest_first_with_a_cursor(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    for i in 0..5 {
        store.upsert_order(account, order(&format!("P{i}"), &[("MUG", 1)])).await.unwrap();
    }
    let first = store.search_orders(account, OrderQuery { limit: 3, ..OrderQuery::default() }).await.unwrap();
    let names: Vec<_> = first.orders.iter().map(|o| o.order_number.to_string()).collect();
    assert_eq!(names, ["P4", "P3", "P2"]);
    let second = store
        .search_orders(account, OrderQuery { limit: 3, cursor: first.next_cursor, ..OrderQuery::default() })
        .await
        .unwrap();
    let names: Vec<_> = second.orders.iter().map(|o| o.order_number.to_string()).collect();
    assert_eq!(names, ["P1", "P0"]);
    assert_eq!(second.next_cursor, None);
    let by_text = store
        .search_orders(account, OrderQuery { limit: 10, text: Some("P3".into()), ..OrderQuery::default() })
        .await
        .unwrap();
    assert_eq!(by_text.orders.len(), 1);
}

#[tokio::test]
async fn concurrent_writers_share_commits_and_all_land() {
    let (dir, store, account) = fresh_sqlite().await;
    store.upsert_order(account, order("A1", &[("MUG", 1)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZTEST1", &[])).await.unwrap();
    let before = store.writer_stats();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let when = format!("2026-11-02T{:02}:{:02}:00Z", i / 60, i % 60);
            store
                .append_events(account, vec![carrier_event("1ZTEST1", &format!("c{i}"), Milestone::InTransit, &when)])
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), vec![EventOutcome::Accepted]);
    }
    let after = store.writer_stats();
    assert_eq!(after.jobs - before.jobs, 200);
    assert!(after.commits - before.commits < 200, "group commit batched {:?} -> {:?}", before, after);
    drop(store);
    let reopened = SqliteStore::open(dir.path().join("m.db")).unwrap();
    let read = reopened.order(account, &number("A1")).await.unwrap().unwrap();
    let odd: Vec<_> =
        read.shipments[0].timeline.iter().filter(|e| e.event.milestone != Some(Milestone::InTransit)).collect();
    assert!(odd.is_empty(), "{odd:?}");
    assert_eq!(read.shipments[0].timeline.len(), 200);
}

async fn cleanup_finds_quiet_parcels_and_groups_resent_facts_by_station(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    store.upsert_order(account, order("A1", &[("MUG", 2)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZQUIET", &[("MUG", 1)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZBUSY", &[("MUG", 1)])).await.unwrap();
    let mut scan = carrier_event("1ZBUSY", "s1", Milestone::InTransit, "2026-11-02T06:00:00Z");
    scan.raw = Some(serde_json::json!({"station": "DOCK-7"}).to_string());
    let in_city = TrackingEvent {
        location: Some(milepost_domain::Location { city: Some("Reno".into()), ..Default::default() }),
        ..carrier_event("1ZBUSY", "c1", Milestone::InTransit, "2026-11-02T08:00:00Z").event
    };
    let by_city =
        NewEvent { event: in_city, ..carrier_event("1ZBUSY", "c1", Milestone::InTransit, "2026-11-02T08:00:00Z") };
    store
        .append_events(account, vec![carrier_event("1ZQUIET", "q1", Milestone::InTransit, "2026-11-01T06:00:00Z")])
        .await
        .unwrap();
    for _ in 0..3 {
        store.append_events(account, vec![scan.clone()]).await.unwrap();
    }
    for _ in 0..2 {
        store.append_events(account, vec![by_city.clone()]).await.unwrap();
    }
    let quiet = store
        .stale_shipments(account, DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z").unwrap().into(), 10)
        .await
        .unwrap();
    assert_eq!(quiet.iter().map(|s| s.tracking_number.as_str()).collect::<Vec<_>>(), ["1ZQUIET"]);
    assert_eq!(quiet[0].last_event_at, Some(DateTime::parse_from_rfc3339("2026-11-01T06:00:00Z").unwrap().into()));
    let resent = store.duplicate_scans(account).await.unwrap();
    let groups: Vec<_> = resent.iter().map(|d| (d.station.as_str(), d.events, d.duplicates)).collect();
    assert_eq!(groups, [("DOCK-7", 1, 2), ("Reno", 1, 1)], "most resent first, the station from the raw payload");
}

async fn a_staff_session_lasts_until_it_expires_or_the_password_changes(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    let email = "lee@example.com";
    let created = store.upsert_staff_user(account, email, milepost_domain::Role::Support, "hash-1").await.unwrap();
    assert_eq!(created, milepost_store::StaffUpsert::Created);
    let user = store.staff_user_by_email(email).await.unwrap().expect("user stored");
    assert_eq!(
        (user.account_id, user.role, user.password_hash.as_str()),
        (account, milepost_domain::Role::Support, "hash-1")
    );
    let now = Utc::now();
    store.create_staff_session("session-hash", user.id, now, now + chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(store.staff_session("session-hash", now).await.unwrap().map(|u| u.id), Some(user.id));
    assert!(store.staff_session("session-hash", now + chrono::Duration::hours(2)).await.unwrap().is_none(), "expired");
    let other = store.ensure_account(&AccountName::parse("globex").unwrap()).await.unwrap();
    let taken = store.upsert_staff_user(other, email, milepost_domain::Role::Admin, "hash-x").await;
    assert!(matches!(taken, Err(milepost_store::StoreError::Conflict(_))), "{taken:?}");
    let updated = store.upsert_staff_user(account, email, milepost_domain::Role::Admin, "hash-2").await.unwrap();
    assert_eq!(updated, milepost_store::StaffUpsert::Updated);
    assert!(store.staff_session("session-hash", now).await.unwrap().is_none(), "a new password ends old sessions");
    store.create_staff_session("second", user.id, now, now + chrono::Duration::hours(1)).await.unwrap();
    store.delete_staff_session("second").await.unwrap();
    assert!(store.staff_session("second", now).await.unwrap().is_none(), "logged out");
}

async fn the_carriers_estimate_shapes_the_window_of_a_lane_without_history(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let window = |read: &milepost_store::OrderRecord, i: usize| {
        let eta = read.shipments[i].eta.as_ref().expect("a published window");
        (eta.earliest.date_naive(), eta.latest.date_naive())
    };
    store.upsert_order(account, order("A1", &[("MUG", 3)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZGUESS", &[("MUG", 1)])).await.unwrap();
    store.add_shipment(account, &number("A1"), parcel("1ZTOLD", &[("MUG", 1)])).await.unwrap();
    let handed = |tn: &str, estimate: Option<&str>| {
        let mut e = carrier_event(tn, &format!("h-{tn}"), Milestone::HandedToCarrier, "2026-11-02T10:00:00Z");
        e.event.received_at = at("2026-11-02T11:00:00Z").into();
        e.carrier_estimate = estimate.map(day);
        e
    };
    store.append_events(account, vec![handed("1ZGUESS", None), handed("1ZTOLD", Some("2026-11-05"))]).await.unwrap();
    let read = store.order(account, &number("A1")).await.unwrap().unwrap();
    let guess = read.shipments.iter().position(|s| s.shipment.tracking_number.as_str() == "1ZGUESS").unwrap();
    let told = 1 - guess;
    assert_eq!(window(&read, told), (day("2026-11-05"), day("2026-11-06")), "the carrier's day and the one after");
    assert_ne!(window(&read, guess), window(&read, told), "without an estimate the default window stands");
    assert_eq!(read.shipments[told].carrier_eta, Some(day("2026-11-05")));

    // In one batch, the estimate of the event that happened last wins, whatever the order.
    store.add_shipment(account, &number("A1"), parcel("1ZLATE", &[("MUG", 1)])).await.unwrap();
    let mut newer = carrier_event("1ZLATE", "n1", Milestone::InTransit, "2026-11-02T12:00:00Z");
    newer.event.received_at = at("2026-11-02T13:00:00Z").into();
    newer.carrier_estimate = Some(day("2026-11-05"));
    let mut older = handed("1ZLATE", Some("2026-11-20"));
    older.event.source_event_id = Some("o1".into());
    store.append_events(account, vec![newer, older]).await.unwrap();
    let read = store.order(account, &number("A1")).await.unwrap().unwrap();
    let late = read.shipments.iter().find(|s| s.shipment.tracking_number.as_str() == "1ZLATE").unwrap();
    assert_eq!(late.carrier_eta, Some(day("2026-11-05")), "the older event's estimate does not win");
}

/// A parcel that goes quiet: its window runs out with no event, and the sweep after that moment
/// publishes a new one (the parcel was made due for it), not the next event whenever it comes.
async fn a_window_that_runs_out_without_an_event_is_replaced_by_the_sweep(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    store.upsert_order(account, order("Q1", &[("MUG", 1)])).await.unwrap();
    store.add_shipment(account, &number("Q1"), parcel("1ZQUIETETA", &[("MUG", 1)])).await.unwrap();
    let mut handed = carrier_event("1ZQUIETETA", "h-q", Milestone::HandedToCarrier, "2026-11-02T10:00:00Z");
    handed.event.received_at = at("2026-11-02T11:00:00Z").into();
    handed.carrier_estimate = Some(day("2026-11-05"));
    store.append_events(account, vec![handed]).await.unwrap();
    let window = |read: &milepost_store::OrderRecord| {
        let eta = read.shipments[0].eta.as_ref().expect("a published window");
        (eta.earliest, eta.latest)
    };
    let first = window(&store.order(account, &number("Q1")).await.unwrap().unwrap());
    assert_eq!((first.0.date_naive(), first.1.date_naive()), (day("2026-11-05"), day("2026-11-06")));

    // Before the window ends, a sweep leaves it alone.
    store.sweep_due(at("2026-11-06T12:00:00Z").into(), 100).await.unwrap();
    assert_eq!(window(&store.order(account, &number("Q1")).await.unwrap().unwrap()), first);
    // Just after it ends, the parcel is due and gets a window that is not over yet.
    let after = first.1 + chrono::Duration::seconds(1);
    store.sweep_due(after.into(), 100).await.unwrap();
    let second = window(&store.order(account, &number("Q1")).await.unwrap().unwrap());
    assert_ne!(second, first, "the window that ran out was replaced");
    assert!(second.1 > after, "the new window ends after the sweep that published it: {second:?}");
}

async fn many_concurrent_writers_all_land_their_orders(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                let order_number = format!("W{writer:02}-{i:03}");
                store.upsert_order(account, order(&order_number, &[("MUG", 1)])).await?;
                let tracking = format!("1ZW{writer:02}{i:03}");
                store.add_shipment(account, &number(&order_number), parcel(&tracking, &[])).await?;
            }
            Ok::<_, milepost_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every writer's orders land, however they race");
    }
    for writer in 0..16 {
        for i in 0..15 {
            let read = store.order(account, &number(&format!("W{writer:02}-{i:03}"))).await.unwrap();
            assert_eq!(read.expect("order stored").shipments.len(), 1);
        }
    }
}

/// The worst race there is: every writer adds parcels to the same order at once. A write that
/// keeps losing must still land (on PostgreSQL it ends up running alone), never give up.
async fn writers_racing_on_one_order_all_land(backend: Backend) {
    let (_dir, store, account) = fresh(backend).await;
    store.upsert_order(account, order("HOT-1", &[("MUG", 120)])).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let tracking = format!("1ZHOT{writer:02}{i:03}");
                store.add_shipment(account, &number("HOT-1"), parcel(&tracking, &[("MUG", 1)])).await?;
            }
            Ok::<_, milepost_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every parcel lands on the contended order");
    }
    let read = store.order(account, &number("HOT-1")).await.unwrap().expect("order stored");
    assert_eq!(read.shipments.len(), 120);
}

/// Delivered parcels teach their lane how long each stage takes; parcels still moving do not,
/// and learning again replaces the rhythms rather than adding to them.
async fn deliveries_teach_each_stage_of_their_lane_its_rhythm(backend: Backend) {
    let (_place, store, account) = fresh(backend).await;
    let start = Utc::now() - chrono::Duration::days(10);
    let hours = |h: i64| (start + chrono::Duration::hours(h)).to_rfc3339();
    // Handed over, in transit after 10, 20 and 30 hours, delivered 5 hours later; one parcel
    // is still in transit after 99 hours.
    for (n, first_gap, delivered) in [(1, 10, true), (2, 20, true), (3, 30, true), (4, 99, false)] {
        let (order_number, tracking) = (format!("L{n}"), format!("1ZLANE{n}"));
        store.upsert_order(account, order(&order_number, &[("MUG", 1)])).await.unwrap();
        store.add_shipment(account, &number(&order_number), parcel(&tracking, &[("MUG", 1)])).await.unwrap();
        let mut events = vec![
            carrier_event(&tracking, &format!("{n}-a"), Milestone::HandedToCarrier, &hours(0)),
            carrier_event(&tracking, &format!("{n}-b"), Milestone::InTransit, &hours(first_gap)),
        ];
        if delivered {
            events.push(carrier_event(&tracking, &format!("{n}-c"), Milestone::Delivered, &hours(first_gap + 5)));
        }
        store.append_events(account, events).await.unwrap();
    }

    for _ in 0..2 {
        assert_eq!(store.learn_lane_rhythm(Utc::now(), 90).await.unwrap(), 2);
        let mut lanes = store.lane_rhythms(account).await.unwrap();
        lanes.sort_by(|a, b| a.stage.cmp(&b.stage));
        let figures: Vec<(&str, i64, i64, u32)> =
            lanes.iter().map(|l| (l.stage.as_str(), l.median_seconds, l.p90_seconds, l.samples)).collect();
        assert_eq!(
            figures,
            vec![("handed_to_carrier", 20 * 3600, 30 * 3600, 3), ("in_transit", 5 * 3600, 5 * 3600, 3)]
        );
        assert!(lanes.iter().all(|l| l.lane == lanes[0].lane), "one lane: {lanes:?}");
    }
}

on_both_backends!(
    an_order_keeps_what_was_charged_and_is_worth_it,
    an_order_is_created_once_and_updated_in_place,
    events_in_any_order_and_twice_give_the_same_status_as_in_order,
    a_resent_event_is_reported_duplicate_and_counted,
    events_before_the_shipment_is_registered_attach_when_it_is,
    split_shipments_roll_the_order_up_per_item,
    one_account_never_sees_another_accounts_orders,
    search_pages_newest_first_with_a_cursor,
    cleanup_finds_quiet_parcels_and_groups_resent_facts_by_station,
    a_staff_session_lasts_until_it_expires_or_the_password_changes,
    the_carriers_estimate_shapes_the_window_of_a_lane_without_history,
    many_concurrent_writers_all_land_their_orders,
    writers_racing_on_one_order_all_land,
    a_window_that_runs_out_without_an_event_is_replaced_by_the_sweep,
    deliveries_teach_each_stage_of_their_lane_its_rhythm,
);
