use plinth_core::{Handle, OrgRole};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::members::MembershipStatus;
use crate::page::Page;
use crate::sql::{Row, args};
use crate::store::{Store, WriteTx, micros_to_time, time_to_micros};
use crate::{Backend, Result, StoreError};

/// A live organization as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: String,
    pub handle: Handle,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// Tokens issued at or before this instant (unix µs) are refused on this org.
    pub token_min_issued_at: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub struct NewOrg {
    pub handle: Handle,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Default)]
pub struct OrgUpdate {
    pub display_name: Option<String>,
    /// `Some(None)` clears the avatar.
    pub avatar_url: Option<Option<String>>,
}

/// One of a user's orgs, with the user's role in it.
#[derive(Debug, Clone)]
pub struct UserOrg {
    pub org: OrgRecord,
    pub role: OrgRole,
}

pub(crate) const ORG_COLUMNS: &str = "o.id, o.handle, o.display_name, o.avatar_url, o.token_min_issued_at, \
                           o.created_at, o.updated_at";

pub(crate) fn org_from_row<'r>(row: impl Into<Row<'r>>) -> Result<OrgRecord> {
    let row = row.into();
    Ok(OrgRecord {
        id: row.get("id")?,
        handle: Handle::from_trusted(row.get("handle")?),
        display_name: row.get("display_name")?,
        avatar_url: row.get("avatar_url")?,
        token_min_issued_at: row.get("token_min_issued_at")?,
        created_at: micros_to_time(row.get("created_at")?),
        updated_at: micros_to_time(row.get("updated_at")?),
    })
}

pub(crate) fn org_role_from_db(s: &str) -> Result<OrgRole> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("org role {s:?}")))
}

impl Store {
    /// A live org by handle.
    pub async fn org_by_handle(&self, handle: &Handle) -> Result<Option<OrgRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.handle = $1 AND o.deleted_at IS NULL"
        ));
        let row = sqlx::query(sql)
            .bind(handle.as_str())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    /// The live orgs where `user_id` is an active member, newest first.
    ///
    /// Orgs reset since `authenticated_at_us` (a token's [`TokenRecord::authenticated_at`])
    /// are left out: they refuse that token, so it must not be shown them as usable.
    ///
    /// [`TokenRecord::authenticated_at`]: crate::TokenRecord::authenticated_at
    pub async fn list_user_orgs(
        &self,
        user_id: &str,
        authenticated_at_us: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<UserOrg>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS}, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.user_id = $1 AND m.status = $2 AND o.deleted_at IS NULL \
               AND o.token_min_issued_at < $5 AND ($3 IS NULL OR o.id < $3) \
             ORDER BY o.id DESC LIMIT $4"
        ));
        let rows = sqlx::query(sql)
            .bind(user_id)
            .bind(MembershipStatus::Active.as_str())
            .bind(after)
            .bind(i64::from(limit) + 1)
            .bind(authenticated_at_us)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(UserOrg {
                    org: org_from_row(row)?,
                    role: org_role_from_db(&row.try_get::<String, _>("role")?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |o| o.org.id.clone()))
    }
}

impl WriteTx {
    /// Creates an org, claims its handle in the shared namespace, and makes `owner_id`
    /// its first active owner.
    pub async fn insert_org(
        &mut self,
        new: NewOrg,
        owner_id: &str,
        now: OffsetDateTime,
    ) -> Result<OrgRecord> {
        let id = crate::new_id();
        let now_us = time_to_micros(now);
        self.release_expired_handle(new.handle.as_str(), now_us)
            .await?;
        self.execute(
            "INSERT INTO handles (handle, owner_kind, owner_id) VALUES ($1, 'org', $2)",
            args![new.handle.as_str(), &id],
        )
        .await?;
        self.execute(
            "INSERT INTO orgs (id, handle, display_name, avatar_url, token_min_issued_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5)",
            args![
                &id,
                new.handle.as_str(),
                &new.display_name,
                &new.avatar_url,
                now_us
            ],
        )
        .await?;
        self.execute(
            "INSERT INTO memberships (id, org_id, user_id, role, status, invited_by, created_at) \
             VALUES ($1, $2, $3, 'owner', 'active', NULL, $4)",
            args![&crate::new_id(), &id, owner_id, now_us],
        )
        .await?;
        Ok(OrgRecord {
            id,
            handle: new.handle,
            display_name: new.display_name,
            avatar_url: new.avatar_url,
            token_min_issued_at: 0,
            created_at: micros_to_time(now_us),
            updated_at: micros_to_time(now_us),
        })
    }

    /// Reads a live org, locking its row on PostgreSQL: every check of an org-wide
    /// invariant (its last owner) takes this lock first, so two such changes serialize.
    /// SQLite needs no lock: its write transactions already run one at a time.
    pub async fn org_for_update(&mut self, id: &str) -> Result<Option<OrgRecord>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $1 AND o.deleted_at IS NULL{lock}"
        ));
        self.fetch_optional(sql, args![id], |row| org_from_row(row))
            .await
    }

    /// Changes what `update` names and answers the org before and after, in one round
    /// trip (the profile write is the most frequent write); `None` when there is no such
    /// live org. The row is locked as [`WriteTx::org_for_update`] would.
    pub async fn update_org(
        &mut self,
        id: &str,
        update: OrgUpdate,
        now: OffsetDateTime,
    ) -> Result<Option<(OrgRecord, OrgRecord)>> {
        let update_name = update.display_name;
        let (set_avatar, avatar) = match update.avatar_url {
            Some(avatar) => (true, avatar),
            None => (false, None),
        };
        const SET: &str = "display_name = COALESCE($2, o.display_name), \
             avatar_url = CASE WHEN $3 THEN $4 ELSE o.avatar_url END, updated_at = $5";
        // SQLite's RETURNING names the table's columns without its alias.
        const RETURNED: &str = "id, handle, display_name, avatar_url, token_min_issued_at, \
                                created_at, updated_at";
        if self.backend == Backend::Sqlite {
            // SQLite's RETURNING sees only the new row, so the row is read first (two
            // function calls on the writer's handle, writer.rs).
            let select = format!(
                "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $1 AND o.deleted_at IS NULL"
            );
            let before = self
                .fetch_optional(sqlx::AssertSqlSafe(select), args![id], |row| {
                    org_from_row(row)
                })
                .await?;
            let Some(before) = before else {
                return Ok(None);
            };
            let update = format!(
                "UPDATE orgs AS o SET {SET} WHERE o.id = $1 AND o.deleted_at IS NULL \
                 RETURNING {RETURNED}"
            );
            let after = self
                .fetch_one(
                    sqlx::AssertSqlSafe(update),
                    args![id, &update_name, set_avatar, &avatar, time_to_micros(now)],
                    |row| org_from_row(row),
                )
                .await?;
            return Ok(Some((before, after)));
        }
        // Every part of one statement sees the same snapshot: `before` is the locked row as
        // it was, `after` what the update made of it.
        let sql = format!(
            "WITH before AS (SELECT {ORG_COLUMNS} FROM orgs o \
               WHERE o.id = $1 AND o.deleted_at IS NULL FOR UPDATE), \
             after AS (UPDATE orgs AS o SET {SET} FROM before WHERE o.id = before.id \
               RETURNING {ORG_COLUMNS}) \
             SELECT 0 AS part, before.* FROM before \
             UNION ALL SELECT 1 AS part, after.* FROM after ORDER BY part"
        );
        let mut rows = self
            .fetch_all(
                sqlx::AssertSqlSafe(sql),
                args![id, &update_name, set_avatar, &avatar, time_to_micros(now)],
                |row| org_from_row(row),
            )
            .await?;
        match (rows.pop(), rows.pop(), rows.len()) {
            (None, _, _) => Ok(None),
            (Some(after), Some(before), 0) => Ok(Some((before, after))),
            _ => Err(StoreError::Corrupt(
                "org update answered more than two rows".to_owned(),
            )),
        }
    }

    /// Refuses every token issued at or before `at` (unix µs) on this org's resources.
    pub async fn set_org_token_min_issued_at(&mut self, id: &str, at: i64) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE orgs SET token_min_issued_at = $2 WHERE id = $1",
                args![id, at],
            )
            .await?;
        Ok(done == 1)
    }
}

// Handle changes, soft deletion, restore and purge; the grace reservations they leave
// are described in `handles.rs`.
impl WriteTx {
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
        self.execute(
            "DELETE FROM handles WHERE handle = $1 AND owner_kind = 'org' AND owner_id = $2 \
             AND reserved_until IS NOT NULL",
            args![new.as_str(), org_id],
        )
        .await?;
        // The key of `handles` decides between concurrent renames: one insert wins, the
        // others wait for it and then fail with a unique violation.
        self.execute(
            "INSERT INTO handles (handle, owner_kind, owner_id) VALUES ($1, 'org', $2)",
            args![new.as_str(), org_id],
        )
        .await?;
        self.execute(
            "UPDATE handles SET reserved_until = $3 WHERE handle = $1 AND owner_id = $2",
            args![before.handle.as_str(), org_id, time_to_micros(grace_until)],
        )
        .await?;
        self.execute(
            "UPDATE orgs SET handle = $2, updated_at = $3 WHERE id = $1",
            args![org_id, new.as_str(), now_us],
        )
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
        let done = self
            .execute(
                "UPDATE orgs SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
                args![org_id, time_to_micros(now)],
            )
            .await?;
        if done == 0 {
            return Ok(false);
        }
        self.execute(
            "UPDATE handles SET reserved_until = $2 \
             WHERE owner_kind = 'org' AND owner_id = $1 AND reserved_until IS NULL",
            args![org_id, time_to_micros(grace_until)],
        )
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
        let Some(org) = self
            .fetch_optional(sql, args![handle.as_str(), time_to_micros(now)], |row| {
                org_from_row(row)
            })
            .await?
        else {
            return Ok(None);
        };
        self.execute(
            "UPDATE orgs SET deleted_at = NULL WHERE id = $1",
            args![&org.id],
        )
        .await?;
        self.execute(
            "UPDATE handles SET reserved_until = NULL WHERE handle = $1 AND owner_id = $2",
            args![handle.as_str(), &org.id],
        )
        .await?;
        Ok(Some(org))
    }
}

impl Store {
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
        .fetch_all(&mut *self.reader().await?)
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
                tx.execute(sql, args![&id]).await?;
            }
            tx.commit().await?;
            purged.push(id);
        }
        self.write_one(
            "DELETE FROM handles WHERE reserved_until IS NOT NULL AND reserved_until <= $1",
            args![now_us],
        )
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
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }
}
