//! An account's whole history as plain rows, table by table, so it can move between stores
//! (SQLite to PostgreSQL when an install outgrows one file, or back). Both backends read and
//! write it with the same table list: generated ids are assigned afresh on import, and every
//! column that points at another table's id follows the new ids.

use serde::{Deserialize, Serialize};

/// Every stored row of one account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountExport {
    pub account: String,
    pub tables: Vec<ExportedTable>,
}

/// One table's rows of the account, each row in `columns` order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// How one table belongs to an account and what its columns point at.
pub struct TableSpec {
    pub name: &'static str,
    /// The rows of the account whose id is the only parameter (written `$1`; the SQLite backend
    /// reads it as `?1`).
    pub filter: &'static str,
    /// Whether `id` is generated (assigned afresh on import).
    pub generated_id: bool,
    /// Columns holding another table's generated id, with that table.
    pub refs: &'static [(&'static str, &'static str)],
}

const ACCOUNT: (&str, &str) = ("account_id", "accounts");
const BY_ACCOUNT: &str = "account_id = $1";

/// The account's tables in an order where every referenced row comes first. Server secrets
/// belong to the installation and dashboard sessions are short-lived: neither moves.
pub const TABLES: &[TableSpec] = &[
    TableSpec { name: "api_keys", filter: BY_ACCOUNT, generated_id: true, refs: &[ACCOUNT] },
    TableSpec { name: "orders", filter: BY_ACCOUNT, generated_id: true, refs: &[ACCOUNT] },
    TableSpec {
        name: "order_items",
        filter: "order_id IN (SELECT id FROM orders WHERE account_id = $1)",
        generated_id: false,
        refs: &[("order_id", "orders")],
    },
    TableSpec { name: "shipments", filter: BY_ACCOUNT, generated_id: true, refs: &[ACCOUNT, ("order_id", "orders")] },
    TableSpec {
        name: "shipment_items",
        filter: "shipment_id IN (SELECT id FROM shipments WHERE account_id = $1)",
        generated_id: false,
        refs: &[("shipment_id", "shipments")],
    },
    TableSpec {
        name: "events",
        filter: BY_ACCOUNT,
        generated_id: true,
        refs: &[ACCOUNT, ("order_id", "orders"), ("shipment_id", "shipments")],
    },
    TableSpec {
        name: "exceptions",
        filter: BY_ACCOUNT,
        generated_id: true,
        refs: &[ACCOUNT, ("order_id", "orders"), ("shipment_id", "shipments")],
    },
    TableSpec { name: "integrations", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec { name: "carrier_code_overrides", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec { name: "channel_order_refs", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec { name: "branding", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec {
        name: "returns",
        filter: BY_ACCOUNT,
        generated_id: true,
        refs: &[ACCOUNT, ("order_id", "orders"), ("return_shipment_id", "shipments")],
    },
    TableSpec { name: "return_policies", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec {
        name: "return_transitions",
        filter: "return_id IN (SELECT id FROM returns WHERE account_id = $1)",
        generated_id: true,
        refs: &[("return_id", "returns")],
    },
    TableSpec {
        name: "return_inspections",
        filter: "return_id IN (SELECT id FROM returns WHERE account_id = $1)",
        generated_id: false,
        refs: &[("return_id", "returns")],
    },
    TableSpec {
        name: "claims",
        filter: BY_ACCOUNT,
        generated_id: true,
        refs: &[ACCOUNT, ("order_id", "orders"), ("exception_id", "exceptions")],
    },
    TableSpec {
        name: "return_items",
        filter: "return_id IN (SELECT id FROM returns WHERE account_id = $1)",
        generated_id: false,
        refs: &[("return_id", "returns")],
    },
    TableSpec { name: "lane_rhythm", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec {
        name: "notifications",
        filter: BY_ACCOUNT,
        generated_id: true,
        refs: &[ACCOUNT, ("order_id", "orders")],
    },
    TableSpec { name: "notification_settings", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec { name: "notification_policies", filter: BY_ACCOUNT, generated_id: false, refs: &[ACCOUNT] },
    TableSpec { name: "staff_users", filter: BY_ACCOUNT, generated_id: true, refs: &[ACCOUNT] },
];

/// New ids of the rows imported so far, by table and old id; every account reference becomes
/// the account imported into.
pub struct IdMap {
    account: i64,
    ids: std::collections::HashMap<&'static str, std::collections::HashMap<i64, i64>>,
}

/// The table list entry of an exported table's name.
pub fn spec_of(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|spec| spec.name == name)
}

impl IdMap {
    pub fn new(account: i64) -> Self {
        IdMap { account, ids: Default::default() }
    }

    pub fn insert(&mut self, table: &'static str, old: i64, new: i64) {
        self.ids.entry(table).or_default().insert(old, new);
    }

    fn get(&self, table: &str, old: i64) -> Option<i64> {
        if table == "accounts" {
            return Some(self.account);
        }
        self.ids.get(table)?.get(&old).copied()
    }

    /// One exported row made ready for insertion: referenced ids replaced by their new ones,
    /// the generated `id` left out (returned apart as the old id), and an event's order scope
    /// (`o:<order id>`) following its order.
    pub fn translate(
        &self,
        spec: &TableSpec,
        columns: &[String],
        row: &[serde_json::Value],
    ) -> Result<(Vec<String>, Vec<serde_json::Value>, Option<i64>), String> {
        let mut names = Vec::with_capacity(columns.len());
        let mut values = Vec::with_capacity(columns.len());
        let mut old_id = None;
        for (column, value) in columns.iter().zip(row) {
            if spec.generated_id && column == "id" {
                old_id = value.as_i64();
                continue;
            }
            let value = match spec.refs.iter().find(|(name, _)| name == column) {
                Some((_, table)) => match value.as_i64() {
                    Some(old) => serde_json::Value::from(
                        self.get(table, old)
                            .ok_or_else(|| format!("{}.{column} points at a missing {table} row {old}", spec.name))?,
                    ),
                    None => value.clone(),
                },
                None if spec.name == "events" && column == "scope" => {
                    match value.as_str().and_then(|s| s.strip_prefix("o:")) {
                        Some(order) => {
                            let old: i64 = order.parse().map_err(|_| format!("bad event scope {value}"))?;
                            let new = self
                                .get("orders", old)
                                .ok_or_else(|| format!("event scope of a missing order {old}"))?;
                            serde_json::Value::from(format!("o:{new}"))
                        }
                        None => value.clone(),
                    }
                }
                None => value.clone(),
            };
            names.push(column.clone());
            values.push(value);
        }
        Ok((names, values, old_id))
    }
}
