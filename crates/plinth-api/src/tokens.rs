use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "CI deploys", "description": "Used by the deploy job", "expires_in_days": 90}))]
pub struct CreateTokenRequest {
    /// 1–100 characters.
    #[schema(schema_with = crate::limits::token_title)]
    pub title: String,
    /// At most 1000 characters.
    #[schema(schema_with = crate::limits::token_description)]
    pub description: Option<String>,
    /// 1–3650 days; absent means the token does not expire.
    #[schema(minimum = 1, maximum = 3650)]
    #[serde(default, deserialize_with = "crate::limits::whole_number")]
    pub expires_in_days: Option<u32>,
}

/// A user token as listed: everything but the secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: TokenStatus,
    /// The token's last four characters, to tell tokens apart.
    pub last4: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The answer to creating a token: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
    pub title: String,
    pub status: TokenStatus,
    pub last4: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "inactive"}))]
pub struct UpdateTokenRequest {
    pub status: Option<TokenStatus>,
    #[schema(schema_with = crate::limits::optional_token_title)]
    pub title: Option<String>,
    /// An empty string clears it.
    #[schema(schema_with = crate::limits::token_description)]
    pub description: Option<String>,
}
