//! Transactions written once for both backends, over the shared statement layer (`crate::sql`):
//! each function takes any connection that is inside a transaction of its backend, which the
//! backend's `Store` method opened, commits and (on PostgreSQL) runs again after a lost race.
//! Moving a backend's module here removes its twin in the other backend; the modules not yet
//! moved live in `sqlite/` and `postgres/` and differ mostly in placeholders.

pub mod cleanup;
pub mod decisions;
pub mod eta;
pub mod export;
pub mod ingest;
pub mod kpi;
pub mod outbox;
pub mod policy;
pub mod polling;
pub mod reads;
pub mod returns;
pub mod rows;
pub mod rules;
pub mod staff;
pub mod tracking;
pub mod writes;

use crate::StoreError;
pub(crate) use crate::db::storage_error;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use milepost_domain::SourceOfTruth;

/// A stored RFC 3339 time with its offset.
pub fn parse_time(text: &str) -> Result<DateTime<FixedOffset>, StoreError> {
    DateTime::parse_from_rfc3339(text).map_err(|e| StoreError::Unexpected(format!("bad stored time {text:?}: {e}")))
}

/// A stored RFC 3339 time in UTC.
pub fn parse_utc(text: &str) -> Result<DateTime<Utc>, StoreError> {
    parse_time(text).map(|t| t.with_timezone(&Utc))
}

/// A time stored as microseconds since the epoch (an indexed `…_us` column).
pub fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

/// Stored events (each with whether its code is unmapped and how many duplicates of it
/// arrived) projected into the timeline the API shows, and the status the projection gives.
pub fn stored_entries(
    events: Vec<(milepost_domain::TrackingEvent, bool, u32)>,
    truth: &SourceOfTruth,
    scope: milepost_domain::timeline::ProjectionScope,
) -> (Vec<crate::StoredEntry>, Option<milepost_domain::Milestone>) {
    let (plain, facts): (Vec<_>, Vec<_>) = events.into_iter().map(|(event, u, d)| (event, (u, d))).unzip();
    let projection = milepost_domain::timeline::project_indexed(&plain, truth, scope);
    let mut slots: Vec<Option<milepost_domain::TrackingEvent>> = plain.into_iter().map(Some).collect();
    let entries = projection
        .kept
        .iter()
        .filter_map(|&(i, advisory)| {
            let (unmapped, duplicate_count) = facts[i];
            slots[i].take().map(|event| crate::StoredEntry { event, advisory, unmapped, duplicate_count })
        })
        .collect();
    (entries, projection.status)
}
