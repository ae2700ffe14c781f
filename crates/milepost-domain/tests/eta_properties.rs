//! Properties of the ETA model that hold for any lane history, calendar and day: business-day
//! arithmetic is consistent, a predicted window is a real window that never starts before today
//! or the ship day, and the stabilizing rule never reports a change that changes nothing.

use chrono::{Duration, NaiveDate, Weekday};
use milepost_domain::Milestone;
use milepost_domain::eta::{EtaEvidence, HolidayCalendar, LaneHistory, LaneKey, predict, stabilize};
use proptest::prelude::*;

fn calendar() -> impl Strategy<Value = HolidayCalendar> {
    prop_oneof![
        Just(HolidayCalendar::UnitedStates),
        Just(HolidayCalendar::Germany),
        Just(HolidayCalendar::GreatBritain),
        Just(HolidayCalendar::WeekendsOnly),
    ]
}

fn day() -> impl Strategy<Value = NaiveDate> {
    // Any day of 2025 to 2028.
    (0i64..1461).prop_map(|n| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n))
}

fn milestone() -> impl Strategy<Value = Option<Milestone>> {
    prop_oneof![
        Just(None),
        Just(Some(Milestone::LabelCreated)),
        Just(Some(Milestone::HandedToCarrier)),
        Just(Some(Milestone::InTransit)),
        Just(Some(Milestone::OutForDelivery)),
        Just(Some(Milestone::DeliveryAttempted)),
        Just(Some(Milestone::AvailableForPickup)),
    ]
}

proptest! {
    #[test]
    fn adding_business_days_and_counting_them_agree(cal in calendar(), from in day(), n in 0u32..40) {
        let to = cal.add_business_days(from, n);
        prop_assert_eq!(cal.business_days_between(from, to), n);
        if n > 0 {
            prop_assert!(cal.is_business_day(to));
        }
    }

    #[test]
    fn a_prediction_is_a_window_that_starts_no_earlier_than_today_or_the_ship_day(
        cal in calendar(),
        ship_day in day(),
        waited in 0i64..20,
        transits in proptest::collection::vec(0u32..12, 0..40),
        latest in milestone(),
        in_hands in any::<bool>(),
        estimate_offset in proptest::option::of(0i64..10),
    ) {
        let lane = LaneKey::new(Some("ups"), Some("ground"), "US-8".into(), "US-0".into(), Weekday::Mon);
        let mut history = LaneHistory::default();
        for days in &transits {
            history.record(&lane, *days);
        }
        let today = ship_day + Duration::days(waited);
        let evidence = EtaEvidence {
            calendar: cal,
            ship_day,
            in_carrier_hands: in_hands,
            latest_milestone: latest.map(|m| (m, today)),
            carrier_estimate: estimate_offset.map(|o| ship_day + Duration::days(o)),
            today,
        };
        let prediction = predict(&history.for_lane(&lane), &evidence);
        prop_assert!(prediction.window.earliest <= prediction.window.latest);
        let window = prediction.window;
        match latest {
            Some(Milestone::OutForDelivery) => prop_assert!(window.earliest == today && window.latest == today),
            Some(Milestone::DeliveryAttempted) => {
                prop_assert!(window.earliest == window.latest && window.earliest > today);
                prop_assert!(cal.is_business_day(window.earliest));
            }
            Some(Milestone::AvailableForPickup) => prop_assert_eq!(window.earliest, today),
            _ => prop_assert!(window.earliest >= today.max(ship_day)),
        }
        // Publishing the same window again is never a change.
        prop_assert_eq!(stabilize(Some(prediction.window), prediction, today), None);
        let first = stabilize(None, prediction, today).expect("the first window is always published");
        prop_assert_eq!(first.window, prediction.window);
    }
}
