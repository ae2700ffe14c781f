//! Property: the stored timeline, the current status and the order roll-up of one shipment do
//! not depend on the order events arrive in, nor on how many times each arrives.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use milepost_domain::rollup::{RolledShipment, roll_up_order};
use milepost_domain::timeline::{ProjectionScope, next_status, project_timeline};
use milepost_domain::{
    Direction, EventSource, LineItem, Location, Milestone, Money, ShipmentItem, SourceOfTruth, TrackingEvent,
};
use proptest::prelude::*;

fn any_event() -> impl Strategy<Value = TrackingEvent> {
    (
        prop::sample::select(EventSource::ALL.to_vec()),
        prop::option::of(0u8..6),
        prop::option::of(prop::sample::select(Milestone::ALL.to_vec())),
        0i64..72,
        prop::sample::select(vec![-18_000i32, 0, 3_600, 19_800]),
        prop::option::of(prop::sample::select(vec!["Memphis", "Louisville", "Reno"])),
    )
        .prop_map(|(source, id, milestone, hour, offset, city)| {
            let instant = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::hours(hour);
            let offset = FixedOffset::east_opt(offset).unwrap();
            TrackingEvent {
                source,
                source_event_id: id.map(|n| format!("evt-{n}")),
                milestone,
                code: Some(milestone.map(|m| m.as_str().to_uppercase()).unwrap_or_else(|| "ZZ".into())),
                description: None,
                occurred_at: instant.with_timezone(&offset),
                received_at: Utc.with_ymd_and_hms(2026, 11, 5, 0, 0, 0).unwrap(),
                location: city.map(|c| Location { city: Some(c.into()), ..Location::default() }),
            }
        })
}

/// A set of events plus an arrival order that permutes and duplicates them.
fn events_and_arrival() -> impl Strategy<Value = (Vec<TrackingEvent>, Vec<TrackingEvent>)> {
    prop::collection::vec(any_event(), 0..14).prop_flat_map(|events| {
        let n = events.len();
        let duplicates = prop::collection::vec(0..n.max(1), 0..(n * 2 + 1));
        (Just(events), duplicates, any::<u64>()).prop_map(|(events, duplicates, seed)| {
            let mut arrival = events.clone();
            if !events.is_empty() {
                arrival.extend(duplicates.iter().map(|&i| events[i].clone()));
            }
            shuffle(&mut arrival, seed);
            (events, arrival)
        })
    })
}

/// Fisher-Yates with a small deterministic generator, so failures shrink and replay.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = (seed >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

fn describe(events: &[TrackingEvent]) -> (Vec<(String, bool)>, Option<Milestone>, String) {
    let truth = SourceOfTruth::default();
    let projection = project_timeline(events, &truth, ProjectionScope::Shipment);
    let timeline = projection.entries.iter().map(|e| (format!("{:?}", e.event), e.advisory)).collect();
    let lines = [LineItem { sku: "A".into(), description: None, quantity: 1, unit_price: Money::ZERO }];
    let items = [ShipmentItem { sku: "A".into(), quantity: 1 }];
    let rolled = RolledShipment {
        direction: Direction::Outbound,
        items: &items,
        status: projection.status,
        had_carrier_possession: projection.had_carrier_possession(),
    };
    let order = roll_up_order(&lines, &[rolled], None);
    (timeline, projection.status, format!("{order:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_permutation_and_duplication_gives_the_same_timeline_status_and_roll_up(
        (events, arrival) in events_and_arrival()
    ) {
        prop_assert_eq!(describe(&events), describe(&arrival));
    }

    #[test]
    fn the_timeline_is_in_occurred_at_order_and_holds_no_fact_twice((events, _) in events_and_arrival()) {
        let projection = project_timeline(&events, &SourceOfTruth::default(), ProjectionScope::Shipment);
        let instants: Vec<DateTime<Utc>> = projection.entries.iter().map(|e| e.event.occurred_at_utc()).collect();
        prop_assert!(instants.windows(2).all(|w| w[0] <= w[1]));
        let mut keys: Vec<String> = projection.entries.iter().map(|e| e.event.fact_key()).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), projection.entries.len());
        prop_assert_eq!(projection.entries.len() + projection.duplicates_dropped, events.len());
    }

    #[test]
    fn a_terminal_status_is_only_left_for_a_return_flow(
        steps in prop::collection::vec(prop::sample::select(Milestone::ALL.to_vec()), 1..30)
    ) {
        let mut status: Option<Milestone> = None;
        let mut possession = false;
        for next in steps {
            let before = status;
            if let Some(moved) = next_status(status, possession, next) {
                status = Some(moved);
                possession |= moved.is_carrier_possession();
            }
            if let Some(terminal) = before.filter(|s| s.is_terminal()) {
                prop_assert!(status == Some(terminal) || status == Some(Milestone::ReturningToSender),
                    "left terminal {} for {:?}", terminal, status);
            }
        }
    }
}
