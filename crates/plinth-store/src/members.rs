use plinth_core::{Handle, OrgRole};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::orgs::{OrgRecord, org_from_row, org_role_from_db};
use crate::page::Page;
use crate::sql::{Row, args};
use crate::store::{Store, WriteTx, micros_to_time, time_to_micros};
use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipStatus {
    /// Invited, not yet accepted: no access to the org at all.
    Invited,
    Active,
}

impl MembershipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        match s {
            "invited" => Ok(Self::Invited),
            "active" => Ok(Self::Active),
            other => Err(StoreError::Corrupt(format!("membership status {other:?}"))),
        }
    }
}

/// A user's membership of an org (or invitation to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub role: OrgRole,
    pub status: MembershipStatus,
    pub invited_by: Option<String>,
    pub created_at: OffsetDateTime,
}

impl MembershipRecord {
    pub fn is_active_owner(&self) -> bool {
        self.status == MembershipStatus::Active && self.role == OrgRole::Owner
    }
}

/// A membership with the facts about its user that member lists show.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub membership: MembershipRecord,
    pub handle: Handle,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// An invitation as its invitee sees it.
#[derive(Debug, Clone)]
pub struct InvitationRecord {
    pub membership: MembershipRecord,
    pub org: OrgRecord,
    pub invited_by_handle: Option<Handle>,
}

const MEMBERSHIP_COLUMNS: &str = "m.id AS m_id, m.org_id, m.user_id, m.role, m.status, m.invited_by, m.created_at AS m_created_at";

fn membership_from_row<'r>(row: impl Into<Row<'r>>) -> Result<MembershipRecord> {
    let row = row.into();
    let role: String = row.get("role")?;
    let status: String = row.get("status")?;
    Ok(MembershipRecord {
        id: row.get("m_id")?,
        org_id: row.get("org_id")?,
        user_id: row.get("user_id")?,
        role: org_role_from_db(&role)?,
        status: MembershipStatus::from_db(&status)?,
        invited_by: row.get("invited_by")?,
        created_at: micros_to_time(row.get("m_created_at")?),
    })
}

impl Store {
    pub async fn membership(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2"
        ));
        let row = sqlx::query(sql)
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(membership_from_row).transpose()
    }

    /// An org's members and pending invitations, newest first.
    pub async fn list_members(
        &self,
        org_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<MemberRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBERSHIP_COLUMNS}, u.handle, u.display_name, u.avatar_url \
             FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = $1 AND ($2 IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3"
        ));
        let rows = sqlx::query(sql)
            .bind(org_id)
            .bind(after)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(MemberRecord {
                    membership: membership_from_row(row)?,
                    handle: Handle::from_trusted(row.try_get("handle")?),
                    display_name: row.try_get("display_name")?,
                    avatar_url: row.try_get("avatar_url")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |m| m.membership.id.clone()))
    }

    /// The pending invitations of a user to live orgs, newest first.
    pub async fn list_invitations(
        &self,
        user_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<InvitationRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBERSHIP_COLUMNS}, o.id, o.handle, o.display_name, o.avatar_url, \
             o.token_min_issued_at, o.created_at, o.updated_at, inviter.handle AS inviter_handle \
             FROM memberships m JOIN orgs o ON o.id = m.org_id \
             LEFT JOIN users inviter ON inviter.id = m.invited_by \
             WHERE m.user_id = $1 AND m.status = 'invited' AND o.deleted_at IS NULL AND ($2 IS NULL OR m.id < $2) \
             ORDER BY m.id DESC LIMIT $3"
        ));
        let rows = sqlx::query(sql)
            .bind(user_id)
            .bind(after)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(InvitationRecord {
                    membership: membership_from_row(row)?,
                    org: org_from_row(row)?,
                    invited_by_handle: row
                        .try_get::<Option<String>, _>("inviter_handle")?
                        .map(Handle::from_trusted),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |i| i.membership.id.clone()))
    }

    /// How many pending invitations to live orgs a user has: the rows
    /// [`Store::list_invitations`] lists, counted in one query on the
    /// `memberships (user_id, status)` index (the console's badge on every page).
    pub async fn count_invitations(&self, user_id: &str) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.user_id = $1 AND m.status = 'invited' AND o.deleted_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&mut *self.reader().await?)
        .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl WriteTx {
    pub async fn membership_for_update(
        &mut self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>> {
        // The org row lock (`org_for_update`) guards membership invariants; this read
        // runs after it inside the same transaction.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2"
        ));
        self.fetch_optional(sql, args![org_id, user_id], |row| membership_from_row(row))
            .await
    }

    pub async fn insert_invitation(
        &mut self,
        org_id: &str,
        user_id: &str,
        role: OrgRole,
        invited_by: &str,
        now: OffsetDateTime,
    ) -> Result<MembershipRecord> {
        let id = crate::new_id();
        let now_us = time_to_micros(now);
        self.execute(
            "INSERT INTO memberships (id, org_id, user_id, role, status, invited_by, created_at) \
             VALUES ($1, $2, $3, $4, 'invited', $5, $6)",
            args![&id, org_id, user_id, role.as_str(), invited_by, now_us],
        )
        .await?;
        Ok(MembershipRecord {
            id,
            org_id: org_id.to_owned(),
            user_id: user_id.to_owned(),
            role,
            status: MembershipStatus::Invited,
            invited_by: Some(invited_by.to_owned()),
            created_at: micros_to_time(now_us),
        })
    }

    pub async fn set_membership_role(
        &mut self,
        org_id: &str,
        user_id: &str,
        role: OrgRole,
    ) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2",
                args![org_id, user_id, role.as_str()],
            )
            .await?;
        Ok(done == 1)
    }

    pub async fn activate_membership(&mut self, org_id: &str, user_id: &str) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE memberships SET status = 'active' \
             WHERE org_id = $1 AND user_id = $2 AND status = 'invited'",
                args![org_id, user_id],
            )
            .await?;
        Ok(done == 1)
    }

    /// Removes a membership or invitation, and the user's roles on the org's workspaces
    /// with it: someone who leaves an org keeps nothing inside it.
    pub async fn delete_membership(&mut self, org_id: &str, user_id: &str) -> Result<bool> {
        self.execute(
            "DELETE FROM workspace_members WHERE user_id = $2 \
             AND workspace_id IN (SELECT id FROM workspaces WHERE org_id = $1)",
            args![org_id, user_id],
        )
        .await?;
        let done = self
            .execute(
                "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
                args![org_id, user_id],
            )
            .await?;
        Ok(done == 1)
    }

    /// Active owners of an org. Call after [`WriteTx::org_for_update`] so the count holds
    /// until commit.
    pub async fn count_active_owners(&mut self, org_id: &str) -> Result<i64> {
        self.fetch_one(
            "SELECT COUNT(*) AS n FROM memberships \
             WHERE org_id = $1 AND role = 'owner' AND status = 'active'",
            args![org_id],
            |row| row.get("n"),
        )
        .await
    }
}
