//! Conversions between stored rows and domain values, kept in one place so that reads and
//! writes agree on how a time, a location or a milestone is stored.

use crate::db::Row;
use chrono::{DateTime, Utc};
use milepost_domain::{EventSource, Location, Milestone, TrackingEvent};

pub use crate::shared::{from_micros, parse_time, parse_utc};

/// The columns `event_from_row` expects, in order, as a literal for `concat!`: the statements
/// every order read and every touched parcel run are then built at compile time.
macro_rules! event_columns {
    () => {
        "source, source_event_id, milestone, code, description, occurred_at, received_at, \
         city, region, postal_code, country, mapping, duplicate_count"
    };
}
pub(crate) use event_columns;

/// The columns `event_from_row` expects, in order.
pub const EVENT_COLUMNS: &str = event_columns!();

/// A stored event as the domain sees it, plus whether its code is unmapped and how many
/// duplicates of it arrived.
pub fn event_from_row(row: &Row<'_>) -> crate::db::Result<(TrackingEvent, bool, u32)> {
    let source: String = row.get(0)?;
    let milestone: Option<String> = row.get(2)?;
    let occurred_at: String = row.get(5)?;
    let received_at: String = row.get(6)?;
    let location = Location { city: row.get(7)?, region: row.get(8)?, postal_code: row.get(9)?, country: row.get(10)? };
    let mapping: String = row.get(11)?;
    let duplicates: i64 = row.get(12)?;
    let bad = |what: &str| crate::db::Error::InvalidColumn(0, what.to_string());
    let event = TrackingEvent {
        source: source.parse::<EventSource>().map_err(|_| bad("source"))?,
        source_event_id: row.get(1)?,
        milestone: match milestone {
            Some(m) => Some(m.parse::<Milestone>().map_err(|_| bad("milestone"))?),
            None => None,
        },
        code: row.get(3)?,
        description: row.get(4)?,
        occurred_at: DateTime::parse_from_rfc3339(&occurred_at).map_err(|_| bad("occurred_at"))?,
        received_at: DateTime::parse_from_rfc3339(&received_at).map_err(|_| bad("received_at"))?.with_timezone(&Utc),
        location: if location.is_empty() { None } else { Some(location) },
    };
    Ok((event, mapping == "unmapped", duplicates.max(0) as u32))
}

/// Executes a statement through the connection's statement cache: the write path runs the same
/// few dozen statements for every event, and parsing them anew each time would cost more than
/// running them.
pub fn exec<P: crate::db::Params>(conn: &crate::db::Connection, sql: &str, params: P) -> crate::db::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Reads one row through the statement cache.
pub fn row<T, P, F>(conn: &crate::db::Connection, sql: &str, params: P, f: F) -> crate::db::Result<T>
where
    P: crate::db::Params,
    F: FnOnce(&Row<'_>) -> crate::db::Result<T>,
{
    conn.prepare_cached(sql)?.query_row(params, f)
}
