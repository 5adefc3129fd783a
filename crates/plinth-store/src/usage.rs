//! Daily usage figures: written in batches by the server's meter, read by the usage API.

use sqlx::Row as _;

use crate::Result;
use crate::sql::args;
use crate::store::Store;

/// How a figure combines with what is stored for the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageKind {
    /// Counted events: added to the stored value.
    Counter,
    /// A point-in-time figure (members, workspaces): replaces the stored value.
    Snapshot,
}

/// One figure for one org (and workspace, or `""`), one UTC day (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    pub org_id: String,
    pub workspace_id: String,
    pub day: String,
    pub metric: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub workspace_id: String,
    pub day: String,
    pub metric: String,
    pub value: i64,
}

impl Store {
    /// Writes a batch of figures in one transaction.
    pub async fn record_usage(&self, batch: &[(UsageKey, UsageKind, i64)]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (key, kind, value) in batch {
            let sql = match kind {
                UsageKind::Counter => {
                    "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org_id, day, workspace_id, metric) \
                     DO UPDATE SET value = usage_daily.value + excluded.value"
                }
                UsageKind::Snapshot => {
                    "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org_id, day, workspace_id, metric) \
                     DO UPDATE SET value = excluded.value"
                }
            };
            tx.execute(
                sql,
                args![&key.org_id, &key.workspace_id, &key.day, key.metric, *value],
            )
            .await?;
        }
        tx.commit().await
    }

    /// Takes `day`'s snapshot figures of every live org: `members` (active memberships)
    /// and `workspaces` (live workspaces), written only when they differ from the level
    /// the table already gives that day, so an unchanged org writes nothing. One
    /// statement per metric, whatever the number of orgs; run again the same day, it
    /// replaces the day's values, so the last snapshot taken on a day is the one that
    /// stays.
    ///
    /// `audit_events` is counted from the org's log itself over `[day_start, day_end)`
    /// (unix µs), so it can never disagree with it; a day with none writes no row.
    pub async fn snapshot_usage(
        &self,
        day: &str,
        day_start_us: i64,
        day_end_us: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for sql in [SNAPSHOT_MEMBERS, SNAPSHOT_WORKSPACES] {
            tx.execute(sql, args![day]).await?;
        }
        tx.execute(SNAPSHOT_AUDIT_EVENTS, args![day, day_start_us, day_end_us])
            .await?;
        tx.commit().await
    }

    /// The id and handle of each live workspace of an org, to name them in a report.
    pub async fn workspace_handles(&self, org_id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT id, handle FROM workspaces WHERE org_id = $1")
            .bind(org_id)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("handle")?)))
            .collect()
    }

    /// Every figure of `org_id` from `from` to `to` (inclusive, `YYYY-MM-DD`), and before
    /// them the latest `members` and `workspaces` rows from before `from`, if any: those
    /// levels are stored only on the days they change, so a day without a row has the
    /// value of the last row before it.
    pub async fn usage(&self, org_id: &str, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        let mut carried = Vec::new();
        for metric in LEVELS {
            let row = sqlx::query(
                "SELECT workspace_id, day, metric, value FROM usage_daily \
                 WHERE org_id = $1 AND day < $2 AND workspace_id = '' AND metric = $3 \
                 ORDER BY day DESC LIMIT 1",
            )
            .bind(org_id)
            .bind(from)
            .bind(metric)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
            if let Some(row) = row {
                carried.push(usage_row(&row)?);
            }
        }
        carried.sort_by(|a, b| a.day.cmp(&b.day));
        let rows = sqlx::query(
            "SELECT workspace_id, day, metric, value FROM usage_daily \
             WHERE org_id = $1 AND day >= $2 AND day <= $3 \
             ORDER BY day, workspace_id, metric",
        )
        .bind(org_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.reader().await?)
        .await?;
        for row in &rows {
            carried.push(usage_row(row)?);
        }
        Ok(carried)
    }

    /// Deletes the figures of days before `before` (`YYYY-MM-DD`), keeping for each org
    /// the latest `members` and `workspaces` row before it, which the days after still
    /// read. Returns the number of rows deleted.
    pub async fn purge_usage_before(&self, before: &str) -> Result<u64> {
        let mut tx = self.begin().await?;
        // The kept levels in one uncorrelated pass (not a subquery per deleted row).
        let done = tx
            .execute(
                "DELETE FROM usage_daily WHERE day < $1 AND NOT ( \
               workspace_id = '' AND metric IN ('members', 'workspaces') \
               AND (org_id, metric, day) IN ( \
                 SELECT org_id, metric, MAX(day) FROM usage_daily \
                 WHERE day < $1 AND workspace_id = '' AND metric IN ('members', 'workspaces') \
                 GROUP BY org_id, metric))",
                args![before],
            )
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Rows in `usage_daily` (for the scale benchmark and tests).
    pub async fn usage_row_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM usage_daily")
            .fetch_one(&mut *self.reader().await?)
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// The figures stored as levels on the days they change, not as a row a day.
const LEVELS: [&str; 2] = ["members", "workspaces"];

fn usage_row(row: &sqlx::any::AnyRow) -> Result<UsageRow> {
    Ok(UsageRow {
        workspace_id: row.try_get("workspace_id")?,
        day: row.try_get("day")?,
        metric: row.try_get("metric")?,
        value: row.try_get("value")?,
    })
}

// Each snapshot writes a row only where the figure differs from what the table already
// says for that day: for `members` and `workspaces`, the latest row on or before it (one
// backward index step on the key `(org_id, day, …)`), for `audit_events` the day's own
// row. An org whose members and workspaces did not change and that logged nothing writes
// no row at all, however many days pass; its days read the last change (see
// `Store::usage`). A level that is 0 and never was anything else needs no row either.
// The outer `WHERE` also keeps SQLite from reading `ON CONFLICT` as a join constraint.
const SNAPSHOT_MEMBERS: &str = "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
     SELECT s.id, '', $1, 'members', s.n FROM ( \
       SELECT o.id, \
         (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.status = 'active') AS n, \
         (SELECT u.value FROM usage_daily u WHERE u.org_id = o.id AND u.day <= $1 \
            AND u.workspace_id = '' AND u.metric = 'members' \
          ORDER BY u.day DESC LIMIT 1) AS last \
       FROM orgs o WHERE o.deleted_at IS NULL) s \
     WHERE s.n <> COALESCE(s.last, 0) \
     ON CONFLICT (org_id, day, workspace_id, metric) DO UPDATE SET value = excluded.value";

const SNAPSHOT_WORKSPACES: &str = "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
     SELECT s.id, '', $1, 'workspaces', s.n FROM ( \
       SELECT o.id, \
         (SELECT COUNT(*) FROM workspaces w WHERE w.org_id = o.id) AS n, \
         (SELECT u.value FROM usage_daily u WHERE u.org_id = o.id AND u.day <= $1 \
            AND u.workspace_id = '' AND u.metric = 'workspaces' \
          ORDER BY u.day DESC LIMIT 1) AS last \
       FROM orgs o WHERE o.deleted_at IS NULL) s \
     WHERE s.n <> COALESCE(s.last, 0) \
     ON CONFLICT (org_id, day, workspace_id, metric) DO UPDATE SET value = excluded.value";

// One index range per org: `audit_log (chain, created_at)`.
const SNAPSHOT_AUDIT_EVENTS: &str = "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
     SELECT s.id, '', $1, 'audit_events', s.n FROM ( \
       SELECT o.id, \
         (SELECT COUNT(*) FROM audit_log a \
          WHERE a.chain = 'org:' || o.id AND a.created_at >= $2 AND a.created_at < $3) AS n, \
         (SELECT u.value FROM usage_daily u WHERE u.org_id = o.id AND u.day = $1 \
            AND u.workspace_id = '' AND u.metric = 'audit_events') AS last \
       FROM orgs o WHERE o.deleted_at IS NULL) s \
     WHERE s.n <> COALESCE(s.last, 0) \
     ON CONFLICT (org_id, day, workspace_id, metric) DO UPDATE SET value = excluded.value";
