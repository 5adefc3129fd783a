//! An org's handle changes, soft deletion, restore and purge, and the grace reservations
//! they leave in the shared `handles` table.
//!
//! A reservation is a `handles` row with `reserved_until` set: the old handle of a
//! renamed org, or the handle of a deleted one. Until that instant nobody else can take
//! the handle (its key refuses them); afterwards it is free, whether or not the purge has
//! removed the row yet: every insert into `handles` first drops an expired reservation.

use plinth_core::Handle;
use sqlx::Row;
use time::OffsetDateTime;

use crate::orgs::{ORG_COLUMNS, org_from_row};
use crate::store::{Store, WriteTx, time_to_micros};
use crate::{OrgRecord, Result};

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
        sqlx::query(
            "DELETE FROM handles WHERE handle = $1 \
             AND reserved_until IS NOT NULL AND reserved_until <= $2",
        )
        .bind(handle)
        .bind(now_us)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Gives a live org the handle `new`, keeping its current one reserved for it until
    /// `grace_until`. `new` may be one of the org's own reservations (taking an old
    /// handle back). Answers the org before and after; `None` if there is no such org;
    /// `StoreError::Conflict(Handle)` if anyone else holds `new`.
    pub async fn change_org_handle(
        &mut self,
        org_id: &str,
        new: &Handle,
        grace_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<(OrgRecord, OrgRecord)>> {
        let Some(before) = self.org_for_update(org_id).await? else {
            return Ok(None);
        };
        let now_us = time_to_micros(now);
        self.release_expired_handle(new.as_str(), now_us).await?;
        // Taking back one of the org's own reservations.
        sqlx::query(
            "DELETE FROM handles WHERE handle = $1 AND owner_kind = 'org' AND owner_id = $2 \
             AND reserved_until IS NOT NULL",
        )
        .bind(new.as_str())
        .bind(org_id)
        .execute(&mut *self.tx)
        .await?;
        // The key of `handles` decides between concurrent renames: one insert wins, the
        // others wait for it and then fail with a unique violation.
        sqlx::query("INSERT INTO handles (handle, owner_kind, owner_id) VALUES ($1, 'org', $2)")
            .bind(new.as_str())
            .bind(org_id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE handles SET reserved_until = $3 WHERE handle = $1 AND owner_id = $2")
            .bind(before.handle.as_str())
            .bind(org_id)
            .bind(time_to_micros(grace_until))
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE orgs SET handle = $2, updated_at = $3 WHERE id = $1")
            .bind(org_id)
            .bind(new.as_str())
            .bind(now_us)
            .execute(&mut *self.tx)
            .await?;
        let mut after = before.clone();
        after.handle = new.clone();
        after.updated_at = crate::micros_to_time(now_us);
        Ok(Some((before, after)))
    }

    /// Marks a live org deleted and holds its handle until `grace_until`. Its rows stay,
    /// hidden from every query of live orgs, so it can be restored until then.
    pub async fn soft_delete_org(
        &mut self,
        org_id: &str,
        grace_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE orgs SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL")
                .bind(org_id)
                .bind(time_to_micros(now))
                .execute(&mut *self.tx)
                .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE handles SET reserved_until = $2 \
             WHERE owner_kind = 'org' AND owner_id = $1 AND reserved_until IS NULL",
        )
        .bind(org_id)
        .bind(time_to_micros(grace_until))
        .execute(&mut *self.tx)
        .await?;
        Ok(true)
    }

    /// Brings back the deleted org whose handle is `handle`, if its grace period is not
    /// over: with its members, invitations and workspaces, which were never removed.
    pub async fn restore_org(
        &mut self,
        handle: &Handle,
        now: OffsetDateTime,
    ) -> Result<Option<OrgRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM orgs o JOIN handles h \
               ON h.handle = o.handle AND h.owner_kind = 'org' AND h.owner_id = o.id \
             WHERE o.handle = $1 AND o.deleted_at IS NOT NULL AND h.reserved_until > $2"
        ));
        let Some(row) = sqlx::query(sql)
            .bind(handle.as_str())
            .bind(time_to_micros(now))
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        let org = org_from_row(&row)?;
        sqlx::query("UPDATE orgs SET deleted_at = NULL WHERE id = $1")
            .bind(&org.id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE handles SET reserved_until = NULL WHERE handle = $1 AND owner_id = $2")
            .bind(handle.as_str())
            .bind(&org.id)
            .execute(&mut *self.tx)
            .await?;
        Ok(Some(org))
    }
}

impl Store {
    /// Old handles of live orgs still within their grace period.
    pub async fn handle_redirects(&self, now: OffsetDateTime) -> Result<Vec<HandleRedirect>> {
        let rows = sqlx::query(
            "SELECT h.handle AS old_handle, o.id AS org_id, o.handle AS new_handle, \
                    h.reserved_until AS until_us \
             FROM handles h JOIN orgs o ON o.id = h.owner_id \
             WHERE h.owner_kind = 'org' AND h.reserved_until > $1 \
               AND o.deleted_at IS NULL AND h.handle <> o.handle",
        )
        .bind(time_to_micros(now))
        .fetch_all(self.pool())
        .await?;
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

    /// Removes, for good, every deleted org whose grace period is over (its memberships,
    /// workspaces and their members by cascade, its usage and its handles; its audit
    /// log stays), and every expired reservation. Answers the purged orgs' ids.
    pub async fn purge_expired_orgs(&self, now: OffsetDateTime) -> Result<Vec<String>> {
        let now_us = time_to_micros(now);
        let rows = sqlx::query(
            "SELECT o.id FROM orgs o WHERE o.deleted_at IS NOT NULL AND NOT EXISTS \
               (SELECT 1 FROM handles h WHERE h.owner_kind = 'org' AND h.owner_id = o.id \
                  AND h.handle = o.handle AND h.reserved_until > $1)",
        )
        .bind(now_us)
        .fetch_all(self.pool())
        .await?;
        let mut purged = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            let mut tx = self.begin().await?;
            for sql in [
                "DELETE FROM usage_daily WHERE org_id = $1",
                "DELETE FROM handles WHERE owner_kind = 'org' AND owner_id = $1",
                "DELETE FROM orgs WHERE id = $1 AND deleted_at IS NOT NULL",
            ] {
                sqlx::query(sql).bind(&id).execute(&mut *tx.tx).await?;
            }
            tx.commit().await?;
            purged.push(id);
        }
        sqlx::query(
            "DELETE FROM handles WHERE reserved_until IS NOT NULL AND reserved_until <= $1",
        )
        .bind(now_us)
        .execute(self.pool())
        .await?;
        Ok(purged)
    }

    /// A deleted org by handle (for `plinth admin`), whether or not it can be restored.
    pub async fn deleted_org_by_handle(&self, handle: &Handle) -> Result<Option<OrgRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.handle = $1 AND o.deleted_at IS NOT NULL \
             ORDER BY o.deleted_at DESC LIMIT 1"
        ));
        let row = sqlx::query(sql)
            .bind(handle.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }
}
