//! The SQLite runner of the schema's versions (`crate::migrations`): all pending ones in one
//! `BEGIN IMMEDIATE` transaction (SQLite's DDL is transactional), recorded in
//! `schema_migrations`.

use super::storage_error;
use crate::StoreResult;
use rusqlite::Connection;

/// Applies every migration not yet applied; returns all applied versions.
pub fn apply(conn: &mut Connection) -> StoreResult<Vec<i64>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(storage_error)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(storage_error)?;
    let versions = crate::migrations::apply_pending(&crate::db::Connection::Sqlite(&tx))?;
    tx.commit().map_err(storage_error)?;
    Ok(versions)
}
