use axum::Json;
use axum::extract::State;
use plinth_api::{Org, Problem};

use crate::api::extract::{ApiPath, ClientMeta};
use crate::api::views;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Accept an invitation: the caller becomes an active member with the invited role.
#[utoipa::path(post, path = "/api/v1/user/invitations/{org}/accept", tag = "invitations",
    operation_id = "invitations_accept",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Handle of the inviting org")),
    responses(
        (status = 200, description = "The org just joined", body = Org),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No pending invitation from this org", body = Problem),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    meta: ClientMeta,
    actor: Actor,
    ApiPath(org): ApiPath<String>,
) -> ApiResult<Json<Org>> {
    let (org, role) = service::members::accept(&state, &meta, &actor, &org).await?;
    Ok(Json(views::org(&org, role)))
}
