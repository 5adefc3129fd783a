use axum::Json;
use axum::extract::State;
use plinth_api::{Problem, UpdateWorkspaceMemberRequest, WorkspaceMember};

use crate::api::extract::{ApiJson, ApiPath, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Change a user's role on the workspace (workspace owners only).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/workspaces/{ws}/members/{user}", tag = "workspaces",
    operation_id = "workspace_members_update",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
        ("user" = String, Path, description = "The member's handle"),
    ),
    request_body = UpdateWorkspaceMemberRequest,
    responses(
        (status = 200, description = "The updated workspace member", body = WorkspaceMember),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner of the workspace", body = Problem),
        (status = 404, description = "No such org, workspace or member", body = Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    meta: ClientMeta,
    member: OrgMember,
    ApiPath((_org, ws, user)): ApiPath<(String, String, String)>,
    ApiJson(req): ApiJson<UpdateWorkspaceMemberRequest>,
) -> ApiResult<Json<WorkspaceMember>> {
    let updated =
        service::workspaces::update_member(&state, &meta, &member, &ws, &user, req).await?;
    Ok(Json(views::workspace_member(&updated)))
}
