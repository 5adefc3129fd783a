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
