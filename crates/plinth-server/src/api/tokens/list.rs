use axum::Json;
use axum::extract::State;
use plinth_api::{Page, PageQuery, Problem, Token};

use crate::api::extract::ApiQuery;
use crate::api::pagination::{PageRequest, encode_cursor};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// The caller's user tokens, newest first. Secrets are never listed.
#[utoipa::path(get, path = "/api/v1/user/tokens", tag = "tokens",
    operation_id = "tokens_list",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of tokens", body = Page<Token>),
        (status = 400, description = "Bad limit or cursor", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Token>>> {
    let page = PageRequest::from_query(&query)?;
    let tokens = service::tokens::list(&state, &actor, page.after.as_deref(), page.limit).await?;
    Ok(Json(Page {
        items: tokens.items.iter().map(views::token).collect(),
        next_cursor: tokens.next_after.as_deref().map(encode_cursor),
    }))
}
