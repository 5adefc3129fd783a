use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use plinth_api::{DeviceCodeRequest, DeviceCodeResponse, OAuthError, Problem};

use super::{OAuthForm, no_store};
use crate::api::extract::ClientMeta;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::device::{DeviceError, GRANT_LIFETIME};

/// Start a CLI login (RFC 8628 §3.1): a code for the person to approve, and a device code
/// for the CLI to poll `/device/token` with.
#[utoipa::path(post, path = "/api/v1/device/code", tag = "account",
    operation_id = "device_code",
    request_body(content = DeviceCodeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The codes (RFC 8628 §3.2)", body = DeviceCodeResponse),
        (status = 400, description = "`invalid_request`", body = OAuthError),
        (status = 429, description = "Too many codes from this address", body = Problem),
    ))]
pub async fn code(
    State(state): State<AppState>,
    meta: ClientMeta,
    OAuthForm(req): OAuthForm<DeviceCodeRequest>,
) -> Result<Response, DeviceError> {
    let (device_code, grant) = service::device::start(&state, &meta, &req).await?;
    // Never from the request's Host: a forged one would send people to another site.
    let verification_uri = state.settings.public_url().link("/device");
    let user_code = grant.user_code.display();
    let answer = DeviceCodeResponse {
        device_code: device_code.expose().to_owned(),
        verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
        verification_uri,
        user_code,
        expires_in: GRANT_LIFETIME.whole_seconds().unsigned_abs(),
        interval: grant.interval_secs.unsigned_abs(),
    };
    Ok(no_store(Json(answer).into_response()))
}
