//! Transactions written once for both backends, over the shared statement layer (`crate::sql`):
//! each function takes any connection that is inside a transaction of its backend, which the
//! backend's `Store` method opened, commits and (on PostgreSQL) runs again after a lost race.
//! Moving a backend's module here removes its twin in the other backend; the modules not yet
//! moved live in `sqlite/` and `postgres/` and differ mostly in placeholders.

pub mod cleanup;
pub mod export;
pub mod policy;
pub mod polling;
pub mod staff;

use crate::StoreError;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};

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
