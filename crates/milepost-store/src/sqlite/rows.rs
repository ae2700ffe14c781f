//! Conversions between SQLite rows and domain values, kept in one place so that reads and
//! writes agree on how a time, a location or a milestone is stored.

use chrono::{DateTime, Utc};
use milepost_domain::{EventSource, Location, Milestone, TrackingEvent};
use rusqlite::Row;

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
pub fn event_from_row(row: &Row<'_>) -> rusqlite::Result<(TrackingEvent, bool, u32)> {
    let source: String = row.get(0)?;
    let milestone: Option<String> = row.get(2)?;
    let occurred_at: String = row.get(5)?;
    let received_at: String = row.get(6)?;
    let location = Location { city: row.get(7)?, region: row.get(8)?, postal_code: row.get(9)?, country: row.get(10)? };
    let mapping: String = row.get(11)?;
    let duplicates: i64 = row.get(12)?;
    let bad = |what: &str| rusqlite::Error::InvalidColumnType(0, what.to_string(), rusqlite::types::Type::Text);
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
pub fn exec<P: rusqlite::Params>(conn: &rusqlite::Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Reads one row through the statement cache.
pub fn row<T, P, F>(conn: &rusqlite::Connection, sql: &str, params: P, f: F) -> rusqlite::Result<T>
where
    P: rusqlite::Params,
    F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
{
    conn.prepare_cached(sql)?.query_row(params, f)
}

impl rusqlite::ToSql for crate::sql::Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use crate::sql::Value;
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn shared_value(value: rusqlite::types::ValueRef<'_>) -> crate::sql::Value {
    use crate::sql::Value;
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl crate::sql::Sql for rusqlite::Connection {
    fn dialect(&self) -> crate::sql::Dialect {
        crate::sql::Dialect::Sqlite
    }

    fn execute(&self, sql: &str, params: &[crate::sql::Value]) -> crate::StoreResult<usize> {
        exec(self, sql, rusqlite::params_from_iter(params)).map_err(super::storage_error)
    }

    fn query(&self, sql: &str, params: &[crate::sql::Value]) -> crate::StoreResult<Vec<crate::sql::Row>> {
        Ok(query_rows(self, sql, params, false)?.1)
    }

    fn query_with_columns(
        &self,
        sql: &str,
        params: &[crate::sql::Value],
    ) -> crate::StoreResult<(Vec<String>, Vec<crate::sql::Row>)> {
        query_rows(self, sql, params, true)
    }
}

/// A query's rows as shared values, and its column names when asked (they cost an allocation
/// each, and only whole-table reads need them).
fn query_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[crate::sql::Value],
    with_columns: bool,
) -> crate::StoreResult<(Vec<String>, Vec<crate::sql::Row>)> {
    let read = || -> rusqlite::Result<(Vec<String>, Vec<crate::sql::Row>)> {
        let mut stmt = conn.prepare_cached(sql)?;
        let width = stmt.column_count();
        let columns =
            if with_columns { stmt.column_names().into_iter().map(String::from).collect() } else { Vec::new() };
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let values = (0..width).map(|i| row.get_ref(i).map(shared_value)).collect::<rusqlite::Result<_>>()?;
            out.push(crate::sql::Row(values));
        }
        Ok((columns, out))
    };
    read().map_err(super::storage_error)
}
