//! Time-travel tests of the exception rules with a fixed clock: each rule opens when its cause
//! appears, stays quiet on the happy path, and its cause disappears (so the exception closes by
//! itself) when the cause clears.

use chrono::{DateTime, Duration, Utc};
use milepost_domain::exceptions::{
    ExceptionKind, RuleSettings, ShipmentFacts, StageRhythm, evaluate_shipment, learn_rhythm, stage_gaps,
};
use milepost_domain::timeline::{ProjectionScope, project_timeline};
use milepost_domain::{Direction, EventSource, Location, Milestone, SourceOfTruth, TrackingEvent};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ev(source: EventSource, milestone: Milestone, at: &str) -> TrackingEvent {
    TrackingEvent {
        source,
        source_event_id: Some(format!("{source}-{milestone}-{at}")),
        milestone: Some(milestone),
        code: None,
        description: None,
        occurred_at: DateTime::parse_from_rfc3339(at).unwrap(),
        received_at: t(at),
        location: None,
    }
}

fn carrier(m: Milestone, at: &str) -> TrackingEvent {
    ev(EventSource::Carrier, m, at)
}

fn warehouse(m: Milestone, at: &str) -> TrackingEvent {
    ev(EventSource::Warehouse, m, at)
}

/// The kinds open at `now` for these events, with a 5-day promise from Nov 1.
fn kinds_at(events: &[TrackingEvent], direction: Direction, now: &str) -> Vec<ExceptionKind> {
    kinds_with(events, direction, now, &|_| None)
}

fn kinds_with(
    events: &[TrackingEvent],
    direction: Direction,
    now: &str,
    rhythm: &dyn Fn(Milestone) -> Option<StageRhythm>,
) -> Vec<ExceptionKind> {
    let projection = project_timeline(events, &SourceOfTruth::default(), ProjectionScope::Shipment);
    let facts = ShipmentFacts {
        tracking_number: "1ZTEST",
        direction,
        registered_at: t("2026-11-01T09:00:00Z"),
        timeline: &projection.entries,
        status: projection.status,
        promised_by: Some(t("2026-11-06T23:59:59Z")),
        ship_to_postal_code: Some("78701"),
    };
    let mut kinds: Vec<ExceptionKind> =
        evaluate_shipment(&facts, rhythm, &RuleSettings::default(), t(now)).causes.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

fn happy_path() -> Vec<TrackingEvent> {
    vec![
        warehouse(Milestone::Picked, "2026-11-01T10:00:00Z"),
        warehouse(Milestone::Packed, "2026-11-01T10:30:00Z"),
        carrier(Milestone::LabelCreated, "2026-11-01T11:00:00Z"),
        carrier(Milestone::HandedToCarrier, "2026-11-01T18:00:00Z"),
        carrier(Milestone::InTransit, "2026-11-02T18:00:00Z"),
        carrier(Milestone::OutForDelivery, "2026-11-03T08:00:00Z"),
        carrier(Milestone::Delivered, "2026-11-03T15:00:00Z"),
    ]
}

#[test]
fn the_happy_path_opens_nothing_at_any_time() {
    let events = happy_path();
    for hours in [1, 8, 30, 50, 60, 200, 400] {
        let now = (t("2026-11-01T09:00:00Z") + Duration::hours(hours)).to_rfc3339();
        let shown: Vec<_> = events.iter().filter(|e| e.occurred_at_utc() <= t(&now)).cloned().collect();
        assert_eq!(kinds_at(&shown, Direction::Outbound, &now), vec![], "at +{hours}h");
    }
}

#[test]
fn stalled_opens_after_the_fallback_and_a_new_scan_clears_it() {
    let mut events = happy_path()[..5].to_vec(); // last scan: in transit Nov 2 18:00
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-05T17:00:00Z"), vec![]);
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-05T19:00:00Z"), vec![ExceptionKind::Stalled]);
    events.push(carrier(Milestone::InTransit, "2026-11-05T20:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-05T21:00:00Z"), vec![]);
}

#[test]
fn stalled_uses_the_lanes_learned_rhythm_when_it_has_enough_history() {
    let events = happy_path()[..5].to_vec();
    let quick_lane = |m: Milestone| {
        (m == Milestone::InTransit).then_some(StageRhythm {
            median: Duration::hours(10),
            p90: Duration::hours(20),
            samples: 50,
        })
    };
    assert_eq!(kinds_with(&events, Direction::Outbound, "2026-11-03T13:00:00Z", &quick_lane), vec![]);
    assert_eq!(
        kinds_with(&events, Direction::Outbound, "2026-11-03T15:00:00Z", &quick_lane),
        vec![ExceptionKind::Stalled]
    );
    let thin_lane = |_| Some(StageRhythm { median: Duration::hours(1), p90: Duration::hours(2), samples: 3 });
    assert_eq!(kinds_with(&events, Direction::Outbound, "2026-11-03T15:00:00Z", &thin_lane), vec![], "too few samples");
}

#[test]
fn delivery_failed_opens_on_an_attempt_and_closes_on_delivery() {
    let mut events = happy_path()[..6].to_vec();
    events.push(carrier(Milestone::DeliveryAttempted, "2026-11-03T14:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-03T15:00:00Z"), vec![ExceptionKind::DeliveryFailed]);
    events.push(carrier(Milestone::Delivered, "2026-11-04T12:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-04T13:00:00Z"), vec![]);
}

#[test]
fn address_issue_opens_on_a_carrier_address_problem_or_a_delivery_elsewhere() {
    let mut events = happy_path()[..5].to_vec();
    let mut bad = carrier(Milestone::Exception, "2026-11-03T09:00:00Z");
    bad.description = Some("Incorrect address, unable to deliver".into());
    events.push(bad);
    let kinds = kinds_at(&events, Direction::Outbound, "2026-11-03T10:00:00Z");
    assert!(kinds.contains(&ExceptionKind::AddressIssue), "{kinds:?}");
    assert!(kinds.contains(&ExceptionKind::CarrierException), "{kinds:?}");

    let mut elsewhere = happy_path();
    elsewhere.last_mut().unwrap().location =
        Some(Location { postal_code: Some("10001".into()), ..Location::default() });
    assert_eq!(kinds_at(&elsewhere, Direction::Outbound, "2026-11-03T16:00:00Z"), vec![ExceptionKind::AddressIssue]);
    let mut same = happy_path();
    same.last_mut().unwrap().location =
        Some(Location { postal_code: Some("78701-1234".into()), ..Location::default() });
    assert_eq!(kinds_at(&same, Direction::Outbound, "2026-11-03T16:00:00Z"), vec![]);
}

#[test]
fn handoff_mismatch_opens_after_the_grace_period_and_closes_when_the_carrier_scans() {
    let mut events = happy_path()[..3].to_vec();
    events.push(ev(EventSource::Channel, Milestone::HandedToCarrier, "2026-11-01T12:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-02T11:00:00Z"), vec![]);
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-02T13:00:00Z"), vec![ExceptionKind::HandoffMismatch]);
    events.push(carrier(Milestone::HandedToCarrier, "2026-11-02T14:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-02T15:00:00Z"), vec![]);
}

#[test]
fn missing_scan_opens_when_the_carrier_has_an_unpacked_parcel_and_a_late_scan_clears_it() {
    let mut events: Vec<_> =
        happy_path()[..5].iter().filter(|e| e.milestone != Some(Milestone::Packed)).cloned().collect();
    // The carrier took it at 18:00; a station's late upload has two hours before it counts.
    let first_hours: Vec<_> =
        events.iter().filter(|e| e.occurred_at_utc() <= t("2026-11-01T19:30:00Z")).cloned().collect();
    assert_eq!(kinds_at(&first_hours, Direction::Outbound, "2026-11-01T19:30:00Z"), vec![]);
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-02T19:00:00Z"), vec![ExceptionKind::MissingScan]);
    events.push(warehouse(Milestone::Packed, "2026-11-01T10:30:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-02T19:00:00Z"), vec![]);
}

#[test]
fn late_opens_when_the_promise_passes_and_a_delivery_ends_it() {
    let mut events = happy_path()[..5].to_vec();
    events.push(carrier(Milestone::InTransit, "2026-11-06T20:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-06T23:00:00Z"), vec![]);
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-07T01:00:00Z"), vec![ExceptionKind::Late]);
    events.push(carrier(Milestone::Delivered, "2026-11-07T12:00:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-07T13:00:00Z"), vec![]);
}

#[test]
fn return_in_motion_opens_for_a_moving_return_or_a_return_to_sender() {
    let back = vec![carrier(Milestone::HandedToCarrier, "2026-11-10T10:00:00Z")];
    assert_eq!(kinds_at(&back, Direction::Return, "2026-11-10T11:00:00Z"), vec![ExceptionKind::ReturnInMotion]);
    let mut rts = happy_path()[..5].to_vec();
    rts.push(carrier(Milestone::ReturningToSender, "2026-11-03T10:00:00Z"));
    assert_eq!(kinds_at(&rts, Direction::Outbound, "2026-11-03T11:00:00Z"), vec![ExceptionKind::ReturnInMotion]);
    let mut scanned_in = rts.clone();
    rts.push(carrier(Milestone::ReturnedToSender, "2026-11-05T10:00:00Z"));
    // Back with the sender: the motion is over and staff are asked to decide.
    assert_eq!(kinds_at(&rts, Direction::Outbound, "2026-11-05T11:00:00Z"), vec![ExceptionKind::ReturnedToSender]);
    // The warehouse scanning it in is as good as the carrier's word, and no later `late` or
    // stall is raised on a parcel that is already back.
    scanned_in.push(TrackingEvent {
        milestone: None,
        code: Some("receive".into()),
        ..warehouse(Milestone::Packed, "2026-11-04T10:00:00Z")
    });
    assert_eq!(
        kinds_at(&scanned_in, Direction::Outbound, "2026-11-20T11:00:00Z"),
        vec![ExceptionKind::ReturnedToSender]
    );
    // Staff's decision, recorded on the parcel's timeline, closes the task.
    rts.push(TrackingEvent {
        milestone: None,
        code: Some("rts_decision_refund".into()),
        ..ev(EventSource::Staff, Milestone::Exception, "2026-11-05T12:00:00Z")
    });
    assert_eq!(kinds_at(&rts, Direction::Outbound, "2026-11-05T13:00:00Z"), vec![]);
}

#[test]
fn not_found_opens_when_the_carrier_never_reports_and_closes_on_its_first_scan() {
    let mut events = happy_path()[..2].to_vec(); // warehouse only
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-03T08:00:00Z"), vec![]);
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-03T10:00:00Z"), vec![ExceptionKind::NotFound]);
    events.push(carrier(Milestone::LabelCreated, "2026-11-03T09:30:00Z"));
    assert_eq!(kinds_at(&events, Direction::Outbound, "2026-11-03T10:00:00Z"), vec![]);
}

#[test]
fn the_next_check_is_the_earliest_time_a_rule_could_open_without_new_events() {
    let events = happy_path()[..5].to_vec();
    let projection = project_timeline(&events, &SourceOfTruth::default(), ProjectionScope::Shipment);
    let facts = ShipmentFacts {
        tracking_number: "1ZTEST",
        direction: Direction::Outbound,
        registered_at: t("2026-11-01T09:00:00Z"),
        timeline: &projection.entries,
        status: projection.status,
        promised_by: Some(t("2026-11-06T23:59:59Z")),
        ship_to_postal_code: None,
    };
    let eval = evaluate_shipment(&facts, &|_| None, &RuleSettings::default(), t("2026-11-03T00:00:00Z"));
    assert_eq!(eval.next_check_at, Some(t("2026-11-05T18:00:00Z")), "the stall threshold comes before the promise");
    let stable_keys: Vec<_> = evaluate_shipment(&facts, &|_| None, &RuleSettings::default(), t("2026-11-08T00:00:00Z"))
        .causes
        .into_iter()
        .map(|c| c.cause_key)
        .collect();
    let again: Vec<_> = evaluate_shipment(&facts, &|_| None, &RuleSettings::default(), t("2026-11-09T00:00:00Z"))
        .causes
        .into_iter()
        .map(|c| c.cause_key)
        .collect();
    assert_eq!(stable_keys, again, "one cause, one key, whenever it is evaluated");
}

#[test]
fn lane_rhythm_is_learned_as_median_and_p90_of_stage_gaps() {
    let gaps: Vec<i64> = (1..=10).map(|h| h * 3600).collect();
    let r = learn_rhythm(gaps).unwrap();
    assert_eq!(r.median, Duration::hours(5));
    assert_eq!(r.p90, Duration::hours(9));
    assert_eq!(r.samples, 10);
    assert_eq!(learn_rhythm(vec![]), None);
    let projection = project_timeline(&happy_path(), &SourceOfTruth::default(), ProjectionScope::Shipment);
    let stages = stage_gaps(&projection.entries);
    assert_eq!(stages[0], (Milestone::HandedToCarrier, 24 * 3600));
    assert_eq!(stages.len(), 3);
}
