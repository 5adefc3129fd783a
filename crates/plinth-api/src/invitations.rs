//! The caller's own invitations to orgs.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::orgs::OrgRole;

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
