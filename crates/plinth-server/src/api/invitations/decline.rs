use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::{ApiPath, ClientMeta};
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Decline an invitation. The org may invite the caller again later.
#[utoipa::path(post, path = "/api/v1/user/invitations/{org}/decline", tag = "invitations",
    operation_id = "invitations_decline",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Handle of the inviting org")),
    responses(
        (status = 204, description = "Declined"),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No pending invitation from this org", body = Problem),
    ))]
pub async fn decline(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiPath(org): ApiPath<String>,
) -> ApiResult<StatusCode> {
    service::members::decline(&state, &meta, &actor, &org).await?;
    Ok(StatusCode::NO_CONTENT)
}
