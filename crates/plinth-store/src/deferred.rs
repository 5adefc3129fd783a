//! Statements a write transaction sends together: the writes whose results nothing in the
//! transaction reads back (an audit entry, its chain head, the invalidation log row).
//!
//! On PostgreSQL each statement is a round trip, and on a sqlx SQLite connection (the
//! in-memory database) a hand-off to the connection's own thread and back. So
//! [`WriteTx::defer`] queues such a statement, and the queue goes out as ONE command before
//! the transaction's next statement or its commit: on SQLite as one multi-statement
//! string, on PostgreSQL as one statement whose parts are data-modifying `WITH` clauses.
//! Nothing changes for the caller but when an error in a deferred statement surfaces: at the
//! next statement or the commit, which then fails and the whole transaction rolls back.
//!
//! On SQLite's writer a statement is a function call (writer.rs), so there a deferred
//! statement runs at once, and its error surfaces where it is deferred.

use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::Result;
use crate::sql::{Arg, Target, bind_any, run_sqlite};
use crate::store::{Backend, WriteTx};
use crate::writer::HeldConn;

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

impl Bind {
    fn as_arg(&self) -> Arg<'_> {
        match self {
            Bind::Text(s) => Arg::Text(s),
            Bind::OptText(s) => Arg::OptText(s.as_deref()),
            Bind::Int(i) => Arg::Int(*i),
        }
    }
}

fn as_args(binds: &[Bind]) -> Vec<Arg<'_>> {
    binds.iter().map(Bind::as_arg).collect()
}

/// Binds `binds` in order to a sqlx query (a read), for SQL that numbers its parameters
/// `$1…$n`.
pub(crate) fn bind_all<'q>(
    query: Query<'q, sqlx::Any, AnyArguments>,
    binds: &'q [Bind],
) -> Query<'q, sqlx::Any, AnyArguments> {
    bind_any(query, &as_args(binds))
}

/// The most parameters one command carries: PostgreSQL takes at most 65,535 in a
/// statement, and a transaction that logs thousands of invalidations (a purge) must not
/// reach that.
const MAX_BINDS: usize = 10_000;

/// The queued statements, their parameters already numbered into one list.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    statements: Vec<String>,
    binds: Vec<Bind>,
    /// The `INSERT … VALUES` the last statement is, when rows may be added to it.
    open_insert: Option<&'static str>,
}

impl Deferred {
    /// Queues `sql`, whose parameters are `$1…$n` for `binds`.
    fn push(&mut self, sql: &str, binds: Vec<Bind>) {
        self.statements
            .push(renumber(sql, self.binds.len(), binds.len()));
        self.binds.extend(binds);
        self.open_insert = None;
    }

    /// Queues one row of `insert` (`INSERT INTO t (a, b) VALUES`): consecutive rows of one
    /// insert become one statement, which takes them in order. PostgreSQL runs the parts of
    /// one statement in no set order, so separate inserts could get their ids out of the
    /// order they were logged in.
    fn push_row(&mut self, insert: &'static str, row: Vec<Bind>) {
        let first = self.binds.len() + 1;
        let values = (first..first + row.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        match self.statements.last_mut() {
            Some(last) if self.open_insert == Some(insert) => {
                last.push_str(&format!(", ({values})"));
            }
            _ => {
                self.statements.push(format!("{insert} ({values})"));
                self.open_insert = Some(insert);
            }
        }
        self.binds.extend(row);
    }

    fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The queue as one command for `backend`.
    fn command(&self, backend: Backend) -> String {
        match backend {
            Backend::Sqlite => self.statements.join(";\n"),
            Backend::Postgres => {
                let (last, parts) = self
                    .statements
                    .split_last()
                    .expect("command() is only built for a non-empty queue");
                if parts.is_empty() {
                    return last.clone();
                }
                let with: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, sql)| format!("deferred_{i} AS ({sql})"))
                    .collect();
                format!("WITH {} {last}", with.join(", "))
            }
        }
    }
}

/// `sql` with each `$k` (1 ≤ k ≤ `count`) written as `$(k + offset)`.
fn renumber(sql: &str, offset: usize, count: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>() {
            Ok(k) if (1..=count).contains(&k) => {
                out.push('$');
                out.push_str(&(k + offset).to_string());
            }
            _ => {
                out.push('$');
                out.push_str(&after[..digits]);
            }
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

impl WriteTx {
    /// Queues a statement nothing in this transaction reads back (see the module's docs).
    pub(crate) async fn defer(&mut self, sql: &str, binds: Vec<Bind>) -> Result<()> {
        if let Some(conn) = self.held_writer().map(HeldConn::conn) {
            run_sqlite(conn, sql, &as_args(&binds), |_| Ok(()))?;
            return Ok(());
        }
        self.make_room(binds.len()).await?;
        self.deferred.push(sql, binds);
        Ok(())
    }

    /// Queues a row of `insert` that nothing in this transaction reads back, after the
    /// rows queued before it ([`Deferred::push_row`]).
    pub(crate) async fn defer_row(&mut self, insert: &'static str, row: Vec<Bind>) -> Result<()> {
        if let Some(conn) = self.held_writer().map(HeldConn::conn) {
            let mut one = Deferred::default();
            one.push_row(insert, row);
            run_sqlite(conn, &one.statements[0], &as_args(&one.binds), |_| Ok(()))?;
            return Ok(());
        }
        self.make_room(row.len()).await?;
        self.deferred.push_row(insert, row);
        Ok(())
    }

    /// Sends the queue first if `more` parameters would take it past [`MAX_BINDS`].
    async fn make_room(&mut self, more: usize) -> Result<()> {
        if self.deferred.binds.len() + more > MAX_BINDS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Where a statement that must run now goes: what was deferred goes first.
    pub(crate) async fn target(&mut self) -> Result<Target<'_>> {
        self.flush().await?;
        self.raw()
    }

    /// Sends the deferred statements, if any, in one command.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let deferred = std::mem::take(&mut self.deferred);
        let command = deferred.command(self.backend);
        self.raw()?
            .execute(sqlx::AssertSqlSafe(command), &as_args(&deferred.binds))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumbering_moves_only_the_statements_own_parameters() {
        assert_eq!(renumber("VALUES ($1, $2)", 0, 2), "VALUES ($1, $2)");
        assert_eq!(
            renumber("VALUES ($1, $2, $10) -- $", 3, 10),
            "VALUES ($4, $5, $13) -- $"
        );
        // A `$` that is not one of its parameters stays as written.
        assert_eq!(renumber("x = $3 AND y = '$'", 5, 2), "x = $3 AND y = '$'");
    }

    #[test]
    fn the_queue_is_one_command_on_each_backend() {
        let mut d = Deferred::default();
        d.push(
            "INSERT INTO a (x) VALUES ($1)",
            vec![Bind::Text("x".into())],
        );
        d.push(
            "UPDATE b SET y = $1 WHERE z = $2",
            vec![Bind::Int(1), Bind::OptText(None)],
        );
        assert_eq!(d.binds.len(), 3);
        assert_eq!(
            d.command(Backend::Sqlite),
            "INSERT INTO a (x) VALUES ($1);\nUPDATE b SET y = $2 WHERE z = $3"
        );
        assert_eq!(
            d.command(Backend::Postgres),
            "WITH deferred_0 AS (INSERT INTO a (x) VALUES ($1)) UPDATE b SET y = $2 WHERE z = $3"
        );
    }

    #[test]
    fn consecutive_rows_of_one_insert_are_one_statement_in_order() {
        const LOG: &str = "INSERT INTO log (p) VALUES";
        let mut d = Deferred::default();
        d.push_row(LOG, vec![Bind::Text("1".into())]);
        d.push_row(LOG, vec![Bind::Text("2".into())]);
        d.push("UPDATE b SET y = $1", vec![Bind::Int(1)]);
        d.push_row(LOG, vec![Bind::Text("3".into())]);
        assert_eq!(
            d.command(Backend::Sqlite),
            "INSERT INTO log (p) VALUES ($1), ($2);\nUPDATE b SET y = $3;\n\
             INSERT INTO log (p) VALUES ($4)"
        );
    }
}
