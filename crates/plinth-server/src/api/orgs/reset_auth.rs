use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::ClientMeta;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Reset authentication: every temporary and user token issued until now is refused on
/// this org (401 `auth-reset`), the caller's own included; other orgs are untouched.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/reset-auth", tag = "orgs",
    operation_id = "orgs_reset_auth",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle")),
    responses(
        (status = 204, description = "Done; log in again to use this org"),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn reset_auth(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
) -> ApiResult<StatusCode> {
    service::orgs::reset_auth(&state, &meta, &owner).await?;
    Ok(StatusCode::NO_CONTENT)
}
