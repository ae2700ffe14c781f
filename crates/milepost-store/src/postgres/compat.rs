//! A small statement layer over the synchronous PostgreSQL client with the shape the SQLite
//! backend's queries are written in (`exec`, `row`, `query_map`, `optional`, `params!`), so the
//! two backends' transactions read the same and differ only in their SQL dialect.
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

/// One dynamic SQL value and what can be sent as one: the shared statement layer's (`crate::sql`),
/// under the names this backend's code was written with.
pub use crate::sql::{ToValue as ToSql, Value};

/// A statement's parameters.
pub trait Params {
    fn into_values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToSql] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}
impl<T: ToSql, const N: usize> Params for [T; N] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(ToSql::to_value).collect()
    }
}
impl<T: ToSql, const N: usize> Params for &[T; N] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(ToSql::to_value).collect()
    }
}

/// Parameters from an iterator (a query built from optional filters).
pub struct ParamsFromIter(Vec<Value>);

pub fn params_from_iter<I>(values: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(values.into_iter().map(|v| v.to_value()).collect())
}

impl Params for Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self
    }
}

impl Params for ParamsFromIter {
    fn into_values(self) -> Vec<Value> {
        self.0
    }
}

/// `params![a, b, …]`: a parameter list of mixed types.
macro_rules! params {
    () => { &[] as &[&dyn $crate::postgres::compat::ToSql] };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::postgres::compat::ToSql),+] as &[&dyn $crate::postgres::compat::ToSql]
    };
}
pub(crate) use params;

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

/// A value that can be read from a column.
pub trait FromSqlValue: Sized {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self>;
}

fn column_type(row: &postgres::Row, idx: usize) -> Result<Type> {
    row.columns().get(idx).map(|c| c.type_().clone()).ok_or(Error::InvalidColumnType(idx, "a column".into()))
}

fn is_null(row: &postgres::Row, idx: usize) -> Result<bool> {
    Ok(row.try_get::<_, Option<Raw>>(idx)?.is_none())
}

fn read_value(row: &postgres::Row, idx: usize) -> Result<Value> {
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

impl FromSqlValue for Value {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        read_value(row, idx)
    }
}

impl<T: FromSqlValue> FromSqlValue for Option<T> {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        if is_null(row, idx)? { Ok(None) } else { T::read(row, idx).map(Some) }
    }
}

impl FromSqlValue for i64 {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        match read_value(row, idx)? {
            Value::Integer(i) => Ok(i),
            _ => Err(Error::InvalidColumnType(idx, "an integer".into())),
        }
    }
}

macro_rules! integer_from_sql {
    ($($t:ty),*) => {$(
        impl FromSqlValue for $t {
            fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
                let wide = i64::read(row, idx)?;
                <$t>::try_from(wide).map_err(|_| Error::InvalidColumnType(idx, stringify!($t).into()))
            }
        }
    )*};
}
integer_from_sql!(i32, u32, u64, usize, u8, u16, i16);

impl FromSqlValue for bool {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        Ok(i64::read(row, idx)? != 0)
    }
}

impl FromSqlValue for f64 {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        match read_value(row, idx)? {
            Value::Real(f) => Ok(f),
            Value::Integer(i) => Ok(i as f64),
            _ => Err(Error::InvalidColumnType(idx, "a number".into())),
        }
    }
}

impl FromSqlValue for String {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        match read_value(row, idx)? {
            Value::Text(s) => Ok(s),
            _ => Err(Error::InvalidColumnType(idx, "text".into())),
        }
    }
}

impl FromSqlValue for Vec<u8> {
    fn read(row: &postgres::Row, idx: usize) -> Result<Self> {
        match read_value(row, idx)? {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            _ => Err(Error::InvalidColumnType(idx, "bytes".into())),
        }
    }
}

/// Column positions (only numbers: every query names its columns in order).
pub trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One result row.
pub struct Row<'a>(&'a postgres::Row);

impl Row<'_> {
    pub fn get<I: RowIndex, T: FromSqlValue>(&self, idx: I) -> Result<T> {
        T::read(self.0, idx.index())
    }
}

/// `Result::optional`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
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
        let prepared = self.client.borrow_mut().prepare(sql);
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

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&self, sql: &str, params: P, f: F) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
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

    fn rows(&self, params: Vec<Value>) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn PgToSql + Sync)> = params.iter().map(|v| v as &(dyn PgToSql + Sync)).collect();
        let result = self.conn.client.borrow_mut().query(&self.stmt, &refs);
        self.conn.note(result)
    }

    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.into_values();
        let refs: Vec<&(dyn PgToSql + Sync)> = values.iter().map(|v| v as &(dyn PgToSql + Sync)).collect();
        let result = self.conn.client.borrow_mut().execute(&self.stmt, &refs);
        self.conn.note(result).map(|n| n as usize)
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<T> {
        let rows = self.rows(params.into_values())?;
        match rows.first() {
            Some(row) => f(&Row(row)),
            None => Err(Error::QueryReturnedNoRows),
        }
    }

    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let rows = self.rows(params.into_values())?;
        Ok(rows.iter().map(|r| f(&Row(r))).collect::<Vec<_>>().into_iter())
    }
}

/// The dynamic value under the name the SQLite backend's code uses for it.
pub mod types {
    pub use super::Value;
}

impl crate::sql::Sql for Connection {
    fn dialect(&self) -> crate::sql::Dialect {
        crate::sql::Dialect::Postgres
    }

    fn execute(&self, sql: &str, params: &[Value]) -> crate::StoreResult<usize> {
        let sql = crate::sql::numbered_placeholders_for_postgres(sql);
        self.prepare_cached(&sql).and_then(|mut s| s.execute(params.to_vec())).map_err(super::storage_error)
    }

    fn query(&self, sql: &str, params: &[Value]) -> crate::StoreResult<Vec<crate::sql::Row>> {
        Ok(self.shared_rows(sql, params, false)?.1)
    }

    fn query_with_columns(
        &self,
        sql: &str,
        params: &[Value],
    ) -> crate::StoreResult<(Vec<String>, Vec<crate::sql::Row>)> {
        self.shared_rows(sql, params, true)
    }
}

impl Connection {
    /// A query's rows as shared values, and its column names when asked.
    fn shared_rows(
        &self,
        sql: &str,
        params: &[Value],
        with_columns: bool,
    ) -> crate::StoreResult<(Vec<String>, Vec<crate::sql::Row>)> {
        let sql = crate::sql::numbered_placeholders_for_postgres(sql);
        let read = || -> Result<(Vec<String>, Vec<crate::sql::Row>)> {
            let stmt = self.prepare_cached(&sql)?;
            let columns =
                if with_columns { stmt.column_names().into_iter().map(String::from).collect() } else { Vec::new() };
            let rows = stmt
                .rows(params.to_vec())?
                .iter()
                .map(|row| (0..row.len()).map(|i| read_value(row, i)).collect::<Result<Vec<_>>>().map(crate::sql::Row))
                .collect::<Result<Vec<_>>>()?;
            Ok((columns, rows))
        };
        read().map_err(super::storage_error)
    }
}
