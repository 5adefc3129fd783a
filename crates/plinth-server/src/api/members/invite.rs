use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{InviteMemberRequest, Member, Problem};

use crate::api::extract::{ApiJson, ClientMeta};
use crate::api::views;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Invite an existing user (by handle or email); they join when they accept.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members", tag = "members",
    operation_id = "members_invite",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle")),
    request_body = InviteMemberRequest,
    responses(
        (status = 201, description = "The invitation", body = Member),
        (status = 400, description = "Invalid field", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or no such user", body = Problem),
        (status = 409, description = "Already a member or invited", body = Problem),
    ))]
pub async fn invite(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiJson(req): ApiJson<InviteMemberRequest>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    let member = service::members::invite(&state, &meta, &owner, req).await?;
    Ok((StatusCode::CREATED, Json(views::member(&member))))
}
