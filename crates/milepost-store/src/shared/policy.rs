//! Each account's notification policy: the checked TOML document as the merchant wrote it
//! (migration `0009_notify_policy.sql`). The outbox hooks call `account_policy` on the writer's
//! connection, so the policy a message follows is the one committed before its cause.

use crate::db::Connection;
use crate::policy_cache::policy_from_document;
use crate::sql::values;
use crate::{AccountId, StoreResult};
use chrono::{DateTime, Utc};
use milepost_domain::notify::NotificationPolicy;

/// The account's stored policy document, if it wrote one.
pub fn document(conn: &Connection, account: AccountId) -> StoreResult<Option<String>> {
    conn.optional_row("SELECT document FROM notification_policies WHERE account_id = ?1", values![account.0])?
        .map(|row| row.get(0))
        .transpose()
}

/// The policy the account's messages follow: its own document (parsed once per text, see
/// `policy_cache`), or `fallback`.
pub fn account_policy(
    conn: &Connection,
    account: AccountId,
    fallback: &NotificationPolicy,
) -> StoreResult<NotificationPolicy> {
    Ok(policy_from_document(account, document(conn, account)?.as_deref(), fallback))
}

/// Replaces the account's policy document; `None` goes back to the built-in policy.
pub fn set_document(
    conn: &Connection,
    account: AccountId,
    document: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    match document {
        Some(text) => conn.execute(
            "INSERT INTO notification_policies (account_id, document, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(account_id) DO UPDATE SET document = ?2, updated_at = ?3",
            values![account.0, text, now.to_rfc3339()],
        ),
        None => conn.execute("DELETE FROM notification_policies WHERE account_id = ?1", values![account.0]),
    }?;
    Ok(())
}
