use plinth_core::{Handle, WorkspaceHandle, WorkspaceRole};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::page::Page;
use crate::sql::{Row, args};
use crate::store::{Store, WriteTx, micros_to_time, time_to_micros};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRecord {
    pub id: String,
    pub org_id: String,
    pub handle: WorkspaceHandle,
    pub display_name: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A live workspace with its org's handle: what DNS and workspace hosts serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName {
    pub org_id: String,
    pub org_handle: Handle,
    pub org_display_name: String,
    pub workspace: WorkspaceRecord,
}

/// A user's explicit role on a workspace, with the facts member lists show.
#[derive(Debug, Clone)]
pub struct WorkspaceMemberRecord {
    pub id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub handle: Handle,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub role: WorkspaceRole,
    pub created_at: OffsetDateTime,
}

const WS_COLUMNS: &str = "w.id, w.org_id, w.handle, w.display_name, w.created_at, w.updated_at";

fn workspace_from_row<'r>(row: impl Into<Row<'r>>) -> Result<WorkspaceRecord> {
    let row = row.into();
    Ok(WorkspaceRecord {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        handle: WorkspaceHandle::from_trusted(row.get("handle")?),
        display_name: row.get("display_name")?,
        created_at: micros_to_time(row.get("created_at")?),
        updated_at: micros_to_time(row.get("updated_at")?),
    })
}

fn ws_role_from_db(s: &str) -> Result<WorkspaceRole> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("workspace role {s:?}")))
}

fn ws_member_from_row<'r>(row: impl Into<Row<'r>>) -> Result<WorkspaceMemberRecord> {
    let row = row.into();
    Ok(WorkspaceMemberRecord {
        id: row.get("id")?,
        workspace_id: row.get("workspace_id")?,
        user_id: row.get("user_id")?,
        handle: Handle::from_trusted(row.get("handle")?),
        display_name: row.get("display_name")?,
        avatar_url: row.get("avatar_url")?,
        role: ws_role_from_db(&row.get::<String>("role")?)?,
        created_at: micros_to_time(row.get("created_at")?),
    })
}

impl Store {
    pub async fn workspace(
        &self,
        org_id: &str,
        handle: &WorkspaceHandle,
    ) -> Result<Option<WorkspaceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {WS_COLUMNS} FROM workspaces w WHERE w.org_id = $1 AND w.handle = $2"
        ));
        let row = sqlx::query(sql)
            .bind(org_id)
            .bind(handle.as_str())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(workspace_from_row).transpose()
    }

    /// An org's workspaces by handle; with `member` set, only those where that user has
    /// an explicit role. Paged by handle, which is unique within the org.
    pub async fn list_workspaces(
        &self,
        org_id: &str,
        member: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<(WorkspaceRecord, Option<WorkspaceRole>)>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {WS_COLUMNS}, wm.role FROM workspaces w \
             LEFT JOIN workspace_members wm ON wm.workspace_id = w.id AND wm.user_id = $2 \
             WHERE w.org_id = $1 AND w.handle > $3 AND ($4 = 0 OR wm.role IS NOT NULL) \
             ORDER BY w.handle LIMIT $5"
        ));
        let rows = sqlx::query(sql)
            .bind(org_id)
            .bind(member.unwrap_or(""))
            .bind(after.unwrap_or(""))
            .bind(i64::from(member.is_some()))
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let items = rows
            .iter()
            .map(|row| {
                let role = row
                    .try_get::<Option<String>, _>("role")?
                    .as_deref()
                    .map(ws_role_from_db)
                    .transpose()?;
                Ok((workspace_from_row(row)?, role))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |(w, _)| {
            w.handle.as_str().to_owned()
        }))
    }

    /// A user's explicit role on a workspace.
    pub async fn workspace_role(
        &self,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<Option<WorkspaceRole>> {
        let row = sqlx::query(
            "SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        row.map(|r| ws_role_from_db(&r.try_get::<String, _>("role")?))
            .transpose()
    }

    /// A workspace's explicit members, by handle.
    pub async fn list_workspace_members(
        &self,
        workspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<WorkspaceMemberRecord>> {
        let rows = sqlx::query(
            "SELECT wm.id, wm.workspace_id, wm.user_id, wm.role, wm.created_at, \
             u.handle, u.display_name, u.avatar_url \
             FROM workspace_members wm JOIN users u ON u.id = wm.user_id \
             WHERE wm.workspace_id = $1 AND u.handle > $2 ORDER BY u.handle LIMIT $3",
        )
        .bind(workspace_id)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *self.reader().await?)
        .await?;
        let items = rows
            .iter()
            .map(ws_member_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |m| {
            m.handle.as_str().to_owned()
        }))
    }

    /// Every live workspace with its org, one row at a time, in org order, as the rows
    /// arrive: what the name directory loads for DNS and workspace hosts, never holding
    /// a million rows at once. Answers how many rows `each` was given.
    pub async fn each_live_workspace_name(
        &self,
        mut each: impl FnMut(WorkspaceName),
    ) -> Result<usize> {
        use futures_util::TryStreamExt;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {WS_COLUMNS}, o.handle AS org_handle, o.display_name AS org_display_name \
             FROM workspaces w JOIN orgs o ON o.id = w.org_id WHERE o.deleted_at IS NULL \
             ORDER BY w.org_id"
        ));
        let mut conn = self.reader().await?;
        let mut rows = sqlx::query(sql).fetch(&mut *conn);
        let mut count = 0;
        while let Some(row) = rows.try_next().await? {
            each(workspace_name_from_row(&row)?);
            count += 1;
        }
        Ok(count)
    }

    /// One org's live workspaces (none when the org is deleted or gone): what a replica
    /// re-reads when that org's names change. Uses the `(org_id, handle)` key, so it
    /// costs the same however many other names there are.
    pub async fn live_workspace_names_of_org(&self, org_id: &str) -> Result<Vec<WorkspaceName>> {
        self.workspace_names(org_id).await
    }

    async fn workspace_names(&self, org_id: &str) -> Result<Vec<WorkspaceName>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {WS_COLUMNS}, o.handle AS org_handle, o.display_name AS org_display_name \
             FROM workspaces w JOIN orgs o ON o.id = w.org_id \
             WHERE o.deleted_at IS NULL AND w.org_id = $1"
        ));
        let rows = sqlx::query(sql)
            .bind(org_id)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter().map(workspace_name_from_row).collect()
    }
}

fn workspace_name_from_row(row: &sqlx::any::AnyRow) -> Result<WorkspaceName> {
    let workspace = workspace_from_row(row)?;
    Ok(WorkspaceName {
        org_id: workspace.org_id.clone(),
        org_handle: Handle::from_trusted(row.try_get("org_handle")?),
        org_display_name: row.try_get("org_display_name")?,
        workspace,
    })
}

impl WriteTx {
    pub async fn insert_workspace(
        &mut self,
        org_id: &str,
        handle: WorkspaceHandle,
        display_name: String,
        now: OffsetDateTime,
    ) -> Result<WorkspaceRecord> {
        let id = crate::new_id();
        let now_us = time_to_micros(now);
        self.execute(
            "INSERT INTO workspaces (id, org_id, handle, display_name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
            args![&id, org_id, handle.as_str(), &display_name, now_us],
        )
        .await?;
        Ok(WorkspaceRecord {
            id,
            org_id: org_id.to_owned(),
            handle,
            display_name,
            created_at: micros_to_time(now_us),
            updated_at: micros_to_time(now_us),
        })
    }

    pub async fn workspace_for_update(
        &mut self,
        org_id: &str,
        handle: &WorkspaceHandle,
    ) -> Result<Option<WorkspaceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {WS_COLUMNS} FROM workspaces w WHERE w.org_id = $1 AND w.handle = $2"
        ));
        self.fetch_optional(sql, args![org_id, handle.as_str()], |row| {
            workspace_from_row(row)
        })
        .await
    }

    pub async fn set_workspace_display_name(
        &mut self,
        id: &str,
        display_name: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE workspaces SET display_name = $2, updated_at = $3 WHERE id = $1",
                args![id, display_name, time_to_micros(now)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Gives a workspace a new handle; another workspace of the org holding it fails on
    /// the `(org_id, handle)` key (`StoreError` unique violation).
    pub async fn set_workspace_handle(
        &mut self,
        id: &str,
        handle: &WorkspaceHandle,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE workspaces SET handle = $2, updated_at = $3 WHERE id = $1",
                args![id, handle.as_str(), time_to_micros(now)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Deletes a workspace and, by cascade, its members.
    pub async fn delete_workspace(&mut self, id: &str) -> Result<bool> {
        let done = self
            .execute("DELETE FROM workspaces WHERE id = $1", args![id])
            .await?;
        Ok(done == 1)
    }

    pub async fn workspace_member_for_update(
        &mut self,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<Option<WorkspaceMemberRecord>> {
        self.fetch_optional(
            "SELECT wm.id, wm.workspace_id, wm.user_id, wm.role, wm.created_at, \
             u.handle, u.display_name, u.avatar_url \
             FROM workspace_members wm JOIN users u ON u.id = wm.user_id \
             WHERE wm.workspace_id = $1 AND wm.user_id = $2",
            args![workspace_id, user_id],
            |row| ws_member_from_row(row),
        )
        .await
    }

    pub async fn insert_workspace_member(
        &mut self,
        workspace_id: &str,
        user_id: &str,
        role: WorkspaceRole,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO workspace_members (id, workspace_id, user_id, role, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            args![
                &crate::new_id(),
                workspace_id,
                user_id,
                role.as_str(),
                time_to_micros(now)
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn set_workspace_member_role(
        &mut self,
        workspace_id: &str,
        user_id: &str,
        role: WorkspaceRole,
    ) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE workspace_members SET role = $3 WHERE workspace_id = $1 AND user_id = $2",
                args![workspace_id, user_id, role.as_str()],
            )
            .await?;
        Ok(done == 1)
    }

    pub async fn delete_workspace_member(
        &mut self,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<bool> {
        let done = self
            .execute(
                "DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
                args![workspace_id, user_id],
            )
            .await?;
        Ok(done == 1)
    }
}
