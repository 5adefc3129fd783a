use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::{ApiPath, ClientMeta};
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Remove a member or withdraw an invitation (owners), or leave the org (yourself).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/members/{user}", tag = "members",
    operation_id = "members_remove",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("user" = String, Path, description = "The member's handle"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner, and not yourself", body = Problem),
        (status = 404, description = "No such org or member", body = Problem),
        (status = 409, description = "The last owner", body = Problem),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    meta: ClientMeta,
    member: OrgMember,
    ApiPath((_org, user)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    service::members::remove(&state, &meta, &member, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
