use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::{ApiPath, ClientMeta};
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Take a user's role on the workspace away (workspace owners), or give up your own.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/workspaces/{ws}/members/{user}", tag = "workspaces",
    operation_id = "workspace_members_remove",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
        ("user" = String, Path, description = "The member's handle"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner of the workspace", body = Problem),
        (status = 404, description = "No such org, workspace or member", body = Problem),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    meta: ClientMeta,
    member: OrgMember,
    ApiPath((_org, ws, user)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    service::workspaces::remove_member(&state, &meta, &member, &ws, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
