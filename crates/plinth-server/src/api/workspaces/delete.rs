use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::Problem;

use crate::api::extract::{ApiPath, ClientMeta};
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Delete a workspace (org owners only). Its DNS name stops answering at once.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/workspaces/{ws}", tag = "workspaces",
    operation_id = "workspaces_delete",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org or workspace", body = Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiPath((_org, ws)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    service::workspaces::delete(&state, &meta, &owner, &ws).await?;
    Ok(StatusCode::NO_CONTENT)
}
