use axum::Json;
use axum::extract::State;
use plinth_api::{Org, Page, PageQuery, Problem};

use crate::api::extract::ApiQuery;
use crate::api::pagination::{PageRequest, encode_cursor};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// The orgs the caller is an active member of, newest first.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs",
    operation_id = "orgs_list",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of orgs", body = Page<Org>),
        (status = 400, description = "Bad limit or cursor", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Org>>> {
    let page = PageRequest::from_query(&query)?;
    let orgs = service::orgs::list(&state, &actor, page.after.as_deref(), page.limit).await?;
    Ok(Json(Page {
        items: orgs
            .items
            .iter()
            .map(|o| views::org(&o.org, o.role))
            .collect(),
        next_cursor: orgs.next_after.as_deref().map(encode_cursor),
    }))
}
