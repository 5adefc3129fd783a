//! Org members and the invitations owners send.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::orgs::OrgRole;

/// `invited` until the invitee accepts; only `active` members can see the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembershipStatus {
    Invited,
    Active,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user": "bob", "role": "member"}))]
pub struct InviteMemberRequest {
    /// The invitee's handle or email; they must already have an account.
    #[schema(schema_with = crate::limits::user_ref)]
    pub user: String,
    pub role: OrgRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "owner"}))]
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
