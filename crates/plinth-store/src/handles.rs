//! The shared `handles` table: users and orgs take their handles from one namespace,
//! and an org's old handle stays reserved for it during the grace period.
//!
//! A reservation is a `handles` row with `reserved_until` set: the old handle of a
//! renamed org, or the handle of a deleted one. Until that instant nobody else can take
//! the handle (its key refuses them); afterwards it is free, whether or not the purge has
//! removed the row yet: every insert into `handles` first drops an expired reservation.

use plinth_core::Handle;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::Result;
use crate::sql::args;
use crate::store::{Store, WriteTx, time_to_micros};

/// An old handle that still redirects to its org's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleRedirect {
    pub old_handle: String,
    pub org_id: String,
    pub new_handle: String,
    /// Unix µs: the redirect (and the reservation) ends then.
    pub until_us: i64,
}

impl WriteTx {
    /// Drops `handle`'s reservation if its grace period is over, so it can be claimed.
    pub(crate) async fn release_expired_handle(&mut self, handle: &str, now_us: i64) -> Result<()> {
        self.execute(
            "DELETE FROM handles WHERE handle = $1 \
             AND reserved_until IS NOT NULL AND reserved_until <= $2",
            args![handle, now_us],
        )
        .await?;
        Ok(())
    }
}

impl Store {
    /// Whether a handle is taken by anyone at `now` (a user, an org, or an org's grace
    /// reservation that has not ended).
    pub async fn handle_taken(&self, handle: &Handle, now: OffsetDateTime) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM handles WHERE handle = $1              AND (reserved_until IS NULL OR reserved_until > $2)",
        )
        .bind(handle.as_str())
        .bind(time_to_micros(now))
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        Ok(row.is_some())
    }

    /// Old handles of live orgs still within their grace period.
    pub async fn handle_redirects(&self, now: OffsetDateTime) -> Result<Vec<HandleRedirect>> {
        self.redirects(None, now).await
    }

    /// One org's old handles still within their grace period (by `handles_owner_idx`).
    pub async fn handle_redirects_of_org(
        &self,
        org_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<HandleRedirect>> {
        self.redirects(Some(org_id), now).await
    }

    async fn redirects(
        &self,
        org_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<HandleRedirect>> {
        let filter = if org_id.is_some() {
            " AND h.owner_id = $2"
        } else {
            ""
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT h.handle AS old_handle, o.id AS org_id, o.handle AS new_handle, \
                    h.reserved_until AS until_us \
             FROM handles h JOIN orgs o ON o.id = h.owner_id \
             WHERE h.owner_kind = 'org' AND h.reserved_until > $1 \
               AND o.deleted_at IS NULL AND h.handle <> o.handle{filter}"
        ));
        let mut query = sqlx::query(sql).bind(time_to_micros(now));
        if let Some(org_id) = org_id {
            query = query.bind(org_id);
        }
        let rows = query.fetch_all(&mut *self.reader().await?).await?;
        rows.iter()
            .map(|row| {
                Ok(HandleRedirect {
                    old_handle: row.try_get("old_handle")?,
                    org_id: row.try_get("org_id")?,
                    new_handle: row.try_get("new_handle")?,
                    until_us: row.try_get("until_us")?,
                })
            })
            .collect()
    }
}
