use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{Problem, SignupRequest, User};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Create an account.
#[utoipa::path(post, path = "/api/v1/signup", tag = "account",
    operation_id = "account_signup",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The new user", body = User),
        (status = 400, description = "Invalid handle, email or password", body = Problem),
        (status = 403, description = "Sign-up is closed", body = Problem),
        (status = 409, description = "Handle or email taken", body = Problem),
        (status = 429, description = "Too many signups from this address or overall, or too many passwords being hashed", body = Problem),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = service::accounts::signup(&state, &meta, req).await?;
    Ok((StatusCode::CREATED, Json(views::user(&user))))
}
