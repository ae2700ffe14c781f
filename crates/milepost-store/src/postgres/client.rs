//! The synchronous PostgreSQL client as the shared connection (`crate::db`) drives it: one
//! pooled client with its prepared statements, the `?1` placeholders of the shared SQL numbered
//! as `$1` once per prepared statement, and whether the last failure was one that running the
//! transaction again may cure.
//!
//! Values cross the boundary as one dynamic `Value`, written as whatever type the server
//! inferred for the parameter and read from whatever integer, float, boolean or text type the
//! column has: integers are `BIGINT` throughout the schema, so this only smooths over
//! expressions (`EXISTS`, comparisons) whose type differs between the two engines.

use postgres::types::{FromSql, IsNull, ToSql as PgToSql, Type};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A failed statement or an unreadable value.
#[derive(Debug)]
pub enum Error {
    QueryReturnedNoRows,
    Postgres(postgres::Error),
    /// A value that cannot be read as the asked type (column index, what was wanted).
    InvalidColumnType(usize, String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::QueryReturnedNoRows => write!(f, "query returned no rows"),
            Error::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(f, "{}: {} ({})", db.severity(), db.message(), db.code().code()),
                None => write!(f, "{e}"),
            },
            Error::InvalidColumnType(i, what) => write!(f, "column {i} cannot be read as {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Postgres(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// SQLSTATE codes after which the whole transaction is worth running again: another process
/// committed first (serialization failure, deadlock) or inserted the same unique key.
const RETRYABLE: &[&str] = &["40001", "40P01", "23505"];

pub use crate::sql::Value;

impl PgToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || format!("cannot send {self:?} as {ty}").into();
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().to_sql(&Type::TEXT, out)
                }
                _ => Err(mismatch()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::INT8 => (*f as i64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => f.to_string().to_sql(&Type::TEXT, out),
                _ => Err(mismatch()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.as_str().to_sql(&Type::TEXT, out)
                }
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(mismatch()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The raw bytes of any column, to tell NULL apart before reading a type.
struct Raw;

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, _: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

fn column_type(row: &postgres::Row, idx: usize) -> Result<Type> {
    row.columns().get(idx).map(|c| c.type_().clone()).ok_or(Error::InvalidColumnType(idx, "a column".into()))
}

fn is_null(row: &postgres::Row, idx: usize) -> Result<bool> {
    Ok(row.try_get::<_, Option<Raw>>(idx)?.is_none())
}

/// Column `idx` of a row as a dynamic value, from whatever type the server gave the column.
pub fn read_value(row: &postgres::Row, idx: usize) -> Result<Value> {
    if is_null(row, idx)? {
        return Ok(Value::Null);
    }
    Ok(match column_type(row, idx)? {
        Type::INT8 => Value::Integer(row.try_get::<_, i64>(idx)?),
        Type::INT4 => Value::Integer(row.try_get::<_, i32>(idx)?.into()),
        Type::INT2 => Value::Integer(row.try_get::<_, i16>(idx)?.into()),
        Type::BOOL => Value::Integer(row.try_get::<_, bool>(idx)?.into()),
        Type::FLOAT8 => Value::Real(row.try_get::<_, f64>(idx)?),
        Type::FLOAT4 => Value::Real(row.try_get::<_, f32>(idx)?.into()),
        Type::BYTEA => Value::Blob(row.try_get::<_, Vec<u8>>(idx)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Value::Text(row.try_get::<_, String>(idx)?),
        other => return Err(Error::InvalidColumnType(idx, format!("a value (the column is {other})"))),
    })
}

/// One pooled connection: the client, its prepared statements, and whether the last failure
/// was one that running the transaction again may cure.
pub struct Connection {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    retryable: Cell<bool>,
}

impl Connection {
    pub fn new(client: postgres::Client) -> Self {
        Connection { client: RefCell::new(client), statements: RefCell::default(), retryable: Cell::new(false) }
    }

    fn note<T>(&self, result: std::result::Result<T, postgres::Error>) -> Result<T> {
        result.map_err(|e| {
            if e.code().is_some_and(|c| RETRYABLE.contains(&c.code())) {
                self.retryable.set(true);
            }
            Error::Postgres(e)
        })
    }

    /// Whether a failure since the last `begin` may go away when the transaction runs again.
    pub fn failed_retryably(&self) -> bool {
        self.retryable.get()
    }

    pub fn reset_failure(&self) {
        self.retryable.set(false);
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        let result = self.client.borrow_mut().batch_execute(sql);
        self.note(result)
    }

    fn statement(&self, sql: &str, cached: bool) -> Result<postgres::Statement> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let numbered = crate::sql::numbered_placeholders_for_postgres(sql);
        let prepared = self.client.borrow_mut().prepare(&numbered);
        let stmt = self.note(prepared)?;
        if cached {
            self.statements.borrow_mut().insert(sql.to_string(), stmt.clone());
        }
        Ok(stmt)
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement { conn: self, stmt: self.statement(sql, true)? })
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement { conn: self, stmt: self.statement(sql, false)? })
    }
}

/// A prepared statement of one connection.
pub struct Statement<'c> {
    conn: &'c Connection,
    stmt: postgres::Statement,
}

impl Statement<'_> {
    pub fn column_names(&self) -> Vec<&str> {
        self.stmt.columns().iter().map(|c| c.name()).collect()
    }

    pub fn rows(&self, params: Vec<Value>) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn PgToSql + Sync)> = params.iter().map(|v| v as &(dyn PgToSql + Sync)).collect();
        let result = self.conn.client.borrow_mut().query(&self.stmt, &refs);
        self.conn.note(result)
    }

    pub fn execute(&mut self, values: Vec<Value>) -> Result<usize> {
        let refs: Vec<&(dyn PgToSql + Sync)> = values.iter().map(|v| v as &(dyn PgToSql + Sync)).collect();
        let result = self.conn.client.borrow_mut().execute(&self.stmt, &refs);
        self.conn.note(result).map(|n| n as usize)
    }
}
