//! Versioned, embedded migrations for the PostgreSQL backend, numbered like the SQLite ones and
//! meaning the same schema. All pending migrations run in one transaction that first locks
//! `schema_migrations`, so several processes starting at once on one database apply each
//! migration exactly once (PostgreSQL's DDL is transactional); files are never edited after
//! they land.

use super::compat::{Connection, Error, params};
use super::storage_error;
use crate::StoreResult;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_core.sql")),
    (2, include_str!("migrations/0002_ingest.sql")),
    (3, include_str!("migrations/0003_tracking.sql")),
    (4, include_str!("migrations/0004_exception_rules.sql")),
    (5, include_str!("migrations/0005_notifications.sql")),
    (6, include_str!("migrations/0006_staff.sql")),
    (7, include_str!("migrations/0007_polling.sql")),
    (8, include_str!("migrations/0008_returns.sql")),
    (9, include_str!("migrations/0009_notify_policy.sql")),
    (10, include_str!("migrations/0010_eta.sql")),
    (11, include_str!("migrations/0011_notice_detail.sql")),
    (12, include_str!("migrations/0012_event_index_trim.sql")),
    (13, include_str!("migrations/0013_carrier_eta.sql")),
    (14, include_str!("migrations/0014_account_lists.sql")),
];

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
    let applied = (|| {
        for (version, sql) in MIGRATIONS {
            let done: bool = conn
                .query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = $1)", params![version], |r| {
                    r.get(0)
                })
                .map_err(storage_error)?;
            if !done {
                conn.execute_batch(sql).map_err(storage_error)?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    params![version, chrono::Utc::now().to_rfc3339()],
                )
                .map_err(storage_error)?;
                tracing::info!(version, "applied migration");
            }
        }
        let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version").map_err(storage_error)?;
        let versions = stmt.query_map(params![], |r| r.get(0)).map_err(storage_error)?;
        versions.collect::<Result<Vec<i64>, _>>().map_err(storage_error)
    })();
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
