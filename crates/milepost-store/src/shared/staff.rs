//! Staff users and their dashboard sessions. Kept apart from the API keys because a person logs
//! in with a password and holds an expiring session, while a key is a bearer secret of a
//! machine; both end up as the same `Principal` with a role.

use crate::db::Connection;
use crate::sql::{Row, values};
use crate::{AccountId, StaffUpsert, StaffUserRecord, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use milepost_domain::{AccountName, Role};

const USER_COLUMNS: &str = "u.id, u.account_id, a.name, u.email, u.role, u.password_hash";

fn to_record(r: Row) -> StoreResult<StaffUserRecord> {
    let id: i64 = r.get(0)?;
    let corrupt = |what: &str| StoreError::Unexpected(format!("stored staff user {id} has a bad {what}"));
    Ok(StaffUserRecord {
        id,
        account_id: AccountId(r.get(1)?),
        account_name: AccountName::parse(&r.get::<String>(2)?).map_err(|_| corrupt("account name"))?,
        email: r.get(3)?,
        role: r.get::<String>(4)?.parse::<Role>().map_err(|_| corrupt("role"))?,
        password_hash: r.get(5)?,
    })
}

pub fn upsert_staff_user(
    conn: &Connection,
    account: AccountId,
    email: &str,
    role: Role,
    password_hash: &str,
) -> StoreResult<StaffUpsert> {
    let now = Utc::now().to_rfc3339();
    let existing = conn.optional_row("SELECT id, account_id FROM staff_users WHERE email = ?1", values![email])?;
    let existing: Option<(i64, i64)> = existing.map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?))).transpose()?;
    match existing {
        Some((_, owner)) if owner != account.0 => {
            Err(StoreError::Conflict(format!("{email} is already a staff user of another account")))
        }
        Some((id, _)) => {
            conn.execute(
                "UPDATE staff_users SET password_hash = ?1, role = ?2, updated_at = ?3 WHERE id = ?4",
                values![password_hash, role.as_str(), now, id],
            )?;
            // A new password ends every session started with the old one.
            conn.execute("DELETE FROM staff_sessions WHERE staff_id = ?1", values![id])?;
            Ok(StaffUpsert::Updated)
        }
        None => {
            conn.execute(
                "INSERT INTO staff_users (account_id, email, password_hash, role, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                values![account.0, email, password_hash, role.as_str(), now],
            )?;
            Ok(StaffUpsert::Created)
        }
    }
}

pub fn staff_user_by_email(conn: &Connection, email: &str) -> StoreResult<Option<StaffUserRecord>> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM staff_users u JOIN accounts a ON a.id = u.account_id WHERE u.email = ?1");
    conn.optional_row(&sql, values![email])?.map(to_record).transpose()
}

pub fn create_staff_session(
    conn: &Connection,
    id_hash: &str,
    staff_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    // Expired sessions of this user go when a new one starts, so the table does not grow.
    conn.execute(
        "DELETE FROM staff_sessions WHERE staff_id = ?1 AND expires_at_us <= ?2",
        values![staff_id, now.timestamp_micros()],
    )?;
    conn.execute(
        "INSERT INTO staff_sessions (id_hash, staff_id, created_at, expires_at_us) VALUES (?1, ?2, ?3, ?4)",
        values![id_hash, staff_id, now.to_rfc3339(), expires_at.timestamp_micros()],
    )?;
    Ok(())
}

pub fn staff_session(conn: &Connection, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<StaffUserRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_id
         JOIN accounts a ON a.id = u.account_id WHERE s.id_hash = ?1 AND s.expires_at_us > ?2"
    );
    conn.optional_row(&sql, values![id_hash, now.timestamp_micros()])?.map(to_record).transpose()
}

pub fn delete_staff_session(conn: &Connection, id_hash: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM staff_sessions WHERE id_hash = ?1", values![id_hash])?;
    Ok(())
}
