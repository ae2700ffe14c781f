//! The dynamic values of the shared statement layer (`crate::db`): what a parameter is sent as
//! to PostgreSQL and what a whole row is read as where a transaction wants rows as values
//! ([`Row`], read by column position with [`Row::get`]). A statement is plain SQL with `?1`,
//! `?2`… placeholders; the PostgreSQL client numbers them as `$1`, `$2`… before preparing.

use crate::{StoreError, StoreResult};

/// One dynamic SQL value: what a parameter is sent as and what a column is read as.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

/// Anything that can be a statement parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
macro_rules! integer_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
integer_to_value!(i8, i16, i32, i64, u8, u16, u32, u64, usize);

/// `values![a, b, …]`: a statement's parameters, of mixed types.
macro_rules! values {
    () => { &[] as &[$crate::sql::Value] };
    ($($value:expr),+ $(,)?) => {
        &[$($crate::sql::ToValue::to_value(&$value)),+] as &[$crate::sql::Value]
    };
}
pub(crate) use values;

/// A value that a column can be read as.
pub trait FromValue: Sized {
    /// `None` when the stored value is not of this type.
    fn from_value(value: &Value) -> Option<Self>;
    /// Named in the error when a column cannot be read.
    const WANTED: &'static str;
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Option<Self> {
        Some(value.clone())
    }
    const WANTED: &'static str = "a value";
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
    const WANTED: &'static str = T::WANTED;
}
impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
    const WANTED: &'static str = "an integer";
}
macro_rules! integer_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Option<Self> {
                i64::from_value(value).and_then(|wide| <$t>::try_from(wide).ok())
            }
            const WANTED: &'static str = stringify!($t);
        }
    )*};
}
integer_from_value!(i32, u32, u64, usize);
impl FromValue for bool {
    fn from_value(value: &Value) -> Option<Self> {
        i64::from_value(value).map(|i| i != 0)
    }
    const WANTED: &'static str = "a boolean";
}
impl FromValue for f64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Real(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
    const WANTED: &'static str = "a number";
}
impl FromValue for String {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    const WANTED: &'static str = "text";
}

/// One result row, read by column position.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// The column at `index` as `T`; a missing column or another type is an unexpected error.
    pub fn get<T: FromValue>(&self, index: usize) -> StoreResult<T> {
        let value = self.0.get(index).ok_or_else(|| StoreError::Unexpected(format!("no column {index}")))?;
        T::from_value(value).ok_or_else(|| {
            StoreError::Unexpected(format!("column {index} ({value:?}) cannot be read as {}", T::WANTED))
        })
    }

    /// The whole row's values, in column order.
    pub fn into_values(self) -> Vec<Value> {
        self.0
    }
}

/// The engine behind a connection, for the few statements whose SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// `?1`, `?2`… written as PostgreSQL's `$1`, `$2`…; a `?` not followed by a digit (a JSON
/// operator) and anything inside a quoted string stays as it is.
pub fn numbered_placeholders_for_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_outside_strings_only() {
        assert_eq!(
            numbered_placeholders_for_postgres("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d ? 'k' AND e = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d ? 'k' AND e = $12"
        );
    }

    #[test]
    fn columns_read_as_the_asked_type_or_fail_clearly() {
        let row = Row(vec![Value::Integer(7), Value::Null, Value::Text("x".into()), Value::Integer(1)]);
        assert_eq!(row.get::<i64>(0).unwrap(), 7);
        assert_eq!(row.get::<u32>(0).unwrap(), 7);
        assert_eq!(row.get::<Option<String>>(1).unwrap(), None);
        assert_eq!(row.get::<Option<String>>(2).unwrap(), Some("x".to_string()));
        assert!(row.get::<bool>(3).unwrap());
        assert_eq!(row.get::<f64>(0).unwrap(), 7.0);
        let wrong = row.get::<i64>(2).unwrap_err().to_string();
        assert!(wrong.contains("column 2") && wrong.contains("an integer"), "{wrong}");
        assert!(row.get::<i64>(9).is_err());
        assert!(row.get::<String>(1).is_err(), "NULL is not text unless asked as an Option");
    }

    #[test]
    fn parameters_of_mixed_types() {
        let name = String::from("n");
        let params = values![1_i64, "a", name, Some(2_u32), None::<i64>, true];
        assert_eq!(
            params,
            &[
                Value::Integer(1),
                Value::Text("a".into()),
                Value::Text("n".into()),
                Value::Integer(2),
                Value::Null,
                Value::Integer(1)
            ]
        );
    }
}
