use axum::Json;
use axum::extract::State;
use plinth_api::{Problem, UpdateUserRequest, User};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Change the caller's display name, avatar URL or email.
#[utoipa::path(patch, path = "/api/v1/user", tag = "user",
    operation_id = "user_update",
    security(("bearer" = [])),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated profile", body = User),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 409, description = "Email in use", body = Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> ApiResult<Json<User>> {
    let user = service::accounts::update_profile(&state, &meta, &actor, req).await?;
    Ok(Json(views::user(&user)))
}
