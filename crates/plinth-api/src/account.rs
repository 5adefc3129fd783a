use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"handle": "ann", "email": "ann@example.com", "password": "correct horse battery", "display_name": "Ann Lee"}))]
pub struct SignupRequest {
    /// 1–39 lowercase letters, digits and single inner hyphens; shared with org handles.
    #[schema(schema_with = crate::limits::handle)]
    pub handle: String,
    #[schema(schema_with = crate::limits::email)]
    pub email: String,
    /// At least 8 characters.
    #[schema(schema_with = crate::limits::new_password)]
    pub password: String,
    #[schema(schema_with = crate::limits::display_name)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"login": "ann", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// A handle or an email.
    #[schema(schema_with = crate::limits::login)]
    pub login: String,
    #[schema(schema_with = crate::limits::password)]
    pub password: String,
}

/// A temporary token (`plt_…`) and who it belongs to. The token is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub user: User,
}

/// A user's own profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub handle: String,
    pub email: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Fields to change; absent fields stay as they are. An empty `avatar_url` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ann Lee", "avatar_url": "https://example.com/ann.png"}))]
pub struct UpdateUserRequest {
    #[schema(schema_with = crate::limits::display_name)]
    pub display_name: Option<String>,
    #[schema(schema_with = crate::limits::avatar_url)]
    pub avatar_url: Option<String>,
    #[schema(schema_with = crate::limits::optional_email)]
    pub email: Option<String>,
}
