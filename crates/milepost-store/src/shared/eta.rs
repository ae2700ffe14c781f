//! Milepost's own ETA (migration `0010_eta.sql`, both backends): run for each parcel whose events
//! changed, inside the write transaction of those events. A delivery adds one to its lane's
//! transit histograms (once per parcel, three upserts); a parcel still on its way gets a window
//! predicted from the three histogram rows of its lane by `milepost_domain::eta`, and the window
//! is published (stored on the shipment and recorded in `eta_changes`) only when the domain's
//! stabilizing rule says it moved. Written once for both backends over `crate::sql`.

use crate::StoreResult;
use crate::db::Connection;
use crate::sql::values;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use milepost_domain::TimelineProjection;
use milepost_domain::eta::{
    EtaWindow, HolidayCalendar, LaneHistograms, LaneKey, ParcelEtaStep, TransitHistogram, parcel_eta_step, predict,
    region_of, stabilize,
};

struct ParcelFacts {
    account_id: i64,
    direction: String,
    carrier: Option<String>,
    service: Option<String>,
    origin_postal_code: Option<String>,
    origin_country: Option<String>,
    destination_postal_code: Option<String>,
    destination_country: Option<String>,
    eta_earliest: Option<String>,
    eta_latest: Option<String>,
    learned: bool,
    promised_by: Option<String>,
    carrier_estimate: Option<String>,
}

/// Keeps the carrier's estimated delivery day that an event of the parcel carried, unless an
/// event that happened later already gave one (a late event's older estimate does not win).
pub fn record_carrier_estimate(
    conn: &Connection,
    shipment_id: i64,
    day: NaiveDate,
    given_at: DateTime<FixedOffset>,
) -> StoreResult<()> {
    let at = given_at.timestamp_micros();
    conn.execute(
        "UPDATE shipments SET carrier_eta = ?2, carrier_eta_from_us = ?3
         WHERE id = ?1 AND (carrier_eta_from_us IS NULL OR carrier_eta_from_us <= ?3)",
        values![shipment_id, day.to_string(), at],
    )?;
    Ok(())
}

/// Learns from a delivery or updates the published window of one outbound parcel.
pub fn on_parcel_change(
    conn: &Connection,
    shipment_id: i64,
    projection: &TimelineProjection,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let r = conn.one_row(
        "SELECT s.account_id, s.direction, s.carrier, s.service, s.origin_postal_code, s.origin_country,
                o.ship_to_postal_code, o.ship_to_country, s.eta_earliest, s.eta_latest, s.eta_learned, o.promised_by,
                s.carrier_eta
         FROM shipments s JOIN orders o ON o.id = s.order_id WHERE s.id = ?1",
        values![shipment_id],
    )?;
    let facts = ParcelFacts {
        account_id: r.get(0)?,
        direction: r.get(1)?,
        carrier: r.get(2)?,
        service: r.get(3)?,
        origin_postal_code: r.get(4)?,
        origin_country: r.get(5)?,
        destination_postal_code: r.get(6)?,
        destination_country: r.get(7)?,
        eta_earliest: r.get(8)?,
        eta_latest: r.get(9)?,
        learned: r.get::<i64>(10)? != 0,
        promised_by: r.get(11)?,
        carrier_estimate: r.get(12)?,
    };
    if facts.direction != "outbound" {
        return Ok(());
    }
    let calendar = HolidayCalendar::for_country(facts.destination_country.as_deref());
    let lane = |weekday| {
        LaneKey::new(
            facts.carrier.as_deref(),
            facts.service.as_deref(),
            region_of(facts.origin_country.as_deref(), facts.origin_postal_code.as_deref()),
            region_of(facts.destination_country.as_deref(), facts.destination_postal_code.as_deref()),
            weekday,
        )
    };
    match parcel_eta_step(projection, calendar, now) {
        ParcelEtaStep::Nothing => Ok(()),
        ParcelEtaStep::Learn { shipped_on, business_days } => {
            if facts.learned {
                return Ok(());
            }
            for (_, key) in lane(shipped_on.weekday()).scope_keys() {
                conn.execute(
                    "INSERT INTO lane_transit (account_id, scope_key, business_days, deliveries) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (account_id, scope_key, business_days)
                     DO UPDATE SET deliveries = lane_transit.deliveries + 1",
                    values![facts.account_id, key, i64::from(business_days)],
                )?;
            }
            conn.execute("UPDATE shipments SET eta_learned = 1 WHERE id = ?1", values![shipment_id])?;
            Ok(())
        }
        ParcelEtaStep::Predict(mut evidence) => {
            evidence.carrier_estimate = facts.carrier_estimate.as_deref().and_then(|d| d.parse::<NaiveDate>().ok());
            let offset = offset_of(projection);
            let histograms = lane_histograms(conn, facts.account_id, &lane(evidence.ship_day.weekday()))?;
            let prediction = predict(&histograms, &evidence);
            let published = match (&facts.eta_earliest, &facts.eta_latest) {
                (Some(e), Some(l)) => match (local_day(e), local_day(l)) {
                    (Some(earliest), Some(latest)) => Some(EtaWindow { earliest, latest }),
                    _ => None,
                },
                _ => None,
            };
            let Some(change) = stabilize(published, prediction, evidence.today) else {
                due_when_window_ends(conn, shipment_id, facts.eta_latest.as_deref(), now)?;
                return keep_window_at_possession(conn, shipment_id, projection);
            };
            let earliest = start_of_day(change.window.earliest, offset);
            let latest = end_of_day(change.window.latest, offset);
            // `delayed` (DESIGN §3): the published window ends after the promise.
            let promised = facts.promised_by.as_deref().and_then(|p| DateTime::parse_from_rfc3339(p).ok());
            let window_end = DateTime::parse_from_rfc3339(&latest).ok();
            let delayed = i64::from(matches!((promised, window_end), (Some(p), Some(end)) if end > p));
            conn.execute(
                "UPDATE shipments SET eta_earliest = ?2, eta_latest = ?3, delayed = ?4 WHERE id = ?1",
                values![shipment_id, earliest, latest, delayed],
            )?;
            conn.execute(
                "INSERT INTO eta_changes (account_id, shipment_id, previous_earliest, previous_latest, earliest,
                                          latest, basis, reason, milestone, changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                values![
                    facts.account_id,
                    shipment_id,
                    facts.eta_earliest,
                    facts.eta_latest,
                    earliest,
                    latest,
                    change.basis.as_str(),
                    change.reason.as_str(),
                    projection.status.map(|m| m.as_str()),
                    now.to_rfc3339()
                ],
            )?;
            due_when_window_ends(conn, shipment_id, Some(&latest), now)?;
            keep_window_at_possession(conn, shipment_id, projection)
        }
    }
}

/// Makes the parcel due for the sweeper (`next_check_us`, which the sweeper reads) just after
/// its published window ends, unless a rule wants it sooner: a parcel that goes quiet gets a new
/// window when the old one runs out, not only at its next event. A window already over asks for
/// nothing (the sweep that runs now is the one that looked).
fn due_when_window_ends(
    conn: &Connection,
    shipment_id: i64,
    latest: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(end) = latest.and_then(|l| DateTime::parse_from_rfc3339(l).ok()) else { return Ok(()) };
    let due = end.with_timezone(&Utc) + chrono::Duration::seconds(1);
    if due <= now {
        return Ok(());
    }
    conn.execute(
        "UPDATE shipments SET next_check_us = ?2 WHERE id = ?1 AND (next_check_us IS NULL OR next_check_us > ?2)",
        values![shipment_id, due.timestamp_micros()],
    )?;
    Ok(())
}

/// Keeps, once, the window in force when the parcel is first known to be in carrier hands: the
/// ETA-accuracy KPI judges that window.
fn keep_window_at_possession(conn: &Connection, shipment_id: i64, projection: &TimelineProjection) -> StoreResult<()> {
    if projection.first_carrier_possession_at.is_none() {
        return Ok(());
    }
    conn.execute(
        "UPDATE shipments SET eta_possession_earliest = eta_earliest, eta_possession_latest = eta_latest
         WHERE id = ?1 AND eta_possession_earliest IS NULL AND eta_earliest IS NOT NULL",
        values![shipment_id],
    )?;
    Ok(())
}

/// The three histogram rows of a lane's scopes.
fn lane_histograms(conn: &Connection, account_id: i64, lane: &LaneKey) -> StoreResult<LaneHistograms> {
    let keys = lane.scope_keys();
    let rows = conn.query(
        "SELECT scope_key, business_days, deliveries FROM lane_transit
         WHERE account_id = ?1 AND scope_key IN (?2, ?3, ?4)",
        values![account_id, keys[0].1, keys[1].1, keys[2].1],
    )?;
    let mut counts: [Vec<u32>; 3] = Default::default();
    for found in rows {
        let (key, days, deliveries): (String, i64, i64) = (found.get(0)?, found.get(1)?, found.get(2)?);
        if let Some(i) = keys.iter().position(|(_, k)| *k == key) {
            let days = usize::try_from(days).unwrap_or(0);
            if counts[i].len() <= days {
                counts[i].resize(days + 1, 0);
            }
            counts[i][days] += u32::try_from(deliveries).unwrap_or(0);
        }
    }
    let [lane_counts, region_counts, service_counts] = counts;
    Ok(LaneHistograms {
        scopes: [
            (keys[0].0, TransitHistogram::from_counts(&lane_counts)),
            (keys[1].0, TransitHistogram::from_counts(&region_counts)),
            (keys[2].0, TransitHistogram::from_counts(&service_counts)),
        ],
    })
}

/// The offset of the parcel's newest event, in which its window's days are written.
fn offset_of(projection: &TimelineProjection) -> FixedOffset {
    projection
        .entries
        .iter()
        .rev()
        .find(|e| !e.advisory)
        .map(|e| *e.event.occurred_at.offset())
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"))
}

fn local_day(stored: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(stored).ok().map(|t| t.date_naive())
}

fn start_of_day(day: NaiveDate, offset: FixedOffset) -> String {
    at(day, NaiveTime::MIN, offset)
}

fn end_of_day(day: NaiveDate, offset: FixedOffset) -> String {
    at(day, NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"), offset)
}

fn at(day: NaiveDate, time: NaiveTime, offset: FixedOffset) -> String {
    offset.from_local_datetime(&day.and_time(time)).single().map(|t| t.to_rfc3339()).unwrap_or_default()
}
