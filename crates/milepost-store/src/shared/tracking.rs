//! Queries behind the customer pages: choosing the account a tracking page serves, branding,
//! server secrets, and return requests. Kept apart from `reads`/`writes` because these tables
//! belong to the customer-facing feature, not to the event log.

use super::reads;
use super::storage_error;
use crate::db::{Connection, OptionalExtension, params};
use crate::{AccountId, NewReturn, OrderProof, ReturnRecord, StoreError, StoreResult};
use milepost_domain::returns::{check_return_request, returnable_quantities};
use milepost_domain::{AccountName, Branding, HexColor, OrderNumber, ReturnState, SourceOfTruth};

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339()
}

pub fn account_by_name(conn: &Connection, name: &AccountName) -> StoreResult<Option<AccountId>> {
    super::rows::row(conn, "SELECT id FROM accounts WHERE name = ?1", [name.as_str()], |r| r.get(0))
        .optional()
        .map(|id| id.map(AccountId))
        .map_err(storage_error)
}

pub fn sole_account(conn: &Connection) -> StoreResult<Option<AccountId>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM accounts ORDER BY id LIMIT 2")
        .and_then(|mut s| s.query_map(params![], |r| r.get(0))?.collect())
        .map_err(storage_error)?;
    Ok(match ids.as_slice() {
        [only] => Some(AccountId(*only)),
        _ => None,
    })
}

pub fn branding(conn: &Connection, account: AccountId) -> StoreResult<Branding> {
    let row: Option<[Option<String>; 7]> = super::rows::row(
        conn,
        "SELECT name, logo_url, primary_color, accent_color, support_url, support_email, footer_text
             FROM branding WHERE account_id = ?1",
        [account.0],
        |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?]),
    )
    .optional()
    .map_err(storage_error)?;
    let Some([name, logo_url, primary, accent, support_url, support_email, footer_text]) = row else {
        return Ok(Branding::default());
    };
    let colour = |c: Option<String>| c.and_then(|c| HexColor::parse(&c).ok());
    Ok(Branding {
        name,
        logo_url,
        primary_color: colour(primary),
        accent_color: colour(accent),
        support_url,
        support_email,
        footer_text,
    })
}

pub fn put_branding(conn: &Connection, account: AccountId, b: &Branding) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO branding (account_id, name, logo_url, primary_color, accent_color, support_url, support_email,
                               footer_text, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(account_id) DO UPDATE SET name = ?2, logo_url = ?3, primary_color = ?4, accent_color = ?5,
             support_url = ?6, support_email = ?7, footer_text = ?8, updated_at = ?9",
        params![
            account.0,
            b.name,
            b.logo_url,
            b.primary_color.map(|c| c.to_string()),
            b.accent_color.map(|c| c.to_string()),
            b.support_url,
            b.support_email,
            b.footer_text,
            now_text()
        ],
    )
    .map_err(storage_error)?;
    Ok(())
}

pub fn server_secret(conn: &Connection, name: &str, candidate: &str) -> StoreResult<String> {
    conn.execute(
        "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
        params![name, candidate, now_text()],
    )
    .map_err(storage_error)?;
    super::rows::row(conn, "SELECT value FROM server_secrets WHERE name = ?1", [name], |r| r.get(0))
        .map_err(storage_error)
}

pub fn returns_of_order(conn: &Connection, order_id: i64) -> StoreResult<Vec<ReturnRecord>> {
    super::returns::returns_of_order(conn, order_id)
}

pub fn create_return(
    conn: &Connection,
    truth: &SourceOfTruth,
    account: AccountId,
    number: &OrderNumber,
    request: &NewReturn,
) -> StoreResult<ReturnRecord> {
    let order_id: i64 = super::rows::row(
        conn,
        "SELECT id FROM orders WHERE account_id = ?1 AND order_number = ?2",
        params![account.0, number.as_str()],
        |r| r.get(0),
    )
    .optional()
    .map_err(storage_error)?
    .ok_or_else(|| StoreError::NotFound(format!("order {number}")))?;
    let record =
        reads::order(conn, truth, account, number)?.ok_or_else(|| StoreError::NotFound(format!("order {number}")))?;
    let earlier: Vec<_> = record.returns.iter().map(|r| (r.state, r.items.clone())).collect();
    let left = returnable_quantities(&record.items, &earlier);
    check_return_request(&request.items, &left)
        .map_err(|refused| StoreError::Invalid { field: refused.field, message: refused.message })?;
    let now = request.requested_at.to_rfc3339();
    let id: i64 = conn
        .query_row(
            "INSERT INTO returns (account_id, order_id, state, source, note, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
            params![account.0, order_id, ReturnState::Requested.as_str(), request.source, request.note, now],
            |r| r.get(0),
        )
        .map_err(storage_error)?;
    for (line_no, item) in request.items.iter().enumerate() {
        conn.execute(
            "INSERT INTO return_items (return_id, line_no, sku, quantity, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, line_no as i64, item.sku, item.quantity, item.reason.as_str()],
        )
        .map_err(storage_error)?;
    }
    super::returns::load_return(conn, id)
}

pub fn order_proof(conn: &Connection, account: AccountId, number: &OrderNumber) -> StoreResult<Option<OrderProof>> {
    super::rows::row(
        conn,
        "SELECT customer_email, ship_to_postal_code, customer_postal_code FROM orders
         WHERE account_id = ?1 AND order_number = ?2",
        params![account.0, number.as_str()],
        |r| Ok(OrderProof { email: r.get(0)?, ship_to_postal_code: r.get(1)?, customer_postal_code: r.get(2)? }),
    )
    .optional()
    .map_err(storage_error)
}
