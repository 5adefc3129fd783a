use axum::Json;
use axum::extract::State;
use plinth_api::{Page, PageQuery, Problem, WorkspaceMember};

use crate::api::extract::{ApiPath, ApiQuery};
use crate::api::pagination::{PageRequest, encode_cursor};
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// A workspace's explicit members, by handle (org owners are implicit owners, not listed).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces/{ws}/members", tag = "workspaces",
    operation_id = "workspace_members_list",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("ws" = String, Path, description = "Workspace handle"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of workspace members", body = Page<WorkspaceMember>),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such org or workspace, or no role on it", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember,
    ApiPath((_org, ws)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<WorkspaceMember>>> {
    let page = PageRequest::from_query(&query)?;
    let members =
        service::workspaces::list_members(&state, &member, &ws, page.after.as_deref(), page.limit)
            .await?;
    Ok(Json(Page {
        items: members.items.iter().map(views::workspace_member).collect(),
        next_cursor: members.next_after.as_deref().map(encode_cursor),
    }))
}
