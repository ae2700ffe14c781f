//! The PostgreSQL runner of the schema's versions (`crate::migrations`). All pending migrations
//! run in one transaction that first locks `schema_migrations`, so several processes starting at once on one database apply each
//! migration exactly once (PostgreSQL's DDL is transactional); files are never edited after
//! they land.

use super::client::{Connection, Error};
use super::storage_error;
use crate::StoreResult;

/// Applies every migration not yet applied; returns all applied versions.
pub fn apply(conn: &Connection) -> StoreResult<Vec<i64>> {
    // Two processes creating the table at the same moment: one of them loses the race on the
    // catalog's unique index, which only means the table now exists.
    if let Err(e) = conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
    ) {
        let raced =
            matches!(&e, Error::Postgres(pg) if pg.code().is_some_and(|c| c.code() == "23505" || c.code() == "42P07"));
        if !raced {
            return Err(storage_error(e));
        }
    }
    conn.execute_batch("BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE").map_err(storage_error)?;
    let applied = crate::migrations::apply_pending(&crate::db::Connection::Postgres(conn));
    match applied {
        Ok(versions) => {
            conn.execute_batch("COMMIT").map_err(storage_error)?;
            Ok(versions)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
