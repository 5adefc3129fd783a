//! Workspaces, their DNS names, and their members.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::members::MemberUser;

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
#[schema(example = json!({"handle": "prod", "display_name": "Production"}))]
pub struct CreateWorkspaceRequest {
    /// 1–23 lowercase letters and digits (no hyphen).
    #[schema(schema_with = crate::limits::workspace_handle)]
    pub handle: String,
    /// 1–100 characters; defaults to the handle.
    #[schema(schema_with = crate::limits::display_name)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Production"}))]
pub struct UpdateWorkspaceRequest {
    /// A new handle (1–23 lowercase letters and digits): the workspace's DNS name
    /// changes with it, and the old name stops answering at once.
    #[serde(default)]
    #[schema(schema_with = crate::limits::optional_workspace_handle)]
    pub handle: Option<String>,
    #[schema(schema_with = crate::limits::display_name)]
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
#[schema(example = json!({"user": "bob", "role": "operator"}))]
pub struct AddWorkspaceMemberRequest {
    /// Handle or email of an active member of the org.
    #[schema(schema_with = crate::limits::user_ref)]
    pub user: String,
    pub role: WorkspaceRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "reader"}))]
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

/// What a workspace host answers to `Accept: application/json`. The display names are
/// there only for a caller who may see the workspace (a token of an org owner or of a
/// workspace member); anyone else learns nothing beyond the DNS name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceHost {
    pub workspace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_display_name: Option<String>,
    pub org: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_display_name: Option<String>,
    pub dns_name: String,
}
