use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use plinth_api::{DeviceTokenRequest, DeviceTokenResponse, OAuthError};

use super::{OAuthForm, no_store};
use crate::api::extract::ClientMeta;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::device::DeviceError;

/// Poll for the token of a CLI login (RFC 8628 §3.4): a temporary token once approved.
#[utoipa::path(post, path = "/api/v1/device/token", tag = "account",
    operation_id = "device_token",
    request_body(content = DeviceTokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Approved: a temporary token, shown once", body = DeviceTokenResponse),
        (status = 400, description = "`authorization_pending`, `slow_down`, `expired_token`, \
            `access_denied`, `invalid_grant`, `invalid_request` or `unsupported_grant_type`",
            body = OAuthError),
    ))]
pub async fn token(
    State(state): State<AppState>,
    meta: ClientMeta,
    OAuthForm(req): OAuthForm<DeviceTokenRequest>,
) -> Result<Response, DeviceError> {
    let (secret, token) = service::device::exchange(&state, &meta, &req).await?;
    let expires_in = token.expires_at.map_or(0, |at| {
        (at - state.now()).whole_seconds().max(0).unsigned_abs()
    });
    let answer = DeviceTokenResponse {
        access_token: secret.expose().to_owned(),
        token_type: "Bearer".to_owned(),
        expires_in,
    };
    Ok(no_store(Json(answer).into_response()))
}
