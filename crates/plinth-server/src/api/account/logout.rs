use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::ClientMeta;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// End the login session of the token presented.
#[utoipa::path(post, path = "/api/v1/logout", tag = "account",
    operation_id = "account_logout",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out; the token no longer works"),
        (status = 400, description = "The token is a user token", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
) -> ApiResult<StatusCode> {
    service::accounts::logout(&state, &meta, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
