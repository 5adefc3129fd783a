//! How a write transaction's statements run on either kind of connection, so that each
//! write is written once:
//! - through sqlx: PostgreSQL's pool, and SQLite's in-memory database (one connection,
//!   which its reads share);
//! - on SQLite's writer (writer.rs): a synchronous handle, where a statement is a function
//!   call on the caller's thread instead of a hand-off to a connection's own thread.
//!
//! Statements number their parameters `$1…$n` on both ([`Arg`]), and rows are read by
//! column name ([`Row`]). Reads outside a write transaction stay on sqlx (readers.rs).

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Executor, Row as _, SqlSafeStr};

use crate::store::WriteTx;
use crate::{Result, StoreError};

/// One parameter of a statement.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Self::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Self::Text(s)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(s: Option<&'a str>) -> Self {
        Self::OptText(s)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(s: &'a Option<String>) -> Self {
        Self::OptText(s.as_deref())
    }
}

impl From<i64> for Arg<'_> {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(i: Option<i64>) -> Self {
        Self::OptInt(i)
    }
}

impl From<bool> for Arg<'_> {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// `args![a, b]`: a statement's parameters `$1, $2`, in order.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::sql::Arg::from($arg)),*]
    };
}
pub(crate) use args;

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Text(s) | Arg::OptText(Some(s)) => ValueRef::Text(s.as_bytes()),
            Arg::Int(i) | Arg::OptInt(Some(i)) => ValueRef::Integer(i),
            // SQLite has no boolean type: sqlx stores one as 0 or 1 too.
            Arg::Bool(b) => ValueRef::Integer(i64::from(b)),
            Arg::OptText(None) | Arg::OptInt(None) => ValueRef::Null,
        }))
    }
}

/// Binds `args` to a sqlx query, in order.
pub(crate) fn bind_any<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    args: &[Arg<'q>],
) -> Query<'q, Any, AnyArguments> {
    for arg in args {
        query = match *arg {
            Arg::Text(s) => query.bind(s),
            Arg::OptText(s) => query.bind(s),
            Arg::Int(i) => query.bind(i),
            Arg::OptInt(i) => query.bind(i),
            Arg::Bool(b) => query.bind(b),
        };
    }
    query
}

/// A row from either kind of connection.
#[derive(Clone, Copy)]
pub(crate) enum Row<'r> {
    Any(&'r AnyRow),
    Sqlite(&'r rusqlite::Row<'r>),
}

impl<'r> From<&'r AnyRow> for Row<'r> {
    fn from(row: &'r AnyRow) -> Self {
        Self::Any(row)
    }
}

/// A value a column is read as: text, integers, booleans, or their `Option`s.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql
{
}

impl Row<'_> {
    /// The value of the column named `column`.
    pub fn get<T: Column>(self, column: &str) -> Result<T> {
        match self {
            Row::Any(row) => Ok(row.try_get(column)?),
            Row::Sqlite(row) => Ok(row.get(column)?),
        }
    }
}

/// Where a write transaction's next statement runs.
pub(crate) enum Target<'a> {
    Sqlx(&'a mut AnyConnection),
    // `&mut`: a shared reference to the handle would not be `Send`, and so neither would
    // the futures that hold it.
    Sqlite(&'a mut rusqlite::Connection),
}

impl Target<'_> {
    /// Runs one statement; answers the rows it changed.
    pub async fn execute(self, sql: impl SqlSafeStr, args: &[Arg<'_>]) -> Result<u64> {
        match self {
            Target::Sqlx(conn) => Ok(bind_any(sqlx::query(sql), args)
                .execute(conn)
                .await?
                .rows_affected()),
            Target::Sqlite(conn) => run_sqlite(conn, sql.into_sql_str().as_str(), args, |_| Ok(())),
        }
    }

    /// Runs one statement and reads each row it answers with `decode`.
    pub async fn fetch_all<T>(
        self,
        sql: impl SqlSafeStr,
        args: &[Arg<'_>],
        decode: impl Fn(Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        match self {
            Target::Sqlx(conn) => bind_any(sqlx::query(sql), args)
                .fetch_all(conn)
                .await?
                .iter()
                .map(|row| decode(Row::Any(row)))
                .collect(),
            Target::Sqlite(conn) => sqlite_rows(conn, sql, args, decode, usize::MAX),
        }
    }

    /// Runs one statement and reads the first row it answers, if any, with `decode`. On
    /// SQLite's handle the statement still runs to its end.
    pub async fn fetch_optional<T>(
        self,
        sql: impl SqlSafeStr,
        args: &[Arg<'_>],
        decode: impl Fn(Row<'_>) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        match self {
            Target::Sqlx(conn) => bind_any(sqlx::query(sql), args)
                .fetch_optional(conn)
                .await?
                .as_ref()
                .map(|row| decode(Row::Any(row)))
                .transpose(),
            Target::Sqlite(conn) => Ok(sqlite_rows(conn, sql, args, decode, 1)?.pop()),
        }
    }

    /// Runs `sql`, which may hold several statements and no parameters (a migration).
    pub async fn run_script(self, sql: &'static str) -> Result<()> {
        match self {
            Target::Sqlx(conn) => {
                conn.execute(sqlx::raw_sql(sql)).await?;
            }
            Target::Sqlite(conn) => conn.execute_batch(sql)?,
        }
        Ok(())
    }
}

// The statements of a write transaction. Each first sends what was deferred on sqlx
// (deferred.rs); on SQLite's handle nothing waits to be sent.
impl WriteTx {
    pub(crate) async fn execute(&mut self, sql: impl SqlSafeStr, args: &[Arg<'_>]) -> Result<u64> {
        self.target().await?.execute(sql, args).await
    }

    pub(crate) async fn fetch_all<T>(
        &mut self,
        sql: impl SqlSafeStr,
        args: &[Arg<'_>],
        decode: impl Fn(Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        self.target().await?.fetch_all(sql, args, decode).await
    }

    pub(crate) async fn fetch_optional<T>(
        &mut self,
        sql: impl SqlSafeStr,
        args: &[Arg<'_>],
        decode: impl Fn(Row<'_>) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        self.target().await?.fetch_optional(sql, args, decode).await
    }

    /// Like [`WriteTx::fetch_optional`], for a statement that always answers a row.
    pub(crate) async fn fetch_one<T>(
        &mut self,
        sql: impl SqlSafeStr,
        args: &[Arg<'_>],
        decode: impl Fn(Row<'_>) -> Result<T> + Send,
    ) -> Result<T> {
        self.fetch_optional(sql, args, decode)
            .await?
            .ok_or_else(|| StoreError::from(sqlx::Error::RowNotFound))
    }

    pub(crate) async fn run_script(&mut self, sql: &'static str) -> Result<()> {
        self.target().await?.run_script(sql).await
    }
}

/// The first `keep` rows of one statement on SQLite's handle, read with `decode`; the
/// statement runs to its end either way.
fn sqlite_rows<T>(
    conn: &rusqlite::Connection,
    sql: impl SqlSafeStr,
    args: &[Arg<'_>],
    decode: impl Fn(Row<'_>) -> Result<T>,
    keep: usize,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    run_sqlite(conn, sql.into_sql_str().as_str(), args, |row| {
        if out.len() < keep {
            out.push(decode(row)?);
        }
        Ok(())
    })?;
    Ok(out)
}

/// One statement on SQLite's synchronous handle. Its prepared form is kept on the
/// connection and reused by the next write that sends the same SQL.
pub(crate) fn run_sqlite(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    mut on_row: impl FnMut(Row<'_>) -> Result<()>,
) -> Result<u64> {
    let mut statement = conn.prepare_cached(sql)?;
    // SQLite numbers a named parameter by where it first appears, so `$k` is looked up by
    // its name, as sqlx does.
    for index in 1..=statement.parameter_count() {
        let name = statement.parameter_name(index).unwrap_or_default();
        let arg = name
            .strip_prefix('$')
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| args.get(k.checked_sub(1)?))
            .ok_or_else(|| {
                StoreError::Corrupt(format!("statement parameter {name:?} has no value"))
            })?;
        statement.raw_bind_parameter(index, arg)?;
    }
    let mut rows = statement.raw_query();
    while let Some(row) = rows.next()? {
        on_row(Row::Sqlite(row))?;
    }
    drop(rows);
    Ok(conn.changes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_bind_by_their_number_not_their_place() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut seen = Vec::new();
        run_sqlite(
            &conn,
            "SELECT $2 AS b, $1 AS a, $2 AS b2, $3 AS n",
            args!["first", 7, None::<&str>],
            |row| {
                seen.push((
                    row.get::<i64>("b")?,
                    row.get::<String>("a")?,
                    row.get::<i64>("b2")?,
                    row.get::<Option<String>>("n")?,
                ));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, [(7, "first".to_owned(), 7, None)]);
    }

    #[test]
    fn a_parameter_without_a_value_is_refused() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let err = run_sqlite(&conn, "SELECT $2", args!["only one"], |_| Ok(())).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }
}
