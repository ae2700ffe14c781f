//! The heart of Milepost: turning the events of one shipment (or of one order's own record) into
//! a timeline and a current status, whatever order they arrived in and however often.
//!
//! `project_timeline` is a pure function of the *set* of events: it sorts them by when they
//! happened (rule 2), drops facts seen twice (rule 4), marks claims from sources that do not own a
//! milestone as advisory (rule 5), leaves unmapped codes in the timeline without letting them move
//! status (rule 6), and folds the rest into a status that never falsely regresses (rules 1 and 3).
//! A withdrawal (`TrackingEvent::withdrawn_id`) makes the event it names, from the same source,
//! advisory: both stay in the timeline, neither moves status.
//! Property tests check that any permutation and duplication of the input gives the same output.

use crate::event::TrackingEvent;
use crate::milestone::{Milestone, MilestoneScope};
use crate::source_of_truth::SourceOfTruth;
use chrono::{DateTime, Utc};
use std::cmp::Ordering;
use std::collections::HashSet;

/// Which status a projection computes: a parcel's or the order's own (placed, confirmed,
/// cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionScope {
    Shipment,
    Order,
}

/// One event in its place in the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub event: TrackingEvent,
    /// True when the source does not own this milestone (rule 5), or when the source withdrew the
    /// event: shown, never moves status.
    pub advisory: bool,
}

/// The outcome of projecting a set of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineProjection {
    /// Distinct events in `occurred_at` order.
    pub entries: Vec<TimelineEntry>,
    /// Current status, `None` while no status-bearing event exists.
    pub status: Option<Milestone>,
    /// The first moment the carrier held the parcel, if it ever did (rule 1: "shipped").
    pub first_carrier_possession_at: Option<DateTime<Utc>>,
    /// The moment of the event that set the current status.
    pub status_since: Option<DateTime<Utc>>,
    /// How many input events were duplicates of others (rule 4).
    pub duplicates_dropped: usize,
}

impl TimelineProjection {
    pub fn had_carrier_possession(&self) -> bool {
        self.first_carrier_possession_at.is_some()
    }
}

/// A total order over events: by instant, then by stage, then by every other field, so that
/// sorting a set of events always gives the same sequence.
fn chronological(a: &TrackingEvent, b: &TrackingEvent) -> Ordering {
    a.occurred_at_utc()
        .cmp(&b.occurred_at_utc())
        .then_with(|| a.milestone.map(Milestone::rank).cmp(&b.milestone.map(Milestone::rank)))
        .then_with(|| a.source.cmp(&b.source))
        .then_with(|| a.code.cmp(&b.code))
        .then_with(|| a.source_event_id.cmp(&b.source_event_id))
        .then_with(|| a.location.cmp(&b.location))
        .then_with(|| a.description.cmp(&b.description))
        .then_with(|| a.occurred_at.offset().local_minus_utc().cmp(&b.occurred_at.offset().local_minus_utc()))
        .then_with(|| a.received_at.cmp(&b.received_at))
}

fn in_scope(milestone: Milestone, scope: ProjectionScope) -> bool {
    matches!(
        (milestone.scope(), scope),
        (MilestoneScope::Both, _)
            | (MilestoneScope::Shipment, ProjectionScope::Shipment)
            | (MilestoneScope::Order, ProjectionScope::Order)
    )
}

/// The status rules applied to one more status-bearing milestone, in time order.
/// Returns the new status, or `None` when the event must not move status.
pub fn next_status(current: Option<Milestone>, had_carrier_possession: bool, next: Milestone) -> Option<Milestone> {
    if let Some(current) = current {
        // Rule 3: terminal states hold unless a newer event starts a return flow.
        if current.is_terminal() && !next.starts_return_flow() {
            return None;
        }
    }
    // Rule 3 (no false regression): once the carrier has had the parcel, warehouse steps and a
    // label can no longer pull it back to "preparing".
    if had_carrier_possession && next.is_pre_carrier() {
        return None;
    }
    Some(next)
}

/// A projection that names the kept events by their place in the input instead of copying
/// them, for callers that own the events and keep facts beside each one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedProjection {
    /// Distinct events in `occurred_at` order: the index of each in the input, and whether it is
    /// advisory (see `TimelineEntry`).
    pub kept: Vec<(usize, bool)>,
    pub status: Option<Milestone>,
    pub first_carrier_possession_at: Option<DateTime<Utc>>,
    pub status_since: Option<DateTime<Utc>>,
    pub duplicates_dropped: usize,
}

/// Projects a set of events into a timeline and status. See the module comment for the rules.
pub fn project_timeline(events: &[TrackingEvent], truth: &SourceOfTruth, scope: ProjectionScope) -> TimelineProjection {
    let indexed = project_indexed(events, truth, scope);
    TimelineProjection {
        entries: indexed
            .kept
            .iter()
            .map(|&(i, advisory)| TimelineEntry { event: events[i].clone(), advisory })
            .collect(),
        status: indexed.status,
        first_carrier_possession_at: indexed.first_carrier_possession_at,
        status_since: indexed.status_since,
        duplicates_dropped: indexed.duplicates_dropped,
    }
}

/// `project_timeline` without copying the events: the same rules, the kept events by index.
pub fn project_indexed(events: &[TrackingEvent], truth: &SourceOfTruth, scope: ProjectionScope) -> IndexedProjection {
    let mut sorted: Vec<usize> = (0..events.len()).collect();
    sorted.sort_by(|&a, &b| chronological(&events[a], &events[b]));

    let mut seen_source_keys = HashSet::new();
    let mut seen_fact_keys = HashSet::new();
    let mut kept = Vec::with_capacity(sorted.len());
    let mut duplicates_dropped = 0;
    for i in sorted {
        let event = &events[i];
        let source_key = event.source_key();
        let fact_key = event.fact_key();
        let seen_by_id = source_key.as_ref().is_some_and(|k| seen_source_keys.contains(k));
        if seen_by_id || seen_fact_keys.contains(&fact_key) {
            duplicates_dropped += 1;
            continue;
        }
        if let Some(k) = source_key {
            seen_source_keys.insert(k);
        }
        seen_fact_keys.insert(fact_key);
        let advisory = event.milestone.is_some_and(|m| !truth.owns(m, event.source));
        kept.push((i, advisory));
    }
    // Withdrawals among the distinct events, by source: what they name stops counting, and a
    // withdrawal itself never claims a milestone.
    let withdrawn: HashSet<(crate::event::EventSource, &str)> =
        kept.iter().filter_map(|&(i, _)| events[i].withdrawn_id().map(|id| (events[i].source, id))).collect();
    if !withdrawn.is_empty() {
        for (i, advisory) in &mut kept {
            let event = &events[*i];
            let is_withdrawn =
                event.source_event_id.as_deref().is_some_and(|id| withdrawn.contains(&(event.source, id)));
            let withdrawal_with_claim = event.withdrawn_id().is_some() && event.milestone.is_some();
            *advisory |= is_withdrawn || withdrawal_with_claim;
        }
    }

    let mut status = None;
    let mut status_since = None;
    let mut first_carrier_possession_at = None;
    for &(i, advisory) in &kept {
        let event = &events[i];
        let Some(milestone) = event.milestone else { continue };
        if advisory || !in_scope(milestone, scope) {
            continue;
        }
        if let Some(moved) = next_status(status, first_carrier_possession_at.is_some(), milestone) {
            status = Some(moved);
            status_since = Some(event.occurred_at_utc());
            if moved.is_carrier_possession() && first_carrier_possession_at.is_none() {
                first_carrier_possession_at = Some(event.occurred_at_utc());
            }
        }
    }

    IndexedProjection { kept, status, first_carrier_possession_at, status_since, duplicates_dropped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventSource, Location};
    use chrono::DateTime;

    fn at(s: &str) -> DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn carrier(id: &str, milestone: Milestone, when: &str) -> TrackingEvent {
        TrackingEvent {
            source: EventSource::Carrier,
            source_event_id: Some(id.to_string()),
            milestone: Some(milestone),
            code: Some(milestone.as_str().to_uppercase()),
            description: None,
            occurred_at: at(when),
            received_at: at("2026-11-10T00:00:00Z").with_timezone(&Utc),
            location: None,
        }
    }

    fn from(source: EventSource, id: &str, milestone: Milestone, when: &str) -> TrackingEvent {
        TrackingEvent { source, ..carrier(id, milestone, when) }
    }

    fn project(events: &[TrackingEvent]) -> TimelineProjection {
        project_timeline(events, &SourceOfTruth::default(), ProjectionScope::Shipment)
    }

    #[test]
    fn rule_1_a_label_only_shipment_has_no_carrier_possession() {
        let p = project(&[carrier("1", Milestone::LabelCreated, "2026-11-01T09:00:00Z")]);
        assert_eq!(p.status, Some(Milestone::LabelCreated));
        assert!(!p.had_carrier_possession());
        let p = project(&[
            carrier("1", Milestone::LabelCreated, "2026-11-01T09:00:00Z"),
            carrier("2", Milestone::HandedToCarrier, "2026-11-01T17:00:00Z"),
        ]);
        assert_eq!(p.first_carrier_possession_at, Some(at("2026-11-01T17:00:00Z").with_timezone(&Utc)));
    }

    #[test]
    fn rule_2_a_late_event_takes_its_place_by_occurred_at_and_only_moves_status_if_newest() {
        let in_transit = carrier("2", Milestone::InTransit, "2026-11-02T08:00:00Z");
        let out = carrier("3", Milestone::OutForDelivery, "2026-11-03T07:00:00Z");
        let late_pickup = carrier("1", Milestone::HandedToCarrier, "2026-11-01T18:00:00-05:00");
        let p = project(&[in_transit, out, late_pickup]);
        let order: Vec<_> = p.entries.iter().map(|e| e.event.milestone.unwrap()).collect();
        assert_eq!(order, vec![Milestone::HandedToCarrier, Milestone::InTransit, Milestone::OutForDelivery]);
        assert_eq!(p.status, Some(Milestone::OutForDelivery));
    }

    #[test]
    fn rule_2_offsets_are_compared_as_instants() {
        // 09:00 in New York is after 13:30 UTC.
        let a = carrier("a", Milestone::InTransit, "2026-11-02T09:00:00-05:00");
        let b = carrier("b", Milestone::OutForDelivery, "2026-11-02T13:30:00Z");
        let p = project(&[a, b]);
        assert_eq!(p.status, Some(Milestone::InTransit));
    }

    #[test]
    fn rule_3_delivered_does_not_regress_on_a_later_in_transit_scan() {
        let p = project(&[
            carrier("1", Milestone::Delivered, "2026-11-03T12:00:00Z"),
            carrier("2", Milestone::InTransit, "2026-11-03T13:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::Delivered));
    }

    #[test]
    fn rule_3_only_a_return_flow_moves_a_shipment_out_of_a_terminal_state() {
        let p = project(&[
            carrier("1", Milestone::Delivered, "2026-11-03T12:00:00Z"),
            carrier("2", Milestone::ReturningToSender, "2026-11-05T13:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::ReturningToSender));
        let p = project(&[
            carrier("1", Milestone::Cancelled, "2026-11-03T12:00:00Z"),
            carrier("2", Milestone::OutForDelivery, "2026-11-05T13:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::Cancelled));
    }

    #[test]
    fn rule_3_in_transit_after_a_failed_attempt_is_real_and_moves_status() {
        let p = project(&[
            carrier("1", Milestone::OutForDelivery, "2026-11-03T08:00:00Z"),
            carrier("2", Milestone::DeliveryAttempted, "2026-11-03T15:00:00Z"),
            carrier("3", Milestone::InTransit, "2026-11-03T20:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::InTransit));
    }

    #[test]
    fn rule_3_a_late_pack_scan_does_not_pull_a_moving_parcel_back() {
        let p = project(&[
            carrier("1", Milestone::InTransit, "2026-11-03T08:00:00Z"),
            from(EventSource::Warehouse, "w", Milestone::Packed, "2026-11-03T09:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::InTransit));
        assert_eq!(p.entries.len(), 2, "the scan is still kept in the timeline");
    }

    #[test]
    fn rule_4_the_same_source_event_id_is_stored_once() {
        let a = carrier("1", Milestone::InTransit, "2026-11-03T08:00:00Z");
        let mut resent = a.clone();
        resent.description = Some("resent with new text".into());
        let p = project(&[a, resent]);
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.duplicates_dropped, 1);
    }

    #[test]
    fn rule_4_the_same_fact_with_another_id_from_one_source_is_stored_once() {
        let mut a = carrier("1", Milestone::InTransit, "2026-11-03T08:00:00Z");
        a.location = Some(Location { city: Some("Memphis".into()), ..Location::default() });
        let mut b = a.clone();
        b.source_event_id = Some("other-id".into());
        let mut from_driver = a.clone();
        from_driver.source = EventSource::Driver;
        let p = project(&[a, b, from_driver]);
        assert_eq!(p.entries.len(), 2, "one per source");
        assert_eq!(p.duplicates_dropped, 1);
    }

    #[test]
    fn rule_5_a_claim_from_a_source_that_does_not_own_the_milestone_is_advisory() {
        let p = project(&[
            carrier("1", Milestone::LabelCreated, "2026-11-01T09:00:00Z"),
            from(EventSource::Channel, "shopify-1", Milestone::HandedToCarrier, "2026-11-01T10:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::LabelCreated));
        assert!(!p.had_carrier_possession());
        assert!(p.entries[1].advisory);
        assert!(!p.entries[0].advisory);
    }

    #[test]
    fn rule_6_an_unmapped_code_is_kept_but_does_not_move_status() {
        let mut unmapped = carrier("2", Milestone::InTransit, "2026-11-02T09:00:00Z");
        unmapped.milestone = None;
        unmapped.code = Some("ZZ".into());
        let p = project(&[carrier("1", Milestone::HandedToCarrier, "2026-11-01T09:00:00Z"), unmapped]);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.status, Some(Milestone::HandedToCarrier));
        assert!(!p.entries[1].advisory);
    }

    #[test]
    fn order_scope_ignores_parcel_milestones_and_shipment_scope_ignores_order_ones() {
        let events = [
            from(EventSource::Channel, "o1", Milestone::Placed, "2026-11-01T09:00:00Z"),
            from(EventSource::Channel, "o2", Milestone::Confirmed, "2026-11-01T09:05:00Z"),
            carrier("c", Milestone::InTransit, "2026-11-02T09:00:00Z"),
        ];
        let truth = SourceOfTruth::default();
        assert_eq!(project_timeline(&events, &truth, ProjectionScope::Order).status, Some(Milestone::Confirmed));
        assert_eq!(project_timeline(&events, &truth, ProjectionScope::Shipment).status, Some(Milestone::InTransit));
    }

    fn withdrawal(of: &str, source: EventSource, when: &str) -> TrackingEvent {
        TrackingEvent {
            source,
            source_event_id: Some(format!("{}{of}", crate::event::WITHDRAWAL_PREFIX)),
            milestone: None,
            code: Some("error_declaration".into()),
            ..carrier("unused", Milestone::Packed, when)
        }
    }

    #[test]
    fn a_withdrawn_event_stays_in_the_timeline_and_stops_counting() {
        let picked = from(EventSource::Warehouse, "pick", Milestone::Picked, "2026-11-01T09:00:00Z");
        let packed = from(EventSource::Warehouse, "pack", Milestone::Packed, "2026-11-01T10:00:00Z");
        let declared = withdrawal("pack", EventSource::Warehouse, "2026-11-02T09:00:00Z");
        let p = project(&[picked.clone(), packed.clone(), declared.clone()]);
        assert_eq!(p.status, Some(Milestone::Picked));
        assert_eq!(p.entries.len(), 3, "the claim and its withdrawal are both shown");
        assert!(p.entries[1].advisory);
        assert!(!p.entries[2].advisory);
        // Arrival order does not matter: the same set, the same answer.
        let q = project(&[declared, packed, picked]);
        assert_eq!(q, p);
    }

    #[test]
    fn only_the_same_source_withdraws_an_event_and_a_withdrawal_claims_nothing() {
        let packed = from(EventSource::Warehouse, "pack", Milestone::Packed, "2026-11-01T10:00:00Z");
        let by_another = withdrawal("pack", EventSource::Channel, "2026-11-02T09:00:00Z");
        assert_eq!(project(&[packed.clone(), by_another]).status, Some(Milestone::Packed));
        let mut claiming = withdrawal("nothing", EventSource::Warehouse, "2026-11-02T09:00:00Z");
        claiming.milestone = Some(Milestone::Packed);
        let p = project(&[claiming]);
        assert_eq!(p.status, None);
        assert!(p.entries[0].advisory);
    }

    #[test]
    fn same_instant_events_end_on_the_furthest_stage() {
        let p = project(&[
            carrier("2", Milestone::InTransit, "2026-11-02T09:00:00Z"),
            carrier("1", Milestone::HandedToCarrier, "2026-11-02T09:00:00Z"),
        ]);
        assert_eq!(p.status, Some(Milestone::InTransit));
    }
}
