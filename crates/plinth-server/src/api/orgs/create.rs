use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{CreateOrgRequest, Org, Problem};
use plinth_core::OrgRole;

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Create an organization; the caller becomes its first owner.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs",
    operation_id = "orgs_create",
    security(("bearer" = [])),
    request_body = CreateOrgRequest,
    responses(
        (status = 201, description = "The new org", body = Org),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 409, description = "Handle taken (by a user or an org)", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiJson(req): ApiJson<CreateOrgRequest>,
) -> ApiResult<(StatusCode, Json<Org>)> {
    let org = service::orgs::create(&state, &meta, &actor, req).await?;
    Ok((StatusCode::CREATED, Json(views::org(&org, OrgRole::Owner))))
}
