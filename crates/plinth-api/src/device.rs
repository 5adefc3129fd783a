//! CLI login by the OAuth 2.0 device authorization grant (RFC 8628). The CLI-facing
//! requests are form-encoded and the answers plain OAuth JSON, so that any standard OAuth
//! client library can log in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The grant type of the token request (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /device/code`, form-encoded (RFC 8628 §3.1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"client_id": "plinth-cli"}))]
pub struct DeviceCodeRequest {
    /// Names the client, for example `plinth-cli`: 1–64 letters, digits, `.`, `_`, `-`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub client_id: String,
    /// Accepted and ignored: a login grants what the user can do.
    pub scope: Option<String>,
}

/// RFC 8628 §3.2.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceCodeResponse {
    /// The CLI's secret for polling; never shown to the person.
    pub device_code: String,
    /// What the person types at `verification_uri`, like `WDJB-MJHT`.
    pub user_code: String,
    pub verification_uri: String,
    /// `verification_uri` with the code filled in.
    pub verification_uri_complete: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: u64,
}

/// `POST /device/token`, form-encoded (RFC 8628 §3.4).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "Xk4tTq8Bv2nL0pQz9sWm3yRc7aHd5fGj1uEo6iKbNlP", "client_id": "plinth-cli"}))]
pub struct DeviceTokenRequest {
    /// `urn:ietf:params:oauth:grant-type:device_code`
    #[schema(pattern = "^urn:ietf:params:oauth:grant-type:device_code$")]
    pub grant_type: String,
    /// The `device_code` of `POST /device/code`: 43 letters and digits.
    #[schema(pattern = "^[A-Za-z0-9]{43}$")]
    pub device_code: String,
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub client_id: String,
}

/// RFC 6749 §5.1: a temporary token (`plt_…`), shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceTokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// RFC 6749 §5.2 and RFC 8628 §3.5: `authorization_pending`, `slow_down`,
/// `expired_token`, `access_denied`, `invalid_request`, `invalid_grant`,
/// `unsupported_grant_type`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

/// `POST /device/approve` and `POST /device/deny`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_code": "WDJB-MJHT"}))]
pub struct DeviceDecisionRequest {
    /// The code the CLI shows; case and dashes do not matter.
    #[schema(schema_with = user_code)]
    pub user_code: String,
}

/// A CLI login someone approved or denied.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceDecision {
    pub user_code: String,
    pub client_id: String,
    /// `approved` or `denied`.
    pub status: String,
}

/// Eight letters of `BCDFGHJKLMNPQRSTVWXZ` in either case, with any dashes and spaces
/// (`plinth_core::UserCode::parse`).
fn user_code() -> utoipa::openapi::Object {
    let ws = crate::limits::ws();
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!(
            "^[{ws}-]*(?:[BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz][{ws}-]*){{8}}$"
        )))
        .description(Some(
            "The code the CLI shows, like `WDJB-MJHT`; case, dashes and spaces do not matter",
        ))
        .build()
}
