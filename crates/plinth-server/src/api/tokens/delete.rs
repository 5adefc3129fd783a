use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::{ApiPath, ClientMeta};
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Delete a user token; it is refused from now on as revoked.
#[utoipa::path(delete, path = "/api/v1/user/tokens/{id}", tag = "tokens",
    operation_id = "tokens_delete",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such token", body = Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    service::tokens::delete(&state, &meta, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
