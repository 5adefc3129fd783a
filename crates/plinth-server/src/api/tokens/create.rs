use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{CreateTokenRequest, CreatedToken, Problem};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Create a user token for API use. Its secret is in this answer and nowhere else, ever.
#[utoipa::path(post, path = "/api/v1/user/tokens", tag = "tokens",
    operation_id = "tokens_create",
    security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret", body = CreatedToken),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Called with a user token", body = Problem),
        (status = 409, description = "Already 10 user tokens", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (secret, token) = service::tokens::create(&state, &meta, &actor, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: token.id.clone(),
            token: secret.expose().to_owned(),
            title: token.title.clone().unwrap_or_default(),
            status: views::token_status(token.status),
            last4: token.last4.clone(),
            expires_at: token.expires_at,
            created_at: token.created_at,
        }),
    ))
}
