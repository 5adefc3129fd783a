use axum::Json;
use axum::extract::State;
use plinth_api::{Member, Page, PageQuery, Problem};

use crate::api::extract::ApiQuery;
use crate::api::pagination::{PageRequest, encode_cursor};
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// An org's members and pending invitations, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members", tag = "members",
    operation_id = "members_list",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), PageQuery),
    responses(
        (status = 200, description = "A page of members", body = Page<Member>),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Member>>> {
    let page = PageRequest::from_query(&query)?;
    let members =
        service::members::list(&state, &member, page.after.as_deref(), page.limit).await?;
    Ok(Json(Page {
        items: members.items.iter().map(views::member).collect(),
        next_cursor: members.next_after.as_deref().map(encode_cursor),
    }))
}
