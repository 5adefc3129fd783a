use axum::Json;
use axum::extract::State;
use plinth_api::{DeviceDecision, DeviceDecisionRequest, Problem};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Deny the CLI login showing `user_code`: its polls answer `access_denied`.
#[utoipa::path(post, path = "/api/v1/device/deny", tag = "account",
    operation_id = "device_deny",
    security(("bearer" = [])),
    request_body = DeviceDecisionRequest,
    responses(
        (status = 200, description = "Denied", body = DeviceDecision),
        (status = 400, description = "Not a valid code", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "A user token, not a login session", body = Problem),
        (status = 404, description = "No login waits for this code", body = Problem),
        (status = 409, description = "Approved or denied already", body = Problem),
        (status = 429, description = "Too many decisions by this user or from this address", body = Problem),
    ))]
pub async fn deny(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiJson(req): ApiJson<DeviceDecisionRequest>,
) -> ApiResult<Json<DeviceDecision>> {
    let grant = service::device::decide(&state, &meta, &actor, &req.user_code, false).await?;
    Ok(Json(super::decision(&grant)))
}
