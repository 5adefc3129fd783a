use axum::Json;
use axum::extract::State;
use plinth_api::{Page, PageQuery, Problem, Workspace};

use crate::api::extract::ApiQuery;
use crate::api::pagination::{PageRequest, encode_cursor};
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// The org's workspaces the caller can see (owners: all; members: those they have a
/// role on), by handle.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces", tag = "workspaces",
    operation_id = "workspaces_list",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), PageQuery),
    responses(
        (status = 200, description = "A page of workspaces", body = Page<Workspace>),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Workspace>>> {
    let page = PageRequest::from_query(&query)?;
    let workspaces =
        service::workspaces::list(&state, &member, page.after.as_deref(), page.limit).await?;
    Ok(Json(Page {
        items: workspaces
            .items
            .iter()
            .map(|ws| views::workspace(&state.settings, &member.org.handle, ws))
            .collect(),
        next_cursor: workspaces.next_after.as_deref().map(encode_cursor),
    }))
}
