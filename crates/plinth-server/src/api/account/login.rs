use axum::Json;
use axum::extract::State;
use plinth_api::{LoginRequest, LoginResponse, Problem};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service;

/// Log in with a handle or email and a password; answers a temporary token.
#[utoipa::path(post, path = "/api/v1/login", tag = "account",
    operation_id = "account_login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A temporary token, shown once", body = LoginResponse),
        (status = 401, description = "Wrong login or password", body = Problem),
        (status = 429, description = "Too many failed logins, or too many passwords being checked", body = Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let outcome = service::accounts::login(&state, &meta, req).await?;
    let expires_at = outcome
        .token
        .expires_at
        .ok_or_else(|| ApiError::internal("a temporary token without expiry"))?;
    Ok(Json(LoginResponse {
        token: outcome.secret.expose().to_owned(),
        expires_at,
        user: views::user(&outcome.user),
    }))
}
