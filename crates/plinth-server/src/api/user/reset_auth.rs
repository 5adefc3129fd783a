use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::ClientMeta;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Sign out everywhere: every token issued to the caller until now stops working,
/// including the one used for this call.
#[utoipa::path(post, path = "/api/v1/user/reset-auth", tag = "user",
    operation_id = "user_reset_auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "All the caller's tokens are refused from now on"),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn reset_auth(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
) -> ApiResult<StatusCode> {
    service::accounts::reset_auth(&state, &meta, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
