use axum::Json;
use axum::extract::State;
use plinth_api::{ChangeHandleRequest, Org, Problem};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Change the org's handle, and so the DNS name of every workspace (owners only). The
/// old handle stays reserved for the org, and its names and API paths redirect, for
/// the grace period (`--handle-grace-days`); the org may take it back meanwhile.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/handle", tag = "orgs",
    operation_id = "orgs_change_handle",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle")),
    request_body = ChangeHandleRequest,
    responses(
        (status = 200, description = "The org under its new handle", body = Org),
        (status = 400, description = "Invalid handle, or the same one", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
        (status = 409, description = "The handle is taken or reserved", body = Problem),
    ))]
pub async fn change_handle(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiJson(req): ApiJson<ChangeHandleRequest>,
) -> ApiResult<Json<Org>> {
    let org = service::orgs::change_handle(&state, &meta, &owner, req).await?;
    Ok(Json(views::org(&org, owner.role())))
}
