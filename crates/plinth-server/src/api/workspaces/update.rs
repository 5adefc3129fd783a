use axum::Json;
use axum::extract::State;
use plinth_api::{Problem, UpdateWorkspaceRequest, Workspace};

use crate::api::extract::{ApiJson, ApiPath, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Rename a workspace (its DNS name changes with it) or change its display name
/// (workspace owners, org owners included).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/workspaces/{ws}", tag = "workspaces",
    operation_id = "workspaces_update",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
    ),
    request_body = UpdateWorkspaceRequest,
    responses(
        (status = 200, description = "The updated workspace", body = Workspace),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner of the workspace", body = Problem),
        (status = 404, description = "No such org or workspace, or no role on it", body = Problem),
        (status = 409, description = "The org already has a workspace with this handle", body = Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    meta: ClientMeta,
    member: OrgMember,
    ApiPath((_org, ws)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateWorkspaceRequest>,
) -> ApiResult<Json<Workspace>> {
    let ws = service::workspaces::update(&state, &meta, &member, &ws, req).await?;
    Ok(Json(views::workspace(
        &state.settings,
        &member.org.handle,
        &ws,
    )))
}
