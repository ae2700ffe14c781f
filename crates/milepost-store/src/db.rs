//! The one connection every transaction is written against, whichever engine is behind it.
//! It has the shape of `rusqlite`'s API (`execute`, `query_row`, `prepare_cached`,
//! `query_map`, `optional`, `params!`), so a transaction reads like ordinary SQLite code, and
//! each call goes to the engine of the connection: `rusqlite` natively (no value conversion on
//! the embedded default's hot path), or the synchronous PostgreSQL client through
//! `postgres::client`, which numbers the `?1`, `?2`… placeholders as `$1`, `$2`… once per
//! prepared statement. Where the two dialects really differ, a transaction asks
//! [`Connection::dialect`] or one of the small spelling helpers below; nothing else is per
//! engine. Errors stay the engine's own until [`storage_error`] classifies them, as each engine
//! classifies them (busy, full or unreachable → `Unavailable`, so the caller answers 503).

use crate::postgres::client as pg;
use crate::sql::{Dialect, FromValue, ToValue, Value};
use crate::{StoreError, StoreResult};

/// A connection inside one transaction of either engine. Cheap to copy: it borrows the
/// engine's own connection, which the engine opened, pooled and began a transaction on.
#[derive(Clone, Copy)]
pub enum Connection<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c pg::Connection),
}

/// A failed statement or an unreadable column.
#[derive(Debug)]
pub enum Error {
    Sqlite(rusqlite::Error),
    Postgres(pg::Error),
    /// A query that must answer a row answered none (`optional` turns it into `None`).
    NoRows,
    /// A stored value that cannot be read as the domain value asked for.
    InvalidColumn(usize, String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Sqlite(e) => write!(f, "{e}"),
            Error::Postgres(e) => write!(f, "{e}"),
            Error::NoRows => write!(f, "query returned no rows"),
            Error::InvalidColumn(i, what) => write!(f, "column {i} cannot be read as {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            other => Error::Sqlite(other),
        }
    }
}

impl From<pg::Error> for Error {
    fn from(e: pg::Error) -> Self {
        match e {
            pg::Error::QueryReturnedNoRows => Error::NoRows,
            pg::Error::InvalidColumnType(i, what) => Error::InvalidColumn(i, what),
            other => Error::Postgres(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A statement error as the store reports it, classified the way its engine classifies it.
pub fn storage_error(e: Error) -> StoreError {
    match e {
        Error::Sqlite(e) => crate::sqlite::storage_error(e),
        Error::Postgres(e) => crate::postgres::storage_error(e),
        other => StoreError::Unexpected(other.to_string()),
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        storage_error(e)
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
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Anything that can be a parameter on either engine.
pub trait Param: rusqlite::ToSql + ToValue {}
impl<T: rusqlite::ToSql + ToValue + ?Sized> Param for T {}

/// A statement's parameters.
pub trait Params {
    /// The parameters as SQLite binds them, borrowed.
    fn sqlite(&self) -> Vec<&dyn rusqlite::ToSql>;
    /// The parameters as values for PostgreSQL.
    fn values(&self) -> Vec<Value>;
}

impl Params for &[&dyn Param] {
    fn sqlite(&self) -> Vec<&dyn rusqlite::ToSql> {
        self.iter().map(|p| *p as &dyn rusqlite::ToSql).collect()
    }
    fn values(&self) -> Vec<Value> {
        self.iter().map(|p| p.to_value()).collect()
    }
}

impl<T: Param, const N: usize> Params for [T; N] {
    fn sqlite(&self) -> Vec<&dyn rusqlite::ToSql> {
        self.iter().map(|p| p as &dyn rusqlite::ToSql).collect()
    }
    fn values(&self) -> Vec<Value> {
        self.iter().map(ToValue::to_value).collect()
    }
}

impl Params for &[Value] {
    fn sqlite(&self) -> Vec<&dyn rusqlite::ToSql> {
        self.iter().map(|p| p as &dyn rusqlite::ToSql).collect()
    }
    fn values(&self) -> Vec<Value> {
        self.to_vec()
    }
}

/// Parameters gathered at run time (a query built from optional filters, a multi-row insert).
pub struct ParamsFromIter(Vec<Value>);

pub fn params_from_iter<I>(values: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: ToValue,
{
    ParamsFromIter(values.into_iter().map(|v| v.to_value()).collect())
}

impl Params for ParamsFromIter {
    fn sqlite(&self) -> Vec<&dyn rusqlite::ToSql> {
        self.0.iter().map(|p| p as &dyn rusqlite::ToSql).collect()
    }
    fn values(&self) -> Vec<Value> {
        self.0.clone()
    }
}

/// `params![a, b, …]`: a parameter list of mixed types.
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::Param] };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::db::Param),+] as &[&dyn $crate::db::Param]
    };
}
pub(crate) use params;

/// A value that a column can be read as, on either engine: natively from SQLite, and from the
/// dynamic value of a PostgreSQL column.
pub trait Column: rusqlite::types::FromSql + FromValue {}
impl<T: rusqlite::types::FromSql + FromValue> Column for T {}

/// One result row, read by column position.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
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

impl Row<'_> {
    pub fn get<I: RowIndex, T: Column>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        match self {
            Row::Sqlite(r) => r.get(idx).map_err(Error::from),
            Row::Postgres(r) => {
                let value = pg::read_value(r, idx)?;
                T::from_value(&value).ok_or_else(|| Error::InvalidColumn(idx, T::WANTED.to_string()))
            }
        }
    }
}

/// A row read whole as a tuple of columns, in order (`row.tuple()`).
pub trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Column),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row<'_>) -> Result<Self> {
                Ok(($(row.get($i)?,)+))
            }
        }
    };
}
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);

impl Row<'_> {
    /// The row's columns as a tuple.
    pub fn tuple<T: FromRow>(&self) -> Result<T> {
        T::from_row(self)
    }
}

/// A prepared statement of one connection.
pub enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    SqliteOnce(rusqlite::Statement<'c>),
    Postgres(pg::Statement<'c>),
}

/// What a statement of either engine is run as.
enum Prepared<'s, 'c> {
    Sqlite(&'s mut rusqlite::Statement<'c>),
    Postgres(&'s mut pg::Statement<'c>),
}

impl<'c> Statement<'c> {
    fn prepared(&mut self) -> Prepared<'_, 'c> {
        match self {
            Statement::Sqlite(s) => Prepared::Sqlite(s),
            Statement::SqliteOnce(s) => Prepared::Sqlite(s),
            Statement::Postgres(s) => Prepared::Postgres(s),
        }
    }

    pub fn column_names(&self) -> Vec<String> {
        match self {
            Statement::Sqlite(s) => s.column_names().into_iter().map(String::from).collect(),
            Statement::SqliteOnce(s) => s.column_names().into_iter().map(String::from).collect(),
            Statement::Postgres(s) => s.column_names().into_iter().map(String::from).collect(),
        }
    }

    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        match self.prepared() {
            Prepared::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(params.sqlite()))?),
            Prepared::Postgres(s) => Ok(s.execute(params.values())?),
        }
    }

    /// Every row, each read by `f`, in order.
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let mut out = Vec::new();
        match self.prepared() {
            Prepared::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(params.sqlite()))?;
                while let Some(row) = rows.next()? {
                    out.push(f(&Row::Sqlite(row)));
                }
            }
            Prepared::Postgres(s) => {
                for row in s.rows(params.values())? {
                    out.push(f(&Row::Postgres(&row)));
                }
            }
        }
        Ok(out.into_iter())
    }

    /// The first row, read by `f`; none is `Error::NoRows`.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<T> {
        match self.prepared() {
            Prepared::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(params.sqlite()))?;
                match rows.next()? {
                    Some(row) => f(&Row::Sqlite(row)),
                    None => Err(Error::NoRows),
                }
            }
            Prepared::Postgres(s) => match s.rows(params.values())?.first() {
                Some(row) => f(&Row::Postgres(row)),
                None => Err(Error::NoRows),
            },
        }
    }
}

impl<'c> Connection<'c> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement kept prepared for the rest of the connection's life.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'c>> {
        Ok(match *self {
            Connection::Sqlite(c) => Statement::Sqlite(c.prepare_cached(sql)?),
            Connection::Postgres(c) => Statement::Postgres(c.prepare_cached(sql)?),
        })
    }

    /// A statement prepared for this one use (SQL built at run time).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'c>> {
        Ok(match *self {
            Connection::Sqlite(c) => Statement::SqliteOnce(c.prepare(sql)?),
            Connection::Postgres(c) => Statement::Postgres(c.prepare(sql)?),
        })
    }

    /// Runs a statement through the statement cache and answers how many rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Reads one row through the statement cache.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&self, sql: &str, params: P, f: F) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs statements without parameters, as one batch.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(c) => Ok(c.execute_batch(sql)?),
        }
    }

    /// The dialect's name of the function that finds text in text (1-based, 0 when absent).
    pub fn position_fn(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "instr",
            Dialect::Postgres => "strpos",
        }
    }

    /// The dialect's name of the smaller-of-two-values function.
    pub fn least_fn(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "MIN",
            Dialect::Postgres => "LEAST",
        }
    }

    /// Parameter `n` where its type cannot be inferred from the statement (only compared with
    /// NULL): PostgreSQL must be told it, SQLite has no use for it.
    pub fn typed_param(&self, n: usize, sql_type: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("CAST(?{n} AS {sql_type})"),
        }
    }

    /// SQLite's `INDEXED BY` hint, where its planner without statistics picks a worse index;
    /// PostgreSQL plans with statistics and has no such clause.
    pub fn indexed_by(&self, index: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }

    /// `FOR UPDATE … SKIP LOCKED` on PostgreSQL, so that concurrent workers (of every process)
    /// claim different rows; SQLite has one writer, which needs no row locks.
    pub fn skip_locked(&self, table: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!("FOR UPDATE OF {table} SKIP LOCKED"),
        }
    }

    /// The dialect's case-insensitive `LIKE` (SQLite's own `LIKE` is, for ASCII).
    pub fn like_ci(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }
}

/// The dynamic value under the name `rusqlite` code uses for it.
pub mod types {
    pub use crate::sql::Value;
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl rusqlite::types::FromSql for Value {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::ValueRef;
        Ok(match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

/// Whole rows as dynamic values, for transactions that read them so (`sql::Row`).
impl Connection<'_> {
    /// A query's rows.
    pub fn query(&self, sql: &str, params: &[Value]) -> StoreResult<Vec<crate::sql::Row>> {
        Ok(self.rows(sql, params, false)?.1)
    }

    /// A query's column names and rows (for `SELECT *` of a whole table).
    pub fn query_with_columns(&self, sql: &str, params: &[Value]) -> StoreResult<(Vec<String>, Vec<crate::sql::Row>)> {
        self.rows(sql, params, true)
    }

    /// The first row of a query, if any.
    pub fn optional_row(&self, sql: &str, params: &[Value]) -> StoreResult<Option<crate::sql::Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, which must exist.
    pub fn one_row(&self, sql: &str, params: &[Value]) -> StoreResult<crate::sql::Row> {
        self.optional_row(sql, params)?.ok_or_else(|| StoreError::Unexpected(format!("no row from {sql}")))
    }

    /// A query's rows, and its column names when asked (they cost an allocation each, and only
    /// whole-table reads need them).
    fn rows(
        &self,
        sql: &str,
        params: &[Value],
        with_columns: bool,
    ) -> StoreResult<(Vec<String>, Vec<crate::sql::Row>)> {
        let read = || -> Result<(Vec<String>, Vec<crate::sql::Row>)> {
            let mut stmt = self.prepare_cached(sql)?;
            let columns = if with_columns { stmt.column_names() } else { Vec::new() };
            let rows = stmt.query_map(params_from_iter(params), |row| {
                let width = match row {
                    Row::Sqlite(r) => r.as_ref().column_count(),
                    Row::Postgres(r) => r.len(),
                };
                (0..width).map(|i| row.get::<_, Value>(i)).collect::<Result<Vec<_>>>().map(crate::sql::Row)
            })?;
            Ok((columns, rows.collect::<Result<Vec<_>>>()?))
        };
        read().map_err(storage_error)
    }
}
