//! Versioned, embedded migrations for the SQLite backend. Each migration runs once, in its own
//! transaction, and is recorded in `schema_migrations`; files are never edited after they land.

use super::storage_error;
use crate::StoreResult;
use rusqlite::Connection;

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
pub fn apply(conn: &mut Connection) -> StoreResult<Vec<i64>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(storage_error)?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(storage_error)?;
        let done: bool = tx
            .query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))
            .map_err(storage_error)?;
        if !done {
            tx.execute_batch(sql).map_err(storage_error)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                rusqlite::params![version, chrono::Utc::now().to_rfc3339()],
            )
            .map_err(storage_error)?;
            tracing::info!(version, "applied migration");
        }
        tx.commit().map_err(storage_error)?;
    }
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version").map_err(storage_error)?;
    let versions = stmt.query_map([], |r| r.get(0)).map_err(storage_error)?;
    versions.collect::<Result<Vec<i64>, _>>().map_err(storage_error)
}
