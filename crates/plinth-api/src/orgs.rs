//! Organizations: their profile and the Advanced settings (change handle, delete).

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"handle": "acme", "display_name": "Acme Inc.", "avatar_url": "https://example.com/acme.png"}))]
pub struct CreateOrgRequest {
    /// 1–39 lowercase letters, digits and single inner hyphens; shared with user handles.
    #[schema(schema_with = crate::limits::handle)]
    pub handle: String,
    /// 1–100 characters; defaults to the handle.
    #[schema(schema_with = crate::limits::display_name)]
    pub display_name: Option<String>,
    /// An http or https URL; empty for none.
    #[schema(schema_with = crate::limits::avatar_url)]
    pub avatar_url: Option<String>,
}

/// Fields to change; absent fields stay as they are. An empty `avatar_url` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Acme Inc."}))]
pub struct UpdateOrgRequest {
    #[schema(schema_with = crate::limits::display_name)]
    pub display_name: Option<String>,
    #[schema(schema_with = crate::limits::avatar_url)]
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

/// `POST /orgs/{org}/handle`: the org's new handle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"handle": "acme-labs"}))]
pub struct ChangeHandleRequest {
    #[schema(schema_with = crate::limits::handle)]
    pub handle: String,
}

/// `DELETE /orgs/{org}?confirm=`: the org's handle, typed again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteOrgQuery {
    /// Must equal the org's handle exactly.
    #[param(required = true, schema_with = crate::limits::handle)]
    pub confirm: Option<String>,
}
