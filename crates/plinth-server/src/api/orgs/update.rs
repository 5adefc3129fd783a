use axum::Json;
use axum::extract::State;
use plinth_api::{Org, Problem, UpdateOrgRequest};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Change an org's display name or avatar URL (owners only).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}", tag = "orgs",
    operation_id = "orgs_update",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle")),
    request_body = UpdateOrgRequest,
    responses(
        (status = 200, description = "The updated org", body = Org),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiJson(req): ApiJson<UpdateOrgRequest>,
) -> ApiResult<Json<Org>> {
    let org = service::orgs::update(&state, &meta, &owner, req).await?;
    Ok(Json(views::org(&org, owner.role())))
}
