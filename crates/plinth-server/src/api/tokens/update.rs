use axum::Json;
use axum::extract::State;
use plinth_api::{Problem, Token, UpdateTokenRequest};

use crate::api::extract::{ApiJson, ApiPath, ClientMeta};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Change a user token's title, description or status (`inactive` stops it at once).
#[utoipa::path(patch, path = "/api/v1/user/tokens/{id}", tag = "tokens",
    operation_id = "tokens_update",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    request_body = UpdateTokenRequest,
    responses(
        (status = 200, description = "The updated token", body = Token),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such token", body = Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateTokenRequest>,
) -> ApiResult<Json<Token>> {
    let token = service::tokens::update(&state, &meta, &actor, &id, req).await?;
    Ok(Json(views::token(&token)))
}
