//! Daily usage figures: written in batches by the server's meter, read by the usage API.

use sqlx::Row;

use crate::Result;
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
            sqlx::query(sql)
                .bind(&key.org_id)
                .bind(&key.workspace_id)
                .bind(&key.day)
                .bind(key.metric)
                .bind(*value)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.commit().await
    }

    /// Overwrites `day`'s snapshot figures of every live org: `members` (active
    /// memberships) and `workspaces` (live workspaces). One statement per metric, whatever
    /// the number of orgs; run again the same day, it replaces the values, so the last
    /// snapshot taken on a day is the one that stays.
    ///
    /// `audit_events` is counted from the org's log itself over `[day_start, day_end)`
    /// (unix µs), so it can never disagree with it.
    pub async fn snapshot_usage(
        &self,
        day: &str,
        day_start_us: i64,
        day_end_us: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for sql in [SNAPSHOT_MEMBERS, SNAPSHOT_WORKSPACES] {
            sqlx::query(sql).bind(day).execute(&mut *tx.tx).await?;
        }
        sqlx::query(SNAPSHOT_AUDIT_EVENTS)
            .bind(day)
            .bind(day_start_us)
            .bind(day_end_us)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// The id and handle of each live workspace of an org, to name them in a report.
    pub async fn workspace_handles(&self, org_id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT id, handle FROM workspaces WHERE org_id = $1")
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("handle")?)))
            .collect()
    }

    /// Every figure of `org_id` from `from` to `to` (inclusive, `YYYY-MM-DD`).
    pub async fn usage(&self, org_id: &str, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT workspace_id, day, metric, value FROM usage_daily \
             WHERE org_id = $1 AND day >= $2 AND day <= $3 \
             ORDER BY day, workspace_id, metric",
        )
        .bind(org_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageRow {
                    workspace_id: row.try_get("workspace_id")?,
                    day: row.try_get("day")?,
                    metric: row.try_get("metric")?,
                    value: row.try_get("value")?,
                })
            })
            .collect()
    }
}

// The `WHERE` clause also keeps SQLite from reading `ON CONFLICT` as a join constraint.
const SNAPSHOT_MEMBERS: &str = "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
     SELECT o.id, '', $1, 'members', \
            (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.status = 'active') \
     FROM orgs o WHERE o.deleted_at IS NULL \
     ON CONFLICT (org_id, day, workspace_id, metric) DO UPDATE SET value = excluded.value";

const SNAPSHOT_WORKSPACES: &str = "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
     SELECT o.id, '', $1, 'workspaces', \
            (SELECT COUNT(*) FROM workspaces w WHERE w.org_id = o.id) \
     FROM orgs o WHERE o.deleted_at IS NULL \
     ON CONFLICT (org_id, day, workspace_id, metric) DO UPDATE SET value = excluded.value";

// One index range per org: `audit_log (chain, created_at)`.
const SNAPSHOT_AUDIT_EVENTS: &str = "INSERT INTO usage_daily (org_id, workspace_id, day, metric, value) \
     SELECT o.id, '', $1, 'audit_events', \
            (SELECT COUNT(*) FROM audit_log a \
             WHERE a.chain = 'org:' || o.id AND a.created_at >= $2 AND a.created_at < $3) \
     FROM orgs o WHERE o.deleted_at IS NULL \
     ON CONFLICT (org_id, day, workspace_id, metric) DO UPDATE SET value = excluded.value";
