//! The invalidation log (DESIGN.md §5): what each write transaction invalidates in the
//! other replicas' memory, written in the same transaction as the change.
//!
//! A write transaction never issues `NOTIFY`: PostgreSQL makes every commit with a
//! pending notification wait for one database-wide lock, so writes to unrelated rows
//! would queue behind each other. It inserts a row instead ([`WriteTx::log_invalidation`]),
//! which exists exactly when the change does. After the commit a `NOTIFY`
//! ([`Store::wake_replicas`], outside any transaction) only wakes the other replicas; each
//! reads the rows after the last one it applied ([`InvalidationFeed`]), so a replica that
//! missed a wake-up (a restart, a dropped connection) catches up from the log. On SQLite
//! there is nothing to wake: a server polls the log, which is how `plinth admin` reaches
//! it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::Row as _;
use sqlx::postgres::PgListener;

use crate::Result;
use crate::deferred::Bind;
use crate::store::{Backend, Store, WriteTx, time_to_micros};

/// The channel every replica listens on for wake-ups.
pub const INVALIDATION_CHANNEL: &str = "plinth_invalidate";

/// How long a reader waits for an id below the newest it has seen. PostgreSQL hands out
/// ids at insert, not at commit, so a transaction may commit id 5 after id 6 is visible;
/// an id still missing after this long is taken to be rolled back.
pub const GAP_WAIT: Duration = Duration::from_secs(10);
/// Missing ids a reader tracks at most; more means it starts over (see [`FeedRead::lost`]).
const MAX_GAPS: usize = 1_000;
/// Rows per query when reading the log.
const READ_BATCH: i64 = 1_000;
/// Further behind than this many rows, reloading everything is cheaper than replaying.
pub const MAX_REPLAY: i64 = 100_000;
/// Ids below the head examined at start for transactions still in flight.
const START_WINDOW: i64 = 256;

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedInvalidation {
    pub id: i64,
    /// The process that wrote it (it applied the change itself after its commit).
    pub origin: String,
    pub payload: String,
}

impl WriteTx {
    /// Records `payload` for every other replica. It becomes visible when this
    /// transaction commits, and disappears with it if it rolls back.
    pub async fn log_invalidation(&mut self, origin: &str, payload: &str) -> Result<()> {
        // The wall clock, not a test's moved clock: this is plumbing, pruned by age.
        let now = time_to_micros(time::OffsetDateTime::now_utc());
        // Read by other replicas after the commit, never in this transaction.
        self.defer_row(
            "INSERT INTO invalidation_log (origin, payload, created_at) VALUES",
            vec![
                Bind::Text(origin.to_owned()),
                Bind::Text(payload.to_owned()),
                Bind::Int(now),
            ],
        )
        .await
    }
}

impl Store {
    /// Wakes the other replicas after a commit: a `NOTIFY` of its own, outside any write
    /// transaction. `payload` is the sender's origin, so it can ignore its own. A no-op on
    /// SQLite, where servers poll.
    pub async fn wake_replicas(&self, payload: &str) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(INVALIDATION_CHANNEL)
                .bind(payload)
                .execute(&mut *self.reader().await?)
                .await?;
        }
        Ok(())
    }

    /// A dedicated connection listening for wake-ups; `None` on SQLite.
    pub async fn listen(&self) -> Result<Option<PgListener>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(self.url()).await?;
        listener.listen(INVALIDATION_CHANNEL).await?;
        Ok(Some(listener))
    }

    /// The newest and oldest ids in the log (0 when it is empty): two index look-ups.
    /// Separate sub-selects, because SQLite answers `max` or `min` from the index only
    /// when it is the query's one aggregate.
    pub async fn invalidation_log_bounds(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COALESCE((SELECT max(id) FROM invalidation_log), 0) AS newest, \
                    COALESCE((SELECT min(id) FROM invalidation_log), 0) AS oldest",
        )
        .fetch_one(&mut *self.reader().await?)
        .await?;
        Ok((row.try_get("newest")?, row.try_get("oldest")?))
    }

    /// Up to `limit` rows after `after`, oldest first.
    pub async fn invalidations_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LoggedInvalidation>> {
        let rows = sqlx::query(
            "SELECT id, origin, payload FROM invalidation_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.reader().await?)
        .await?;
        rows.iter().map(logged_from_row).collect()
    }

    /// The rows among `ids` that exist now.
    async fn invalidations_with_ids(&self, ids: &[i64]) -> Result<Vec<LoggedInvalidation>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Integers formatted by us, never text from outside: safe to inline.
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, origin, payload FROM invalidation_log WHERE id IN ({}) ORDER BY id",
            list.join(", ")
        ));
        let rows = sqlx::query(sql)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter().map(logged_from_row).collect()
    }

    /// Deletes the rows with an id below `below`. Every reader that is further than
    /// that has its [`FeedRead::lost`] set and reloads; the row at `below` itself stays,
    /// which is how a reader tells "pruned past me" from "nothing new".
    pub async fn prune_invalidation_log(&self, below: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM invalidation_log WHERE id < $1")
            .bind(below)
            .execute(&mut *self.reader().await?)
            .await?;
        Ok(done.rows_affected())
    }
}

fn logged_from_row(row: &sqlx::any::AnyRow) -> Result<LoggedInvalidation> {
    Ok(LoggedInvalidation {
        id: row.try_get("id")?,
        origin: row.try_get("origin")?,
        payload: row.try_get("payload")?,
    })
}

/// One reader's place in the log: the last id it applied, and the ids below it that were
/// missing when it read (transactions that may still commit, on PostgreSQL).
#[derive(Debug)]
pub struct InvalidationFeed {
    last: i64,
    gaps: BTreeMap<i64, Instant>,
}

/// What one [`InvalidationFeed::read`] found.
#[derive(Debug, Default)]
pub struct FeedRead {
    /// New rows, in id order (a late gap's row may come before newer ones).
    pub rows: Vec<LoggedInvalidation>,
    /// Rows this reader needed may be gone (pruned while it was away, the log is behind
    /// it after a restore, or it is too far behind to replay): whatever it keeps in
    /// memory must be reloaded from the database. The feed has moved to the head.
    pub lost: bool,
    /// Missing ids that never appeared within [`GAP_WAIT`] and are given up on.
    pub gaps_given_up: usize,
}

impl InvalidationFeed {
    /// A reader starting now, for a caller that loads what it keeps in memory right
    /// after: everything logged before is covered by that load. The last few ids below
    /// the head that are missing are watched, as they may belong to transactions still
    /// in flight, whose changes the load may not see.
    pub async fn start(store: &Store) -> Result<Self> {
        let (newest, oldest) = store.invalidation_log_bounds().await?;
        let mut feed = Self {
            last: newest,
            gaps: BTreeMap::new(),
        };
        if newest > 0 {
            let from = (newest - START_WINDOW).max(oldest - 1);
            let present = store.invalidations_after(from, START_WINDOW).await?;
            let now = Instant::now();
            let mut expected = from + 1;
            for row in &present {
                for missing in expected..row.id {
                    feed.gaps.insert(missing, now);
                }
                expected = row.id + 1;
            }
        }
        Ok(feed)
    }

    /// The last id read.
    pub fn position(&self) -> i64 {
        self.last
    }

    /// Ids still awaited below [`InvalidationFeed::position`].
    pub fn gaps(&self) -> usize {
        self.gaps.len()
    }

    /// Reads what was logged since the last read. When nothing was, this is one query
    /// of two index look-ups.
    pub async fn read(&mut self, store: &Store) -> Result<FeedRead> {
        let mut out = FeedRead::default();
        let before = self.gaps.len();
        self.gaps.retain(|_, seen| seen.elapsed() < GAP_WAIT);
        out.gaps_given_up = before - self.gaps.len();

        let (newest, oldest) = store.invalidation_log_bounds().await?;
        if newest == self.last && self.gaps.is_empty() {
            return Ok(out);
        }
        // The log is behind us (a restored database), rows after us were pruned, or
        // replaying would take longer than reloading. Our position is always a row that
        // existed (or 0: the log was empty), and pruning deletes only below positions
        // readers had reached: so that row is gone only if we were pruned past.
        let pruned_past = self.last > 0 && oldest > self.last;
        if newest < self.last || pruned_past || newest - self.last > MAX_REPLAY {
            return Ok(self.lose(newest));
        }

        let waiting: Vec<i64> = self.gaps.keys().copied().collect();
        for row in store.invalidations_with_ids(&waiting).await? {
            self.gaps.remove(&row.id);
            out.rows.push(row);
        }
        loop {
            let page = store.invalidations_after(self.last, READ_BATCH).await?;
            let full = page.len() as i64 == READ_BATCH;
            let now = Instant::now();
            for row in page {
                for missing in self.last + 1..row.id {
                    self.gaps.insert(missing, now);
                }
                if self.gaps.len() > MAX_GAPS {
                    return Ok(self.lose(newest.max(row.id)));
                }
                self.last = row.id;
                out.rows.push(row);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    fn lose(&mut self, head: i64) -> FeedRead {
        self.last = head;
        self.gaps.clear();
        FeedRead {
            lost: true,
            ..FeedRead::default()
        }
    }
}
