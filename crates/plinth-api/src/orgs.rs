use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Member,
    Owner,
}

/// `invited` until the invitee accepts; only `active` members can see the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembershipStatus {
    Invited,
    Active,
}

/// A user's role on one workspace. Org owners are implicit owners of every workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceRole {
    Reader,
    Operator,
    Owner,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// 1–39 lowercase letters, digits and single inner hyphens; shared with user handles.
    pub handle: String,
    /// 1–100 characters; defaults to the handle.
    pub display_name: Option<String>,
    /// An http or https URL; empty for none.
    pub avatar_url: Option<String>,
}

/// Fields to change; absent fields stay as they are. An empty `avatar_url` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

/// An organization, with the caller's role in it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Org {
    pub id: String,
    pub handle: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// The caller's role.
    pub role: OrgRole,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteMemberRequest {
    /// The invitee's handle or email; they must already have an account.
    pub user: String,
    pub role: OrgRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    pub role: OrgRole,
}

/// A person as member lists show them (no email: members need not see each other's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberUser {
    pub id: String,
    pub handle: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// A member of an org, or an invitee.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user: MemberUser,
    pub role: OrgRole,
    pub status: MembershipStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The org an invitation is for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationOrg {
    pub handle: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// A pending invitation of the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub org: InvitationOrg,
    pub role: OrgRole,
    /// Handle of who invited, while that account exists.
    pub invited_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceRequest {
    /// 1–23 lowercase letters and digits (no hyphen).
    pub handle: String,
    /// 1–100 characters; defaults to the handle.
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceRequest {
    pub display_name: Option<String>,
}

/// A workspace, with its DNS name and address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: String,
    /// The org's handle.
    pub org: String,
    pub handle: String,
    pub display_name: String,
    /// `{org}-{workspace}.{base_domain}`.
    pub dns_name: String,
    /// Where the workspace answers over HTTP.
    pub url: String,
    /// The caller's effective role (org owners are owners of every workspace).
    pub role: WorkspaceRole,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWorkspaceMemberRequest {
    /// Handle or email of an active member of the org.
    pub user: String,
    pub role: WorkspaceRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceMemberRequest {
    pub role: WorkspaceRole,
}

/// A user's explicit role on a workspace.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceMember {
    pub user: MemberUser,
    pub role: WorkspaceRole,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a workspace host answers to `Accept: application/json`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceHost {
    pub workspace: String,
    pub workspace_display_name: String,
    pub org: String,
    pub org_display_name: String,
    pub dns_name: String,
}

/// `POST /orgs/{org}/handle`: the org's new handle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeHandleRequest {
    pub handle: String,
}

/// `DELETE /orgs/{org}?confirm=`: the org's handle, typed again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteOrgQuery {
    /// Must equal the org's handle exactly.
    pub confirm: Option<String>,
}
