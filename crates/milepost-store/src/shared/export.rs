//! Moving an account's history out of and into a backend (see `crate::export`): every table of
//! the account read as plain rows, and written back with fresh ids in one transaction.

use crate::db::Connection;
use crate::export::{AccountExport, ExportedTable, IdMap, TABLES, spec_of};
use crate::sql::{Value, values};
use crate::{AccountId, StoreError, StoreResult};
use milepost_domain::AccountName;

fn json_of(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(f) => f.into(),
        Value::Text(t) => t.into(),
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned().into(),
    }
}

fn value_of(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

pub fn export_account(conn: &Connection, account: AccountId) -> StoreResult<AccountExport> {
    let name: String = conn.one_row("SELECT name FROM accounts WHERE id = ?1", values![account.0])?.get(0)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for spec in TABLES {
        let order = if spec.generated_id { " ORDER BY id" } else { "" };
        let sql = format!("SELECT * FROM {} WHERE {}{order}", spec.name, spec.filter.replace("$1", "?1"));
        let (columns, rows) = conn.query_with_columns(&sql, values![account.0])?;
        let rows = rows.into_iter().map(|row| row.into_values().into_iter().map(json_of).collect()).collect();
        tables.push(ExportedTable { name: spec.name.to_string(), columns, rows });
    }
    Ok(AccountExport { account: name, tables })
}

/// Writes `history` into `account`, which the caller created (or found) in the same
/// transaction; an account that already has orders is refused.
pub fn import_account(
    conn: &Connection,
    account: AccountId,
    name: &AccountName,
    history: &AccountExport,
) -> StoreResult<AccountId> {
    let has_orders: bool =
        conn.one_row("SELECT EXISTS(SELECT 1 FROM orders WHERE account_id = ?1)", values![account.0])?.get(0)?;
    if has_orders {
        return Err(StoreError::Conflict(format!("account {name} already has orders; import into a new account")));
    }
    let mut ids = IdMap::new(account.0);
    for table in &history.tables {
        let spec = spec_of(&table.name).ok_or_else(|| StoreError::Invalid {
            field: "tables".into(),
            message: format!("unknown table {}", table.name),
        })?;
        for row in &table.rows {
            let (columns, values, old_id) = ids
                .translate(spec, &table.columns, row)
                .map_err(|message| StoreError::Invalid { field: table.name.clone(), message })?;
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            let mut sql =
                format!("INSERT INTO {} ({}) VALUES ({})", spec.name, columns.join(", "), placeholders.join(", "));
            let values: Vec<Value> = values.iter().map(value_of).collect();
            match old_id {
                Some(old) => {
                    sql.push_str(" RETURNING id");
                    let new: i64 = conn.one_row(&sql, &values)?.get(0)?;
                    ids.insert(spec.name, old, new);
                }
                None => {
                    conn.execute(&sql, values.as_slice())?;
                }
            }
        }
    }
    Ok(account)
}
