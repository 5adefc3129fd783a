use axum::Json;
use axum::extract::State;
use plinth_api::{Member, Problem, UpdateMemberRequest};

use crate::api::extract::{ApiJson, ApiPath, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Change a member's role. The last active owner can't be demoted (409 `last-owner`).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/members/{user}", tag = "members",
    operation_id = "members_update",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Org handle"),
        ("user" = String, Path, description = "The member's handle"),
    ),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "The updated member", body = Member),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org or member", body = Problem),
        (status = 409, description = "The last owner", body = Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiPath((_org, user)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateMemberRequest>,
) -> ApiResult<Json<Member>> {
    let member = service::members::update(&state, &meta, &owner, &user, req).await?;
    Ok(Json(views::member(&member)))
}
