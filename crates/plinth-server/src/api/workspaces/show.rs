use axum::Json;
use axum::extract::State;
use plinth_api::{Problem, Workspace};

use crate::api::extract::ApiPath;
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// A workspace, with its DNS name and URL.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces/{ws}", tag = "workspaces",
    operation_id = "workspaces_show",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
    ),
    responses(
        (status = 200, description = "The workspace", body = Workspace),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such org or workspace, or no role on it", body = Problem),
    ))]
pub async fn show(
    State(state): State<AppState>,
    member: OrgMember,
    ApiPath((_org, ws)): ApiPath<(String, String)>,
) -> ApiResult<Json<Workspace>> {
    let ws = service::workspaces::show(&state, &member, &ws).await?;
    Ok(Json(views::workspace(
        &state.settings,
        &member.org.handle,
        &ws,
    )))
}
