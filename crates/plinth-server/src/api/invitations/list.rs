use axum::Json;
use axum::extract::State;
use plinth_api::{Invitation, Page, PageQuery, Problem};

use crate::api::extract::ApiQuery;
use crate::api::pagination::{PageRequest, encode_cursor};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// The caller's pending invitations, newest first.
#[utoipa::path(get, path = "/api/v1/user/invitations", tag = "invitations",
    operation_id = "invitations_list",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of invitations", body = Page<Invitation>),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Invitation>>> {
    let page = PageRequest::from_query(&query)?;
    let invitations =
        service::members::invitations(&state, &actor, page.after.as_deref(), page.limit).await?;
    Ok(Json(Page {
        items: invitations.items.iter().map(views::invitation).collect(),
        next_cursor: invitations.next_after.as_deref().map(encode_cursor),
    }))
}
