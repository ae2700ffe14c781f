//! How often to ask a carrier about a parcel. Carriers that only answer queries (UPS, FedEx,
//! USPS, DHL) are polled on a schedule that fits the parcel's stage: often when it is out for
//! delivery, rarely when it has not moved for days, never after a terminal milestone.

use crate::milestone::Milestone;
use chrono::{DateTime, Duration, Utc};

/// The delay before the next poll, or `None` when the parcel needs no more polling.
pub fn next_poll_delay(
    status: Option<Milestone>,
    last_event_at: Option<DateTime<Utc>>,
    registered_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    if status.is_some_and(Milestone::is_terminal) {
        return None;
    }
    let quiet_for = now - last_event_at.unwrap_or(registered_at);
    // A number the carrier has not known for two weeks is given up on (the `not_found`
    // exception has long been raised for it).
    if last_event_at.is_none() && quiet_for > Duration::days(14) {
        return None;
    }
    let by_stage = match status {
        Some(Milestone::OutForDelivery | Milestone::DeliveryAttempted | Milestone::AvailableForPickup) => {
            Duration::minutes(30)
        }
        Some(Milestone::InTransit | Milestone::HandedToCarrier | Milestone::Exception) => Duration::hours(2),
        Some(Milestone::ReturningToSender) => Duration::hours(6),
        _ => Duration::hours(4),
    };
    // Stalled parcels are asked about less often: a scan after days of silence is rarely
    // minutes late.
    let delay = if quiet_for > Duration::days(3) { by_stage.max(Duration::hours(12)) } else { by_stage };
    Some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn out_for_delivery_is_polled_often_and_in_transit_less() {
        let now = t("2026-11-10T12:00:00Z");
        let recent = Some(t("2026-11-10T08:00:00Z"));
        let reg = t("2026-11-09T00:00:00Z");
        assert_eq!(next_poll_delay(Some(Milestone::OutForDelivery), recent, reg, now), Some(Duration::minutes(30)));
        assert_eq!(next_poll_delay(Some(Milestone::InTransit), recent, reg, now), Some(Duration::hours(2)));
        assert_eq!(next_poll_delay(None, None, reg, now), Some(Duration::hours(4)));
    }

    #[test]
    fn a_stalled_parcel_is_polled_rarely_and_a_terminal_one_never() {
        let now = t("2026-11-10T12:00:00Z");
        let reg = t("2026-11-01T00:00:00Z");
        let old = Some(t("2026-11-05T08:00:00Z"));
        assert_eq!(next_poll_delay(Some(Milestone::OutForDelivery), old, reg, now), Some(Duration::hours(12)));
        assert_eq!(next_poll_delay(Some(Milestone::Delivered), old, reg, now), None);
        assert_eq!(next_poll_delay(Some(Milestone::Cancelled), old, reg, now), None);
        assert_eq!(next_poll_delay(None, None, t("2026-10-01T00:00:00Z"), now), None, "unknown for weeks");
    }
}
