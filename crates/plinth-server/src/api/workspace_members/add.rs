use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{AddWorkspaceMemberRequest, Problem, WorkspaceMember};

use crate::api::extract::{ApiJson, ApiPath, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Give an org member a role on the workspace (workspace owners only).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/workspaces/{ws}/members", tag = "workspaces",
    operation_id = "workspace_members_add",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
    ),
    request_body = AddWorkspaceMemberRequest,
    responses(
        (status = 201, description = "The workspace member", body = WorkspaceMember),
        (status = 400, description = "Invalid field, or not an org member", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner of the workspace", body = Problem),
        (status = 404, description = "No such org, workspace or user", body = Problem),
        (status = 409, description = "Already has a role", body = Problem),
    ))]
pub async fn add(
    State(state): State<AppState>,
    meta: ClientMeta,
    member: OrgMember,
    ApiPath((_org, ws)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<AddWorkspaceMemberRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceMember>)> {
    let added = service::workspaces::add_member(&state, &meta, &member, &ws, req).await?;
    Ok((StatusCode::CREATED, Json(views::workspace_member(&added))))
}
