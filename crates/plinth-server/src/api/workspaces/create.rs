use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{CreateWorkspaceRequest, Problem, Workspace};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Create a workspace (owners only). Its DNS name answers at once.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/workspaces", tag = "workspaces",
    operation_id = "workspaces_create",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle")),
    request_body = CreateWorkspaceRequest,
    responses(
        (status = 201, description = "The new workspace", body = Workspace),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
        (status = 409, description = "Handle taken in this org", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiJson(req): ApiJson<CreateWorkspaceRequest>,
) -> ApiResult<(StatusCode, Json<Workspace>)> {
    let ws = service::workspaces::create(&state, &meta, &owner, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::workspace(&state.settings, &owner.org.handle, &ws)),
    ))
}
